"""Random *valid* network problems over a wide distribution, and the judge
that compares stepsolver's answer with the independent reference
(``netref``).  Used by ``tests/test_extremes.py`` (a few hundred) and
``bench/stress.py`` (thousands).

The distribution: depth 1-5, widths 1-6, 1-6 examples, 1-3 steps; numbers
written as integers, decimals, quoted fractions and exponent floats; every
activation including custom expressions; every loss, including softmax with
half_sse, mse and binary cross-entropy; l2, online and batch updates, frozen
biases, leaky slopes; and about a third "wide" problems with weights up to
+-10 and learning rates up to 5 that saturate units.
"""

from __future__ import annotations

import random
import warnings
from fractions import Fraction

import mpmath

import netref

HIDDEN = ["identity", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "square"]
CUSTOM = ["x**2", "x**3/3 - x", "tanh(x)/2", "x + exp(-x**2)", "sqrt(x**2)", "log(1 + x**2)",
          "sqrt(1 + x**2)", "x/(1 + x**2)", "tanh(x) + x/10", "x*tanh(x)", "exp(-x**2)", "(x**2)**(1/2)"]
LOSSES = ["half_sse", "sse", "mse", "cross_entropy", "binary_cross_entropy"]


def _write(q: Fraction, rng: random.Random) -> str:
    """A number in one of the ways people write it."""
    style = rng.random()
    if q.denominator == 1 and style < 0.5:
        return str(q.numerator)
    d = q.denominator
    k = 0
    while d % 2 == 0:
        d //= 2
        k += 1
    j = 0
    while d % 5 == 0:
        d //= 5
        j += 1
    if d != 1 or style < 0.2:
        return f'"{q.numerator}/{q.denominator}"'
    places = max(k, j, 1)
    text = f"{float(q):.{places}f}" if places < 15 else None
    if text is None or Fraction(text) != q:
        return f'"{q.numerator}/{q.denominator}"'
    if style > 0.85 and q:
        mant = q * 10
        if Fraction(f"{float(mant):.{places}f}") == mant:
            return f"{float(mant):.{places}f}e-1"
    return text


def _num(rng: random.Random, wide: bool) -> Fraction:
    if wide and rng.random() < 0.6:
        return Fraction(rng.randint(-40, 40), 4)
    r = rng.random()
    if r < 0.4:
        return Fraction(rng.randint(-8, 8), 4)
    if r < 0.7:
        return Fraction(rng.randint(-20, 20), 10)
    if r < 0.85:
        return Fraction(rng.randint(-6, 6), rng.choice([3, 6, 7]))
    return Fraction(rng.randint(-30, 30), 100)


