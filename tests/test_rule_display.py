"""Backward rules written as a teacher writes them (issue 29): powers
reduced, constant factors folded, the ones of a sum dropped inside a
product, the same term met twice written once; and the numbers substituted
still the engine's.  Fast: a few small graphs rendered in process."""

from __future__ import annotations

import re

import pytest

import stepsolver
from stepsolver.render import RenderOptions, render


def _lines(loss: str, extra: str = "", fmt: str = "md") -> list[str]:
    text = ('kind = "graph"\n[inputs]\nP = [[1, 2], [3, 4]]\n[constants]\nY = [[0.5, 1], [1, 3]]\n'
            f'{extra}[nodes]\nL = "{loss}"\n')
    trace = stepsolver.solve(stepsolver.loads_problem(text, "p.toml")).trace
    out = render([trace], fmt, RenderOptions())
    return [line for line in out.splitlines() if line.startswith("\\bar{P} =")]


@pytest.mark.parametrize("loss, rule", [
    ("sum((P - Y)**2) / 2", r"\bar{P} = \bar{L} \cdot \left(P - Y\right) = 1 \cdot \left(\begin{bmatrix}"),
    ("sum(P * P) / 2", r"\bar{P} = \bar{L} \cdot P = 1 \cdot \begin{bmatrix}"),
    ("mean((P - Y)**2)", r"\bar{P} = \frac{\bar{L}}{2} \cdot \left(P - Y\right) = \frac{1}{2} \cdot \left(\begin{bmatrix}"),
    ("sum(P**3)", r"\bar{P} = 3\, \bar{L} \cdot P^{2} = 3\, 1 \cdot \begin{bmatrix}"),
    ("sum(P)", r"\bar{P} = \bar{L} \cdot \mathbf{1} = 1 \cdot \mathbf{1} = \begin{bmatrix}"),
    ("sum(-P * Y)", r"\bar{P} = -\bar{L} \cdot Y = -1 \cdot \begin{bmatrix}"),
])
def test_a_rule_is_written_in_its_simplest_form(loss, rule):
    (line,) = _lines(loss)
    assert line.startswith(rule), line


def test_the_numbers_are_still_the_engines():
    """L = sum((P - Y)^2)/2: the value shown after the rule is P - Y, entry by entry."""
    text = ('kind = "graph"\n[inputs]\nP = [[1, 2], [3, 4]]\n[constants]\nY = [[0.5, 1], [1, 3]]\n'
            '[nodes]\nL = "sum((P - Y)**2) / 2"\n')
    trace = stepsolver.solve(stepsolver.loads_problem(text, "p.toml")).trace
    g = trace.steps[0].grads["P"]
    assert [[str(x) for x in r] for r in g.rows] == [["1/2", "1"], ["2", "1"]]


def test_no_mechanical_form_in_any_graph_example_latex():
    """The LaTeX of every graph example: no exponent k - 1, no ones inside a further product,
    no escaped name in prose."""
    from conftest import GRAPH_PROBLEMS

    assert len(GRAPH_PROBLEMS) >= 16
    for path in GRAPH_PROBLEMS:
        trace = stepsolver.solve(stepsolver.load_problem(path)).trace
        for detail in ("matrix", "element"):
            tex = render([trace], "latex", RenderOptions(detail=detail))
            assert not re.search(r"\^\{\s*\d+\s*-\s*1\s*\}", tex), path
            assert not re.search(r"\\mathbf\{1\}(\^\{\\top\})?\s*\\right\)\s*\\odot", tex), path
            assert not re.search(r"\\left\(\\left\([^()]*\\oslash", tex), path
            assert not re.search(r"[A-Za-z]\\_[A-Za-z0-9]", tex), path
