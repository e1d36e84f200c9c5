"""How an exact number is spelled: terminating decimals, TOML number text,
LaTeX of a rational for closed forms, and rounding to a number of decimal
places (halves away from zero) -- exactly, never through a binary float."""

from __future__ import annotations

from .numbers import MP, Q, denom, exact_text, is_rational, numer, to_float, to_mpf


def terminating_places(d: int) -> int | None:
    """Decimal places of 1/d when it terminates (d = 2^a 5^b), else None."""
    a = b = 0
    while d % 2 == 0:
        d //= 2
        a += 1
    while d % 5 == 0:
        d //= 5
        b += 1
    return max(a, b) if d == 1 else None


def exact_decimal(n: int, d: int, places: int) -> str:
    """n/d written with exactly ``places`` decimals (it must terminate there)."""
    scaled = abs(n) * 10**places // d
    s = str(scaled).rjust(places + 1, "0")
    body = s[:-places] + "." + s[-places:] if places else s
    return ("-" if n < 0 else "") + body


def decimal_text(q) -> str:
    """A terminating rational as TOML number text: 2, -0.5, 0.25 (a quoted
    fraction where it does not terminate)."""
    n, d = numer(q), denom(q)
    if d == 1:
        return str(n)
    places = terminating_places(d)
    if places is None:
        return f'"{n}/{d}"'
    return exact_decimal(n, d, places)


def q_latex(q) -> str:
    """LaTeX of an exact rational, for closed forms: 7, 0.7, \\frac{1}{3}."""
    n, d = numer(q), denom(q)
    if d == 1:
        return str(n)
    places = terminating_places(d)
    if places is not None and places <= 6:
        return exact_decimal(n, d, places)
    sign = "-" if n < 0 else ""
    return f"{sign}\\frac{{{abs(n)}}}{{{d}}}"


def round_half_away(x, places: int):
    """x rounded to ``places`` decimals, halves away from zero, exactly (an
    irrational value from its certified midpoint)."""
    scale = 10**places
    if is_rational(x):
        n = abs(x) * scale
        k = int((n + Q(1, 2)).numerator // (n + Q(1, 2)).denominator)
    else:
        k = int(MP.floor(abs(x.v) * scale + MP.mpf(1) / 2))
    return Q(k if x >= 0 else -k, scale)


def round_significant(x, digits: int):
    """x (nonzero, |x| < 1) rounded to ``digits`` significant digits,
    halves away from zero."""
    e = int(MP.floor(MP.log10(abs(to_mpf(x)))))
    return round_half_away(x, max(0, digits - 1 - e))


def json_float(x):
    """The nearest float64 of a value for JSON, or None past its range."""
    f = to_float(x)
    if f != f or f in (float("inf"), float("-inf")):
        return None
    return f


def json_value(x) -> dict:
    """A value in the JSON contract: its exact text (None where it has none) and its float."""
    return {"exact": exact_text(x), "value": json_float(x)}


def json_matrix(M) -> dict:
    """A matrix in the JSON contract: exact texts and floats, row by row."""
    return {
        "exact": [[exact_text(x) for x in r] for r in M.rows],
        "value": [[json_float(x) for x in r] for r in M.rows],
    }
