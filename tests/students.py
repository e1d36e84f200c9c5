"""Simulated students for the grader: random small exercises worked the way
people work them, written apart from stepsolver.

Three working styles (``work``):

rounder     rounds every value they write to k decimals (halves away from
            zero) and carries the rounded value forward; some drop trailing
            zeros (-0.9 for -0.90), as people do;
careful     the same, and also writes out rounded the intermediates lecture
            notes write (each example's loss, dL/da, g', W^T delta; half of
            them take the batch factor into dJ/da first);
calculator  keeps every digit on the calculator and writes each quantity with
            its own number of decimals, k ... k+3, as published keys do.

Each takes g' from their own a (sigma' = a(1 - a), tanh' = 1 - a^2, relu' =
[a > 0]); each may make exactly one catalogued slip and carries its
consequences forward.

``sheet`` gives the verdict a careful grader gives each entry: the sheet is
worked twice, with and without the slip; an entry written the same both
times is correct (imprecise where its digits cannot tell the new weight from
the old), an entry the slipped formula wrote differently is wrong, any other
that differs is carried.  A sheet on which that comparison is not the
measure is skipped: where the slipped formula wrote what honest working
gives (the true value, g' at z, or another style's chain, rounded as
written), or where a slip changed the value carried but not the digits
written (zeros left off, a calculator's unwritten digits), what follows is
right working from digits judged right or carried, not one sheet's verdict.
"""

from __future__ import annotations

import decimal
import random
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import mpmath

MP = mpmath.MPContext()
MP.dps = 320

HIDDEN = ["identity", "relu", "sigmoid", "tanh", "square"]

SLIPS = ["missing_activation_derivative", "derivative_at_a", "missing_transpose", "used_updated_weights",
         "wrong_update_sign", "missing_learning_rate", "missing_batch_factor", "loss_factor", "bias_not_summed",
         "sign_error", "missing_bias", "activation_not_applied", "missing_l2"]


# --------------------------------------------------------------- problems
def _num(rng, lo=-20, hi=20, den=10):
    return Fraction(rng.randint(lo, hi), den)


def random_exercise(rng: random.Random) -> dict:
    kind = rng.choice(["plain", "plain", "plain", "softmax_ce", "sigmoid_bce"])
    depth = rng.randint(1, 3)
    sizes = [rng.randint(1, 4) for _ in range(depth + 1)]
    acts = [rng.choice(HIDDEN) for _ in range(depth)]
    loss = rng.choice(["half_sse", "half_sse", "mse", "sse"])
    if kind == "softmax_ce":
        acts[-1], loss = "softmax", "cross_entropy"
        sizes[-1] = max(2, sizes[-1])
    elif kind == "sigmoid_bce":
        acts[-1], loss = "sigmoid", "binary_cross_entropy"
    m = rng.randint(1, 3)
    layers = []
    for l in range(1, depth + 1):
        W = [[_num(rng) for _ in range(sizes[l - 1])] for _ in range(sizes[l])]
        b = [_num(rng) if rng.random() < 0.8 else Fraction(0) for _ in range(sizes[l])]
        layers.append({"W": W, "b": b, "act": acts[l - 1]})
    X = [[_num(rng) for _ in range(sizes[0])] for _ in range(m)]
    T = []
    for _ in range(m):
        n = sizes[-1]
        if loss == "cross_entropy":
            k = rng.randrange(n)
            T.append([Fraction(int(i == k)) for i in range(n)])
        elif loss == "binary_cross_entropy" or acts[-1] == "sigmoid":
            T.append([Fraction(rng.choice([0, 1])) for _ in range(n)])
        else:
            T.append([_num(rng) for _ in range(n)])
    return {
        "eta": Fraction(rng.choice([1, 2, 5]), 10), "loss": loss, "batch": rng.choice(["mean", "mean", "sum"]),
        "l2": Fraction(rng.choice([0, 0, 0, 1]), 10), "layers": layers, "X": X, "T": T,
    }


