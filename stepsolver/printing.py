"""Number display: the one place that decides fractions versus decimals,
rounding, and the "approximately" mark.

Rules (documented in the README):

* an integer prints as itself;
* a rational whose decimal expansion ends within ``max_places`` places
  (default 6) prints as that exact decimal (0.96, -3.13);
* another rational prints as a fraction when numerator and denominator
  together have at most ``fraction_digits`` digits (default 7): 1/3, -76/3;
* everything else -- long rationals and irrational values -- prints rounded
  and is marked rounded, so the caller writes "≈": to ``digits`` decimal
  places (default 4); values below 0.1 keep ``digits`` significant digits
  (0.008771, not 0.0088); below 10^-4 (or from 10^7 up) scientific form with
  ``digits`` significant digits, so small gradients never round to 0.0000.
"""

from __future__ import annotations

from dataclasses import dataclass

from .exact import MP, Irr, denom, numer, to_mpf


@dataclass(frozen=True)
class NumberStyle:
    digits: int = 4  # decimal places of a rounded value
    max_places: int = 6  # longest exact decimal printed as a decimal
    fraction_digits: int = 7  # longest fraction printed as a fraction
    exact: bool = False  # also show closed forms of irrational values where short (--exact)


DEFAULT_STYLE = NumberStyle()


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


def _exact_decimal(n: int, d: int, places: int) -> str:
    scaled = abs(n) * 10**places // d
    s = str(scaled).rjust(places + 1, "0")
    body = s[:-places] + "." + s[-places:] if places else s
    return ("-" if n < 0 else "") + body


@dataclass(frozen=True)
class Shown:
    """A number as it will be displayed.

    kind: 'int' | 'dec' | 'frac' | 'approx' | 'sci' | 'form'
    """

    kind: str
    negative: bool
    text: str  # plain text, e.g. '-0.96', '-76/3', '0.7311', '4.248e-18'
    num: str = ""  # fraction parts (kind 'frac'), absolute values
    den: str = ""
    mant: str = ""  # scientific parts (kind 'sci'), absolute mantissa
    exp: int = 0
    form_tex: str = ""  # kind 'form': LaTeX closed form

    @property
    def rounded(self) -> bool:
        return self.kind in ("approx", "sci")

    def latex(self) -> str:
        sign = "-" if self.negative else ""
        if self.kind == "frac":
            return f"{sign}\\frac{{{self.num}}}{{{self.den}}}"
        if self.kind == "sci":
            return f"{sign}{self.mant} \\times 10^{{{self.exp}}}"
        if self.kind == "form":
            return self.form_tex
        return self.text

    def unicode(self) -> str:
        if self.kind == "sci":
            sign = "−" if self.negative else ""
            return f"{sign}{self.mant}×10{_superscript(self.exp)}"
        return self.text.replace("-", "−")


_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _superscript(k: int) -> str:
    return str(k).translate(_SUP)


def show(x, style: NumberStyle = DEFAULT_STYLE) -> Shown:
    """Decide how one value is displayed."""
    if type(x) is not Irr:
        n, d = numer(x), denom(x)
        neg = n < 0
        if d == 1:
            return Shown("int", neg, str(n))
        places = terminating_places(d)
        if places is not None and places <= style.max_places:
            return Shown("dec", neg, _exact_decimal(n, d, places))
        if len(str(abs(n))) + len(str(d)) <= style.fraction_digits:
            return Shown("frac", neg, f"{n}/{d}", num=str(abs(n)), den=str(d))
        return _rounded(to_mpf(x), style)
    return _rounded(x.v, style)


def closed_form_latex(x) -> str | None:
    """LaTeX of a short closed form of an irrational value, or None."""
    if type(x) is not Irr or x.form is None:
        return None
    return x.form()[1]


def _rounded(v, style: NumberStyle) -> Shown:
    fast = _rounded_fast(v, style)
    return fast if fast is not None else _rounded_mp(v, style)


def _rounded_fast(v, style: NumberStyle) -> Shown | None:
    """The same result as :func:`_rounded_mp` computed from the float64
    value, or None when that could differ: when the value lies within 1e-9
    (relative) of a rounding boundary or of a power of ten, or outside the
    comfortable float range.  Float64 carries 16 digits, so away from
    boundaries its rounding to at most ``digits + 4`` places is the rounding
    of the exact value."""
    import math

    f = float(v)
    a = abs(f)
    if not (1e-280 < a < 1e280) or style.digits > 8:
        return None
    lg = math.log10(a)
    exp10 = math.floor(lg)
    if abs(lg - round(lg)) < 1e-9:
        return None  # next to a power of ten: the exponent could be off by one
    if exp10 < -4 or exp10 >= 7:
        return None  # scientific form: leave it to the exact path
    places = style.digits
    if exp10 < -1 and style.digits:
        places = style.digits - 1 - exp10
    scaled = a * 10.0**places
    frac = scaled - math.floor(scaled)
    if abs(frac - 0.5) < 1e-9 * max(1.0, scaled):
        return None  # a tie to within float precision: decide exactly
    q = int(math.floor(scaled + 0.5))
    neg = f < 0
    if q == 0:
        return Shown("approx", False, "0." + "0" * places if places else "0")
    body = _exact_decimal(q, 10**places, places) if places else str(q)
    return Shown("approx", neg, ("-" if neg else "") + body)


def _rounded_mp(v, style: NumberStyle) -> Shown:
    neg = v < 0
    a = abs(v)
    if a == 0:
        return Shown("approx", False, "0." + "0" * style.digits if style.digits else "0")
    exp10 = int(MP.floor(MP.log10(a)))
    if exp10 < -4 or exp10 >= 7:
        mant = a / MP.mpf(10) ** exp10
        mtext = MP.nstr(mant, style.digits, min_fixed=-1, max_fixed=2, strip_zeros=False)
        if mtext.startswith("10"):  # rounding carried into the next decade
            exp10 += 1
            mtext = MP.nstr(a / MP.mpf(10) ** exp10, style.digits, strip_zeros=False)
        text = f"{'-' if neg else ''}{mtext}e{exp10}"
        return Shown("sci", neg, text, mant=mtext, exp=exp10)
    places = style.digits
    if exp10 < -1 and style.digits:  # below 0.1: keep `digits` significant digits
        places = style.digits - 1 - exp10
    q = int(MP.nint(a * MP.mpf(10) ** places))
    if q == 0:
        return Shown("approx", False, "0." + "0" * places if places else "0")
    body = _exact_decimal(q, 10**places, places) if places else str(q)
    return Shown("approx", neg, ("-" if neg else "") + body)


def q_latex(q) -> str:
    """LaTeX of an exact rational, for closed forms: 7, 0.7, \\frac{1}{3}."""
    n, d = numer(q), denom(q)
    if d == 1:
        return str(n)
    places = terminating_places(d)
    if places is not None and places <= 6:
        return _exact_decimal(n, d, places)
    sign = "-" if n < 0 else ""
    return f"{sign}\\frac{{{abs(n)}}}{{{d}}}"
