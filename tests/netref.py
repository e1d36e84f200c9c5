"""An independent reference for layered-network problems, written apart from
stepsolver: plain Python lists, mpmath, and for custom activations SymPy
(this is test code reading our own generated formulas, never user text).

It reads the problem *file text* with tomllib itself (floats as their
literal text, fractions in quotes), so nothing of stepsolver's reading,
engine, numbers or registries is shared.  Every update is worked at a
working precision of D digits and again at 2D; where the two disagree in the
first 30 significant digits of any value, D is doubled, so the returned
values are right to at least 30 digits whatever cancellation the problem has.
Problems whose activations and loss keep every value rational are worked in
exact Fractions instead, which also gives the exact size of every value.

With an ``[optimizer]`` table, the update follows the issue's rules
(momentum, nesterov, adagrad, rmsprop, adam; state from zero, t counting
updates from 1), entry by entry in its own code.

``reference(text)`` returns a dict:
  {"status": "ok", "steps": [{"J", "layers": [{"z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new"}]}],
   "loss_after", "max_bits", "max_mag2"}
or {"status": "undefined", "why": ...} where the mathematics is undefined
(log of zero, division by zero), or {"status": "huge", ...} where a value
passes 2^3000 in magnitude or a rational passes 12000 bits (stepsolver's
documented limits).  Values are mpmath mpf (or Fraction) matrices as lists
of rows.
"""

from __future__ import annotations

import tomllib
from fractions import Fraction

import mpmath
import sympy

RATIONAL_ACTS = {"identity", "linear", "relu", "leaky_relu", "square"}
RATIONAL_LOSSES = {"half_sse", "sse", "mse"}
MAX_MAG_BITS = 3000
MAX_RAT_BITS = 12000


class Undefined(Exception):
    pass


class Huge(Exception):
    pass


class _Num(str):
    pass


def parse_value(v) -> Fraction:
    if isinstance(v, bool):
        raise ValueError(v)
    if isinstance(v, int):
        return Fraction(v)
    s = str(v).strip().replace("_", "")
    if "/" in s:
        a, b = s.split("/")
        return Fraction(a.strip()) / Fraction(b.strip())
    return Fraction(s)


def _vec(v):
    return [parse_value(x) for x in v] if isinstance(v, list) else [parse_value(v)]


def _mat(v, n_in):
    if isinstance(v, list) and v and all(not isinstance(r, list) for r in v):
        if n_in == 1 and len(v) != 1:
            return [[parse_value(x)] for x in v]
        return [[parse_value(x) for x in v]]
    if not isinstance(v, list):
        return [[parse_value(v)]]
    return [[parse_value(x) for x in r] for r in v]


def read(text: str) -> dict:
    data = tomllib.loads(text, parse_float=_Num)
    ex = data["examples"]
    n_in = len(_vec(ex[0]["x"]))
    layers = []
    prev = n_in
    default_act = data.get("activation", "identity")
    for raw in data["layers"]:
        W = _mat(raw["weights"], prev)
        b = _vec(raw["bias"]) if "bias" in raw else [Fraction(0)] * len(W)
        layers.append({"W": W, "b": b, "act": raw.get("activation", default_act)})
        prev = len(W)
    return {
        "eta": parse_value(data["learning_rate"]),
        "loss": data.get("loss", "half_sse"),
        "batch": data.get("batch", "mean"),
        "update": data.get("update", "batch"),
        "steps": int(data.get("steps", 1)),
        "l2": parse_value(data.get("l2", 0)),
        "update_biases": bool(data.get("update_biases", True)),
        "slope": parse_value(data.get("leaky_slope", "1/100")),
        "opt": _read_opt(data.get("optimizer", {})),
        "layers": layers,
        "X": [_vec(e["x"]) for e in ex],
        "T": [_vec(e["t"]) for e in ex],
    }