def _frac_text(q: Fraction) -> str:
    return f'"{q.numerator}/{q.denominator}"' if q.denominator != 1 else str(q.numerator)


def problem_toml(P: dict) -> str:
    lines = [f"learning_rate = {_frac_text(P['eta'])}", f'loss = "{P["loss"]}"', f'batch = "{P["batch"]}"']
    if P["l2"]:
        lines.append(f"l2 = {_frac_text(P['l2'])}")
    for layer in P["layers"]:
        lines.append("[[layers]]")
        lines.append("weights = [" + ", ".join("[" + ", ".join(_frac_text(w) for w in r) + "]" for r in layer["W"]) + "]")
        lines.append("bias = [" + ", ".join(_frac_text(v) for v in layer["b"]) + "]")
        lines.append(f'activation = "{layer["act"]}"')
    for x, t in zip(P["X"], P["T"]):
        lines.append("[[examples]]")
        lines.append("x = [" + ", ".join(_frac_text(v) for v in x) + "]")
        lines.append("t = [" + ", ".join(_frac_text(v) for v in t) + "]")
    return "\n".join(lines) + "\n"


def applicable(P: dict, slip: str) -> bool:
    L = len(P["layers"])
    m = len(P["X"])
    out = P["layers"][-1]["act"]
    paired = P["loss"] in ("cross_entropy", "binary_cross_entropy")
    if slip in ("missing_activation_derivative", "derivative_at_a"):
        return any(l["act"] not in ("identity", "softmax", "relu") for l in P["layers"][:-1]) or (
            not paired and out not in ("identity", "softmax", "relu"))
    if slip in ("missing_transpose", "used_updated_weights"):
        return L > 1 and (slip != "missing_transpose" or any(
            len(P["layers"][l]["W"]) == len(P["layers"][l]["W"][0]) > 1 for l in range(1, L)))
    if slip in ("missing_batch_factor", "bias_not_summed"):
        return m > 1 and (slip == "bias_not_summed" or P["batch"] == "mean")
    if slip == "loss_factor":
        return P["loss"] in ("half_sse", "mse")
    if slip == "missing_bias":
        return any(any(l["b"]) for l in P["layers"])
    if slip == "activation_not_applied":
        return any(l["act"] not in ("identity", "softmax") for l in P["layers"])
    if slip == "missing_l2":
        return bool(P["l2"])
    return True


# --------------------------------------------------------------- working
_CTX = decimal.Context(prec=320)


def rnd(v, k: int) -> Fraction:
    """v rounded to k decimals, halves away from zero, as an exact Fraction."""
    if isinstance(v, Fraction):
        d = _CTX.divide(Decimal(v.numerator), Decimal(v.denominator))
    else:
        d = Decimal(MP.nstr(v, MP.dps, min_fixed=-1000, max_fixed=1000) if not isinstance(v, int) else v)
    return Fraction(d.quantize(Decimal(1).scaleb(-k), rounding=ROUND_HALF_UP, context=_CTX))


def _mp(q):
    if isinstance(q, MP.mpc):
        raise ValueError("a logarithm of a negative number")  # e.g. BCE of an a outside (0, 1)
    return MP.mpf(q.numerator) / q.denominator if isinstance(q, Fraction) else MP.mpf(q)


def g(name, z):
    if name == "identity":
        return z
    if name == "relu":
        return z if z > 0 else Fraction(0)
    if name == "square":
        return z * z
    if name == "sigmoid":
        return 1 / (1 + MP.exp(-_mp(z)))
    if name == "tanh":
        return MP.tanh(_mp(z))
    raise ValueError(name)


def _sub(x, y):
    """x - y for a Fraction and an mpf in either order (a calculator's values
    stay exact where rational)."""
    if isinstance(x, Fraction) and not isinstance(y, Fraction):
        return _mp(x) - y
    return x - y


