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

from ..exact import Mat

from ..exact import Irr, denom, exact_decimal as _exact_decimal, magnitude_bits, numer, round_half_away, terminating_places, to_float


@dataclass(frozen=True)
class NumberStyle:
    digits: int = 4  # decimal places of a rounded value
    max_places: int = 6  # longest exact decimal printed as a decimal
    fraction_digits: int = 7  # longest fraction printed as a fraction
    exact: bool = False  # also show closed forms of irrational values where short (--exact)


DEFAULT_STYLE = NumberStyle()


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
        return _rounded(x, style)
    return _rounded(x, style)


def closed_form_latex(x) -> str | None:
    """LaTeX of a short closed form of an irrational value, or None."""
    if type(x) is not Irr or x.form is None:
        return None
    return x.form()[1]


def _rounded(x, style: NumberStyle) -> Shown:
    """A long rational or an irrational value (its certified midpoint)
    rounded for display, halves away from zero."""
    fast = _rounded_fast(x, style)
    return fast if fast is not None else _rounded_exact(x, style)


def _rounded_fast(x, style: NumberStyle) -> Shown | None:
    """The same result as :func:`_rounded_exact` computed from the float64
    value, or None when that could differ: when the value lies within 1e-9
    (relative) of a rounding boundary or of a power of ten, or outside the
    comfortable float range.  Float64 carries 16 digits, so away from
    boundaries its rounding to at most ``digits + 4`` places is the rounding
    of the exact value."""
    import math


    f = to_float(x)  # +-inf past float range
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


def _parts(x) -> tuple[bool, int, int]:
    """(negative, p, q) with |x| = p / q exactly: a rational, or the
    midpoint of an irrational value's ball (a dyadic number)."""
    if type(x) is Irr:
        man, e = x.b.mid().man_exp()
        man, e = int(man), int(e)
        return man < 0, abs(man) << e if e >= 0 else abs(man), 1 if e >= 0 else 1 << -e
    n, d = numer(x), denom(x)
    return n < 0, abs(n), d


def _round_div(p: int, q: int) -> int:
    """p / q rounded to an integer, halves up (p, q >= 0)."""
    return (2 * p + q) // (2 * q)


def _rounded_exact(x, style: NumberStyle) -> Shown:
    bits = magnitude_bits(x)
    if bits == float("-inf"):
        return Shown("approx", False, "0." + "0" * style.digits if style.digits else "0")
    if type(x) is Irr and not -24 <= bits <= 30:
        return _sci_ball(x, style)  # far outside 1e-4 ... 1e7: arb writes its digits
    neg, p, q = _parts(x)
    exp10 = _floor_log10(p, q)
    if exp10 < -4 or exp10 >= 7:
        sig = max(1, style.digits)
        shift = sig - 1 - exp10  # mantissa digits as an integer: round(|x| 10^shift)
        m = _round_div(p * 10**shift, q) if shift >= 0 else _round_div(p, q * 10**-shift)
        if m >= 10**sig:  # rounding carried into the next decade
            exp10 += 1
            shift -= 1
            m = _round_div(p * 10**shift, q) if shift >= 0 else _round_div(p, q * 10**-shift)
        mtext = _sci_mantissa(str(m))
        return Shown("sci", neg, f"{'-' if neg else ''}{mtext}e{exp10}", mant=mtext, exp=exp10)
    places = style.digits
    if exp10 < -1 and style.digits:  # below 0.1: keep `digits` significant digits
        places = style.digits - 1 - exp10
    k = _round_div(p * 10**places, q)
    if k == 0:
        return Shown("approx", False, "0." + "0" * places if places else "0")
    body = _exact_decimal(k, 10**places, places) if places else str(k)
    return Shown("approx", neg, ("-" if neg else "") + body)


def _floor_log10(p: int, q: int) -> int:
    """floor(log10(p / q)) exactly, p, q > 0."""
    k = len(str(p)) - len(str(q))
    while True:  # p/q lies in [10^(k-1), 10^(k+1)): fix k by comparison
        lo = p * 10**-k >= q if k <= 0 else p >= q * 10**k
        if not lo:
            k -= 1
            continue
        hi = p * 10 ** -(k + 1) < q if k + 1 <= 0 else p < q * 10 ** (k + 1)
        if not hi:
            k += 1
            continue
        return k


def _sci_mantissa(digits: str) -> str:
    return digits if len(digits) == 1 else digits[0] + "." + digits[1:]


