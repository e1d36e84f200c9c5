"""The language tables (stepsolver/lang/*.toml) and --lang.

Holds the tables honest (every key in every language, the same
placeholders, Hangul in every Korean sentence, nothing that breaks a
format), checks that English is the default byte for byte, and renders
every problem in every document format in Korean looking for English
prose left outside mathematics, code and the user's own text.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import GRAPH_PROBLEMS, PROBLEMS, ROOT, run_cli
from stepsolver.lang import Text, _load, languages, messages, placeholders

HANGUL = re.compile(r"[\uac00-\ud7a3]")
KO_NET = ROOT / "problems" / "ko_relu_2_2_1.toml"
KO_GRAPH = ROOT / "problems" / "ko_graph_regularised_unit.toml"
CHECK_CASES = sorted((ROOT / "tests" / "check_cases").glob("*.answers.toml"))


def _forms(value):
    return list(value.values()) if isinstance(value, dict) else [value]


# ------------------------------------------------------------------ tables
def test_the_languages_are_the_files_present():
    files = sorted(p.stem for p in (ROOT / "stepsolver" / "lang").glob("*.toml"))
    assert languages() == files
    assert {"en", "ko"} <= set(files)


@pytest.mark.parametrize("lang", [x for x in languages() if x != "en"])
def test_every_key_in_every_language_with_the_same_placeholders(lang):
    en, other = _load("en"), _load(lang)
    assert sorted(set(en) - set(other)) == [], f"missing in {lang}.toml"
    assert sorted(set(other) - set(en)) == [], f"in {lang}.toml but not in en.toml"
    for key, value in en.items():
        assert placeholders(other[key]) == placeholders(value), key
        if isinstance(value, dict):
            assert "other" in other[key], key


#: Korean values that are symbols only, the same in every language
SYMBOLS_ONLY = {"net.layer_with_activation", "check.note_hint", "check.net.entry_cell", "check.graph.entry_cell",
                "graph.conv.relu", "graph.conv.abs", "note.list2"}


def test_every_korean_sentence_has_hangul():
    for key, value in _load("ko").items():
        for form in _forms(value):
            if key in SYMBOLS_ONLY:
                assert not re.search(r"[A-Za-z]{3,}", re.sub(r"\{[^}]*\}", "", form).replace("relu", "").replace("abs", "")), key
            else:
                assert HANGUL.search(form), f"{key}: {form!r} has no Hangul"


#: keys whose sentences go into Markdown, LaTeX and HTML as they are (the
#: rest are written through each format's escaping: hints, notes, the
#: activation and loss names, conventions made in Python, TOML comments)
ESCAPED_PREFIXES = ("hint.", "note.", "act.", "loss.", "label.", "rule.", "net.conv.kink", "graph.conv.", "blank.",
                    "variant.", "quiz.too", "quiz.change", "meta.", "summary.", "error.")


@pytest.mark.parametrize("lang", languages())
def test_raw_sentences_hold_no_markup_characters(lang):
    for key, value in _load(lang).items():
        if key.startswith(ESCAPED_PREFIXES):
            continue
        for form in _forms(value):
            bad = set(re.sub(r"\{[^}]*\}", "", form)) & set("_%&#$\\^~`")
            assert not bad, f"{lang}.toml {key}: {sorted(bad)} would need escaping in some format"


def test_a_placeholder_is_never_followed_by_a_korean_particle_that_depends_on_its_sound():
    # 을/를, 이/가, 은/는, 와/과, (으)로 change with the sound of the word
    # before them; a number or a symbol in a placeholder has no fixed sound
    particle = re.compile(r"\{[^}]*\}(을|를|이|가|은|는|와|과|으로|로)(?![가-힣])")
    for key, value in _load("ko").items():
        for form in _forms(value):
            assert not particle.search(form), f"{key}: {form!r}"


def test_a_text_is_its_english_sentence_and_is_written_again_in_korean():
    t = Text("net.conv.kink_note", where=Text("net.conv.kink_where", unit=2, layer=1), rule="relu'(0) = 0")
    assert t == "z = 0 exactly at unit 2 of layer 1, so the convention relu'(0) = 0 applies there."
    ko = messages("ko").text(t)
    assert ko == "1층 2번 노드에서 z = 0이 정확히 성립하므로, 그곳에는 relu'(0) = 0 규칙을 적용합니다."
    assert messages("en").text(t) == t
    assert messages("ko").text("plain text") == "plain text"


def test_plural_forms():
    en = messages("en")
    assert en.t("net.given.updates_batch", count=1) == "1 pass, one update per pass (batch)"
    assert en.t("net.given.updates_batch", count=3) == "3 passes, one update per pass (batch)"
    assert messages("ko").t("net.given.updates_batch", count=3) == "3에폭, 에폭마다 한 번 업데이트 (배치)"


def test_an_unknown_language_in_the_api_is_bad_input_naming_the_known_ones():
    import stepsolver
    from stepsolver.errors import InputError

    sol = stepsolver.solve(stepsolver.load_problem(KO_NET))
    with pytest.raises(InputError, match=r"unknown language 'xx' \(known: en, ko\)"):
        sol.render("md", lang="xx")
    assert HANGUL.search(sol.render("md", lang="ko").split("\n## ")[1])


# ------------------------------------------------------------------ the command line
@pytest.mark.parametrize("command", [["solve", "problems/linear_2_3_2.toml"],
                                     ["check", "problems/linear_2_3_2.toml", "--blank"],
                                     ["generate", "--layers", "2,2", "--count", "1", "--out", "unused"]])
def test_an_unknown_language_is_exit_2_with_one_line_listing_the_known_ones(command):
    r = run_cli(*command, "--lang", "xx", cwd=ROOT)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown language 'xx'" in lines[0] and "en, ko" in lines[0], r.stderr


@pytest.mark.parametrize("fmt", ["md", "text", "html", "latex", "moodle", "json", "csv"])
@pytest.mark.parametrize("path", [ROOT / "problems" / "online_bce.toml", KO_NET, KO_GRAPH], ids=lambda p: p.stem)
def test_lang_en_is_the_default_byte_for_byte(path, fmt):
    a = run_cli("solve", path, "-f", fmt, "--sheet", "both", "--round", "2", cwd=ROOT)
    b = run_cli("solve", path, "-f", fmt, "--sheet", "both", "--round", "2", "--lang", "en", cwd=ROOT)
    assert a.returncode == 0 and a.stdout == b.stdout


@pytest.mark.parametrize("fmt", ["md", "text", "json"])
def test_check_lang_en_is_the_default_byte_for_byte(fmt):
    answers = CHECK_CASES[1]
    problem = answers.parent / (answers.name.split(".")[0] + ".problem.toml")
    a = run_cli("check", problem, answers, "-f", fmt, cwd=ROOT)
    b = run_cli("check", problem, answers, "-f", fmt, "--lang", "en", cwd=ROOT)
    assert a.stdout == b.stdout and a.returncode == b.returncode


# ------------------------------------------------------------------ no English left
#: words that are symbols, function names, identifiers of the problem file
#: or commands, the same in every language
ALLOWED = {"ReLU", "relu", "tanh", "max", "min", "abs", "exp", "softplus", "sigmoid", "softmax", "stepsolver",
           "check", "delta", "false", "true", "toml", "TOML", "NUMERICAL", "course", "top", "reg", "lam", "sig",
           "figs", "atol", "rtol", "grad", "new", "value", "id", "ln", "log", "sqrt", "sin", "cos", "if",
           # optimizers and the people and courses their forms are named after
           "PyTorch", "SGD", "Adam", "AdaGrad", "RMSProp", "Goodfellow", "Sutskever", "optimizer",
           # the convolution and pooling functions of graph expressions (conv2d reads as "conv")
           "conv", "convolve", "maxpool", "avgpool", "stride", "pad", "size",
           # the layers' functions and settings, and the libraries and courses their conventions name
           "sum", "mean", "var", "axis", "log_softmax", "batchnorm", "layernorm", "dropout", "embedding", "concat",
           "eps", "gamma", "beta", "idx", "BatchNorm", "LayerNorm", "Embedding", "Annotated", "Transformer", "cs231n",
           "scatter", "mask", "prev", "total", "last"}


def _prose(text: str, fmt: str) -> str:
    """What is left of an output once mathematics, code and markup are taken out."""
    if fmt == "latex":
        text = text[text.index("\\begin{document}"):]
        text = re.sub(r"\\begin\{(equation\*|tikzpicture|picture)\}.*?\\end\{\1\}", " ", text, flags=re.S)
        text = re.sub(r"\$[^$]*\$", " ", text)
        text = re.sub(r"\\begin\{tabular\}\{[lcr]+\}", " ", text)
        text = re.sub(r"\\(begin|end)\{[^}]*\}", " ", text)
        text = re.sub(r"\\texttt\{(?:[^{}]|\{\})*\}", " ", text)  # keywords: \texttt{update\textunderscore{}biases}
        text = text.replace("\\_", "_")
        text = re.sub(r"\\[A-Za-z]+\*?", " ", text)
    elif fmt == "md":
        text = re.sub(r"```math.*?```", " ", text, flags=re.S)
        text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
        text = re.sub(r"\$[^$]*\$", " ", text)
        text = re.sub(r"`[^`]*`", " ", text)
        text = text.replace("\\_", "_")
        text = re.sub(r"\]\([^)]*\)", " ", text)  # image targets
    elif fmt in ("html", "moodle"):
        text = re.sub(r"<(style|svg|math)\b.*?</\1>", " ", text, flags=re.S)
        text = re.sub(r"\\\(.*?\\\)", " ", text, flags=re.S)
        text = re.sub(r"<[^>]*>", " ", text)
        text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
        text = re.sub(r"\{1:NUMERICAL:[^}]*\}", " ", text)
        text = text.replace("<![CDATA[", " ").replace("]]>", " ")
    elif fmt == "text":
        text = "\n".join(line for line in text.splitlines() if not line.startswith("    "))  # displays
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    text = re.sub(r"--[a-z-]+", " ", text)  # command-line flags
    text = re.sub(r"\b\w*_\w*\b", " ", text)  # identifiers: update_biases, missing_bias, L_reg
    return text


def _english_words(text: str, fmt: str, extra: set = frozenset()) -> list[str]:
    words = re.findall(r"[A-Za-z]{3,}", _prose(text, fmt))
    return sorted({w for w in words if w not in ALLOWED and w not in extra})


def _korean_copy(path, tmp_path):
    """The problem with its title and description in Korean (user text is not ours to translate)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'(?ms)^description = """.*?"""$', 'description = "설명"', text)
    text = re.sub(r'(?m)^title = ".*"$', 'title = "연습 문제"', text)
    text = re.sub(r'(?m)^description = ".*"$', 'description = "설명"', text)
    out = tmp_path / path.name
    out.write_text(text, encoding="utf-8")
    return out


