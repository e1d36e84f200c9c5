"""The independent float64 cross-check of a solved graph.

Forward values are recomputed by a NumPy walker of its own; every gradient
of an input (and of a constant in ``wrt``) is compared with a central
finite difference of the output in float64 (a different method from the
engine's reverse pass, so a wrong backward rule cannot agree with itself);
every gradient of an inner node is compared with the finite difference of
the graph cut at that node.  Agreement is required to 1e-9 relative for
values and 1e-5 of the scale for differences; where float64 cannot hold a
value (outside 1e-290 ... 1e290) or a kink lies within the step, that value
is not compared.
"""

from __future__ import annotations

import numpy as np

from ...errors import CrossCheckError
from ...exact import to_float
from ...functions.arrays import FLOAT64
from .expr import LAYER_SETTINGS, Bin, Neg, Num, Ref, softmax_axis

REL = 1e-9


def _f(M) -> np.ndarray:
    return np.array([[to_float(x) for x in r] for r in M.rows], dtype=float)


def _eval(t, env):
    if isinstance(t, Num):
        return np.array([[to_float(t.q)]])
    if isinstance(t, Ref):
        return env[t.name]
    if isinstance(t, Neg):
        return -_eval(t.a, env)
    if isinstance(t, Bin):
        a, b = _eval(t.a, env), _eval(t.b, env)
        if t.op == "@":
            return a @ b
        return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}[t.op](a, b)
    args = [_eval(a, env) for a in t.args]
    x = args[0]
    if t.act is not None:  # an activation's own float form (functions/activations.py)
        return np.asarray(t.act.np_value(x, FLOAT64), dtype=float)
    if t.name in ("conv2d", "convolve2d"):
        stride, pad = t.opts
        k = args[1] if t.name == "conv2d" else np.flip(args[1])
        return _windows(np.pad(x, pad), k.shape, stride).__mul__(k).sum(axis=(2, 3))
    if t.name in ("maxpool", "avgpool"):
        size, stride = t.opts
        w = _windows(x, (size, size), stride)
        return w.max(axis=(2, 3)) if t.name == "maxpool" else w.mean(axis=(2, 3))
    if t.name in LAYER_SETTINGS:
        return _layer(t, args)
    return {
        "T": lambda: x.T, "exp": lambda: np.exp(x), "log": lambda: np.log(x),
        "sqrt": lambda: np.sqrt(x), "abs": lambda: np.abs(x),
        "max": lambda: np.where(x >= args[1], x, args[1]) if True else None,
        "min": lambda: np.where(x <= args[1], x, args[1]),
    }[t.name]()


def _layer(t, args):
    """The layers' functions in NumPy, written from their definitions (PyTorch's
    BatchNorm1d in training mode and LayerNorm: biased variance, eps inside the root)."""
    x = args[0]
    name = t.name
    if name in ("sum", "mean", "var"):
        axis = t.opts[0]
        f = {"sum": np.sum, "mean": np.mean, "var": np.var}[name]
        return np.array([[f(x)]]) if axis is None else f(x, axis=axis, keepdims=True)
    if name in ("softmax", "log_softmax"):
        axis = softmax_axis(t, x.shape)
        z = x - x.max(axis=axis, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=axis, keepdims=True))
        return np.exp(z - lse) if name == "softmax" else z - lse
    if name in ("batchnorm", "layernorm"):
        eps = to_float(t.opts[0])
        axis = 0 if name == "batchnorm" else 1
        gamma, beta = args[1].reshape(1, -1), args[2].reshape(1, -1)
        mu = x.mean(axis=axis, keepdims=True)
        var = x.var(axis=axis, keepdims=True)
        return gamma * (x - mu) / np.sqrt(var + eps) + beta
    if name == "dropout":
        return x * args[1] / (1 - to_float(t.opts[0]))
    if name == "embedding":
        idx = list(t.opts[0]) if t.opts[0] is not None else [int(round(v)) for v in args[1].ravel()]
        return x[idx, :]
    if name == "concat":
        return np.concatenate(args, axis=t.opts[0])
    raise AssertionError(name)


def _windows(x: np.ndarray, shape, stride: int) -> np.ndarray:
    """Every window of the given shape, stride apart: (rows, cols, f, g)."""
    from numpy.lib.stride_tricks import sliding_window_view

    return sliding_window_view(x, shape)[::stride, ::stride]


