"""The geometry of a graph's picture, as micrograd draws it: the graph laid
out in layers left to right in forward order, each node a box holding its
name, its value and its gradient (scalars and small matrices as numbers,
larger ones as their shape: the tables below hold the entries).

The layers and the order within each layer come from igraph's Sugiyama
layout (crossings reduced by the barycentre heuristic, a long edge given a
dummy vertex in every layer it crosses); this module sizes the boxes and
routes the edges through the gaps, so that by construction

- boxes in a layer are a whole unit apart, a unit being the tallest box
  plus a gap: no two boxes overlap;
- an edge leaves its source's box level, crosses each layer it spans at a
  dummy's height (a unit away from every box of that layer) and enters its
  target level: no edge passes through a box other than its ends;
- all text sits inside its box: no label overlaps another.

A recurrence is laid out one block of columns per step, the shared
parameters once, left of the first step.  The drawing itself is the
templates' (graph/figures/graph.svg.j2, graph.tikz.j2), both from these
coordinates."""

from __future__ import annotations

from types import SimpleNamespace

import igraph

from .display import name_latex, name_text
from .expr import Bin, Fn, Neg

OPS = {"+": "+", "-": "−", "*": "×", "/": "÷", "**": "^", "@": "@"}
OPS_TEX = {"+": "+", "-": "-", "*": "\\times", "/": "\\div", "**": "\\hat{}", "@": "@"}

#: text metrics, in px at the SVG's font size (generous: a wide glyph fits)
FONT = 11
CHAR_W = 7.0
LINE_H = 14.0
PAD_X, PAD_Y = 8.0, 5.0
GAP_X = 60.0  # between the columns: the edges' room
GAP_Y = 16.0  # between two boxes of a column, at the least
MARGIN = 12.0
#: a matrix of at most this many rows, columns and entries is written out in its node
MAX_ROWS, MAX_COLS, MAX_ENTRIES = 3, 3, 6


def _op(tree) -> tuple[str, str]:
    """The operation a node applies, as text and as LaTeX ("" for a copy)."""
    if isinstance(tree, Bin):
        return OPS[tree.op], OPS_TEX[tree.op]
    if isinstance(tree, Fn):
        special = {"sigmoid": ("σ", "\\sigma"), "T": ("ᵀ", "{}^{\\top}"), "sum": ("Σ", "\\Sigma")}
        if tree.name in special:
            return special[tree.name]
        word = tree.name.replace("_", "{\\_}")
        return tree.name, f"\\mathrm{{{word}}}"
    if isinstance(tree, Neg):
        return "−", "-"
    return "", ""


def _width(text: str) -> float:
    return len(text) * CHAR_W


def _rows(M, f) -> list[str]:
    """A value as the lines of its node: a number, the rows of a small matrix, or its shape."""
    if M is None:
        return []
    if M.shape == (1, 1):
        return [f.plain(M[0, 0])]
    if M.n <= MAX_ROWS and M.m <= MAX_COLS and M.n * M.m <= MAX_ENTRIES:
        return ["[" + ", ".join(f.plain(x) for x in r) + "]" for r in M.rows]
    return [f"{M.n}×{M.m}"]


def _layers(p) -> dict:
    """A layer for every name: inner nodes one right of their deepest parent (a recurrence one
    block of columns per step), a leaf one left of its first consumer."""
    inner = [n for n in p.nodes if n.role == "node"]
    layer: dict = {n.name: 0 for n in p.nodes if n.role != "node"}
    block: dict = {}
    if p.recurrence is not None:
        steps, cell = p.recurrence
        step_of = {f"{c}{k}": (c, k) for c in cell for k in range(1, steps + 1)}
        d: dict = {}
        for n in inner:  # the depth of each cell name inside one step
            if n.name in step_of and step_of[n.name][1] == 1:
                c = step_of[n.name][0]
                d[c] = 1 + max((d[step_of[v][0]] for v in n.parents if v in step_of and step_of[v][1] == 1),
                               default=-1)
        width = max(d.values(), default=0) + 1
        block = {name: 1 + (k - 1) * width + d.get(c, 0) for name, (c, k) in step_of.items()}
    for n in inner:
        layer[n.name] = max(block.get(n.name, 0), 1 + max((layer[v] for v in n.parents), default=0))
    for n in p.nodes:
        if n.role != "node":
            kids = [layer[c.name] for c in inner if n.name in c.parents]
            if kids:
                layer[n.name] = max(0, min(kids) - 1)
    return layer