def gprime_from_a(name, z, a):
    if name == "identity":
        return Fraction(1)
    if name == "relu":
        return Fraction(1 if a > 0 else 0)
    if name == "square":
        return 2 * z
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    raise ValueError(name)


def gprime_at(name, v):
    """g' evaluated at the point v (the derivative_at_a slip uses v = a)."""
    if name == "sigmoid":  # sigma(v) sigma(-v), without the cancellation of s(1 - s)
        e = MP.exp(-abs(_mp(v)))
        return e / (1 + e) ** 2
    if name == "tanh":  # sech^2, without the cancellation of 1 - tanh^2
        return 1 / MP.cosh(_mp(v)) ** 2
    if name == "square":
        return 2 * v
    return gprime_from_a(name, v, v)


STYLES = ("rounder", "careful", "calculator")


def work(P: dict, k: int, slip: str | None = None, where: int | None = None, style: str = "rounder",
         factor_first: bool = False, gprime_at_z: bool = False) -> tuple[dict, set]:
    """The sheet of one student; returns (values, slipped) with values
    {(layer or None, quantity, i, j): Fraction or mpf} and the keys the
    slipped formula itself produced.

    rounder     rounds every written value to k decimals and carries it;
    careful     the same, and also rounds the intermediates lecture notes write
                out: each example's loss, dL/da, g', W^T delta (and, with
                ``factor_first``, the batch factor taken into dJ/da before g');
    calculator  keeps every digit (the values returned are exact, or 320-digit where irrational),
                writing each quantity with its own number of decimals (see
                ``written``)."""
    calc = style == "calculator"
    r = (lambda v: v) if calc else (lambda v: rnd(v, k))  # noqa: E731
    ri = (lambda v: rnd(v, k)) if style == "careful" else (lambda v: v)  # noqa: E731 - an intermediate
    L = len(P["layers"])
    m = len(P["X"])
    X = [[P["X"][j][i] for j in range(m)] for i in range(len(P["X"][0]))]
    T = [[P["T"][j][i] for j in range(m)] for i in range(len(P["T"][0]))]
    mean = P["batch"] == "mean"
    factor = Fraction(1, m) if mean else Fraction(1)
    out = {}
    slipped = set()
    at = where if where is not None else L  # the layer the slip happens in

    def put(layer, q, M, is_slip=False):
        for i, row in enumerate(M):
            for j, v in enumerate(row):
                out[(layer, q, i, j)] = v
                if is_slip:
                    slipped.add((layer, q, i, j))

    W = [l["W"] for l in P["layers"]]
    b = [l["b"] for l in P["layers"]]
    acts = [l["act"] for l in P["layers"]]
    zs, as_ = [], []
    A = X
    for l in range(L):
        s = slip == "missing_bias" and l + 1 == at
        Z = [[r(sum(W[l][i][c] * A[c][j] for c in range(len(A))) + (0 if s else b[l][i])) for j in range(m)]
             for i in range(len(W[l]))]
        put(l + 1, "z", Z, s)
        if acts[l] == "softmax":
            Anew = [[None] * m for _ in Z]
            for j in range(m):
                e = [MP.exp(_mp(Z[i][j])) for i in range(len(Z))]
                tot = MP.fsum(e)
                for i in range(len(Z)):
                    Anew[i][j] = r(e[i] / tot)
            s2 = False
        else:
            s2 = slip == "activation_not_applied" and l + 1 == at
            Anew = [[r(z) if s2 else r(g(acts[l], z)) for z in row] for row in Z]
        put(l + 1, "a", Anew, s2)
        zs.append(Z)
        as_.append(Anew)
        A = Anew
    # loss
    AL = as_[-1]
    n = len(AL)
    per = []
    for j in range(m):
        a = [AL[i][j] for i in range(n)]
        t = [T[i][j] for i in range(n)]
        if P["loss"] == "half_sse":
            per.append(sum(_sub(x, y) ** 2 for x, y in zip(a, t)) * (1 if slip == "loss_factor" else Fraction(1, 2)))
        elif P["loss"] == "sse":
            per.append(sum(_sub(x, y) ** 2 for x, y in zip(a, t)))
        elif P["loss"] == "mse":
            per.append(sum(_sub(x, y) ** 2 for x, y in zip(a, t)) * (1 if slip == "loss_factor" else Fraction(1, n)))
        elif P["loss"] == "cross_entropy":
            per.append(-sum(y * MP.log(_mp(x)) for x, y in zip(a, t) if y))
        else:
            s = 0
            for x, y in zip(a, t):
                if y:
                    s += y * MP.log(_mp(x))
                if 1 - y:
                    s += (1 - y) * MP.log(_mp(1 - x))
            per.append(-s)
    f_loss = 1 if slip == "missing_batch_factor" and where == 0 else factor
    J = f_loss * sum(ri(v) for v in per)
    if P["l2"]:
        J += ri(P["l2"] / 2 * sum(w * w for Wl in W for row in Wl for w in row))
    out[(None, "loss", 0, 0)] = r(J)
    if slip in ("loss_factor",) or (slip == "missing_batch_factor" and where == 0):
        slipped.add((None, "loss", 0, 0))
    # backward
    deltas = [None] * L
    gradW, gradb = [None] * L, [None] * L
    Wnew = [None] * L
    # the updated weights are needed by the used_updated_weights slip: the
    # student updates a layer right after its gradient, going backwards
    for l in range(L - 1, -1, -1):
        act = acts[l]
        Z, Al = zs[l], as_[l]
        if l == L - 1:
            fac = 1 if (slip == "missing_batch_factor" and where == L) else factor
            if P["loss"] in ("cross_entropy", "binary_cross_entropy"):
                D = [[r(fac * (_sub(T[i][j], Al[i][j]) if slip == "sign_error" else _sub(Al[i][j], T[i][j]))) for j in range(m)]
                     for i in range(len(Z))]
                s = slip == "sign_error" or (slip == "missing_batch_factor" and where == L)
            else:
                def dL(a, t):
                    d = _sub(t, a) if slip == "sign_error" else _sub(a, t)
                    if P["loss"] == "sse":
                        return 2 * d
                    if P["loss"] == "mse":
                        return 2 * d / n
                    return d
                D = []
                for i in range(len(Z)):
                    row = []
                    for j in range(m):
                        gp = gprime_at(act, Z[i][j]) if gprime_at_z else gprime_from_a(act, Z[i][j], Al[i][j])
                        if slip == "missing_activation_derivative" and where == L:
                            gp = 1
                        elif slip == "derivative_at_a" and where == L:
                            gp = gprime_at(act, Al[i][j])
                        gp = ri(gp)
                        if factor_first:  # dJ/da = (1/m) dL/da written out, then times g'
                            row.append(r(ri(fac * dL(Al[i][j], T[i][j])) * gp))
                        else:
                            row.append(r(fac * ri(dL(Al[i][j], T[i][j])) * gp))
                    D.append(row)
                s = slip == "sign_error" or (slip in ("missing_batch_factor", "missing_activation_derivative",
                                                      "derivative_at_a") and where == L)
            deltas[l] = D
            put(l + 1, "delta", D, s)
        else:
            Wn = W[l + 1] if not (slip == "used_updated_weights" and where == l + 1) else Wnew[l + 1]
            Dn = deltas[l + 1]
            D = []
            for i in range(len(Z)):
                row = []
                for j in range(m):
                    if slip == "missing_transpose" and where == l + 1:
                        back = sum(Wn[i][c] * Dn[c][j] for c in range(len(Dn))) if len(Wn) == len(Wn[0]) else 0
                    else:
                        back = sum(Wn[c][i] * Dn[c][j] for c in range(len(Dn)))
                    gp = gprime_at(act, Z[i][j]) if gprime_at_z else gprime_from_a(act, Z[i][j], Al[i][j])
                    if slip == "missing_activation_derivative" and where == l + 1:
                        gp = 1
                    elif slip == "derivative_at_a" and where == l + 1:
                        gp = gprime_at(act, Al[i][j])
                    row.append(r(ri(back) * ri(gp)))
                D.append(row)
            s = slip in ("missing_transpose", "used_updated_weights", "missing_activation_derivative",
                         "derivative_at_a") and where == l + 1
            deltas[l] = D
            put(l + 1, "delta", D, s)
        Ap = X if l == 0 else as_[l - 1]
        D = deltas[l]
        lam = 0 if (slip == "missing_l2" and where == l + 1) else P["l2"]
        GW = [[r(sum(D[i][j] * Ap[c][j] for j in range(m)) + lam * W[l][i][c]) for c in range(len(Ap))]
              for i in range(len(D))]
        put(l + 1, "grad_W", GW, slip == "missing_l2" and where == l + 1)
        if slip == "bias_not_summed" and where == l + 1:
            GB = [[r(D[i][0])] for i in range(len(D))]
        else:
            GB = [[r(sum(D[i]))] for i in range(len(D))]
        put(l + 1, "grad_b", GB, slip == "bias_not_summed" and where == l + 1)
        gradW[l], gradb[l] = GW, GB
        eta = P["eta"]
        sgn = -1 if not (slip == "wrong_update_sign" and where == l + 1) else 1
        e = 1 if (slip == "missing_learning_rate" and where == l + 1) else eta
        Wn_l = [[r(W[l][i][c] + sgn * e * GW[i][c]) for c in range(len(GW[0]))] for i in range(len(GW))]
        bn_l = [[r(b[l][i] + sgn * e * GB[i][0])] for i in range(len(GB))]
        s = slip in ("wrong_update_sign", "missing_learning_rate") and where == l + 1
        put(l + 1, "W_new", Wn_l, s)
        put(l + 1, "b_new", bn_l, s)
        Wnew[l] = Wn_l
    return out, slipped


