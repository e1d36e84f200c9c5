"""The independent recomputation that cross-checks every exact solve.

The network is run again from the problem's inputs by array code written
apart from the engine: its own forward pass, loss, backward pass and
updates, in its own numerically stable forms (log-sum-exp for softmax
cross-entropy, sigmoid and tanh derivatives that do not cancel, a - t and
1 - a of a saturated output from its offset, the softmax Jacobian product
as a_i sum_k a_k (g_i - g_k)), without the engine's exact rationals, its
closed forms or its anchored numbers.  The code is written against an array
namespace ``xp`` and run in one or two arithmetics:

1. NumPy float64.  Almost every solve agrees with it to
   1e-9 |exact| + 1e-15 max|quantity| at once, and the check is done.
2. Where it does not -- a value float64 cannot hold (below 1e-308 or past
   1e308) or cannot resolve (a - t of a saturated unit, a softmax whose
   classes differ by 1e-30, a cancelling custom activation) -- the same code
   runs on rigorous balls (python-flint ``arb`` in object arrays), 32 bits
   above the working precision the engine certified its values at.  Every
   number of that run carries a proven error bound, so the comparison needs
   no guessed tolerance: an exact value must lie in the recomputed ball (up
   to 2^-128 of its matrix's scale, for values the engine took as 0 to its
   working precision).  One that does not is a bug in stepsolver, reported
   with exit code 3 (a test plants one and sees it); where the
   recomputation itself loses its digits, its ball is wide and says so, so
   there is no false alarm.

Branch decisions of piecewise activations (relu at z = 0) follow the sign of
the exact z: float64 cannot tell 0 from 1e-17, and the convention
relu'(0) = 0 is about the exact value.  NumPy's floating-point warnings are
the recomputation's own business and never reach stderr.

Size: about 410 lines, the whole independent recomputation in one file, kept
apart from the engine on purpose.
"""

from __future__ import annotations


import numpy as np

from ... import exact
from ...errors import CrossCheckError
from ...exact import Mat, magnitude_bits, sign
from ...trace import in_record_order
from ...functions.arrays import BallArrays, Float64

REL = 1e-9
SCALE_FLOOR = 1e-15


FLOAT64 = Float64()


# ----------------------------------------------------------- the run
def float_step(problem, params, X, T, zsigns, eta, l2, xp, state=None, t=1):
    """One update in the arithmetic of ``xp``.  Returns (quantities, new
    params); with an optimizer that keeps state, ``state`` is its state per
    layer from the previous update (None at the first) and the new state is
    ``quantities["state"]``."""
    L = len(params)
    acts = [l.activation for l in problem.layers]
    m = X.shape[1]
    factor = xp.scalar(problem.batch == "mean" and _q(1, m) or _q(1, 1))
    zs, as_ = [], []
    A = X
    with xp.quiet():
        for (W, b), act in zip(params, acts):
            Z = W @ A + b
            if act.vector:
                A, C, OFF = act.np_column(Z, xp)
            else:
                A = act.np_value(Z, xp)
            zs.append(Z)
            as_.append(A)
        gps = [None if act.vector else act.np_deriv(Z, s, xp) for act, Z, s in zip(acts, zs, zsigns)]

        loss = problem.loss
        out = acts[-1]
        Aout = as_[-1]
        if not out.vector:
            C, OFF = out.np_anchor(zs[-1], Aout, xp)
        # a - t and 1 - a from the anchor (c + (a - c)): nothing cancels near saturation
        diff = (C - T) + OFF
        comp = (1 - C) - OFF
        if loss.name == "cross_entropy" and out.vector:
            # lse - z_k = (top - z_k) + log1p(sum of exp(z_j - top) over j != argmax):
            # no cancellation even when one class dominates
            Z = zs[-1]
            mask = xp.top_mask(Z)
            top = xp.where(mask, Z, 0 * Z).sum(axis=0, keepdims=True)
            e = xp.exp(Z - top)
            rest = xp.where(mask, 0 * e, e).sum(axis=0, keepdims=True)
            per = (T * ((top - Z) + xp.log1p(rest))).sum(axis=0)
            delta = factor * (diff + Aout * (T.sum(axis=0, keepdims=True) - 1))  # a sum(t) - t
        elif loss.name == "binary_cross_entropy" and out.name == "sigmoid":
            # from the logits: t softplus(-z) + (1-t) softplus(z)
            Z = zs[-1]
            per = (T * xp.logaddexp0(-Z) + (1 - T) * xp.logaddexp0(Z)).sum(axis=0)
            delta = factor * diff
        else:
            per = loss.np_value(Aout, T, xp, diff, comp)
            G = factor * loss.np_grad(Aout, T, xp, diff, comp)
            if out.vector:
                # delta_i = a_i sum_j a_j (G_i - G_j): the Jacobian product
                # a (G - a.G) without its cancellation when one class dominates
                spread = G[:, None, :] - G[None, :, :]
                delta = Aout * (Aout[None, :, :] * spread).sum(axis=1)
            else:
                delta = G * gps[-1]
        J = factor * per.sum()
        if l2:
            J = J + l2 / 2 * sum((W * W).sum() for W, _ in params)

        deltas = [None] * L
        deltas[-1] = delta
        for l in range(L - 2, -1, -1):
            deltas[l] = (params[l + 1][0].T @ deltas[l + 1]) * gps[l]

        layers, new, states = [], [], []
        opt = problem.optimizer
        for l in range(L):
            W, b = params[l]
            A_prev = X if l == 0 else as_[l - 1]
            gW = deltas[l] @ A_prev.T
            if l2:
                gW = gW + l2 * W
            gb = deltas[l].sum(axis=1, keepdims=True)
            rec = {"z": zs[l], "a": as_[l], "delta": deltas[l], "grad_W": gW, "grad_b": gb}
            kept = {}
            for name, theta, g in (("W", W, gW), ("b", b, gb)):
                if name == "b" and not problem.update_biases:
                    rec["b_new"] = b
                    continue
                if opt.plain:
                    rec[f"{name}_new"] = theta - eta * g
                    continue
                prev = state[l].get(name) if state else None
                rec[f"{name}_new"], entries, kept[name] = opt.np_step(theta, g, prev, t, eta, xp)
                rec.update({f"{k}_{name}": v for k, v in entries.items()})
            layers.append(rec)
            states.append(kept)
            new.append((rec["W_new"], rec["b_new"]))
    cost = np.empty((1, 1), dtype=xp.dtype)
    cost[0, 0] = J
    return {"loss": cost, "layers": layers, "state": states}, new