# ------------------------------------------------------------ optimizers
#: torch.optim's defaults (momentum: 0.9, the textbook value, as stepsolver documents)
_OPT_DEFAULTS = {"momentum": {"mu": "9/10"}, "nesterov": {"mu": "9/10"}, "adagrad": {"eps": "1/10000000000"},
                 "rmsprop": {"rho": "99/100", "eps": "1/100000000"},
                 "adam": {"b1": "9/10", "b2": "999/1000", "eps": "1/100000000"}}
_OPT_KEYS = {"momentum": "mu", "beta1": "b1", "beta2": "b2", "rho": "rho", "epsilon": "eps"}


def _read_opt(raw) -> dict:
    name = raw.get("name", "sgd")
    out = {"name": name, "inside": bool(raw.get("epsilon_inside", False))}
    for k, v in _OPT_DEFAULTS.get(name, {}).items():
        out[k] = Fraction(v)
    for k, v in raw.items():
        if k in _OPT_KEYS:
            out[_OPT_KEYS[k]] = parse_value(v)
    return out


def _opt_step(o, theta, g, st, t, eta, ar):
    """theta, g: lists of rows.  One update by the issue's rules, entry by
    entry: (new theta, new state)."""
    n, k = len(theta), len(theta[0])
    num = ar.num
    new = [[None] * k for _ in range(n)]
    st = st or {}
    out = {}
    name = o["name"]
    for i in range(n):
        for j in range(k):
            x, gi = theta[i][j], g[i][j]
            if name in ("momentum", "nesterov"):
                v = num(o["mu"]) * st.get("v", {}).get((i, j), 0) + gi
                out.setdefault("v", {})[(i, j)] = v
                step = v if name == "momentum" else gi + num(o["mu"]) * v
            elif name in ("adagrad", "rmsprop"):
                old = st.get("s", {}).get((i, j), 0)
                acc = old + gi * gi if name == "adagrad" else num(o["rho"]) * old + (1 - num(o["rho"])) * gi * gi
                out.setdefault("s", {})[(i, j)] = acc
                den = ar.sqrt(acc + num(o["eps"])) if o["inside"] else ar.sqrt(acc) + num(o["eps"])
                step = gi / den
            elif name == "adam":
                m = num(o["b1"]) * st.get("m", {}).get((i, j), 0) + (1 - num(o["b1"])) * gi
                v = num(o["b2"]) * st.get("v", {}).get((i, j), 0) + (1 - num(o["b2"])) * gi * gi
                out.setdefault("m", {})[(i, j)] = m
                out.setdefault("v", {})[(i, j)] = v
                mh = m / (1 - num(o["b1"]) ** t)
                vh = v / (1 - num(o["b2"]) ** t)
                den = ar.sqrt(vh + num(o["eps"])) if o["inside"] else ar.sqrt(vh) + num(o["eps"])
                step = mh / den
            else:
                step = gi
            new[i][j] = ar.check(x - eta * step)
    return new, out


def _state_entries(o, st, shape, param, t, ar) -> dict:
    """The state entries stepsolver reports, by its JSON names (velocity_W,
    G_W, s_W, m_W, v_W, m_hat_W, v_hat_W), from the reference's own state."""
    if st is None or o["name"] == "sgd":
        return {}
    n, k = shape

    def mat(d, f=lambda x: x):
        return [[f(d[(i, j)]) for j in range(k)] for i in range(n)]

    name = o["name"]
    if name in ("momentum", "nesterov"):
        return {f"velocity_{param}": mat(st["v"])}
    if name in ("adagrad", "rmsprop"):
        return {f"{'G' if name == 'adagrad' else 's'}_{param}": mat(st["s"])}
    c1 = 1 - ar.num(o["b1"]) ** t
    c2 = 1 - ar.num(o["b2"]) ** t
    return {f"m_{param}": mat(st["m"]), f"v_{param}": mat(st["v"]),
            f"m_hat_{param}": mat(st["m"], lambda x: x / c1), f"v_hat_{param}": mat(st["v"], lambda x: x / c2)}


