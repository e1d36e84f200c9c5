"""The independent float64 recomputation that cross-checks every exact solve.

The network is run again from the problem's inputs with NumPy: its own
forward pass, loss, backward pass and updates, with numerically stable forms
(log-sum-exp for softmax cross-entropy, sigmoid and tanh derivatives that do
not cancel).  Every quantity of every step is then compared with the exact
value.

How close is close enough is measured, not guessed.  Two more runs of the
same float code calibrate it: one in extended precision (``np.longdouble``,
64-bit mantissa where the platform has it), whose distance from the float64
run estimates float64's own rounding error, cancellation included; and one
in float64 with every input nudged by a relative 1e-12 (a fixed random
pattern), whose distance measures how sensitive a value is to its inputs.
An entry passes when

    |exact - f64| <= 1e-9 |exact| + 1e-15 scale + 10 (|f64 - f80| + |f64 - nudged|)

where ``scale`` is the largest entry of that quantity.  Values float64 cannot
hold (overflow, underflow) are not failures: they are listed as notes and the
exact values are reported as always.

Branch decisions of piecewise activations (relu at z = 0) follow the sign of
the exact z: float64 cannot tell 0 from 1e-17, and the convention
relu'(0) = 0 is about the exact value.
"""

from __future__ import annotations

import numpy as np

from .errors import CrossCheckError
from .exact import sign, to_float
from .matrix import Mat
from .trace import REPORTED

NUDGE = 1e-12
REL = 1e-9
SCALE_FLOOR = 1e-15
SENSITIVITY = 10.0
TINY = 1e-290


def to_np(M: Mat) -> np.ndarray:
    return np.array([[to_float(x) for x in r] for r in M.rows], dtype=float).reshape(M.n, M.m)


def to_long(M: Mat) -> np.ndarray:
    """Extended-precision copy (correct to the longdouble's precision)."""
    from .exact import MP, is_rational, to_mpf

    def conv(x):
        if is_rational(x):
            n, d = int(x.numerator), int(x.denominator)
            if abs(n) < 2**63 and d < 2**63:
                return np.longdouble(n) / np.longdouble(d)
        v = to_mpf(x)
        return np.longdouble(MP.nstr(v, 24, min_fixed=-30, max_fixed=30)) if v else np.longdouble(0)

    with np.errstate(all="ignore"):
        return np.array([[conv(x) for x in r] for r in M.rows], dtype=np.longdouble).reshape(M.n, M.m)


def _signs(M: Mat) -> np.ndarray:
    return np.array([[sign(x) for x in r] for r in M.rows], dtype=float).reshape(M.n, M.m)


def float_step(problem, params, X, T, zsigns, eta, l2):
    """One update in float64.  Returns (quantities, new params)."""
    L = len(params)
    acts = [l.activation for l in problem.layers]
    m = X.shape[1]
    one = X.dtype.type(1)
    factor = one / m if problem.batch == "mean" else one
    zs, as_ = [], []
    A = X
    with np.errstate(all="ignore"):
        for (W, b), act in zip(params, acts):
            Z = W @ A + b
            A = act.np_column(Z) if act.vector else act.np_value(Z)
            zs.append(Z)
            as_.append(A)
        gps = [None if act.vector else act.np_deriv(Z, s) for act, Z, s in zip(acts, zs, zsigns)]

        loss = problem.loss
        out = acts[-1]
        if loss.name == "cross_entropy" and out.vector:
            # lse - z_k = (top - z_k) + log1p(sum of exp(z_j - top) over j != argmax):
            # no cancellation even when one class dominates
            Z = zs[-1]
            top = Z.max(axis=0, keepdims=True)
            e = np.exp(Z - top)
            first = (Z == top).cumsum(axis=0) == 1
            rest = np.where(first & (Z == top), 0.0, e).sum(axis=0, keepdims=True)
            per = (T * ((top - Z) + np.log1p(rest))).sum(axis=0)
            delta = factor * (as_[-1] * T.sum(axis=0, keepdims=True) - T)
        elif loss.name == "binary_cross_entropy" and out.name == "sigmoid":
            # from the logits: t softplus(-z) + (1-t) softplus(z); a - t as (1-t) - sigmoid(-z) above 1/2
            Z = zs[-1]
            per = (T * np.logaddexp(0, -Z) + (1 - T) * np.logaddexp(0, Z)).sum(axis=0)
            A = as_[-1]
            delta = factor * np.where(A > 0.5, (1 - T) - out.np_value(-Z), A - T)
        else:
            per = loss.np_value(as_[-1], T)
            g = loss.np_grad(as_[-1], T)
            if out.vector:
                G = factor * g
                Aout = as_[-1]
                delta = Aout * (G - (Aout * G).sum(axis=0, keepdims=True))
            else:
                delta = factor * g * gps[-1]
        J = factor * per.sum()
        J = np.asarray(J)
        if l2:
            J = J + l2 / 2 * sum((W * W).sum() for W, _ in params)

        deltas = [None] * L
        deltas[-1] = delta
        for l in range(L - 2, -1, -1):
            deltas[l] = (params[l + 1][0].T @ deltas[l + 1]) * gps[l]

        layers, new = [], []
        for l in range(L):
            W, b = params[l]
            A_prev = X if l == 0 else as_[l - 1]
            gW = deltas[l] @ A_prev.T + (l2 * W if l2 else 0.0)
            gb = deltas[l].sum(axis=1, keepdims=True)
            W_new = W - eta * gW
            b_new = b - eta * gb if problem.update_biases else b
            layers.append(
                {"z": zs[l], "a": as_[l], "delta": deltas[l], "grad_W": gW, "grad_b": gb, "W_new": W_new, "b_new": b_new}
            )
            new.append((W_new, b_new))
    return {"loss": J.reshape(1, 1), "layers": layers}, new


