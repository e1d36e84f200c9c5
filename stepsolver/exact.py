"""Exact numbers: rationals, and irrational values carried to 50 digits.

Every scalar in a solve is one of two kinds:

* a **rational**, an element of SymPy's QQ domain (python-flint's ``fmpq``
  when it is installed, otherwise :class:`fractions.Fraction`).  All
  arithmetic among rationals is exact, so 0.01 is 1/100 from the file to the
  answer.
* an :class:`Irr`: a value no rational can hold (``sigmoid(7/10)``,
  ``log(3/10)``) carried as an mpmath float of :data:`DIGITS` significant
  digits, plus, where it is short, a closed form such as
  ``1/(1 + exp(-7/10))`` built only when someone asks for it.

Mixing the two gives an :class:`Irr`, except that multiplying by an exact zero
gives an exact zero.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Callable, Union

import mpmath

#: significant digits carried by irrational values
DIGITS = 50

MP = mpmath.MPContext()
MP.dps = DIGITS
_mpf = MP.mpf

_backend = os.environ.get("STEPSOLVER_RATIONAL", "").strip().lower()
if _backend != "fraction":
    try:  # pragma: no branch
        from flint import fmpq as _QType  # type: ignore[import-not-found]

        BACKEND = "flint"
    except ImportError:  # pragma: no cover - exercised through the env switch
        _QType = Fraction
        BACKEND = "fraction"
else:
    _QType = Fraction
    BACKEND = "fraction"

QType = _QType


def Q(numerator: int = 0, denominator: int = 1):
    """The exact rational numerator/denominator."""
    return _QType(numerator, denominator)


ZERO = Q(0)
ONE = Q(1)


def is_rational(x) -> bool:
    return type(x) is _QType


def numer(q) -> int:
    return int(q.numerator)


def denom(q) -> int:
    return int(q.denominator)


def bits(q) -> int:
    """Size of a rational: bits of numerator plus bits of denominator."""
    return int(q.numerator).bit_length() + int(q.denominator).bit_length()


def q_str(q) -> str:
    """'-11/25', '109': the exact text SymPy and Fraction both read."""
    n, d = numer(q), denom(q)
    return str(n) if d == 1 else f"{n}/{d}"


def q_to_float(q) -> float:
    """Correctly rounded float of a rational; +-inf past float range."""
    n, d = numer(q), denom(q)
    try:
        return n / d  # int / int is correctly rounded in CPython
    except OverflowError:
        return float("inf") if n > 0 else float("-inf")


_MPF_CACHE: dict = {}


def q_to_mpf(q):
    """The rational as an mpmath float, cached by object identity: the same
    weight objects meet irrational activations again and again, and hashing
    a rational by value is slower than converting it.  The cache holds the
    object itself, so an id cannot be reused while its entry lives."""
    hit = _MPF_CACHE.get(id(q))
    if hit is not None and hit[0] is q:
        return hit[1]
    d = q.denominator
    v = _mpf(int(q.numerator)) if d == 1 else _mpf(int(q.numerator)) / int(d)
    if len(_MPF_CACHE) > 50_000:
        _MPF_CACHE.clear()
    _MPF_CACHE[id(q)] = (q, v)
    return v


class Irr:
    """An irrational value: ``v`` an mpmath float of DIGITS digits, ``form`` a
    zero-argument callable giving ``(sympy_text, latex)`` of a short closed
    form, or None where a closed form would be unwieldy."""

    __slots__ = ("v", "form")

    def __init__(self, v, form: Callable[[], tuple[str, str]] | None = None):
        self.v = v
        self.form = form

    # -- arithmetic ------------------------------------------------------
    def __add__(self, o):
        if type(o) is Irr:
            return Irr(self.v + o.v)
        return Irr(self.v + q_to_mpf(o))

    __radd__ = __add__

    def __sub__(self, o):
        if type(o) is Irr:
            return Irr(self.v - o.v)
        return Irr(self.v - q_to_mpf(o))

    def __rsub__(self, o):
        return Irr(q_to_mpf(o) - self.v)

    def __mul__(self, o):
        if type(o) is Irr:
            return Irr(self.v * o.v)
        if not o:
            return ZERO
        return Irr(self.v * q_to_mpf(o))

    __rmul__ = __mul__

    def __truediv__(self, o):
        if type(o) is Irr:
            if not o.v:
                raise ZeroDivisionError("division by zero")
            return Irr(self.v / o.v)
        if not o:
            raise ZeroDivisionError("division by zero")
        return Irr(self.v / q_to_mpf(o))

    def __rtruediv__(self, o):
        if not self.v:
            raise ZeroDivisionError("division by zero")
        if not o:
            return ZERO
        return Irr(q_to_mpf(o) / self.v)

    def __neg__(self):
        return Irr(-self.v)

    def __pos__(self):
        return self

    def __abs__(self):
        return Irr(abs(self.v))

    def __pow__(self, k: int):
        if not isinstance(k, int):
            raise TypeError("Irr powers take integer exponents")
        return Irr(self.v**k)

    # -- comparison (by value) -------------------------------------------
    def _cmpv(self, o):
        return o.v if type(o) is Irr else q_to_mpf(o)

    def __lt__(self, o):
        return self.v < self._cmpv(o)

    def __le__(self, o):
        return self.v <= self._cmpv(o)

    def __gt__(self, o):
        return self.v > self._cmpv(o)

    def __ge__(self, o):
        return self.v >= self._cmpv(o)

    def __eq__(self, o):
        if type(o) is Irr or is_rational(o) or isinstance(o, int):
            return self.v == self._cmpv(o if not isinstance(o, int) else Q(o))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self):
        return bool(self.v)

    def __float__(self):
        return to_float(self)

    def __repr__(self):
        return f"Irr({MP.nstr(self.v, 20)})"


Num = Union["QType", Irr]


def to_mpf(x):
    return x.v if type(x) is Irr else q_to_mpf(x)


def to_float(x) -> float:
    """float64 of either kind (correctly rounded for rationals); +-inf past
    float range, 0.0 below it."""
    if type(x) is Irr:
        v = x.v
        try:
            f = float(v)
        except OverflowError:  # pragma: no cover - mpmath returns inf
            return float("inf") if v > 0 else float("-inf")
        return f
    return q_to_float(x)


def exact_text(x) -> str | None:
    """SymPy-readable exact text: the rational, or a short closed form, or None."""
    if type(x) is Irr:
        if x.form is None:
            return None
        return x.form()[0]
    return q_str(x)


def sign(x) -> int:
    v = x.v if type(x) is Irr else x
    return (v > 0) - (v < 0)


def irr(v, form=None) -> Irr:
    """Wrap an mpmath value computed in :data:`MP`."""
    return Irr(v, form)


def magnitude_ok(x, max_bits: int) -> bool:
    """True when a value is small enough to keep computing with."""
    if type(x) is Irr:
        v = x.v
        if not MP.isfinite(v):
            return False
        if not v:
            return True
        return abs(MP.mag(v)) <= max_bits
    return bits(x) <= max_bits
