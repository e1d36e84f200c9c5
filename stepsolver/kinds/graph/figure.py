"""The geometry of a graph's picture, as cs231n and the notes draw it: leaves
on the left, every node one column right of its deepest parent, each node a
circle (leaves) or a box naming its operation, the forward value above each
edge and the gradient flowing back below it.  The drawing is the templates'
(graph/figures/graph.svg.j2, graph.tikz.j2)."""

from __future__ import annotations

from types import SimpleNamespace

from .display import name_latex, name_text
from .expr import Bin, Fn, Neg, Num, Ref

DX, DY = 150.0, 80.0
OPS = {"+": "+", "-": "−", "*": "×", "/": "÷", "**": "^", "@": "@"}


def _op(tree) -> str:
    if isinstance(tree, Bin):
        return OPS[tree.op]
    if isinstance(tree, Fn):
        return {"sigmoid": "σ", "T": "ᵀ", "sum": "Σ"}.get(tree.name, tree.name)
    if isinstance(tree, Neg):
        return "−"
    if isinstance(tree, (Ref, Num)):
        return "="
    return "?"


def layout(view) -> SimpleNamespace:
    p, s, f = view.problem, view.s, view.f
    depth: dict = {}
    for n in p.nodes:
        depth[n.name] = 0 if n.role != "node" else 1 + max((depth[v] for v in n.parents), default=0)
    # a leaf sits one column left of its first consumer, so edges stay short
    for n in p.leaves:
        kids = [depth[c.name] for c in p.inner if n.name in c.parents]
        if kids:
            depth[n.name] = max(0, min(kids) - 1)
    columns: dict = {}
    for n in p.nodes:
        columns.setdefault(depth[n.name], []).append(n.name)
    tallest = max(len(c) for c in columns.values())
    pos: dict = {}
    # columns right to left: each ordered by where its children sit (barycentre)
    for d in sorted(columns, reverse=True):
        names = columns[d]

        def centre(name):
            ys = [pos[c.name][1] for c in p.inner if name in c.parents and c.name in pos]
            return sum(ys) / len(ys) if ys else float("inf")

        names.sort(key=centre)
        offset = (tallest - len(names)) * DY / 2
        for i, name in enumerate(names):
            pos[name] = (40 + d * DX, 40 + offset + i * DY)

    def short(M) -> str:
        if M is None:
            return ""
        if M.shape == (1, 1):
            return f.plain(M[0, 0])
        return f"{M.n}×{M.m}"

    nodes = []
    for n in p.nodes:
        x, y = pos[n.name]
        nodes.append(SimpleNamespace(name=n.name, tex=name_latex(n.name, p.symbols), text=name_text(n.name, p.symbols),
                                     leaf=n.role != "node", op=_op(n.tree) if n.role == "node" else "",
                                     x=x, y=y, pos=f"({x:.1f},{y:.1f})", value=short(s.values[n.name]), grad=short(s.grads.get(n.name))))
    edges = []
    for n in p.inner:
        for v in n.parents:
            (x1, y1), (x2, y2) = pos[v], pos[n.name]
            contrib = s.contrib.get((n.name, v))
            edges.append(SimpleNamespace(src=v, dst=n.name, x1=x1 + 22, y1=y1, x2=x2 - 22, y2=y2,
                                         mx=x1 + 22 + 0.45 * (x2 - x1 - 44), my=y1 + 0.45 * (y2 - y1), value=short(s.values[v]),
                                         given=p.by_name[v].role != "node",
                                         grad=short(contrib)))
    width = 80 + max(depth.values()) * DX
    height = 80 + (tallest - 1) * DY
    return SimpleNamespace(nodes=nodes, edges=edges, width=width, height=height)
