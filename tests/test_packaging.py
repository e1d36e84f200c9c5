"""templates/ ships inside the wheel: a non-editable install renders."""

import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

#: the slow layer: a wheel built and installed
pytestmark = pytest.mark.slow

hatchling = pytest.importorskip("hatchling", reason="hatchling (a test extra) builds the wheel offline")


def test_wheel_carries_the_templates_and_renders_without_the_repository(tmp_path):
    out = tmp_path / "dist"
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    wheel = next(out.glob("stepsolver-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("stepsolver/templates/md/document.md.j2", "stepsolver/templates/latex/document.tex.j2",
                   "stepsolver/templates/net/matrix.j2", "stepsolver/templates/net/element.j2"):
        assert needed in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    problem = ROOT / "problems" / "linear_2_3_2.toml"
    code = (
        "import stepsolver, sys; "
        f"assert stepsolver.__file__.startswith({str(site)!r}), stepsolver.__file__; "
        f"s = stepsolver.solve(stepsolver.load_problem({str(problem)!r})); "
        "sys.stdout.write(s.render('md')); sys.stdout.write(s.render('latex'))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "# Two-layer linear network" in run.stdout
    assert "\\documentclass" in run.stdout
