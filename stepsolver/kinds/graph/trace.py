"""The record of a solved computation graph, and its quantities.

One step (the backward pass, and the update when asked).  Each node has a
value; each node the output depends on, each input and each constant in
``wrt`` a gradient (v-bar); each updated parameter a new value.  Keys:
``Key(1, name, "value" | "grad" | "new")``.  Worked order: the values in
forward order, the gradients in reverse order, then the new values; the
record order (CSV, --round) is node by node in forward order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...exact import Mat
from ...lang import Text
from ...trace import Key, Quantity, Trace


@dataclass(frozen=True)
class GraphStep:
    index: int
    values: dict  # name -> Mat, every node in forward order
    grads: dict  # name -> Mat, the nodes that get a gradient
    local: dict  # (child, parent) -> Jacobian Mat
    contrib: dict  # (child, parent) -> child-bar pulled back onto parent
    new: dict  # name -> Mat, the updated parameters
    kinks: tuple = ()
    examples: tuple = (1,)
    m: int = 1
    #: an optimizer's state entries per updated parameter {name: {"m": Mat, ...}} (empty for plain steps)
    opt: dict = field(default_factory=dict)
    #: what eta multiplies, and the denominator sqrt(.) + eps, per parameter
    opt_dir: dict = field(default_factory=dict)
    opt_root: dict = field(default_factory=dict)
    #: the learning rate this update used (None without an update): what the
    #: derivation, the replay and the exports read
    eta: object = None


@dataclass(frozen=True)
class GraphTrace(Trace):
    def quantities(self, step) -> list:
        return quantities(self, step)


def quantities(trace: GraphTrace, step: GraphStep) -> list[Quantity]:
    p = trace.problem
    order = {n.name: i for i, n in enumerate(p.nodes)}
    out = []

    def rec(name, what):
        return 3 * order[name] + ("value", "grad", "new").index(what)

    for n in p.nodes:
        operands = tuple((v, step.values[v]) for v in n.parents)
        out.append(Quantity(Key(step.index, n.name, "value"), step.values[n.name], "given" if n.role != "node" else "node",
                            operands, n.role == "node", rec(n.name, "value"), f"{n.name}"))
    for n in reversed(p.nodes):
        if n.name in step.grads:
            children = tuple((c, step.grads[c]) for (c, v) in step.contrib if v == n.name)
            out.append(Quantity(Key(step.index, n.name, "grad"), step.grads[n.name],
                                "seed" if n.name == p.output else "grad", children, n.name != p.output,
                                rec(n.name, "grad"), Text("label.grad", name=n.name)))
    if p.update is not None:
        eta = step.eta
        opt = p.update.optimizer
        for name in p.update.params:
            shown = step.opt.get(name, {})
            for k, (what, M) in enumerate(shown.items(), 1):
                out.append(Quantity(Key(step.index, name, what), M, f"opt_{what}", (("grad", step.grads[name]),), True,
                                    rec(name, "new") - 1 + k / (len(shown) + 1), Text("label.state", what=what, name=name)))
            out.append(Quantity(Key(step.index, name, "new"), step.new[name], "update" if opt.plain else f"update_{opt.name}",
                                (("old", step.values[name]), ("grad", step.grads[name]), ("eta", Mat([[eta]]))),
                                True, rec(name, "new"), Text("label.new", name=name)))
    return out
