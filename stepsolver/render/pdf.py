"""Building a PDF from the LaTeX document, safely.

pdflatex runs once (twice only if LaTeX asks to rerun) in a fresh temporary
directory with shell escape off, ``openin_any=p`` / ``openout_any=p`` (no
reading or writing outside that directory or of dot files), halting on the
first error, under a time limit.  A missing TeX installation is a clear
error naming the program, not a traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

from ..errors import RenderError, ToolMissingError

TIMEOUT = 120  # seconds


def _has_sty(name: str) -> bool:
    kpsewhich = shutil.which("kpsewhich")
    if not kpsewhich:
        return False
    try:
        return subprocess.run([kpsewhich, name], capture_output=True, text=True, timeout=20).stdout.strip() != ""
    except (OSError, subprocess.TimeoutExpired):
        return False


def build_pdf(latex: str, timeout: int = TIMEOUT) -> bytes:
    pdflatex = shutil.which("pdflatex")
    if not pdflatex:
        raise ToolMissingError(
            "--format pdf needs pdflatex (TeX Live), which is not installed; install it "
            "(Debian: texlive-latex-recommended texlive-fonts-recommended texlive-pictures lmodern) "
            "or use --format latex and compile the file yourself"
        )
    if "\\usepackage{kotex}" in latex and not _has_sty("kotex.sty"):
        raise ToolMissingError(
            "--format pdf of Hangul text needs kotex for pdflatex, which is not installed; install it "
            "(Debian: texlive-lang-korean) or use --format latex, md, html or text, which carry the Hangul"
        )
    safe = ["-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode"]
    with tempfile.TemporaryDirectory(prefix="stepsolver-pdf-") as tmp:
        src = os.path.join(tmp, "solution.tex")
        with open(src, "w", encoding="utf-8") as fh:
            fh.write(latex)
        env = dict(os.environ, openin_any="p", openout_any="p", TEXMFOUTPUT=tmp, shell_escape="f")
        # one pass: the document has no cross-references, contents or
        # citations; a second runs only if LaTeX itself asks for it
        cmd = [pdflatex, *safe, "solution.tex"]
        for _ in range(2):
            try:
                run = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise RenderError(f"pdflatex did not finish within {timeout} seconds") from None
            if run.returncode != 0 or "Rerun to get" not in run.stdout:
                break
        pdf = os.path.join(tmp, "solution.pdf")
        if run.returncode != 0 or not os.path.exists(pdf):
            raise RenderError(f"pdflatex failed: {_first_error(tmp, run.stdout + run.stderr)}")
        with open(pdf, "rb") as fh:
            return fh.read()


def _first_error(tmp: str, output: str) -> str:
    log = os.path.join(tmp, "solution.log")
    text = output
    if os.path.exists(log):
        with open(log, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    m = re.search(r"^! (.*)$(?:\n.*?^l\.(\d+))?", text, re.M | re.S)
    if m:
        return m.group(1).strip() + (f" (line {m.group(2)} of the LaTeX)" if m.group(2) else "")
    return "see the LaTeX output (--format latex) for details"
