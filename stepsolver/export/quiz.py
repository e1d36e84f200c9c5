"""The values of quiz answers and the tolerance of each blank (Moodle
today; QTI and Gradescope later).  Data, not layout: the quiz templates
print what these return."""

from __future__ import annotations

from types import SimpleNamespace

from ..exact import decimal_text, denom, is_rational, terminating_places, to_float
from ..lang import Text


def quiz_answer(v) -> str:
    """A quiz answer: the exact decimal where it is short, else the float."""
    if is_rational(v):
        places = terminating_places(denom(v))
        if places is not None and places <= 12:
            return decimal_text(v)
    return repr(to_float(v))


def quiz_tolerance(v, absolute=None) -> str:
    """Absolute tolerance: given, or 1% of |v| with a floor of 0.005 (the
    old default, kept for callers; quizzes use :func:`blank_tolerance`)."""
    if absolute is not None:
        return repr(to_float(absolute))
    t = max(0.005, 0.01 * abs(to_float(v)))
    return f"{t:.6g}"


#: decimals a quiz may ask for, in order: 2 is honest hand working
QUIZ_DECIMALS = (2, 3, 4, 5, 6, 8)


#: the smallest magnitude a quiz number (a PHP or JavaScript double) holds
#: with all its digits; below it a blank would store 0 or a subnormal
QUIZ_TINY = 1e-300
#: the finest tolerance a double can tell apart from its answer, relative to it
QUIZ_RESOLUTION = 1e-13


def unaskable(v) -> str | None:
    """Why a quiz number (a double) cannot hold v, or None where it can."""
    if not v:
        return None
    fv = abs(to_float(v))
    if fv < QUIZ_TINY:
        return Text("quiz.too_small")
    if fv == float("inf"):
        return Text("quiz.too_large")
    return None


def blank_tolerance(v, bound, rounded) -> tuple[float | None, int | None]:
    """(tolerance, decimals to ask for or None) of one quiz blank.

    The tolerance accepts honest working to d decimals -- the value rounded
    to d places, and the rounded chain of someone working to d places
    (``rounded(d)``, None where there is none) -- and must stay below
    ``bound``: |v - old value| for an updated weight, |v| for a nonzero
    gradient (so the old weight, 0 and the negated gradient are refused).
    d = 2 where that is possible; else the fewest decimals that are, and the
    question says so.  The tolerance is a short decimal, rounded up.

    (None, None) where no tolerance a quiz number can hold does that: an
    update or gradient below what a double resolves next to its value (the
    blank is then given, not asked)."""
    fv = to_float(v)
    for d in QUIZ_DECIMALS:
        r = rounded(d)
        t = _nice_up(max(0.5 * 10.0**-d, abs(fv - to_float(r)) if r is not None else 0.0) * 1.001)
        if bound is None or t < bound * 0.999:
            return t, (None if d == 2 else d)
    # an update or gradient too small for 8 decimals: half of it, and the
    # decimals that show it
    import math

    t = bound / 2
    if not (t >= QUIZ_TINY and t >= QUIZ_RESOLUTION * abs(fv)):
        return None, None
    return t, max(QUIZ_DECIMALS[-1], int(math.ceil(-math.log10(t))) + 1)


def _nice_up(t: float) -> float:
    """t rounded up to 3 significant digits (a tolerance reads 0.00501, not 0.0050000000070000005)."""
    from decimal import ROUND_CEILING, Decimal

    if t <= 0:
        return t
    d = Decimal(repr(t))
    return float(d.quantize(Decimal(1).scaleb(d.adjusted() - 2), rounding=ROUND_CEILING))


def blanks(item, custom=None) -> list:
    """The blanks of one quiz item (a kind's quiz quantity: matrix, bounds,
    rounded): rows of (answer, tolerance, decimals to ask for or None, and
    ``given``: a value no quiz number can ask for -- below 1e-300 or past
    a double's range, with more digits than a double resolves at its
    tolerance, or changed by an update no double resolves -- which the
    question states instead, with ``why``).  A ``custom`` absolute tolerance replaces the
    computed ones."""
    rows = []
    for i, r in enumerate(item.matrix.rows):
        row = []
        for j, v in enumerate(r):
            why = unaskable(v)
            if why:
                row.append(_given(v, why))
                continue
            if custom is not None:
                tol, dec = to_float(custom), None
            else:
                tol, dec = blank_tolerance(v, item.bounds[i][j], item.rounded(i, j))
                if tol is None:
                    row.append(_given(v, Text("quiz.change_too_small")))
                    continue
                if tol < QUIZ_RESOLUTION * abs(to_float(v)):
                    row.append(_given(v, Text("quiz.too_many_digits")))
                    continue
            row.append(SimpleNamespace(answer=quiz_answer(v), answer_value=v, tolerance=repr(tol), decimals=dec, given=False))
        rows.append(row)
    return rows


def _given(v, why: str) -> SimpleNamespace:
    return SimpleNamespace(answer=None, tolerance=None, decimals=None, given=True, value=v, why=why)


def accepted_texts(v, tolerance: float, decimals: int | None, limit: int = 60) -> list[str]:
    """The answers a text-matching quiz (Canvas's fill-in-the-blanks) accepts
    for a numeric blank: every number with exactly ``decimals`` places (2 when
    None) within ``tolerance`` of v -- the same interval as the Moodle blank,
    so the old weight, 0 and the negated gradient stay refused -- and each of
    them as people also write it (trailing zeros dropped, 0.5 as .5, −).
    Nearest first; at most ``limit`` numbers."""
    from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

    d = 2 if decimals is None else decimals
    fv, tol = Decimal(repr(to_float(v))), Decimal(repr(float(tolerance)))
    unit = Decimal(1).scaleb(-d)
    lo = ((fv - tol) / unit).to_integral_value(rounding=ROUND_CEILING)
    hi = ((fv + tol) / unit).to_integral_value(rounding=ROUND_FLOOR)
    ks = sorted(range(int(lo), int(hi) + 1), key=lambda k: abs(Decimal(k) * unit - fv))[:limit]
    out: list[str] = []
    for k in ks:
        x = Decimal(k) * unit
        full = f"{x:.{d}f}"
        if full.startswith("-") and x == 0:
            full = full[1:]
        forms = [full]
        while "." in forms[-1] and forms[-1].endswith("0"):  # 0.50, 0.5; 3.00, 3.0, 3
            forms.append(forms[-1][:-1].rstrip(".") if forms[-1][:-1].endswith(".") else forms[-1][:-1])
        forms = ["0" if f in ("-0", "") else f for f in forms]
        for f in list(forms):
            if f.startswith("0."):
                forms.append(f[1:])
            elif f.startswith("-0."):
                forms.append("-" + f[2:])
        for f in list(forms):
            if f.startswith("-"):
                forms.append("\u2212" + f[1:])
        for f in forms:
            if f not in out:
                out.append(f)
    return out
