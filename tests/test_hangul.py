"""Hangul in user text survives every format: the LaTeX escaper lets it
through and the preamble loads kotex only when there is some."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import ROOT, run_cli

TITLE = "역전파 연습 문제"
PROBLEM = f'title = "{TITLE}"\ndescription = "순전파와 역전파, 학습률 0.1"\nlearning_rate = 0.1\n' \
          "[[layers]]\nweights = [[1, -1]]\nactivation = \"sigmoid\"\n[[examples]]\nx = [1, 2]\nt = 1\n"


def _kotex() -> bool:
    k = shutil.which("kpsewhich")
    return bool(k) and subprocess.run([k, "kotex.sty"], capture_output=True, text=True).stdout.strip() != ""


@pytest.mark.parametrize("fmt", ["md", "text", "html", "latex", "json", "csv"])
def test_a_hangul_title_survives_every_format(tmp_path, fmt):
    path = tmp_path / "문제.toml"
    path.write_text(PROBLEM, encoding="utf-8")
    r = run_cli("solve", path, "-f", fmt)
    assert r.returncode == 0, r.stderr
    assert TITLE in r.stdout and "?" * 3 not in r.stdout
    if fmt == "latex":
        assert "\\usepackage{kotex}" in r.stdout


def test_no_kotex_without_hangul():
    r = run_cli("solve", ROOT / "problems" / "linear_2_3_2.toml", "-f", "latex")
    assert "kotex" not in r.stdout


def test_the_latex_escaper_keeps_hangul_and_still_escapes():
    from stepsolver.render.markup import latex_escape

    assert latex_escape("역전파 $x$ \\input{a} 😀") == "역전파 \\$x\\$ \\textbackslash{}input\\{a\\} ?"


@pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("pdftotext") is None or not _kotex(),
                    reason="pdflatex, pdftotext and kotex (texlive-lang-korean) are needed")
def test_a_hangul_title_survives_the_pdf(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PROBLEM, encoding="utf-8")
    pdf = tmp_path / "p.pdf"
    r = run_cli("solve", path, "-f", "pdf", "-o", pdf, timeout=300)
    assert r.returncode == 0, r.stderr
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert TITLE in text
