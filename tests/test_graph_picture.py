"""The graph picture (issue 29): laid out in layers by igraph, each node a
box holding its value and gradient, and readable at 40 nodes: for every
graph example and for seeded random graphs of 10 to 40 nodes, in SVG and in
TikZ, no two boxes overlap, no edge passes through a box that is not one of
its ends, and no two labels overlap (each label inside its box).  The
geometry is read back from the drawings (tests/picture_geometry.py)."""

from __future__ import annotations

import random
import re

import pytest

import stepsolver
from conftest import GRAPH_PROBLEMS
from picture_geometry import faults, svg_geometry, tikz_geometry
from stepsolver.render import RenderOptions, render


def _pictures(trace, values=True):
    html = render([trace], "html", RenderOptions())
    tex = render([trace], "latex", RenderOptions())
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    tikzs = re.findall(r"\\begin\{tikzpicture\}.*?\\end\{tikzpicture\}", tex, re.S)
    return svgs[0], tikzs[0]


def random_graph(seed: int, size: int) -> str:
    """A graph of ``size`` names: a few scalar and 2x1 inputs, then nodes each reading one to three
    earlier names (mostly recent ones), the last node their output."""
    rng = random.Random(seed)
    leaves = rng.randint(3, max(3, size // 4))
    lines = ['kind = "graph"', f'title = "Random graph {seed}"', "[inputs]"]
    names, shape = [], {}
    for i in range(leaves):
        name = f"p{i}"
        if rng.random() < 0.25:
            lines.append(f"{name} = [{rng.randint(-3, 3) / 2}, {rng.randint(-3, 3) / 2}]")
            shape[name] = "v"
        else:
            lines.append(f"{name} = {rng.randint(-4, 4) / 4}")
            shape[name] = "s"
        names.append(name)
    lines.append("[nodes]")
    for i in range(size - leaves):
        name = f"n{i}"
        pick = lambda: names[max(0, len(names) - 1 - int(rng.expovariate(0.4)))]  # noqa: E731
        a, b = pick(), pick()
        op = rng.choice(["+", "*", "-", "tanh", "sigmoid", "mix"])
        if op in ("tanh", "sigmoid"):
            text, sh = f"{op}({a})", shape[a]
        elif op == "mix":
            c = pick()
            text, sh = f"{a} * {b} + {c}", "v" if "v" in (shape[a], shape[b], shape[c]) else "s"
        else:
            text, sh = f"{a} {op} {b}", "v" if "v" in (shape[a], shape[b]) else "s"
        if sh == "v" and op in ("+", "-", "mix") and rng.random() < 0.3:
            text, sh = f"sum({text})", "s"
        lines.append(f'{name} = "{text}"')
        names.append(name)
        shape[name] = sh
    if shape[names[-1]] == "v":
        lines.append(f'out = "sum({names[-1]})"')
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("path", GRAPH_PROBLEMS, ids=lambda p: p.stem)
def test_every_example_picture_is_readable(path):
    trace = stepsolver.solve(stepsolver.load_problem(path)).trace
    svg, tikz = _pictures(trace)
    for name, geometry in (("svg", svg_geometry(svg)), ("tikz", tikz_geometry(tikz))):
        boxes, segs, texts = geometry
        assert len(boxes) == len(trace.problem.nodes), name
        assert len(segs) >= sum(len(n.parents) for n in trace.problem.inner), name
        assert not faults(*geometry), (name, faults(*geometry)[:3])


@pytest.mark.parametrize("seed, size", [(s, 10 + (s * 7) % 31) for s in range(10)] + [(99, 40)])
def test_random_graphs_of_10_to_40_nodes_are_readable(seed, size):
    trace = stepsolver.solve(stepsolver.loads_problem(random_graph(seed, size), "r.toml")).trace
    svg, tikz = _pictures(trace)
    for name, geometry in (("svg", svg_geometry(svg)), ("tikz", tikz_geometry(tikz))):
        assert len(geometry[0]) == len(trace.problem.nodes)
        assert not faults(*geometry), (name, faults(*geometry)[:3])


def test_each_node_holds_its_value_and_gradient():
    path = next(p for p in GRAPH_PROBLEMS if p.stem == "graph_regularised_unit")
    trace = stepsolver.solve(stepsolver.load_problem(path)).trace
    svg, tikz = _pictures(trace)
    groups = re.findall(r'<g class="node"><title>(.*?)</title>(.*?)</g>', svg, re.S)
    texts = {t: re.findall(r"<text[^>]*>([^<]*)</text>", body) for t, body in groups}
    z = next(v for k, v in texts.items() if k.startswith("z:"))
    assert z == ["z (+)", "0", "-0.125"]  # z = wx + b = 0, z-bar = -0.125
    w = next(v for k, v in texts.items() if k.startswith("w:"))
    assert w == ["w", "1", "-0.15"]


def test_the_exercise_sheet_picture_shows_only_the_given_values():
    path = next(p for p in GRAPH_PROBLEMS if p.stem == "graph_regularised_unit")
    trace = stepsolver.solve(stepsolver.load_problem(path)).trace
    sheet = render([trace], "html", RenderOptions(sheet="questions"))
    (svg,) = re.findall(r"<svg.*?</svg>", sheet, re.S)
    shown = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "2" in shown and "0.1" in shown  # x and lambda are given
    assert "-0.125" not in shown and "0.175" not in shown and "-0.15" not in shown, shown
    assert not faults(*svg_geometry(svg))


def test_the_checker_sees_each_fault():
    box_a, box_b = (0, 0, 40, 30), (30, 10, 70, 40)
    assert faults([box_a, box_b], [], [])
    assert faults([box_a, (100, 0, 140, 30), (50, 0, 90, 30)], [(40, 15, 100, 15)], [])  # through the middle box
    assert not faults([box_a, (100, 0, 140, 30)], [(40, 15, 100, 15)], [])
    assert faults([box_a], [], [(2, 2, 30, 12), (10, 5, 35, 15)])