# ------------------------------------------------------------ arithmetic
class _Exact:
    """Fractions: every operation exact, sizes watched."""

    def num(self, q):
        return q

    def check(self, v):
        if v.numerator.bit_length() + v.denominator.bit_length() > MAX_RAT_BITS:
            raise Huge("rational")
        return v

    def sqrt(self, v):
        raise AssertionError("a square root in an exact problem")


class _MP:
    def __init__(self, dps):
        self.ctx = mpmath.MPContext()
        self.ctx.dps = dps

    def num(self, q):
        return self.ctx.mpf(q.numerator) / q.denominator

    def check(self, v):
        if v and self.ctx.mag(v) > MAX_MAG_BITS:
            raise Huge("magnitude")
        return v

    def sqrt(self, v):
        return self.ctx.sqrt(v)


_CUSTOM: dict = {}
_LAMBDAS: dict = {}


def _custom(expr: str):
    if expr not in _CUSTOM:
        x = sympy.Symbol("x", real=True)
        e = sympy.sympify(expr, locals={"x": x})
        d = sympy.diff(e, x)
        _CUSTOM[expr] = (e, d, x)
    return _CUSTOM[expr]


def _eval_custom(which, expr, z, ar):
    e, d, x = _custom(expr)
    f = e if which == 0 else d
    if isinstance(ar, _Exact):
        v = f.subs(x, sympy.Rational(z.numerator, z.denominator))
        if v.has(sympy.zoo, sympy.nan, sympy.oo) or not v.is_Rational:
            raise Undefined("custom")
        return Fraction(int(v.p), int(v.q))
    ctx = ar.ctx
    key = (expr, which)
    if key not in _LAMBDAS:
        # the mpmath printer writes rationals as mpf(1)/mpf(3), never floats
        _LAMBDAS[key] = sympy.lambdify(x, f, modules=["mpmath"])
    with mpmath.workdps(ctx.dps):
        try:
            v = _LAMBDAS[key](mpmath.mpf(z))
        except (ZeroDivisionError, ValueError):
            raise Undefined("custom") from None
    if isinstance(v, mpmath.mpc) or (hasattr(v, "imag") and v.imag):
        raise Undefined("custom (complex)")
    v = ctx.mpf(v)
    if not ctx.isfinite(v):
        raise Undefined("custom (not finite)")
    return v


def act_value(name, z, ar, slope):
    if name in ("identity", "linear"):
        return z
    if name == "relu":
        return z if z > 0 else z * 0
    if name == "leaky_relu":
        return z if z > 0 else slope * z
    if name == "square":
        return z * z
    if isinstance(ar, _Exact):
        return _eval_custom(0, name, z, ar)
    c = ar.ctx
    if name == "sigmoid":
        return 1 / (1 + c.exp(-z))
    if name == "tanh":
        return c.tanh(z)
    if name == "softplus":
        return c.log(1 + c.exp(z)) if z < 0 else z + c.log(1 + c.exp(-z))
    return _eval_custom(0, name, z, ar)


def act_deriv(name, z, ar, slope):
    if name in ("identity", "linear"):
        return z * 0 + 1
    if name == "relu":
        return z * 0 + (1 if z > 0 else 0)
    if name == "leaky_relu":
        return z * 0 + (1 if z > 0 else slope)
    if name == "square":
        return 2 * z
    if isinstance(ar, _Exact):
        return _eval_custom(1, name, z, ar)
    c = ar.ctx
    if name == "sigmoid":
        e = c.exp(-abs(z))
        return e / (1 + e) ** 2
    if name == "tanh":
        e = c.exp(-2 * abs(z))
        return 4 * e / (1 + e) ** 2
    if name == "softplus":
        return 1 / (1 + c.exp(-z))
    return _eval_custom(1, name, z, ar)


