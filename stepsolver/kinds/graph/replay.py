"""How ``check`` replays a graph on a student's own values.

Values in forward order, each recomputed from the student's own values of
its parents; gradients in reverse order, each the sum over the children of
the student's own c-bar pulled back through c at the student's own values;
the update from the student's own gradient.  Each is judged by the marker
it is handed (marking/marker.py), with the graph's slips as candidates: a
path left out of a sum, the upstream gradient left out, the step's sign,
the learning rate left out, the old value copied.
"""

from __future__ import annotations

from ...exact import ONE, Mat
from ...functions import optimizers
from ...trace import Key
from .expr import CONV, NORMS, POOL, SOFTMAXES, Bin, Evaluator, Fn, Neg


def replay(marker, trace, sheet) -> None:
    p, s = trace.problem, trace.steps[0]
    steps = p.recurrence[1] if p.recurrence is not None else None  # the cell's names, for the slips of BPTT
    run, safe = marker.run, marker.safe
    V: dict = {}
    for n in p.nodes:
        if n.role != "node":
            V[n.name] = marker.exact(n.value)
            continue
        ev = Evaluator(f"node {n.name}")

        def f(*Ms, n=n, ev=ev):
            return ev.value(n.tree, dict(zip(n.parents, Ms)))

        ft = run(f, *[V[v] for v in n.parents])

        def value_cands(view, n=n):
            out = []
            for slip in _value_slips(n.tree):
                ev = Evaluator(f"node {n.name}", slip=slip)
                out.append((slip, safe(lambda ev=ev: ev.value(n.tree, {v: view(V[v]) for v in n.parents}))))
            return out

        V[n.name] = marker.judge(Key(1, n.name, "value"), s.values[n.name], [ft], value_cands)

    G: dict = {}
    order = [n for n in p.nodes if n.role == "node"]
    out_i = next(i for i, n in enumerate(order) if n.name == p.output)
    upstream = order[: out_i + 1]
    G[p.output] = marker.exact(p.seed)
    for node in reversed(p.nodes):
        v = node.name
        if v == p.output or v not in s.grads:
            continue
        children = [c for c in upstream if v in c.parents and (c.name, v) not in p.held]
        if not children:
            G[v] = marker.exact(s.grads[v])
            continue
        inputs, layout = [], []
        for c in children:
            layout.append((c, len(inputs)))
            inputs.append(G[c.name])
            inputs.append(V[c.name])
            inputs.extend(V[x] for x in c.parents)

        def pull(c, Gc, parents, target=v, own=None):
            """c-bar pulled back onto target; with ``own`` (the student's value
            of c) the derivatives sigma' and tanh' are taken from it."""
            ev = Evaluator(f"node {c.name}", from_output=own is not None)
            memo = {} if own is None else {id(c.tree): (c.tree, own)}
            return ev.vjp(c.tree, dict(zip(c.parents, parents)), Gc, memo).get(target)

        def through(use_own):
            """The sum over the children of each child's pull-back, each part an
            intermediate (a careful student writes each path's term rounded)."""
            parts = []
            for c, k in layout:
                def part(Gc, Vc, *Ps, c=c):
                    return pull(c, Gc, Ps, own=Vc if use_own else None)
                parts.append(run(part, *inputs[k: k + 2 + len(c.parents)]))
            if len(parts) == 1:
                return parts[0]
            return run(lambda *Ms: _total(Ms), *parts)

        # the follow-throughs the method allows: derivatives at the recomputed
        # argument, and from the student's own node values (the textbook's)
        fts = [through(False)]
        if any(_has_output_form(c.tree) for c in children):
            fts.append(through(True))

        def cands(view, layout=layout, inputs=inputs, v=v):
            out = []
            balls = [view(q) for q in inputs]
            if len(layout) > 1:
                for skip, _ in layout:
                    total = None
                    for c, k in layout:
                        if c is skip:
                            continue
                        part = safe(lambda c=c, k=k: pull(c, balls[k], balls[k + 2: k + 2 + len(c.parents)]))
                        total = part if total is None else (None if part is None else total + part)
                    # through time: the path through the step after is the one BPTT adds; a shared
                    # weight left with its last step's term alone is the other classic slip
                    code = "missing_path"
                    if steps is not None:
                        here = _step_of(v, steps)
                        kept = {_step_of(c.name, steps) for c, _ in layout if c is not skip}
                        last = max(_step_of(c.name, steps) for c, _ in layout)
                        if here > 0 and _step_of(skip.name, steps) > here:
                            code = "next_step_left_out"
                        elif here == 0 and kept == {last} and last > 1:
                            code = "last_step_only"
                    out.append((code, total))
                # a shared weight's gradient from the last step alone
                if steps is not None and _step_of(v, steps) == 0:
                    last = max(_step_of(c.name, steps) for c, _ in layout)
                    mine = [(c, k) for c, k in layout if _step_of(c.name, steps) == last]
                    if last > 1 and len(mine) < len(layout):
                        total = None
                        for c, k in mine:
                            part = safe(lambda c=c, k=k: pull(c, balls[k], balls[k + 2: k + 2 + len(c.parents)]))
                            total = part if total is None else (None if part is None else total + part)
                        out.append(("last_step_only", total))
            # tanh' (or sigma') taken from the same state of another step: 1 - h1^2 where 1 - h2^2 belongs
            if steps is not None:
                for c, k in layout:
                    here = _step_of(c.name, steps)
                    if not here or not _has_output_form(c.tree):
                        continue
                    cell = c.name[: -len(str(here))]
                    for other in (f"{cell}{here - 1}", f"{cell}{here + 1}"):
                        if other not in V or V[other].pts.shape != inputs[k + 1].pts.shape:
                            continue
                        total = None
                        for c2, k2 in layout:
                            own = view(V[other]) if c2 is c else None
                            part = safe(lambda c2=c2, k2=k2, own=own: pull(c2, balls[k2], balls[k2 + 2: k2 + 2 + len(c2.parents)],
                                                                            own=own))
                            total = part if total is None else (None if part is None else total + part)
                        out.append(("derivative_wrong_step", total))
            total = None
            for c, k in layout:
                ones = Mat.fill(balls[k].n, balls[k].m, ONE)
                part = safe(lambda c=c, k=k, ones=ones: pull(c, ones, balls[k + 2: k + 2 + len(c.parents)]))
                total = part if total is None else (None if part is None else total + part)
            if any(any(x != ONE for x in inputs[k].pts.entries()) for _, k in layout):
                out.append(("forgot_upstream", total))
            # the classic slips of convolutions and pooling, worked into the pull-back
            for slip, fns in (("kernel_flipped", CONV), ("pool_everywhere", ("maxpool",)),
                              ("overlap_overwritten", CONV + POOL)) + LAYER_SLIPS:
                if not any(_uses(c.tree, fns) or (slip == "scale_left_out" and _scaled(c.tree)) for c, _ in layout):
                    continue
                total = None
                for c, k in layout:
                    ev = Evaluator(f"node {c.name}", slip=slip)
                    part = safe(lambda c=c, k=k, ev=ev: ev.vjp(c.tree, dict(zip(c.parents, balls[k + 2: k + 2 + len(c.parents)])),
                                                         balls[k]).get(v))
                    total = part if total is None else (None if part is None else total + part)
                out.append((slip, total))
            # the local derivative left out: the children's gradients alone
            if all(balls[k].shape == (1, 1) for _, k in layout) and balls[0].shape == (1, 1):
                total = None
                for c, k in layout:
                    total = balls[k] if total is None else total + balls[k]
                out.append(("missing_local_derivative", total))
            return out

        G[v] = marker.judge(Key(1, v, "grad"), s.grads[v], fts, cands)

    if p.update is None:
        return
    eta = s.eta  # the learning rate the update used, from the trace
    sign = -1 if p.update.direction == "descent" else 1
    opt = p.update.optimizer
    for name in p.update.params:
        old = s.values[name]
        if not opt.plain:
            # ascent is descent on the negated gradient, as the solve does it
            g = G[name] if sign < 0 else run(lambda M: M.scale(-1), G[name])
            zeros = opt.zeros(old)
            optimizers.judge_update(
                marker, opt, V[name], g, {k: marker.exact(zeros[k]) for k in opt.state}, 1, eta,
                key_of=lambda what, name=name: Key(1, name, what), true_of=lambda what, name=name: s.opt[name][what],
                key_new=Key(1, name, "new"), true_new=s.new[name], old=old)
            continue

        def step(W, g, sgn=sign, e=eta):
            return W + g.scale(sgn * e)

        ft = run(step, V[name], G[name])

        def cands(view, name=name, old=old):
            g = view(G[name])
            return [("wrong_update_sign", safe(lambda: old + g.scale(-sign * eta))),
                    ("missing_learning_rate", safe(lambda: old + g.scale(sign))),
                    ("not_updated", old)]

        marker.judge(Key(1, name, "new"), s.new[name], [ft], cands, old=old)