def _names(path) -> set:
    """The node names of a graph problem (they are symbols in the prose)."""
    import stepsolver

    p = stepsolver.load_problem(path)
    names = {n.name for n in getattr(p, "nodes", ())}
    return {w for n in names for w in re.findall(r"[A-Za-z]+", n)}


@pytest.mark.slow
@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_no_english_prose_is_left_in_any_korean_output(path, tmp_path):
    copy = _korean_copy(path, tmp_path)
    extra = _names(copy)
    for fmt in ("md", "text", "html", "latex", "moodle"):
        for args in (["--sheet", "both", "--round", "2"], ["--detail", "element", "--figures", "inline"]):
            if fmt == "moodle" and args[0] == "--detail":
                continue
            r = run_cli("solve", copy, "-f", fmt, "--lang", "ko", *args, cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            assert _english_words(r.stdout, fmt, extra) == [], (fmt, args)
    blank = run_cli("check", copy, "--blank", "--lang", "ko", cwd=tmp_path)
    comments = "\n".join(line.split("#", 1)[1] for line in blank.stdout.splitlines() if "#" in line)
    comments = comments.replace("PROBLEM.toml THIS_FILE.toml", "").replace(str(copy), "")
    assert _english_words(comments, "text", extra) == [], blank.stdout


@pytest.mark.parametrize("answers", CHECK_CASES, ids=lambda p: p.name.split(".")[0])
def test_no_english_prose_is_left_in_a_korean_check_report(answers, tmp_path):
    problem = answers.parent / (answers.name.split(".")[0] + ".problem.toml")
    for fmt in ("md", "text"):
        r = run_cli("check", problem, answers, "-f", fmt, "--lang", "ko", cwd=ROOT)
        assert r.returncode in (0, 1), r.stderr
        body = r.stdout.split("\n", 1)[1]  # the first line holds the problem's (file) name
        assert _english_words(body, fmt) == [], r.stdout
    data = json.loads(run_cli("check", problem, answers, "-f", "json", "--lang", "ko", cwd=ROOT).stdout)
    assert HANGUL.search(data["rule"])
    for item in data["items"]:
        assert item["verdict"] in ("correct", "wrong", "carried", "imprecise")  # codes stay codes
        if item["hint"]:
            assert re.fullmatch(r"[a-z_]+", item["hint"]["code"]) and HANGUL.search(item["hint"]["text"])


# ------------------------------------------------------------------ what a Korean reader is promised
@pytest.mark.parametrize("path", [KO_NET, KO_GRAPH], ids=lambda p: p.stem)
def test_korean_markdown_every_heading_in_korean_with_the_title_exact(path):
    import stepsolver

    title = stepsolver.load_problem(path).name
    r = run_cli("solve", path, "--lang", "ko", "--sheet", "both", cwd=ROOT)
    headings = [line for line in r.stdout.splitlines() if line.startswith("#")]
    assert headings and all(HANGUL.search(h) for h in headings), headings
    assert f"# {title}" in headings
    for word in ("순전파", "역전파"):
        assert word in r.stdout
    if path == KO_NET:
        assert "학습률" in r.stdout


@pytest.mark.parametrize("fmt", ["md", "text", "html", "latex"])
@pytest.mark.parametrize("path", [KO_NET, KO_GRAPH], ids=lambda p: p.stem)
def test_korean_words_and_the_hangul_title_in_every_format(path, fmt):
    import stepsolver

    title = stepsolver.load_problem(path).name
    r = run_cli("solve", path, "-f", fmt, "--lang", "ko", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert title in r.stdout
    for word in ("순전파", "역전파", "학습률"):
        assert word in r.stdout, word
    if fmt == "html":
        assert '<html lang="ko">' in r.stdout and ":lang(ko) { word-break: keep-all; }" in r.stdout
        assert '"Noto Serif KR"' in r.stdout and "NanumGothic" in r.stdout
    if fmt == "latex":
        assert "\\usepackage{kotex}" in r.stdout


def test_english_html_names_english():
    r = run_cli("solve", "problems/linear_2_3_2.toml", "-f", "html", cwd=ROOT)
    assert '<html lang="en">' in r.stdout and "keep-all" not in r.stdout


def test_korean_text_wraps_by_display_width():
    from stepsolver.render.textmath import width

    r = run_cli("solve", KO_NET, "-f", "text", "--lang", "ko", "--sheet", "both", cwd=ROOT)
    for line in r.stdout.splitlines():
        if HANGUL.search(line) and not line.startswith("    "):
            assert width(line) <= 100, line
    underlined = r.stdout.splitlines()
    for above, line in zip(underlined, underlined[1:]):
        if line and set(line) <= {"=", "-"} and HANGUL.search(above):
            assert len(line) == width(above), (above, line)


def test_generate_in_korean_writes_korean_titles_and_descriptions(tmp_path):
    r = run_cli("generate", "--layers", "2,2,1", "--count", "2", "--out", tmp_path / "v", "--lang", "ko", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "v" / "variant-01.toml").read_text(encoding="utf-8")
    assert 'title = "역전파 연습 문제 (변형 1)"' in text
    assert re.search(r'description = "2-2-1 신경망 \(시그모이드 함수\), 손실 함수 오차제곱합의 절반, 학습률 0\.1\."', text)
    moodle = run_cli("solve", *sorted((tmp_path / "v").glob("*.toml")), "-f", "moodle", "--lang", "ko", cwd=ROOT)
    assert moodle.stdout.count("<question type=\"category\">") == 1  # both variants in one exercise
    assert "stepsolver/역전파 연습 문제<" in moodle.stdout
    g = run_cli("generate", "--from", GRAPH_PROBLEMS[0], "--count", "1", "--out", tmp_path / "g", "--lang", "ko",
                cwd=ROOT)
    assert g.returncode == 0, g.stderr


# ------------------------------------------------------------------ the PDF and the browser
needs_pdf = pytest.mark.skipif(not (shutil.which("pdflatex") and shutil.which("pdftotext")),
                               reason="pdflatex and pdftotext are not installed")


@pytest.mark.slow
@needs_pdf
@pytest.mark.parametrize("path", [KO_NET, KO_GRAPH], ids=lambda p: p.stem)
def test_korean_pdf_gives_every_hangul_string_back(path, tmp_path):
    import stepsolver

    if subprocess.run(["kpsewhich", "kotex.sty"], capture_output=True, text=True).returncode != 0:
        pytest.skip("kotex (texlive-lang-korean) is not installed")
    out = tmp_path / "key.pdf"
    r = run_cli("solve", path, "-f", "pdf", "--lang", "ko", "-o", out, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", out, "-"], capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert stepsolver.load_problem(path).name in flat
    for word in ("표기법과 규칙", "주어진 값", "순전파", "역전파", "학습률", "업데이트"):
        assert word in flat, word


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
@pytest.mark.skipif(not _chromium(), reason="Chromium is not installed")
def test_chromium_draws_the_korean_page(tmp_path):
    fc = subprocess.run(["fc-list", ":lang=ko"], capture_output=True, text=True)
    if not fc.stdout.strip():
        pytest.skip("no Korean font installed (fonts-nanum)")
    page = tmp_path / "ko.html"
    r = run_cli("solve", KO_NET, "-f", "html", "--lang", "ko", "-o", page, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    # the browser's own reading of the page: the text it laid out, and no glyph left undrawn
    dom = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert "역전파 연습 문제" in dom.stdout and "순전파" in dom.stdout
    pdf = tmp_path / "ko.pdf"
    subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", page.as_uri()], capture_output=True, timeout=120)
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts (poppler-utils) is not installed")
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, text=True).stdout
    assert re.search(r"Nanum|Noto\S*(KR|CJK)", fonts), fonts  # Hangul drawn with a Korean face
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"], capture_output=True, text=True).stdout
    assert "순전파" in text and "학습률" in text


def test_errors_keep_hangul_file_names_and_titles_intact(tmp_path):
    bad = tmp_path / "역전파 숙제.toml"
    bad.write_text('title = "역전파 숙제"\nlearning_rate = "빠르게"\n', encoding="utf-8")
    r = run_cli("solve", bad, "--lang", "ko", cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "역전파 숙제.toml" in lines[0] and "learning_rate" in lines[0], r.stderr
    good = tmp_path / "문제.toml"
    good.write_text((ROOT / "problems" / "linear_2_3_2.toml").read_text().replace("Two-layer linear network", "선형 신경망 문제"),
                    encoding="utf-8")
    for fmt in ("md", "text", "latex", "html", "moodle", "json", "csv"):
        out = run_cli("solve", good, "-f", fmt, cwd=tmp_path).stdout
        assert "선형 신경망 문제" in out, fmt