def anchor(name, z, a, e_col, i, ar):
    """(c, a - c): a saturated output written as its limit c plus a small
    offset computed directly, so a - t, 1 - a and ln a lose no digits."""
    if isinstance(ar, _Exact):
        return 0, a
    c = ar.ctx
    if name == "softmax":
        e, s = e_col
        if a > 0.5:
            return 1, -c.fsum(x for k, x in enumerate(e) if k != i) / s
        return 0, a
    if name == "sigmoid" and z > 0:
        return 1, -1 / (1 + c.exp(z))
    if name == "tanh" and z > 0:
        return 1, -2 / (1 + c.exp(2 * z))
    if name == "tanh" and z < 0:
        return -1, 2 / (1 + c.exp(-2 * z))
    return 0, a


def _log(x, ar, anch=None):
    if anch is not None and anch[0] == 1:
        return ar.ctx.log1p(anch[1])
    if x <= 0:
        raise Undefined("log")
    return ar.ctx.log(x)


def loss_terms(loss, a, t, ar, anch):
    n = len(a)
    diff = [(c - y) + off for (c, off), y in zip(anch, t)]
    if loss == "half_sse":
        return sum(d * d for d in diff) / 2
    if loss == "sse":
        return sum(d * d for d in diff)
    if loss == "mse":
        return sum(d * d for d in diff) / n
    if loss == "cross_entropy":
        return -sum(y * _log(x, ar, an) for x, y, an in zip(a, t, anch) if y)
    if loss == "binary_cross_entropy":
        s = 0
        for x, y, (c, off) in zip(a, t, anch):
            if y:
                s += y * _log(x, ar, (c, off))
            if 1 - y:
                comp = (1 - c) - off
                if comp <= 0:
                    raise Undefined("log")
                s += (1 - y) * ar.ctx.log(comp)
        return -s
    raise ValueError(loss)


def loss_grad(loss, a, t, ar, anch):
    n = len(a)
    diff = [(c - y) + off for (c, off), y in zip(anch, t)]
    if loss == "half_sse":
        return diff
    if loss == "sse":
        return [2 * d for d in diff]
    if loss == "mse":
        return [2 * d / n for d in diff]
    out = []
    for x, y, (c, off) in zip(a, t, anch):
        g = 0
        if y:
            if not x:
                raise Undefined("division by zero")
            g -= y / x
        if loss == "binary_cross_entropy" and 1 - y:
            comp = (1 - c) - off
            if not comp:
                raise Undefined("division by zero")
            g += (1 - y) / comp
        out.append(g)
    return out


def _T(M):
    return [list(r) for r in zip(*M)]


def _mm(A, B):
    return [[sum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))] for i in range(len(A))]