def _total(Ms):
    """The sum of the children's terms (a term a path cannot give ends the sum: None)."""
    total = None
    for M in Ms:
        if M is None:
            return None
        total = M if total is None else total + M
    return total


def _step_of(name: str, cell) -> int:
    """The step an unrolled node belongs to (h2: 2), 0 for a name outside the cell (a shared weight)."""
    for c in cell:
        rest = name[len(c):]
        if name.startswith(c) and rest.isdigit():
            return int(rest)
    return 0


#: the classic slips of the layers' functions, worked into values and pull-backs
LAYER_SLIPS = (("eps_left_out", NORMS), ("unbiased_variance", NORMS + ("var",)),
               ("dropout_unscaled", ("dropout",)), ("softmax_wrong_axis", SOFTMAXES), ("scale_left_out", ()))


def _value_slips(tree) -> list[str]:
    """The slips that may change this node's value."""
    out = ["kernel_flipped"] if _uses(tree, CONV) else []
    for slip, fns in LAYER_SLIPS:
        if _uses(tree, fns) or (slip == "scale_left_out" and _scaled(tree)):
            out.append(slip)
    return out


def _scaled(tree) -> bool:
    """Whether the tree divides a matrix product by a constant (attention's 1/sqrt(d))."""
    from .expr import _is_scale

    if _is_scale(tree):
        return True
    if isinstance(tree, Fn):
        return any(_scaled(a) for a in tree.args)
    if isinstance(tree, Bin):
        return _scaled(tree.a) or _scaled(tree.b)
    if isinstance(tree, Neg):
        return _scaled(tree.a)
    return False


def _uses(tree, names) -> bool:
    """Whether the tree applies one of the functions named."""
    if isinstance(tree, Fn):
        return tree.name in names or any(_uses(a, names) for a in tree.args)
    if isinstance(tree, Bin):
        return _uses(tree.a, names) or _uses(tree.b, names)
    if isinstance(tree, Neg):
        return _uses(tree.a, names)
    return False


def _has_output_form(tree) -> bool:
    """Whether a node is an activation whose derivative a student takes from
    the node's own value (sigma' = y(1 - y), tanh' = 1 - y^2)."""
    return isinstance(tree, Fn) and tree.act is not None and tree.act.tex_deriv_a is not None