def slip_layer(P: dict, slip: str, rng: random.Random) -> int:
    """The layer a slip happens in (0: the loss, for a batch factor)."""
    L = len(P["layers"])
    acts = [l["act"] for l in P["layers"]]
    if slip in ("missing_activation_derivative", "derivative_at_a"):
        paired = P["loss"] in ("cross_entropy", "binary_cross_entropy")
        options = [l + 1 for l in range(L - 1) if acts[l] not in ("identity", "softmax", "relu")]
        if not paired and acts[-1] not in ("identity", "softmax", "relu"):
            options.append(L)
        return rng.choice(options)
    if slip == "missing_transpose":
        return rng.choice([l for l in range(1, L) if len(P["layers"][l]["W"]) == len(P["layers"][l]["W"][0]) > 1])
    if slip == "used_updated_weights":
        return rng.randint(1, L - 1)
    if slip == "missing_batch_factor":
        return rng.choice([0, L])
    if slip == "missing_bias":
        return rng.choice([l + 1 for l in range(L) if any(P["layers"][l]["b"])])
    if slip == "activation_not_applied":
        return rng.choice([l + 1 for l in range(L) if acts[l] not in ("identity", "softmax")])
    return rng.randint(1, L)


def quantity_decimals(P: dict, k: int, rng: random.Random) -> dict:
    """The calculator student's decimals: each quantity its own, k ... k+3."""
    out = {(None, "loss"): k + rng.randint(0, 3)}
    for l in range(1, len(P["layers"]) + 1):
        for q in ("z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new"):
            out[(l, q)] = k + rng.randint(0, 3)
    return out