def _forward(problem, env, start: int = 0, base=None):
    """Node values from ``start`` on; with ``base`` (the unperturbed values),
    a parent on an edge truncated BPTT holds is read from ``base``: the
    perturbation does not pass along it."""
    env = dict(env)
    for n in problem.nodes[start:]:
        if n.role == "node":
            here = env
            if base is not None and problem.held:
                held = [v for v in n.parents if (n.name, v) in problem.held]
                if held:
                    here = dict(env)
                    here.update({v: base[v] for v in held})
            env[n.name] = _eval(n.tree, here) * np.ones(n.shape)
    return env


def _ok(e: np.ndarray, f: np.ndarray, tol) -> bool:
    return bool(np.all(np.abs(e - f) <= tol))


def crosscheck(trace) -> list[str]:
    p = trace.problem
    s = trace.steps[0]
    with np.errstate(all="ignore"):
        env = {n.name: _f(n.value) for n in p.nodes if n.role != "node"}
        fwd = _forward(p, env)
        exact_vals = {k: _f(v) for k, v in s.values.items()}
        comparable = {k: bool(np.all(np.isfinite(v)) and np.all((np.abs(v) == 0) | ((np.abs(v) > 1e-290) & (np.abs(v) < 1e290))))
                      for k, v in exact_vals.items()}
        if all(comparable.values()):
            for k, e in exact_vals.items():
                if not _ok(e, fwd[k], REL * np.abs(e) + 1e-12 * (np.max(np.abs(e)) if e.size else 0)):
                    raise CrossCheckError(f"node {k}: exact value {e.tolist()}, float64 {fwd[k].tolist()}")
        else:
            return []
        seed = _f(p.seed)
        names = [n.name for n in p.nodes]
        for name, G in s.grads.items():
            e = _f(G)
            if not np.all(np.isfinite(e)) or name == p.output:
                continue
            start = names.index(name)
            base = {k: v for k, v in fwd.items()}

            def out_at(val, name=name, start=start, base=base):
                env2 = dict(base)
                env2[name] = val
                return float(np.sum(_forward(p, env2, start + 1, base)[p.output] * seed))

            x0 = base[name]
            num = np.zeros_like(x0)
            scale = max(1.0, float(np.max(np.abs(x0))))
            h = 1e-6 * scale
            for idx in np.ndindex(*x0.shape):
                up, dn = x0.copy(), x0.copy()
                up[idx] += h
                dn[idx] -= h
                num[idx] = (out_at(up) - out_at(dn)) / (2 * h)
            if not np.all(np.isfinite(num)):
                continue
            tol = 1e-5 * max(1.0, float(np.max(np.abs(e))), float(np.max(np.abs(num)))) + 1e-4 * np.abs(e)
            if not _ok(e, num, tol):
                if s.kinks:
                    continue  # a finite difference across a kink says nothing
                raise CrossCheckError(f"the gradient of {name}: exact {e.tolist()}, finite difference {num.tolist()}")
        if p.update is not None:
            _check_update(p, s)
    return []


class _Float:
    """The float64 arithmetic an optimizer's numeric step is written against."""

    sqrt = staticmethod(np.sqrt)

    @staticmethod
    def const(q):
        return to_float(q)


def _check_update(p, s) -> None:
    """The update recomputed in float64 from the exact gradients (checked
    above by finite differences), with the optimizer's own float form."""
    eta = to_float(p.update.learning_rate)
    opt = p.update.optimizer
    sign = -1.0 if p.update.direction == "descent" else 1.0
    for name in p.update.params:
        theta, g = _f(s.values[name]), _f(s.grads[name])
        if opt.plain:
            results = {"new": theta + sign * eta * g}
        else:
            new, entries, _ = opt.np_step(theta, -sign * g, None, 1, eta, _Float)
            results = dict(entries, new=new)
        for what, f in results.items():
            e = _f(s.new[name] if what == "new" else s.opt[name][what])
            if not (np.all(np.isfinite(e)) and np.all(np.isfinite(f))):
                continue
            if not _ok(e, f, REL * np.abs(e) + 1e-12 * (np.max(np.abs(e)) if e.size else 0)):
                raise CrossCheckError(f"the update of {name} ({what}): exact {e.tolist()}, float64 {f.tolist()}")