def _sci_ball(x, style: NumberStyle) -> Shown:
    """Scientific form of a huge or tiny irrational value from arb's own
    decimal conversion of its midpoint (correctly rounded, halves away from
    zero), so 10^-430581645 costs no more than 10^-5."""
    sig = max(1, style.digits)
    text = x.b.mid().str(sig, radius=False)
    neg = text.startswith("-")
    body = text.lstrip("+-")
    mant, _, ex = body.partition("e")
    ip, _, fp = mant.partition(".")
    digits = (ip + fp).lstrip("0") or "0"
    exp10 = int(ex or 0) + len(ip.lstrip("0") or "") - 1 if ip.strip("0") else int(ex or 0) - (len(fp) - len(fp.lstrip("0"))) - 1
    digits = (digits + "0" * sig)[:sig]
    mtext = _sci_mantissa(digits)
    return Shown("sci", neg, f"{'-' if neg else ''}{mtext}e{exp10}", mant=mtext, exp=exp10)


# ------------------------------------------------------- for templates
class Fmt:
    """Number and matrix printing for templates (LaTeX math)."""

    def __init__(self, style: NumberStyle = DEFAULT_STYLE):
        self.style = style
        self._cache: dict[int, Shown] = {}
        self._mcache: dict[int, bool] = {}
        self._tcache: dict[int, str] = {}
        self._keep: list = []  # keep cached objects alive so ids stay unique

    def shown(self, x) -> Shown:
        k = id(x)
        s = self._cache.get(k)
        if s is None:
            s = show(x, self.style)
            self._cache[k] = s
            self._keep.append(x)
        return s

    def num(self, x) -> str:
        """LaTeX of one value."""
        return self.shown(x).latex()

    def numt(self, x) -> str:
        """A value as an operand: parenthesised when negative."""
        s = self.shown(x)
        return f"\\left({s.latex()}\\right)" if s.negative else s.latex()

    def text(self, x) -> str:
        """Plain Unicode text of one value (tables, terminal)."""
        return self.shown(x).unicode()

    def plain(self, x) -> str:
        """ASCII text of one value, as a student would type it."""
        sh = self.shown(x)
        return sh.text if sh.kind != "sci" else sh.text

    def _mat_rounded(self, M: Mat) -> bool:
        k = id(M)
        r = self._mcache.get(k)
        if r is None:
            r = any(self.shown(x).rounded for x in M.entries())
            self._mcache[k] = r
            self._keep.append(M)
        return r

    def rounded(self, *items) -> bool:
        """Whether any of these values or matrices (or rows) prints rounded."""
        for it in items:
            if isinstance(it, Mat):
                if self._mat_rounded(it):
                    return True
            elif isinstance(it, (tuple, list)):
                if self.rounded(*it):
                    return True
            elif it is not None and not isinstance(it, (str, int)) and self.shown(it).rounded:
                return True
        return False

    def rel(self, *items) -> str:
        """'=' or '\\approx' for a line showing these values."""
        return r"\approx" if self.rounded(*items) else "="

    def mat(self, M: Mat) -> str:
        """bmatrix, one row per line, rows ending in \\\\ (cached per matrix)."""
        k = id(M)
        text = self._tcache.get(k)
        if text is None:
            rows = [" & ".join(self.num(x) for x in r) for r in M.rows]
            text = "\\begin{bmatrix}\n" + " \\\\\n".join(rows) + "\n\\end{bmatrix}"
            self._tcache[k] = text
            self._keep.append(M)
        return text


    # -- closed forms (--exact): an extra step before the decimal result ------
    def form(self, x) -> str | None:
        return closed_form_latex(x) if self.style.exact else None

    def has_forms(self, M: Mat) -> bool:
        """Whether --exact shows closed forms for this matrix."""
        return self.style.exact and any(self.form(x) is not None for x in M.entries())

    def mat_forms(self, M: Mat) -> str:
        """The matrix with closed forms where there are any."""
        rows = [" & ".join(self.form(x) or self.num(x) for x in r) for r in M.rows]
        return "\\begin{bmatrix}\n" + " \\\\\n".join(rows) + "\n\\end{bmatrix}"

    def form_eq(self, x) -> str:
        """'= closed form ' before a value's decimal, or '' (element level)."""
        t = self.form(x)
        return f"= {t} " if t else ""

    def fixed(self, x, places: int) -> str:
        """x to exactly ``places`` decimals (half away from zero), plain text."""
        n = numer(round_half_away(x, places) * 10**places)  # an integer: the value in units of the last place
        sign = "-" if n < 0 else ""
        digits = str(abs(n)).rjust(places + 1, "0")
        return sign + (digits[:-places] + "." + digits[-places:] if places else digits)

    def same(self, x, y) -> bool:
        """Whether two values print the same (used to skip repeating a value)."""
        return self.shown(x).text == self.shown(y).text
