"""Every problem renders in every format, notation and detail level, and the
output validates: KaTeX (strict) for Markdown math, headless Chromium for
the HTML page, no LaTeX left in the plain text.  The external checkers are
used when present (.ci/run installs them) and skipped otherwise."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import stepsolver
from conftest import PROBLEMS, ROOT, run_cli
from stepsolver.render import RenderOptions, render

#: the slow layer: every format through its own validator (KaTeX, pdflatex, Chromium)
pytestmark = pytest.mark.slow

NOTATIONS = ["default", "ng", "nielsen", "grosse", "netout"]
DETAILS = ["matrix", "element"]


@pytest.fixture(scope="module")
def traces():
    return {p.stem: stepsolver.solve(stepsolver.load_problem(p)).trace for p in PROBLEMS}


#: one network notation for each graph preset it maps to (kinds/graph/view.py ALIASES: default and
#: grosse write v-bar, nielsen and netout the partial, ng dv): the others render a graph the same
GRAPH_NOTATIONS = ("default", "ng", "nielsen")


def for_notation(traces, notation) -> dict:
    """The traces a notation changes: every network, and the graphs under the notations graphs read."""
    return {k: t for k, t in traces.items() if t.kind.name != "graph" or notation in GRAPH_NOTATIONS}


_RENDERS: dict = {}


def all_renders(traces, fmt, **extra):
    """Every problem in every notation and detail, rendered once per session and format (several
    tests read the same renders)."""
    key = (id(traces), fmt, tuple(sorted(extra.items())))
    if key not in _RENDERS:
        _RENDERS[key] = list(_renders(traces, fmt, **extra))
    return _RENDERS[key]


def _renders(traces, fmt, **extra):
    for stem, trace in traces.items():
        for notation in NOTATIONS:
            if trace.kind.name == "graph" and notation not in GRAPH_NOTATIONS:
                continue  # identical to the default's render (tested below, once)
            for detail in DETAILS:
                opts = RenderOptions(notation=notation, detail=detail, **extra)
                yield (stem, notation, detail), render([trace], fmt, opts)


@pytest.mark.parametrize("fmt", ["md", "latex", "html", "text"])
def test_every_problem_notation_and_detail_renders(traces, fmt):
    seen = 0
    for key, out in all_renders(traces, fmt):
        assert len(out) > 500, key
        seen += 1
    graphs = sum(1 for t in traces.values() if t.kind.name == "graph")
    assert seen == ((len(PROBLEMS) - graphs) * len(NOTATIONS) + graphs * len(GRAPH_NOTATIONS)) * len(DETAILS)


def test_the_network_notations_a_graph_skips_render_it_as_their_twins(traces):
    graph = next(t for t in traces.values() if t.kind.name == "graph")
    for notation, twin in (("grosse", "default"), ("netout", "nielsen")):
        assert render([graph], "md", RenderOptions(notation=notation)) == render([graph], "md", RenderOptions(notation=twin))


def test_numbers_do_not_change_with_the_notation(traces):
    trace = traces["sigmoid_2_2_2"]
    finals = set()
    for notation in NOTATIONS:
        out = render([trace], "md", RenderOptions(notation=notation))
        result = out.split("## Result")[1].split("Cost before")[0]
        finals.add(tuple(re.findall(r"-?\d+\.\d+", result)))  # the decimals, in order
    assert len(finals) == 1
    assert len(next(iter(finals))) == 12  # W1, b1, W2, b2 of the 2-2-2 network


def test_plain_text_has_no_latex(traces):
    for key, out in all_renders(traces, "text"):
        leftovers = re.findall(r"\\[A-Za-z]+|\$|\{|\}", out)
        assert not leftovers, (key, leftovers[:5])


def test_html_is_one_self_contained_page(traces):
    for key, out in all_renders(traces, "html"):
        assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>"), key
        assert "<script" not in out and "http://" not in out.replace("http://www.w3.org", "") and "https://" not in out
        assert "<math" in out and "<svg" in out, key


# ------------------------------------------------------------------ KaTeX
def katex_node_path():
    for cand in (os.environ.get("STEPSOLVER_KATEX_NODE_PATH"), ROOT / ".ci" / "node" / "node_modules", ROOT / "node_modules"):
        if cand and (Path(cand) / "katex" / "package.json").exists():
            return str(cand)
    return None


def math_fragments(md: str):
    frags = [{"tex": m.group(1), "display": True} for m in re.finditer(r"^\$\$\n(.*?)\n\$\$$", md, re.S | re.M)]
    frags += [{"tex": m.group(1), "display": True} for m in re.finditer(r"^```math\n(.*?)\n```$", md, re.S | re.M)]
    body = re.sub(r"^\$\$\n.*?\n\$\$$|^```math\n.*?\n```$", "", md, flags=re.S | re.M)
    frags += [{"tex": m.group(1), "display": False} for m in re.finditer(r"(?<![\\$])\$([^$\n]+?)(?<!\\)\$", body)]
    return frags


@pytest.mark.skipif(shutil.which("node") is None or katex_node_path() is None, reason="node and the katex package are needed")
@pytest.mark.parametrize("flavor", ["plain", "github"])
def test_every_markdown_fragment_passes_katex_strict(traces, flavor):
    frags, where = [], []
    for key, out in all_renders(traces, "md", flavor=flavor, figures="none"):
        for fr in math_fragments(out):
            frags.append(fr)
            where.append(key)
    assert len(frags) > 1000
    r = subprocess.run(
        ["node", str(ROOT / "tests" / "katex_check.js")],
        input=json.dumps(frags), capture_output=True, text=True, timeout=300,
        env=dict(os.environ, NODE_PATH=katex_node_path()),
    )
    assert r.returncode == 0, r.stderr
    errors = [(w, f["tex"][:120], e) for w, f, e in zip(where, frags, json.loads(r.stdout)) if e]
    assert not errors, errors[:5]


def katex_errors(frags) -> list:
    """KaTeX's strict verdict on each fragment: the errors only."""
    out = subprocess.run(["node", str(ROOT / "tests" / "katex_check.js")], input=json.dumps(frags),
                         capture_output=True, text=True, env=dict(os.environ, NODE_PATH=katex_node_path()))
    return [e for e in json.loads(out.stdout) if e]