def sheet(P: dict, k: int, slip=None, where=None, drop_zeros=False, style="rounder", decimals=None,
          factor_first=False) -> tuple[str, dict]:
    """The answers file text and the expected verdict of every entry.
    ``decimals`` (the calculator's) maps (layer, quantity) to the decimals
    it is written with; otherwise every value is written with k."""
    def places(key):
        return decimals[key[:2]] if decimals else k

    def written(vals):
        return {key: rnd(v, places(key)) for key, v in vals.items()}

    clean, _ = work(P, k, style=style, factor_first=factor_first)
    vals, slipped = work(P, k, slip, where, style=style, factor_first=factor_first) if slip else (clean, set())
    # what a calculator carries: where a slip changed it and not the digits
    # written, what follows is not one sheet's verdict either
    hidden = {key for key in slipped if style == "calculator" and vals[key] != clean[key]}
    clean, vals = written(clean), written(vals)
    exact_sheet, _ = work(P, 300)  # the exact values, to 300 decimals
    digits, _ = work(P, k, style="calculator", gprime_at_z=True)  # every digit: an update of 1e-400 is one
    # the other honest workings of the slip-free sheet: g' at z; intermediates
    # rounded or not, the batch factor taken into dJ/da first or not
    honest = [dict(style=style, factor_first=factor_first, gprime_at_z=True)]
    if style != "calculator":
        honest += [dict(style="careful", factor_first=ff) for ff in (False, True)] + [dict(style="rounder")]
    others: list = []

    def honest_sheets() -> list:  # worked out only when a slipped entry needs them
        if not others:
            others.extend(written(work(P, k, **h)[0]) for h in honest)
        return others

    def text(key) -> str:
        v, p = vals[key], places(key)
        s = f"{float(v):.{p}f}" if abs(v) < 10**12 else str(v)
        if Fraction(s) != v:  # exact decimal text of the rounded value
            d = Decimal(v.numerator) / Decimal(v.denominator)
            s = format(d.quantize(Decimal(1).scaleb(-p)), "f")
        if drop_zeros and "." in s:
            s = s.rstrip("0").rstrip(".") or "0"
            if s in ("-0", ""):
                s = "0"
        return s

    texts = {key: text(key) for key in vals}

    def shown(key) -> int:
        """The decimals the entry shows (at least 2): its own, after dropped zeros."""
        t = texts[key]
        return max(2, len(t.split(".")[1]) if "." in t else 0)

    def same(key, other) -> bool:
        """Whether the written digits cannot tell the value from ``other``."""
        return vals[key] == other or rnd(other, shown(key)) == vals[key]

    expected = {}
    for key, v in vals.items():
        if (v != clean[key] and same(key, clean[key])) or (key in hidden and v == clean[key]):
            # a slip changed the value they carry, not the digits they wrote
            # (zeros left off): what follows from it is right working from
            # digits judged right, or carried -- not one sheet's verdict
            expected[key] = "ambiguous"
        elif same(key, clean[key]):
            expected[key] = "correct"
            layer, q, i, j = key
            if q in ("W_new", "b_new"):
                old = P["layers"][layer - 1]["W"][i][j] if q == "W_new" else P["layers"][layer - 1]["b"][i]
                # no free marks: digits that cannot tell the new value from the
                # old one (the old value rounds to them too) earn none
                grad = digits[(layer, "grad_W" if q == "W_new" else "grad_b", i, j)]
                if abs(v - old) <= Fraction(1, 2 * 10 ** shown(key)) and grad != 0:
                    # a gradient below 1e-300 may be the rounding noise of 320 digits
                    # (a softmax delta summing to 0): not this simulation's to judge
                    expected[key] = "imprecise" if abs(_mp(grad)) > MP.mpf(10) ** -300 else "ambiguous"
        elif key in slipped:
            # the slipped formula wrote what honest working gives (the true
            # value, or another honest working, rounded as written): that is
            # right, and what follows is right working -- a sheet on which one
            # slip-free sheet is not the measure (``run`` skips it)
            expected[key] = "ambiguous" if same(key, exact_sheet[key]) or any(same(key, o[key]) for o in honest_sheets()) \
                else "wrong"
        else:
            expected[key] = "carried"
    L = len(P["layers"])

    lines = [f"loss = {texts[(None, 'loss', 0, 0)]}"]
    for l in range(1, L + 1):
        lines.append("[[layers]]")
        for q in ("z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new"):
            rows = sorted({i for (ll, qq, i, _) in vals if ll == l and qq == q})
            cols = sorted({j for (ll, qq, _, j) in vals if ll == l and qq == q})
            M = [[texts[(l, q, i, j)] for j in cols] for i in rows]
            lines.append(f"{q} = [" + ", ".join("[" + ", ".join(M[i]) + "]" for i in range(len(rows))) + "]")
    return "\n".join(lines) + "\n", expected


