"""The exact solve of a computation graph.

Forward: every node's value from its parents, in the order written.
Local derivatives: for every edge c <- v, the Jacobian dc/dv (entries of c
by rows, entries of v by rows; a scalar for scalar nodes).
Backward, in reverse order, with the output's v-bar = seed (1):

    v-bar = sum over the children c of v of  c-bar . dc/dv

each term the pull-back of c-bar through c's expression (a vector-Jacobian
product: z = W @ x gives W-bar = z-bar x^T, x-bar = W^T z-bar).  An
optional update moves the parameters one step: p - eta p-bar (descent) or
p + eta p-bar (ascent).

Irrational values are certified balls; the solve is repeated at a higher
working precision until every reported value has exact.TARGET_BITS
correct bits, as for networks.
"""

from __future__ import annotations

import dataclasses

from ... import exact
from ...errors import SolveError
from ...exact import ZERO, Mat
from .expr import ELEMENTWISE, Bin, Evaluator, Fn
from .. import kit
from ...lang import Text, english
from .trace import GraphStep, GraphTrace


def _same(M):
    return M


def solve_at(problem, rnd=None) -> GraphTrace:
    rnd = rnd or _same
    values: dict = {}
    for n in problem.nodes:
        if n.role != "node":
            values[n.name] = n.value
            continue
        ev = Evaluator(f"node {n.name}")
        v = ev.value(n.tree, values)
        for x in v.entries():
            exact.guard(x, lambda n=n: f"node {n.name}")
        values[n.name] = rnd(v)

    order = [n for n in problem.nodes if n.role == "node"]
    out_index = next(i for i, n in enumerate(order) if n.name == problem.output)
    # local derivatives of every edge (Jacobians), and the backward pass
    local: dict = {}
    grads: dict = {problem.output: problem.seed}
    contrib: dict = {}
    for n in reversed(order[: out_index + 1]):
        ev = Evaluator(f"node {n.name}")
        memo: dict = {}
        for v in n.parents:
            local[(n.name, v)] = _jacobian(ev, n, v, values, memo)
        G = grads.get(n.name)
        if G is None:
            continue
        pulled = ev.vjp(n.tree, values, G, memo)
        for v in n.parents:
            if (n.name, v) in problem.held:
                continue  # truncated BPTT: the state carried into a block is held constant
            c = rnd(pulled[v])
            contrib[(n.name, v)] = c
            grads[v] = c if v not in grads else rnd(grads[v] + c)
    # nodes after the output have no local derivatives in this backward pass
    for n in order[out_index + 1:]:
        ev = Evaluator(f"node {n.name}")
        memo = {}
        for v in n.parents:
            local[(n.name, v)] = _jacobian(ev, n, v, values, memo)
    final = {}
    for n in problem.nodes:
        if problem.gets_grad(n.name) and (n.role != "node" or order.index(n) <= out_index):
            g = grads.get(n.name)
            final[n.name] = g if g is not None else Mat.fill(n.shape[0], n.shape[1], ZERO)
            for x in final[n.name].entries():
                exact.guard(x, lambda n=n: f"the gradient of {n.name}")
    new = {}
    opt_state, opt_dir, opt_root = {}, {}, {}
    if problem.update is not None:
        eta = problem.update.learning_rate
        sign = -1 if problem.update.direction == "descent" else 1
        opt = problem.update.optimizer
        for p in problem.update.params:
            if opt.plain:
                step = final[p].scale(eta)
                new[p] = rnd(values[p] - step if sign < 0 else values[p] + step)
                continue
            # ascent is descent on the negated gradient
            g = final[p] if sign < 0 else -final[p]
            try:
                theta, shown, direction, denom = opt.step(values[p], g, None, 1, eta, getattr(rnd, "state", rnd))
            except ZeroDivisionError:
                raise SolveError(f"the update of {p}: the {opt.name} update divides by zero (a gradient entry of 0 "
                                 "with epsilon = 0); give the optimizer an epsilon above 0") from None
            new[p] = rnd(theta)
            opt_state[p], opt_dir[p], opt_root[p] = shown, direction, denom
            for M in shown.values():
                for x in M.entries():
                    exact.guard(x, lambda p=p: f"the optimizer state of {p}")
    kinks = _kinks(problem, values)
    step = GraphStep(1, values, final, local, contrib, new, tuple(kinks), opt=opt_state, opt_dir=opt_dir,
                     opt_root=opt_root, eta=problem.update.learning_rate if problem.update is not None else None)
    return GraphTrace(problem=problem, steps=(step,))