OPTIMIZERS = ["momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def random_optimizer(rng: random.Random, name: str | None = None) -> list[str]:
    """An [optimizer] table: a random rule, its hyper-parameters at their
    defaults or at other values, epsilon inside the root at times."""
    name = name or rng.choice(OPTIMIZERS)
    lines = ["", "[optimizer]", f'name = "{name}"']
    keys = {"momentum": ["momentum"], "nesterov": ["momentum"], "adagrad": ["epsilon"],
            "rmsprop": ["rho", "epsilon"], "adam": ["beta1", "beta2", "epsilon"]}[name]
    choices = {"momentum": ["0.5", "0.8", "0.9", "0.99", "0"], "beta1": ["0.8", "0.5", "0.95", "0"],
               "beta2": ["0.9", "0.99", "0.5"], "rho": ["0.9", "0.5", "0.95"], "epsilon": ["1e-8", "0.001", "0.1", "1e-6"]}
    for k in keys:
        if rng.random() < 0.5:
            lines.append(f"{k} = {rng.choice(choices[k])}")
    if name in ("adagrad", "rmsprop", "adam") and rng.random() < 0.25:
        lines.append("epsilon_inside = true")
    return lines


def random_problem(rng: random.Random, wide: bool | None = None, max_depth: int = 5, max_width: int = 6,
                   max_examples: int = 6, max_steps: int = 3, optimizer: bool | str = False) -> str:
    """A random valid problem; with ``optimizer`` (True: a random one, or a
    name), an [optimizer] table."""
    if wide is None:
        wide = rng.random() < 1 / 3
    loss = rng.choice(LOSSES)
    depth = rng.randint(1, max_depth)
    sizes = [rng.randint(1, max_width) for _ in range(depth + 1)]
    if loss == "cross_entropy":
        out = "softmax"
        sizes[-1] = max(2, sizes[-1])
    elif loss == "binary_cross_entropy":
        out = rng.choice(["sigmoid", "softmax"])
    else:
        out = rng.choice(HIDDEN + CUSTOM[:6] + ["softmax"])
    if out == "softmax":
        sizes[-1] = max(2, sizes[-1])
    acts = [rng.choice(HIDDEN + CUSTOM) if rng.random() < 0.9 else rng.choice(CUSTOM) for _ in range(depth - 1)] + [out]
    lines = [f'title = "stress"']
    eta = Fraction(rng.choice([1, 2, 5, 10, 25, 50]), 100) if not wide else Fraction(rng.choice([1, 5, 10, 20, 50, 100, 500]), 100)
    lines.append(f"learning_rate = {_write(eta, rng)}")
    lines.append(f'loss = "{loss}"')
    if rng.random() < 0.3:
        lines.append('batch = "sum"')
    if rng.random() < 0.3:
        lines.append('update = "online"')
    steps = rng.randint(1, max_steps)
    if steps > 1:
        lines.append(f"steps = {steps}")
    if rng.random() < 0.25:
        lines.append(f"l2 = {_write(Fraction(rng.choice([1, 5, 10, 50]), 100), rng)}")
    if rng.random() < 0.2:
        lines.append("update_biases = false")
    if "leaky_relu" in acts and rng.random() < 0.6:
        lines.append(f"leaky_slope = {_write(Fraction(rng.choice([1, 5, 10, 20]), 100), rng)}")
    if optimizer:
        lines += random_optimizer(rng, optimizer if isinstance(optimizer, str) else None)
    for l in range(1, depth + 1):
        lines.append("")
        lines.append("[[layers]]")
        W = [[_num(rng, wide) for _ in range(sizes[l - 1])] for _ in range(sizes[l])]
        lines.append("weights = [" + ", ".join("[" + ", ".join(_write(w, rng) for w in r) + "]" for r in W) + "]")
        if rng.random() < 0.85:
            lines.append("bias = [" + ", ".join(_write(_num(rng, wide), rng) for _ in range(sizes[l])) + "]")
        lines.append(f'activation = "{acts[l - 1]}"')
    m = rng.randint(1, max_examples)
    for _ in range(m):
        lines.append("")
        lines.append("[[examples]]")
        x = [_num(rng, wide) for _ in range(sizes[0])]
        n = sizes[-1]
        if loss == "cross_entropy":
            if rng.random() < 0.8:
                k = rng.randrange(n)
                t = [Fraction(int(i == k)) for i in range(n)]
            else:
                t = [Fraction(rng.choice([0, 1, 2]), 4) for _ in range(n)]
        elif loss == "binary_cross_entropy" or out in ("sigmoid", "softmax"):
            t = [Fraction(rng.choice([0, 4, 4, 0, 1, 2]), 4) for _ in range(n)]
        else:
            t = [_num(rng, wide) for _ in range(n)]
        lines.append("x = [" + ", ".join(_write(v, rng) for v in x) + "]")
        lines.append("t = [" + ", ".join(_write(v, rng) for v in t) + "]")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ judging
def _engine_value(v):
    from stepsolver.exact import is_rational, to_mpf

    if is_rational(v):
        return Fraction(int(v.numerator), int(v.denominator))
    return to_mpf(v)


def _close(e, r, floor) -> bool:
    if isinstance(r, Fraction) and isinstance(e, Fraction):
        return e == r
    with mpmath.workdps(60):
        r = mpmath.mpf(r.numerator) / r.denominator if isinstance(r, Fraction) else r
        e = mpmath.mpf(e.numerator) / e.denominator if isinstance(e, Fraction) else e
        return abs(e - r) <= abs(r) * mpmath.mpf(10) ** -25 + floor


def compare(trace, ref) -> list[str]:
    """Every reported value of the trace against the reference: a list of
    disagreements (empty when all agree)."""
    bad = []
    floors = ref.get("floors", {})
    if len(trace.steps) != len(ref["steps"]):
        return [f"{len(trace.steps)} steps, reference {len(ref['steps'])}"]
    for k, (s, rs) in enumerate(zip(trace.steps, ref["steps"]), 1):
        e = _engine_value(s.loss.total)
        if not _close(e, rs["J"], floors.get((k, None, "J", 0, 0), 0)):
            bad.append(f"step {k} J: {mpmath.nstr(e, 15)} vs {mpmath.nstr(rs['J'], 15)}")
        for l, (lt, rl) in enumerate(zip(s.layers, rs["layers"]), 1):
            for name, R in rl.items():
                M = getattr(lt, name)
                for i, row in enumerate(R):
                    for j, r in enumerate(row):
                        e = _engine_value(M[i, j])
                        if not _close(e, r, floors.get((k, l, name, i, j), 0)):
                            bad.append(f"step {k} layer {l} {name}[{i + 1}][{j + 1}]: "
                                       f"{mpmath.nstr(e, 15)} vs {mpmath.nstr(r, 15)}")
    return bad


def run_one(text: str, render=("json", "md")) -> dict:
    """Solve (and render) one problem in process; classify the outcome against
    the reference: right | wrong | refused_true | refused_false | internal."""
    import stepsolver
    from stepsolver.errors import CrossCheckError, InputError

    import time

    t0 = time.perf_counter()
    ref = netref.reference(text)
    out = {"ref": ref["status"], "ref_seconds": time.perf_counter() - t0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            sol = stepsolver.solve(stepsolver.loads_problem(text, "stress.toml"))
            for fmt in render:
                sol.render(fmt)
        except CrossCheckError as exc:
            out.update(outcome="internal", message=exc.line())
            return out
        except InputError as exc:
            true = ref["status"] in ("huge", "undefined")
            out.update(outcome="refused_true" if true else "refused_false", message=exc.line())
            return out
        except Exception as exc:  # noqa: BLE001 - an internal error is what we count
            out.update(outcome="internal", message=f"{type(exc).__name__}: {exc}")
            return out
    out["warnings"] = [str(w.message) for w in caught]
    if ref["status"] != "ok":
        out.update(outcome="answered_" + ref["status"], message="")
        return out
    bad = compare(sol.trace, ref)
    out.update(outcome="wrong" if bad else "right", message="; ".join(bad[:3]))
    return out