def _one_update(P, params, cols, ar, state=None, update_count=1):
    L = len(params)
    X = [[ar.num(P["X"][c][i]) for c in cols] for i in range(len(P["X"][0]))]
    T = [[ar.num(P["T"][c][i]) for c in cols] for i in range(len(P["T"][0]))]
    m = len(cols)
    factor = ar.num(Fraction(1, m)) if P["batch"] == "mean" else ar.num(Fraction(1))
    slope = ar.num(P["slope"])
    zs, as_ = [], []
    A = X
    cols_e = None
    for (W, b), layer in zip(params, P["layers"]):
        Z = [[ar.check(sum(W[i][k] * A[k][j] for k in range(len(A))) + b[i]) for j in range(m)] for i in range(len(W))]
        if layer["act"] == "softmax":
            c = ar.ctx
            A = [[None] * m for _ in Z]
            cols_e = []
            for j in range(m):
                col = [Z[i][j] for i in range(len(Z))]
                top = max(col)
                e = [c.exp(v - top) for v in col]
                s = c.fsum(e)
                cols_e.append((e, s))
                for i in range(len(Z)):
                    A[i][j] = e[i] / s
        else:
            A = [[ar.check(act_value(layer["act"], z, ar, slope)) for z in row] for row in Z]
        zs.append(Z)
        as_.append(A)
    out = as_[-1]
    last = P["layers"][-1]["act"]
    per = []
    G = [[None] * m for _ in out]
    for j in range(m):
        a = [out[i][j] for i in range(len(out))]
        t = [T[i][j] for i in range(len(T))]
        anch = [anchor(last, zs[-1][i][j], a[i], cols_e[j] if cols_e else None, i, ar) for i in range(len(a))]
        per.append(ar.check(loss_terms(P["loss"], a, t, ar, anch)))
        g = loss_grad(P["loss"], a, t, ar, anch)
        for i in range(len(out)):
            G[i][j] = factor * g[i]
    J = factor * sum(per)
    l2 = ar.num(P["l2"])
    if P["l2"]:
        J = J + l2 / 2 * sum(w * w for W, _ in params for r in W for w in r)
    deltas = [None] * L
    if last == "softmax":
        # delta_i = a_i sum_k a_k (G_i - G_k): the Jacobian product without cancellation
        D = [[None] * m for _ in out]
        for j in range(m):
            for i in range(len(out)):
                D[i][j] = out[i][j] * sum(out[k][j] * (G[i][j] - G[k][j]) for k in range(len(out)) if k != i)
    else:
        D = [[G[i][j] * act_deriv(last, zs[-1][i][j], ar, slope) for j in range(m)] for i in range(len(out))]
    deltas[-1] = D
    for l in range(L - 2, -1, -1):
        Wn = params[l + 1][0]
        back = _mm(_T(Wn), deltas[l + 1])
        deltas[l] = [[back[i][j] * act_deriv(P["layers"][l]["act"], zs[l][i][j], ar, slope) for j in range(m)]
                     for i in range(len(back))]
    eta = ar.num(P["eta"])
    layers, new = [], []
    for l in range(L):
        W, b = params[l]
        Ap = X if l == 0 else as_[l - 1]
        gW = _mm(deltas[l], _T(Ap))
        if P["l2"]:
            gW = [[gW[i][k] + l2 * W[i][k] for k in range(len(W[0]))] for i in range(len(W))]
        gb = [sum(deltas[l][i]) for i in range(len(W))]
        prev = (state or [{}] * L)[l]
        Wn, sW = _opt_step(P["opt"], W, gW, prev.get("W"), update_count, eta, ar)
        if P["update_biases"]:
            bn, sb = _opt_step(P["opt"], [[v] for v in b], [[g] for g in gb], prev.get("b"), update_count, eta, ar)
            bn = [r[0] for r in bn]
        else:
            bn, sb = list(b), None
        rec = {"z": zs[l], "a": as_[l], "delta": deltas[l], "grad_W": gW, "grad_b": [[g] for g in gb],
               "W_new": Wn, "b_new": [[v] for v in bn]}
        for param, st, shape in (("W", sW, (len(W), len(W[0]))), ("b", sb, (len(W), 1))):
            rec.update(_state_entries(P["opt"], st, shape, param, update_count, ar))
        layers.append(rec)
        new.append((Wn, bn))
        if state is not None:
            state[l] = {"W": sW, "b": sb}
    for lt in layers:
        for M in lt.values():
            for r in M:
                for v in r:
                    ar.check(v)
    return {"J": ar.check(J), "layers": layers}, new


def _cost(P, params, ar):
    """J over all examples with the given parameters (no update)."""
    res, _ = _one_update(P, params, list(range(len(P["X"]))), ar)
    return res["J"]