def _jacobian(ev: Evaluator, n, v: str, values: dict, memo: dict) -> Mat:
    """dc/dv: one vector-Jacobian product per entry of c."""
    rows_c, cols_c = n.shape
    out = []
    for i in range(rows_c):
        for j in range(cols_c):
            E = Mat(tuple(exact.ONE if (a, b) == (i, j) else ZERO for b in range(cols_c)) for a in range(rows_c))
            pulled = ev.vjp(n.tree, values, E, memo).get(v)
            out.append(tuple(pulled.entries()) if pulled is not None else (ZERO,) * (values[v].n * values[v].m))
    return Mat(out)


def _kinks(problem, values) -> list:
    """(node, function, entry) where a kink's convention applies: relu or abs
    at exactly 0, a max/min tie."""
    out = []
    for n in problem.inner:
        def walk(t):
            if isinstance(t, Fn):
                for a in t.args:
                    walk(a)
                if t.name == "maxpool":
                    from .expr import window_ties

                    A = Evaluator(f"node {n.name}").value(t.args[0], values)
                    if window_ties(A, *t.opts):
                        out.append((n.name, "maxpool"))
                if t.name in ("abs", "max", "min") or (t.act is not None and t.act.piecewise):
                    ev = Evaluator(f"node {n.name}")
                    A = ev.value(t.args[0], values)
                    if t.name in ("max", "min"):
                        B = ev.value(t.args[1], values)
                        diff = [x - y for x, y in zip(A.entries(), B.entries())] if A.shape == B.shape else None
                        if diff is not None and any(not d for d in diff):
                            out.append((n.name, t.name))
                    elif any(not x for x in A.entries()):
                        out.append((n.name, t.name))
            elif isinstance(t, Bin):
                walk(t.a)
                walk(t.b)
            elif hasattr(t, "a"):
                walk(t.a)

        walk(n.tree)
    return list(dict.fromkeys(out))


def _entries(trace: GraphTrace):
    """(label of entry k, matrix, step) of every value the trace reports."""
    for s in trace.steps:
        parts = [("value", s.values), ("grad", s.grads), ("new", s.new)]
        parts += [(what, {name: M}) for name, state in s.opt.items() for what, M in state.items()]
        for what, d in parts:
            for name, M in d.items():
                def label(k, name=name, M=M, what=what):
                    entry = "" if M.n * M.m == 1 else f"[{k // M.m + 1}][{k % M.m + 1}]"
                    known = english().has(f"check.graph.what.{what}")
                    return Text("label.graph_entry", node=name, entry=entry,
                                what=Text(f"check.graph.what.{what}") if known else what)
                yield label, M, s.index


def _settle_zeros(trace: GraphTrace) -> GraphTrace:
    """The trace with every value whose ball holds 0 replaced by 0."""
    fix = kit.settle_matrix
    steps = tuple(dataclasses.replace(
        s, values={k: fix(M) for k, M in s.values.items()}, grads={k: fix(M) for k, M in s.grads.items()},
        new={k: fix(M) for k, M in s.new.items()}, local={k: fix(M) for k, M in s.local.items()},
        contrib={k: fix(M) for k, M in s.contrib.items()},
        opt={n: {k: fix(M) for k, M in st.items()} for n, st in s.opt.items()}) for s in trace.steps)
    return dataclasses.replace(trace, steps=steps)


def solve_exact(problem, rnd=None) -> GraphTrace:
    """The exact trace, every irrational value certified to TARGET_BITS (the
    kit's certification loop, as for networks: raised precision, balls that
    stay at 0 settled with a note, a value that cannot be certified refused
    by name)."""
    return kit.certify(lambda: solve_at(problem, rnd), lambda t: kit.audit(_entries(t)), _settle_zeros)


def solve_rounded(problem, places: int) -> GraphTrace:
    """The trace of a student who rounds every value they write to
    ``places`` decimals and carries the rounded value forward."""
    def rnd(M):
        return Mat(tuple(exact.round_half_away(x, places) for x in r) for r in M.rows)

    # an optimizer's state is written to significant digits (as for networks)
    rnd.state = lambda M: M.map(lambda x: exact.round_significant(x, places) if x else x)

    try:
        return solve_exact(problem, rnd)
    except exact.Uncertain as exc:  # pragma: no cover - rounding a ball straddling a boundary
        raise SolveError(str(exc)) from None


__all__ = ["solve_exact", "solve_rounded", "ELEMENTWISE"]
