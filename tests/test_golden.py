"""Golden outputs: each example problem in each format, byte for byte.

The files under tests/golden/ were read by a person before they were
accepted.  After an intended change of output, regenerate them with

    STEPSOLVER_UPDATE_GOLDEN=1 pytest tests/test_golden.py

and read the diff (git diff tests/golden) before committing it.
"""

import os

import pytest

from conftest import NET_PROBLEMS as PROBLEMS, ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"

# name suffix -> command-line arguments
VARIANTS = {
    "md": ["--format", "md", "--figures", "none"],
    "element.md": ["--format", "md", "--figures", "none", "--detail", "element"],
    "tex": ["--format", "latex"],
    "html": ["--format", "html"],
    "txt": ["--format", "text"],
    "json": ["--format", "json"],
    "csv": ["--format", "csv"],
    "moodle.xml": ["--format", "moodle"],
    "round2.md": ["--format", "md", "--figures", "none", "--round", "2"],
}
# the exercise sheet followed by the key
SHEET_VARIANTS = {
    (stem, "both.md"): ["--format", "md", "--figures", "none", "--sheet", "both"]
    for stem in ("linear_2_3_2", "softmax_cross_entropy", "online_bce")
}
# the notation presets, on the two problems whose readers use them most
NOTATION_VARIANTS = {
    (stem, f"{key}.element.md"): ["--format", "md", "--figures", "none", "--detail", "element", "--notation", key]
    for stem in ("sigmoid_2_2_2", "batch_tanh_mean")
    for key in ("ng", "nielsen", "grosse", "netout")
}
# the Korean examples in Korean (--lang ko), every document format, the sheet and the key
KO_VARIANTS = {
    (stem, f"ko.{suffix}"): [*args, "--lang", "ko"]
    for stem in ("ko_relu_2_2_1", "ko_graph_regularised_unit")
    for suffix, args in {"md": ["--format", "md", "--figures", "none"], "tex": ["--format", "latex"],
                         "html": ["--format", "html"], "txt": ["--format", "text"],
                         "moodle.xml": ["--format", "moodle"],
                         "both.md": ["--format", "md", "--figures", "none", "--sheet", "both"],
                         "element.md": ["--format", "md", "--figures", "none", "--detail", "element"]}.items()
}


def cases():
    for path in PROBLEMS:
        for suffix, args in VARIANTS.items():
            yield path, suffix, args
    for (stem, suffix), args in {**NOTATION_VARIANTS, **SHEET_VARIANTS, **KO_VARIANTS}.items():
        yield ROOT / "problems" / f"{stem}.toml", suffix, args


CHECK_CASES = sorted((ROOT / "tests" / "check_cases").glob("*.answers.toml"))


def check_cases():
    """(problem, answers, golden name, arguments) of the check reports kept as goldens."""
    for answers in CHECK_CASES:
        problem = answers.parent / (answers.name.split(".")[0] + ".problem.toml")
        for fmt in ("json", "text"):
            yield problem, answers, f"check.{answers.name[:-len('.answers.toml')]}.{fmt}", ["-f", fmt]
        # the same reports in Korean
        for fmt in ("md", "text"):
            yield problem, answers, f"check.{answers.name[:-len('.answers.toml')]}.ko.{fmt}", ["-f", fmt, "--lang", "ko"]


def check_golden(name: str, text: str):
    golden = GOLDEN / name
    if os.environ.get("STEPSOLVER_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; see this module's docstring"
    assert text == golden.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("path, suffix, args", list(cases()), ids=lambda v: v.stem if hasattr(v, "stem") else v if isinstance(v, str) else "")
def test_output_matches_golden(path, suffix, args):
    r = run_cli("solve", path.relative_to(ROOT), *args, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    check_golden(f"{path.stem}.{suffix}", r.stdout)


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_network_picture_matches_golden(path, tmp_path):
    out = tmp_path / "key.md"
    r = run_cli("solve", path, "-o", out)
    assert r.returncode == 0, r.stderr
    check_golden(f"{path.stem}.network.svg", (tmp_path / "key-network-1.svg").read_text())


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_blank_answer_sheet_matches_golden(path):
    r = run_cli("check", path.relative_to(ROOT), "--blank", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    check_golden(f"{path.stem}.blank.toml", r.stdout)


@pytest.mark.parametrize("problem, answers, name, args", list(check_cases()), ids=lambda v: v if isinstance(v, str) else "")
def test_check_report_matches_golden(problem, answers, name, args):
    r = run_cli("check", problem.relative_to(ROOT), answers.relative_to(ROOT), *args, cwd=ROOT)
    assert r.returncode in (0, 1), r.stderr
    check_golden(name, r.stdout)


def test_every_golden_file_belongs_to_a_case():
    names = ({f"{p.stem}.{s}" for p, s, _ in cases()} | {f"{p.stem}.network.svg" for p in PROBLEMS}
             | {f"{p.stem}.blank.toml" for p in PROBLEMS} | {n for _, _, n, _ in check_cases()})
    for g in GOLDEN.iterdir():
        assert g.name in names, g.name


def test_same_problem_gives_byte_identical_output():
    path = ROOT / "problems" / "batch_tanh_mean.toml"
    a = run_cli("solve", path, "--format", "md").stdout
    b = run_cli("solve", path, "--format", "md").stdout
    assert a == b