@pytest.mark.skipif(shutil.which("node") is None or katex_node_path() is None, reason="node and the katex package are needed")
def test_check_report_math_passes_katex_strict(tmp_path):
    answers = tmp_path / "a.toml"
    answers.write_text("loss = 0.3\n[[layers]]\nz = [0.3775, 0.39]\ndelta = [0.0088, 0.01]\n[[layers]]\nW_new = [[0.36, 0.41], [0.51, 0.56]]\n")
    r = run_cli("check", ROOT / "problems" / "sigmoid_2_2_2.toml", answers, "-f", "md")
    frags = math_fragments(r.stdout)
    assert len(frags) > 10
    errors = katex_errors(frags)
    assert not errors, errors[:3]


def test_github_flavor_uses_math_fences(traces):
    out = render([traces["linear_2_3_2"]], "md", RenderOptions(flavor="github"))
    assert "```math\n" in out and "\n$$\n" not in out


# --------------------------------------------------------------- LaTeX
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
@pytest.mark.parametrize("notation", NOTATIONS)
def test_latex_compiles_in_every_notation_and_detail(traces, notation, tmp_path):
    from test_latex_compiles import compile_pdf

    for detail in DETAILS:
        doc = render(list(for_notation(traces, notation).values()), "latex", RenderOptions(notation=notation, detail=detail))
        tex = tmp_path / f"all-{detail}.tex"
        tex.write_text(doc)
        c = compile_pdf(tex)
        assert c.returncode == 0, (detail, c.stdout[-2000:])


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_pdf_format_builds_a_pdf(tmp_path):
    out = tmp_path / "key.pdf"
    r = run_cli("solve", ROOT / "problems" / "sigmoid_2_2_2.toml", "--format", "pdf", "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"%PDF")


def test_pdf_without_tex_is_a_clear_error(tmp_path):
    # a PATH with python but without any TeX
    bindir = tmp_path / "bin"
    bindir.mkdir()
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "stepsolver", "solve", str(ROOT / "problems" / "linear_2_3_2.toml"),
         "--format", "pdf", "-o", str(tmp_path / "k.pdf")],
        capture_output=True, text=True, cwd=ROOT, env={"PATH": str(bindir), "HOME": str(tmp_path)},
    )
    assert r.returncode == 2
    assert "pdflatex" in r.stderr and "not installed" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "k.pdf").exists()