def layout(view) -> SimpleNamespace:
    p, s, f = view.problem, view.s, view.f
    names = [n.name for n in p.nodes]
    index = {name: i for i, name in enumerate(names)}
    layer = _layers(p)

    # the boxes: a title line (the name, and the operation of an inner node), the value, the gradient
    boxes = []
    for n in p.nodes:
        op, op_tex = _op(n.tree) if n.role == "node" else ("", "")
        text = name_text(n.name, p.symbols)
        title = f"{text} ({op})" if op else text
        title_tex = f"{name_latex(n.name, p.symbols)}" + (f"\\ ({op_tex})" if op_tex else "")
        value = _rows(s.values[n.name], f)
        grad = _rows(s.grads.get(n.name), f)
        lines = [title] + value + grad
        w = max(_width(t) for t in lines) + 2 * PAD_X
        h = len(lines) * LINE_H + 2 * PAD_Y
        boxes.append(SimpleNamespace(name=n.name, text=text, title=title, title_tex=title_tex, value=value,
                                     grad=grad, leaf=n.role != "node", given=n.role != "node", w=w, h=h))

    # igraph: the order within each layer and the dummy vertices of long edges
    edges = [(v, n.name) for n in p.nodes if n.role == "node" for v in n.parents]
    # a long edge is cut here into one-layer pieces through dummy vertices of its own, so that the
    # layout orders the dummies with the boxes (igraph's own edge routing is not used)
    layers_of = [layer[x] for x in names]
    pieces, chains = [], []
    for a, b in edges:
        chain, prev = [], index[a]
        for lyr in range(layer[a] + 1, layer[b]):
            layers_of.append(lyr)
            chain.append(len(layers_of) - 1)
            pieces.append((prev, chain[-1]))
            prev = chain[-1]
        pieces.append((prev, index[b]))
        chains.append(chain)
    g = igraph.Graph(n=len(layers_of), edges=pieces, directed=True)
    lay = g.layout_sugiyama(layers=layers_of, hgap=1, maxiter=100)
    coords = lay.coords[: len(names)]
    routes = [[lay.coords[d] for d in chain] for chain in chains]

    # the order within each layer is igraph's; the heights are placed here, so that consecutive items of
    # a layer (boxes, and the dummies an edge passes through) are always their half-heights plus a gap
    # apart, each as near to igraph's height for it as that allows
    unit = sum(b.h for b in boxes) / len(boxes) + GAP_Y
    items: dict = {}  # layer -> [(wanted height, half-height, key)]
    for i, (pos, lyr) in enumerate(coords):
        items.setdefault(int(lyr), []).append((pos * unit, boxes[i].h / 2, ("node", i)))
    for e, route in enumerate(routes):
        for k, (pos, lyr) in enumerate(route):
            items.setdefault(int(lyr), []).append((pos * unit, 0.0, ("dummy", e, k)))
    placed: dict = {}
    for lyr, row in items.items():
        row.sort(key=lambda it: (it[0], it[2]))
        ys, prev = [], None
        for want, half, _ in row:
            y = want if prev is None else max(want, prev[0] + prev[1] + half + GAP_Y)
            ys.append(y)
            prev = (y, half)
        shift = sum(w for w, _, _ in row) / len(row) - sum(ys) / len(ys)  # as near as a whole shift allows
        for (_, _, key), y in zip(row, ys):
            placed[key] = y + shift
    low = min(placed[k] - (boxes[k[1]].h / 2 if k[0] == "node" else 0) for k in placed)
    placed = {k: y - low + MARGIN for k, y in placed.items()}

    n_layers = max(layer.values()) + 1
    col_w = [0.0] * n_layers
    for b, name in zip(boxes, names):
        col_w[layer[name]] = max(col_w[layer[name]], b.w)
    col_w = [w or 20.0 for w in col_w]
    col_x, x = [], MARGIN
    for w in col_w:
        col_x.append(x + w / 2)
        x += w + GAP_X
    width = x - GAP_X + MARGIN

    nodes = []
    for i, (b, name, (pos, lyr)) in enumerate(zip(boxes, names, coords)):
        b.x, b.y = col_x[int(lyr)], placed[("node", i)]
        b.left, b.top, b.right, b.bottom = b.x - b.w / 2, b.y - b.h / 2, b.x + b.w / 2, b.y + b.h / 2
        b.corner1, b.corner2 = f"({b.left:.1f},{b.top:.1f})", f"({b.right:.1f},{b.bottom:.1f})"
        b.lines = []
        y = b.top + PAD_Y + LINE_H / 2
        for kind, items in (("title", [b.title]), ("value", b.value), ("grad", b.grad)):
            for t in items:
                b.lines.append(SimpleNamespace(kind=kind, text=t, y=y, baseline=y + FONT * 0.35, w=_width(t),
                                               at=f"({b.x:.1f},{y:.1f})"))
                y += LINE_H
        b.aria = f"{b.text}: " + "; ".join(filter(None, (" ".join(b.value), " ".join(b.grad))))
        b.aria_given = f"{b.text}: " + " ".join(b.value)
        nodes.append(b)

    # each edge: out of its source's right side, through the dummies' heights, into its target's left
    # side; the ends of several edges spread along the side, in the order of where they come from
    middles = []
    for e, route in enumerate(routes):
        mid = []
        for k, (pos, lyr) in enumerate(route):
            l_ = int(lyr)
            y = placed[("dummy", e, k)]
            mid += [(col_x[l_] - col_w[l_] / 2, y), (col_x[l_] + col_w[l_] / 2, y)]
        middles.append(mid)
    out_y, in_y = {}, {}
    for side, store in (("out", out_y), ("in", in_y)):
        for b in nodes:
            mine = [i for i, (a, c) in enumerate(edges) if (a if side == "out" else c) == b.name]

            def toward(i, side=side):
                if middles[i]:
                    return middles[i][0][1] if side == "out" else middles[i][-1][1]
                other = nodes[index[edges[i][1] if side == "out" else edges[i][0]]]
                return other.y

            mine.sort(key=toward)
            span = b.h - 2 * PAD_Y
            for k, i in enumerate(mine):
                store[i] = b.y if len(mine) == 1 else b.top + PAD_Y + span * (k + 0.5) / len(mine)
    out_edges = []
    for i, ((a, bname), mid) in enumerate(zip(edges, middles)):
        u, v = nodes[index[a]], nodes[index[bname]]
        la, lb = layer[a], layer[bname]
        y0, y1 = out_y[i], in_y[i]
        pts = [(u.right, y0), (col_x[la] + col_w[la] / 2, y0)] + mid + [(col_x[lb] - col_w[lb] / 2, y1), (v.left, y1)]
        clean = [pts[0]]
        for q in pts[1:]:
            if abs(q[0] - clean[-1][0]) > 0.05 or abs(q[1] - clean[-1][1]) > 0.05:
                clean.append(q)
        segs = [SimpleNamespace(x1=x1, y1=y1, x2=x2, y2=y2, last=j == len(clean) - 2)
                for j, ((x1, y1), (x2, y2)) in enumerate(zip(clean, clean[1:]))]
        out_edges.append(SimpleNamespace(src=a, dst=bname, points=clean, segs=segs,
                                         path=" -- ".join(f"({x:.1f},{y:.1f})" for x, y in clean)))
    height = max([b.bottom for b in nodes] + list(placed.values())) + MARGIN
    return SimpleNamespace(nodes=nodes, edges=out_edges, width=width, height=height, font=FONT, line_h=LINE_H)
