"""Every LaTeX output compiles with pdflatex (no shell escape) and the PDF
holds the key numbers.  Skipped where pdflatex is not installed; .ci/run
installs it."""

import os
import shutil
import subprocess

import pytest

from conftest import PROBLEMS, run_cli

#: the slow layer: pdflatex
pytestmark = [pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed"), pytest.mark.slow]

KEY_NUMBERS = {
    "linear_2_3_2": ["109", "0.96", "3.13", "1.87"],
    "sigmoid_2_2_2": ["0.5933", "0.2984", "0.3589"],
    "custom_activation": ["121", "72"],
    "relu_kink": ["0.125"],
}


def compile_pdf(tex_path):
    env = dict(os.environ, openin_any="p", openout_any="p")
    r = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", tex_path.name],
        cwd=tex_path.parent,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    return r


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_latex_compiles_and_shows_the_numbers(path, tmp_path):
    tex = tmp_path / f"{path.stem}.tex"
    r = run_cli("solve", path, "--format", "latex", "-o", tex)
    assert r.returncode == 0, r.stderr
    c = compile_pdf(tex)
    assert c.returncode == 0, c.stdout[-3000:]
    pdf = tex.with_suffix(".pdf")
    assert pdf.exists()
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        for number in KEY_NUMBERS.get(path.stem, []):
            assert number in text, number
