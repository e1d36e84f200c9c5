"""Golden outputs: each example problem in each format, byte for byte.

The files under tests/golden/ were read by a person before they were
accepted.  After an intended change of output, regenerate them with

    STEPSOLVER_UPDATE_GOLDEN=1 pytest tests/test_golden.py

and read the diff (git diff tests/golden) before committing it.
"""

import os

import pytest

from conftest import PROBLEMS, ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"
EXT = {"md": "md", "latex": "tex", "json": "json"}


@pytest.mark.parametrize("fmt", list(EXT))
@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_output_matches_golden(path, fmt):
    r = run_cli("solve", path.relative_to(ROOT), "--format", fmt, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    golden = GOLDEN / f"{path.stem}.{EXT[fmt]}"
    if os.environ.get("STEPSOLVER_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(r.stdout, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; see this module's docstring"
    assert r.stdout == golden.read_text(encoding="utf-8")


def test_every_golden_file_belongs_to_a_problem():
    stems = {p.stem for p in PROBLEMS}
    for g in GOLDEN.iterdir():
        assert g.stem in stems and g.suffix.lstrip(".") in EXT.values(), g.name


def test_same_problem_gives_byte_identical_output():
    path = ROOT / "problems" / "batch_tanh_mean.toml"
    a = run_cli("solve", path, "--format", "md").stdout
    b = run_cli("solve", path, "--format", "md").stdout
    assert a == b