def grade(problem_text: str, answers_text: str):
    """stepsolver's verdicts, keyed like ``expected``, and the hints."""
    import stepsolver
    from stepsolver.kinds.net.answers import answers_from_dict
    from stepsolver import check
    from stepsolver.tomlio import parse_toml_bytes

    trace = stepsolver.solve(stepsolver.loads_problem(problem_text)).trace
    sheet = answers_from_dict(parse_toml_bytes(answers_text.encode(), "answers.toml"), trace)
    report = check(trace, sheet)
    verdicts, hints = {}, {}
    for it in report.items:
        key = (it.layer, "loss" if it.quantity == "loss" else it.quantity, it.row - 1, it.col - 1)
        verdicts[key] = it.verdict
        if it.hint:
            hints[key] = (it.hint.code,) + tuple(it.hint.also)
    return verdicts, hints, report


def run(seed: int, count: int, ks=(2, 3, 4, 6), style: str = "rounder"):
    """Simulate ``count`` sheets of one working style (see ``work``); returns
    the three figures of the issue and the failures: (clean all correct,
    one-slip all verdicts right, slip named)."""
    rng = random.Random(seed)
    stats = {"clean": 0, "clean_ok": 0, "slip": 0, "slip_ok": 0, "named": 0, "by_slip": {}}
    failures = []
    while stats["clean"] + stats["slip"] < count:
        P = random_exercise(rng)
        k = rng.choice(ks)
        drop = rng.random() < 0.3 and style != "calculator"  # published keys write their zeros
        slip = rng.choice([None, None] + SLIPS)
        decimals = quantity_decimals(P, k, rng) if style == "calculator" else None
        factor_first = style == "careful" and rng.random() < 0.5
        where = None
        if slip is not None:
            if not applicable(P, slip):
                continue
            where = slip_layer(P, slip, rng)
        try:
            text = problem_toml(P)
            answers, expected = sheet(P, k, slip, where, drop, style, decimals, factor_first)
            if "ambiguous" in expected.values() or (slip and "wrong" not in expected.values()):
                continue  # the slip did not change a written digit, or wrote what honest working gives
            verdicts, hints, _ = grade(text, answers)
        except (ValueError, ZeroDivisionError, OverflowError, decimal.InvalidOperation):
            continue
        except Exception as exc:  # noqa: BLE001
            from stepsolver.errors import StepsolverError

            if isinstance(exc, StepsolverError) and exc.exit_code == 2:
                continue  # e.g. a log of 0 in a rounded chain the engine refuses: not a grading question
            raise
        bad = {key: (verdicts.get(key), exp) for key, exp in expected.items() if verdicts.get(key) != exp}
        if slip is None:
            stats["clean"] += 1
            stats["clean_ok"] += not bad
        else:
            stats["slip"] += 1
            stats["slip_ok"] += not bad
            named = any(slip in hints.get(key, ()) for key, e in expected.items() if e == "wrong")
            stats["named"] += named
            s = stats["by_slip"].setdefault(slip, [0, 0])
            s[0] += 1
            s[1] += named
        if bad or (slip and not named):
            failures.append({"k": k, "slip": slip, "where": where, "problem": text, "answers": answers, "bad": bad,
                             "hints": hints, "style": style, "factor_first": factor_first, "P": P, "drop": drop,
                             "decimals": decimals})
    return stats, failures