def _solve_with(P, ar):
    params = [([[ar.num(w) for w in r] for r in layer["W"]], [ar.num(v) for v in layer["b"]]) for layer in P["layers"]]
    n = len(P["X"])
    steps = []
    state = [{} for _ in params]
    for _ in range(P["steps"]):
        schedule = [[k] for k in range(n)] if P["update"] == "online" else [list(range(n))]
        for cols in schedule:
            res, params = _one_update(P, params, cols, ar, state, len(steps) + 1)
            steps.append(res)
    try:
        after = _cost(P, params, ar)
    except (Huge, Undefined, ZeroDivisionError):
        after = None
    return steps, after


def _flat(steps):
    """(label, value, matrix scale) of every reported value, in order."""
    for k, s in enumerate(steps, 1):
        yield (k, None, "J", 0, 0), s["J"], abs(s["J"])
        for l, lt in enumerate(s["layers"], 1):
            for name, M in lt.items():
                scale = max(abs(v) for r in M for v in r)
                for i, r in enumerate(M):
                    for j, v in enumerate(r):
                        yield (k, l, name, i, j), v, scale


def _settled(x, y, sx, sy, dps, ctx):
    """Whether a value worked at dps (x) and 2 dps (y) is settled: equal to
    30 digits, or both at the noise level of their precision (a true zero)."""
    if x == y:
        return True
    if abs(x - y) <= max(abs(x), abs(y)) * ctx.mpf(10) ** (-30):
        return True
    s = max(1, sx, sy)
    return abs(x) <= s * ctx.mpf(10) ** (-(dps - 15)) and abs(y) <= s * ctx.mpf(10) ** (-(2 * dps - 15))


def _rational_act(name) -> bool:
    if name in RATIONAL_ACTS:
        return True
    if name in ("sigmoid", "tanh", "softplus", "softmax"):
        return False
    e, _, x = _custom(name)
    # |f| of a rational function is rational at rational points too
    e = e.replace(sympy.Abs, lambda a: a)
    return bool(e.is_rational_function(x))


def is_rational_problem(P) -> bool:
    return (all(_rational_act(l["act"]) for l in P["layers"]) and P["loss"] in RATIONAL_LOSSES
            and P["opt"]["name"] in ("sgd", "momentum", "nesterov"))


def reference(text: str, start_dps: int = 60, max_dps: int = 4000) -> dict:
    P = read(text)
    try:
        if is_rational_problem(P):
            steps, after = _solve_with(P, _Exact())
            bits = max(v.numerator.bit_length() + v.denominator.bit_length() for _, v, _ in _flat(steps))
            return {"status": "ok", "exact": True, "steps": steps, "loss_after": after, "max_bits": bits}
        dps = start_dps
        prev = None
        huge_seen = False
        while True:
            try:
                cur = _solve_with(P, _MP(dps))
            except Huge:
                # a cancellation at a low precision can look like a huge value:
                # it is huge when it is so at 8 times the precision too
                if huge_seen:
                    raise
                huge_seen = True
                dps *= 8
                prev = None
                continue
            except (Undefined, ZeroDivisionError):
                # at a low precision a cancellation can look like a log of 0
                if dps >= max_dps:
                    raise
                dps *= 2
                prev = None
                continue
            if prev is not None:
                ctx = mpmath.MPContext()
                ctx.dps = dps
                low = dps // 2
                a = list(_flat(prev[0]))
                b = list(_flat(cur[0]))
                if all(_settled(x, y, sx, sy, low, ctx) for (_, x, sx), (_, y, sy) in zip(a, b)):
                    floors = {lab: max(1, s) * ctx.mpf(10) ** (-(dps - 15)) for lab, _, s in b}
                    return {"status": "ok", "exact": False, "steps": cur[0], "loss_after": cur[1], "dps": dps,
                            "floors": floors}
            if dps >= max_dps:
                return {"status": "unresolved", "dps": dps}
            prev = cur
            dps *= 2
    except Huge as exc:
        return {"status": "huge", "why": str(exc)}
    except (Undefined, ZeroDivisionError) as exc:
        return {"status": "undefined", "why": str(exc)}
