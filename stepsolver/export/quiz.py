"""The values of quiz answers and the tolerance of each blank (Moodle
today; QTI and Gradescope later).  Data, not layout: the quiz templates
print what these return."""

from __future__ import annotations

from types import SimpleNamespace

from ..exact import decimal_text, denom, is_rational, terminating_places, to_float


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


def blank_tolerance(v, bound, rounded) -> tuple[float, int | None]:
    """(tolerance, decimals to ask for or None) of one quiz blank.

    The tolerance accepts honest working to d decimals -- the value rounded
    to d places, and the rounded chain of someone working to d places
    (``rounded(d)``, None where there is none) -- and must stay below
    ``bound``: |v - old value| for an updated weight, |v| for a nonzero
    gradient (so the old weight, 0 and the negated gradient are refused).
    d = 2 where that is possible; else the fewest decimals that are, and the
    question says so.  The tolerance is a short decimal, rounded up."""
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
    rounded): rows of (answer, tolerance, decimals to ask for or None).  A
    ``custom`` absolute tolerance replaces the computed ones."""
    rows = []
    for i, r in enumerate(item.matrix.rows):
        row = []
        for j, v in enumerate(r):
            if custom is not None:
                tol, dec = to_float(custom), None
            else:
                tol, dec = blank_tolerance(v, item.bounds[i][j], item.rounded(i, j))
            row.append(SimpleNamespace(answer=quiz_answer(v), tolerance=repr(tol), decimals=dec))
        rows.append(row)
    return rows