# --------------------------------------------------------------- Chromium
CHROMIUM = next((shutil.which(c) for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]

PROBE = """<script>
window.addEventListener('load', () => {
  const maths = [...document.querySelectorAll('math')];
  const bad = maths.filter(m => m.querySelector('merror') || m.getBoundingClientRect().width <= 0);
  const imgs = [...document.querySelectorAll('svg')].filter(s => s.getBoundingClientRect().width <= 0);
  document.title = (bad.length || imgs.length || !maths.length) ? 'MATH-ERR ' + bad.length + ' ' + imgs.length : 'MATH-OK ' + maths.length;
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
@pytest.mark.parametrize("detail", DETAILS)
def test_html_opens_in_chromium_without_a_math_error(traces, tmp_path, detail, request):
    driver = request.getfixturevalue("browser") if _has_driver() else None
    # every problem in one page (several problems make one document), and the netout notation once more
    pages = {"all": render(list(traces.values()), "html", RenderOptions(detail=detail)),
             "netout": render([traces["sigmoid_2_2_2"]], "html", RenderOptions(detail=detail, notation="netout"))}
    for stem, page in pages.items():
        probe = tmp_path / f"{stem}.html"
        probe.write_text(page.replace("</body>", PROBE + "</body>"))
        if driver is not None:  # one browser for every page (a second each otherwise)
            from selenium.webdriver.support.ui import WebDriverWait

            driver.get(probe.as_uri())
            WebDriverWait(driver, 60).until(lambda d: d.title.startswith("MATH-"))
            title = driver.title
        else:
            r = subprocess.run(
                [CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
                 "--dump-dom", probe.as_uri()],
                capture_output=True, text=True, timeout=120,
            )
            found = re.search(r"<title>(.*?)</title>", r.stdout)
            title = found.group(1) if found else r.stderr[-500:]
        assert title.startswith("MATH-OK"), (stem, title)


def _has_driver() -> bool:
    import importlib.util

    return shutil.which("chromedriver") is not None and importlib.util.find_spec("selenium") is not None


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_html_screenshot(tmp_path):
    page = tmp_path / "page.html"
    r = run_cli("solve", ROOT / "problems" / "sigmoid_2_2_2.toml", "--format", "html", "-o", page)
    assert r.returncode == 0
    shot = tmp_path / "page.png"
    subprocess.run(
        [CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1600",
         f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120,
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG")
    # a blank page compresses to a few kilobytes; text, formulas and the picture do not
    assert len(data) > 60_000


@pytest.mark.skipif(shutil.which("node") is None or katex_node_path() is None, reason="node and the katex package are needed")
def test_graph_check_report_math_passes_katex_strict(tmp_path):
    answers = tmp_path / "a.toml"
    answers.write_text("[values]\nz = 0\ny = 0.5\n[grads]\nz = -0.5\nw = -0.9\n[new]\nw = 1.09\n")
    r = run_cli("check", ROOT / "problems" / "graph_regularised_unit.toml", answers, "-f", "md")
    frags = math_fragments(r.stdout)
    assert len(frags) > 8
    errors = katex_errors(frags)
    assert not errors, errors[:3]