def _q(n, d):
    return exact.Q(n, d)


def _signs(M: Mat) -> np.ndarray:
    WORKING = exact.WORKING
    # decided on the certified exact values (settled balls count as 0)
    old, WORKING.settle = WORKING.settle, True
    try:
        return np.array([[sign(x) for x in r] for r in M.rows], dtype=float).reshape(M.n, M.m)
    finally:
        WORKING.settle = old


def _inputs(problem, xp):
    """(params, X, T, eta, l2) of a problem as arrays of ``xp``."""
    params = [(xp.array(l.W), xp.array(l.b)) for l in problem.layers]
    return params, xp.array(problem.X), xp.array(problem.T), xp.scalar(problem.learning_rate), xp.scalar(problem.l2)


def _lockstep(trace, runs):
    """Run each (inputs, namespace) through the trace's updates side by side,
    each from its own weights; yield (label, exact matrix, [result of each
    run]) for the cost and every reported quantity of every step."""
    problem = trace.problem
    state = [[list(inputs), xp, None] for inputs, xp in runs]
    for step in trace.steps:
        cols = [k - 1 for k in step.examples]
        zsigns = [_signs(lt.z) for lt in step.layers]
        results = []
        for st in state:
            (params, X, T, eta, l2), xp, opt_state = st
            res, st[0][0] = float_step(problem, params, X[:, cols], T[:, cols], zsigns, eta, l2, xp, opt_state,
                                       step.index)
            st[2] = res["state"]
            results.append(res)
        tag = f"step {step.index}" if len(trace.steps) > 1 else ""
        for q in in_record_order(trace.quantities(step)):
            key = q.key
            if key.where is None:
                yield _w(tag, "J"), q.value, [r["loss"] for r in results]
            else:
                yield (_w(tag, f"layer {key.where} {key.name}"), q.value,
                       [r["layers"][key.where - 1][key.name] for r in results])


def _quick_agreement(trace) -> bool:
    """The float64 run alone, held to 1e-9 |exact| + 1e-15 scale: passing it
    settles the check without the high-precision runs (almost every solve)."""
    with FLOAT64.quiet():
        for _, true, (f,) in _lockstep(trace, [(_inputs(trace.problem, FLOAT64), FLOAT64)]):
            e = FLOAT64.array(true)
            f = np.asarray(f, dtype=float)
            if not (np.isfinite(e).all() and np.isfinite(f).all()):
                return False
            scale = float(np.max(np.abs(e))) if e.size else 0.0
            if not (np.abs(e - f) <= REL * np.abs(e) + SCALE_FLOOR * scale).all():
                return False
            # a value below float64's normal range has no digits to compare
            if ((np.abs(e) < 1e-290) & (e != 0)).any() or any(
                x and magnitude_bits(x) < -960 for x in true.entries()
            ):
                return False
    return True


def crosscheck(trace) -> list[str]:
    """Recompute the trace independently and compare.  Returns notes (none
    today); raises CrossCheckError on a disagreement."""
    if _quick_agreement(trace):
        return []
    with exact.working_precision((trace.precision or exact.START_PRECISION) + 32):
        problem = _ball_crosscheck(trace)
    if problem:
        raise CrossCheckError(problem)
    return []


def _ball_crosscheck(trace) -> str | None:
    """None when every exact value lies in the recomputation's ball, else the
    message naming the first that does not."""
    xp = BallArrays()
    slack_bits = exact.TARGET_BITS
    for label, M, (r,) in _lockstep(trace, [(_inputs(trace.problem, xp), xp)]):
        r = np.asarray(r, dtype=object).reshape(M.n, M.m)
        e = [[exact.ball(x) for x in row] for row in M.rows]
        scale = max([abs(b.mid()) for row in e for b in row] + [xp.arb(0)])
        # a value taken as 0 to the working precision (see engine.solve_exact)
        # may differ from 0 by that much
        slack = scale * xp.arb(2) ** (-slack_bits)
        for i in range(M.n):
            for j in range(M.m):
                ev, rv = e[i][j], r[i, j]
                if not rv.is_finite():
                    continue  # the recomputation can say nothing here
                if ev.overlaps(rv) or abs(ev.mid() - rv.mid()) <= ev.rad() + rv.rad() + slack:
                    continue
                cell = f"{label}[{i + 1}][{j + 1}]" if M.n * M.m > 1 else label
                return (
                    f"internal error: the exact solve and the independent recomputation disagree at {cell}: "
                    f"exact {ev.mid().str(17, radius=False)}, recomputed {rv.str(17)}; this is a bug in "
                    "stepsolver, please report it with the problem file"
                )
    return None


def _w(tag: str, what: str) -> str:
    return f"{tag}, {what}" if tag else what
