"""Formulas (exact/symbolic.py trees) written in JME, the expression
language of Numbas: what its adaptive marking recomputes from a student's
own earlier answers."""

from __future__ import annotations

from ..exact import decimal_text, denom, is_rational, numer, terminating_places, to_float

#: how each function a formula may call is written in JME (whole: a template that is not one call is
#: parenthesised, so it binds as one operand)
FUNCTIONS = {
    "exp": "exp({})",
    "log": "ln({})",
    "log1p": "ln(1 + {})",
    "sqrt": "sqrt({})",
    "abs": "abs({})",
    "tanh": "tanh({})",
    "sigmoid": "(1/(1 + exp(-({}))))",
    "softplus": "ln(1 + exp({}))",
    "sigmoid_derivative": "(exp(-({0}))/(1 + exp(-({0})))^2)",
    "tanh_derivative": "(1 - tanh({})^2)",
}

# binding strength: higher binds tighter
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}


def number(q) -> str:
    """An exact number as JME reads it: a short decimal, else n/d; an
    irrational one as the nearest double."""
    if not is_rational(q) and not isinstance(q, int):
        return literal(to_float(q))
    places = terminating_places(denom(q))
    if places is not None and places <= 12:
        return decimal_text(q)
    return f"{numer(q)}/{denom(q)}"


def jme(node) -> str:
    return _write(node)[0]


def _write(node) -> tuple[str, int]:
    kind = node[0]
    if kind == "ref":
        return node[1], 9
    if kind == "num":
        q = node[1]
        text = number(q)
        if text.startswith("-"):
            return text, 3
        return text, (2 if "/" in text else 9)
    if kind == "call":
        return FUNCTIONS[node[1]].format(_write(node[2])[0]), 9
    if kind == "neg":
        inner, p = _write(node[1])
        return "-" + (inner if p > 3 else f"({inner})"), 3
    if kind == "pow":
        inner, p = _write(node[1])
        return (inner if p > 4 else f"({inner})") + f"^{node[2]}", 4
    op = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[kind]
    mine = _PREC[kind]
    left, lp = _write(node[1])
    right, rp = _write(node[2])
    if lp < mine:
        left = f"({left})"
    # the right operand of - and / binds tighter; of + and * it may be equal
    if rp < mine or (rp == mine and kind in ("sub", "div")) or (kind in ("add", "mul") and rp == 3):
        right = f"({right})"
    return f"{left} {op} {right}", mine


def literal(x: float) -> str:
    """A double as a JME number literal, in positional notation: JME reads
    ``5e-05`` as 5e - 5 (e is Euler's number)."""
    from decimal import Decimal

    text = format(Decimal(repr(float(x))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def true_literal(v) -> str:
    """A quantity's exact value as JME reads it: the quiz answer (its short decimal, else the nearest
    double), in positional notation."""
    from .quiz import quiz_answer

    text = quiz_answer(v)
    return literal(float(text)) if "e" in text or "E" in text else text
