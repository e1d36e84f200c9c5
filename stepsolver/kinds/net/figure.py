"""Geometry of the network picture: where each unit and weight goes.

The picture itself is drawn by templates (``net/figures/network.svg.j2`` for
HTML and Markdown, ``net/figures/network.pict.j2`` for LaTeX, in picture mode); this module only
computes positions and picks the values shown: the weights on the edges, each
unit's bias, and -- when the first update has a single example -- each unit's
activation a and delta after solving.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COL = 190  # horizontal distance between layers
ROW = 96  # vertical distance between units
R = 24  # unit radius
PAD_X, PAD_Y = 70, 58


@dataclass(frozen=True)
class Node:
    x: float
    y: float
    layer: int
    unit: int
    name: str  # x1, h1, o1 (plain text)
    value: object | None  # a (inputs: x) shown inside, or None
    bias: object | None  # shown above
    delta: object | None  # shown below


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    weight: object
    lx: float  # label position
    ly: float


@dataclass
class Figure:
    width: float
    height: float
    radius: float
    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    shows_values: bool = False


def unit_name(layer: int, unit: int, n_layers: int) -> str:
    if layer == 0:
        return f"x{unit}"
    if layer == n_layers:
        return f"o{unit}"
    return f"h{unit}" if n_layers == 2 else f"h{layer}.{unit}"


def layout(trace, values: bool = True) -> Figure:
    """values: show a and delta of the first step (only with one example)."""
    problem = trace.problem
    sizes = problem.sizes
    L = len(sizes) - 1
    step = trace.steps[0]
    values = values and step.m == 1
    tallest = max(sizes)
    height = 2 * PAD_Y + (tallest - 1) * ROW
    width = 2 * PAD_X + L * COL
    fig = Figure(width=width, height=height, radius=R, shows_values=values)

    def pos(layer, unit):
        n = sizes[layer]
        top = PAD_Y + (tallest - n) * ROW / 2
        return PAD_X + layer * COL, top + (unit - 1) * ROW

    for layer, n in enumerate(sizes):
        for u in range(1, n + 1):
            x, y = pos(layer, u)
            if layer == 0:
                value, bias, delta = (step.X[u - 1, 0] if values else None), None, None
            else:
                lt = step.layers[layer - 1]
                value = lt.a[u - 1, 0] if values else None
                delta = lt.delta[u - 1, 0] if values else None
                bias = lt.b[u - 1, 0]
            fig.nodes.append(Node(x, y, layer, u, unit_name(layer, u, L), value, bias, delta))
    # the label sits a third of the way along its edge, nearer the source,
    # nudged so the labels of edges leaving one unit do not overlap
    for layer in range(1, L + 1):
        W = step.layers[layer - 1].W
        for i in range(1, sizes[layer] + 1):
            for k in range(1, sizes[layer - 1] + 1):
                x1, y1 = pos(layer - 1, k)
                x2, y2 = pos(layer, i)
                t = 0.32
                lx, ly = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
                fig.edges.append(Edge(x1 + R, y1, x2 - R, y2, W[i - 1, k - 1], lx, ly - 4))
    return fig