class _Checker:
    def __init__(self):
        self.skipped: dict[str, list[str]] = {}

    def compare(self, where: str, exact: Mat, f: np.ndarray, p: np.ndarray, x: np.ndarray) -> None:
        e = to_np(exact)
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            finite = np.isfinite(e)
            scale = float(np.max(np.abs(e[finite]))) if finite.any() else 0.0
            fine = finite & np.isfinite(f) & np.isfinite(p) & np.isfinite(x)
            tiny = (np.abs(e) < TINY) & (np.abs(f) < TINY)
            tol = REL * np.abs(e) + SCALE_FLOOR * scale + SENSITIVITY * (np.abs(f - p) + np.abs(f - x)) + TINY
            ok = fine & ~tiny & (np.abs(e - f) <= tol)
        if ok.all():
            return
        for i in range(e.shape[0]):  # the rare cases, one by one
            for j in range(e.shape[1]):
                if ok[i, j]:
                    continue
                ev, fv, pv, xv = e[i, j], f[i, j], p[i, j], x[i, j]
                cell = f"{where}[{i + 1}][{j + 1}]" if e.size > 1 else where
                if not np.isfinite(ev):
                    self.skipped.setdefault("beyond the float64 range", []).append(cell)
                elif not np.isfinite(fv) or not np.isfinite(pv) or not np.isfinite(xv):
                    self.skipped.setdefault("overflowed in float64", []).append(cell)
                elif abs(ev) < TINY and abs(fv) < TINY:
                    if ev != fv:
                        self.skipped.setdefault("below the float64 range", []).append(cell)
                else:
                    raise CrossCheckError(
                        f"internal error: the exact solve and the float64 cross-check disagree at {cell}: "
                        f"exact {ev!r}, float64 {fv!r}; this is a bug in stepsolver, please report it "
                        "with the problem file"
                    )

    def notes(self) -> list[str]:
        out = []
        for why, cells in self.skipped.items():
            shown = ", ".join(cells[:4]) + (f" and {len(cells) - 4} more" if len(cells) > 4 else "")
            out.append(
                f"{len(cells)} value(s) {why} ({shown}): the NumPy cross-check skipped them; "
                "the exact values are reported"
            )
        return out


def _inputs(problem, conv=None):
    """(params, X, T, eta, l2) of a problem as float arrays (``conv``:
    to_np for float64, to_long for extended precision)."""
    conv = conv or to_np
    scalar = lambda q: conv(Mat([[q]]))[0, 0]  # noqa: E731
    params = [(conv(l.W), conv(l.b)) for l in problem.layers]
    return params, conv(problem.X), conv(problem.T), scalar(problem.learning_rate), scalar(problem.l2)


def _lockstep(trace, runs):
    """Run each input set through the trace's updates side by side, each
    from its own weights; yield (label, exact matrix, [float result of each
    run]) for the cost and every reported quantity of every step."""
    problem = trace.problem
    state = [list(r) for r in runs]
    for step in trace.steps:
        cols = [k - 1 for k in step.examples]
        zsigns = [_signs(lt.z) for lt in step.layers]
        results = []
        for st in state:
            params, X, T, eta, l2 = st
            res, st[0] = float_step(problem, params, X[:, cols], T[:, cols], zsigns, eta, l2)
            results.append(res)
        tag = f"step {step.index}" if len(trace.steps) > 1 else ""
        yield _w(tag, "J"), Mat([[step.loss.total]]), [r["loss"] for r in results]
        for k, lt in enumerate(step.layers):
            for key in REPORTED:
                yield _w(tag, f"layer {lt.index} {key}"), getattr(lt, key), [r["layers"][k][key] for r in results]


def _quick_agreement(trace) -> bool:
    """The float64 run alone, held to 1e-9 |exact| + 1e-15 scale: a
    tolerance tighter than the full one, so passing it settles the check
    without the two calibration runs (almost every solve)."""
    for _, exact, (f,) in _lockstep(trace, [_inputs(trace.problem)]):
        e = to_np(exact)
        with np.errstate(all="ignore"):
            if not (np.isfinite(e).all() and np.isfinite(f).all()):
                return False
            scale = float(np.max(np.abs(e))) if e.size else 0.0
            if not (np.abs(e - f) <= REL * np.abs(e) + SCALE_FLOOR * scale).all():
                return False
    return True


def crosscheck(trace) -> list[str]:
    """Recompute the trace in float64 and compare.  Returns notes for values
    float64 cannot represent; raises CrossCheckError on a disagreement."""
    if _quick_agreement(trace):
        return []
    return _calibrated_crosscheck(trace)


def _calibrated_crosscheck(trace) -> list[str]:
    """float64, float64 with nudged inputs, and longdouble, side by side."""
    rng = np.random.default_rng(20261123)

    def nudge(a):
        return a * (1.0 + NUDGE * rng.uniform(-1.0, 1.0, size=np.shape(a)))

    plain = _inputs(trace.problem)
    params, X, T, eta, l2 = plain
    nudged = ([(nudge(W), nudge(b)) for W, b in params], nudge(X), nudge(T), nudge(eta), nudge(l2))
    checker = _Checker()
    for label, exact, (f, p, x) in _lockstep(trace, [plain, nudged, _inputs(trace.problem, to_long)]):
        checker.compare(label, exact, f, p, x)
    return checker.notes()


def _w(tag: str, what: str) -> str:
    return f"{tag}, {what}" if tag else what
