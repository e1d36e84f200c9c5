"""The JSON contract of a solved computation graph (``solve -f json``).

    {"kind": "graph", "title", "nodes": [{"name", "expr" (null for leaves),
     "role": "input" | "constant" | "node", "parents": [names], "value": V,
     "grad": V or null, "local": {parent: V}}] in forward order,
     "output", "seed": V, "optimizer": {"name", ...} and "update": {"learning_rate",
     "direction", "new": {name: V}, "state": {name: {"m": V, ...}} (with an
     optimizer that keeps state)} (when asked), "notes": [...]}

V is ``{"exact": "7/40", "value": 0.175}`` for a scalar and
``{"exact": [[...]], "value": [[...]]}`` for a vector (an n x 1 column) or a
matrix.  ``local[parent]`` is the Jacobian dc/dv: a scalar for scalar nodes,
else a matrix with one row per entry of the node and one column per entry
of the parent (both taken row by row).
"""

from __future__ import annotations

from ...exact import json_matrix, json_value


def value(M):
    if M is None:
        return None
    return json_value(M[0, 0]) if M.shape == (1, 1) else json_matrix(M)


def to_dict(trace) -> dict:
    p = trace.problem
    s = trace.steps[0]
    nodes = []
    for n in p.nodes:
        nodes.append({
            "name": n.name,
            "expr": n.text,
            "role": n.role,
            "parents": list(n.parents),
            "value": value(s.values[n.name]),
            "grad": value(s.grads.get(n.name)),
            "local": {v: value(s.local[(n.name, v)]) for v in n.parents if (n.name, v) in s.local},
        })
    out = {"kind": "graph", "title": p.name, "nodes": nodes, "output": p.output, "seed": value(p.seed)}
    if p.update is not None:
        opt = p.update.optimizer
        out["optimizer"] = {k: v if isinstance(v, (str, bool)) else json_value(v) for k, v in opt.to_dict().items()}
        out["update"] = {"learning_rate": json_value(trace.steps[0].eta), "direction": p.update.direction,
                         "new": {name: value(s.new[name]) for name in p.update.params}}
        if not opt.plain:
            out["update"]["state"] = {name: {k: value(M) for k, M in s.opt[name].items()} for name in p.update.params}
    out["notes"] = list(trace.notes)
    return out
