"""Exact numbers: rationals, and irrational values with certified digits.

Every scalar in a solve is one of two kinds:

* a **rational**, an element of SymPy's QQ domain (python-flint's ``fmpq``;
  :class:`fractions.Fraction` with ``STEPSOLVER_RATIONAL=fraction``).  All
  arithmetic among rationals is exact, so 0.01 is 1/100 from the file to the
  answer.
* an :class:`Irr`: a value no rational can hold (``sigmoid(7/10)``,
  ``log(3/10)``), carried as a python-flint ``arb`` *ball* -- a midpoint and
  a rigorous error radius -- at the working precision, plus, where it is
  short, a closed form such as ``1/(1 + exp(-7/10))`` built only when someone
  asks for it.  Because every operation widens the radius by exactly what it
  may have lost, the engine knows how many digits of each value are certain
  and raises the working precision until every value it reports has at least
  :data:`TARGET_BITS` correct bits (:func:`certified`).  Tiny values are
  values like any other: a ball's exponent is unbounded, so 1.4e-955 keeps
  all its digits.

An :class:`Irr` near a rational may also be *anchored* there: value = c + d
with c rational and d a ball computed without cancellation where the value
was made (a saturated sigmoid is 1 + (-sigma(-z)), a dominant softmax output
1 minus the sum of the others, 1 - a of a tiny a is 1 + (-a)).  ``a - t``,
``1 - a`` and ``ln a`` use it, so a saturated unit keeps the digits of what it
lost instead of rounding them to 0.

Mixing the two kinds gives an :class:`Irr`, except that multiplying by an
exact zero gives an exact zero, and a difference of two identical balls (the
same value computed the same way twice, e.g. two units with the same
weights) is the exact zero it is.

Size: about 640 lines, because the two kinds of number, their mixed
arithmetic and the precision control are one numeric type: the operators of
:class:`Irr` need each other's internals (the anchor, the radius).
"""

from __future__ import annotations

import contextlib
import math
import os
from fractions import Fraction
from typing import Callable, Union

import mpmath
from flint import arb, ctx as _flint_ctx, fmpq

from .. import limits
from ..errors import LimitError
from .symbolic import Sym

#: significant digits of the mpmath context used for display and marking
DIGITS = 50
#: bits every reported irrational value must have right (about 38 digits)
TARGET_BITS = 128
#: the first working precision, in bits; raised as needed up to MAX_PRECISION
START_PRECISION = 224
#: the highest working precision a solve may use (about 3700 digits)
MAX_PRECISION = 12_288
#: at MAX_PRECISION a value needs at least this many correct bits (every
#: digit a document prints and the float64 of JSON)
MIN_BITS_AT_LIMIT = 64

MP = mpmath.MPContext()
MP.dps = DIGITS
_mpf = MP.mpf

_backend = os.environ.get("STEPSOLVER_RATIONAL", "").strip().lower()
if _backend == "fraction":
    _QType = Fraction
    BACKEND = "fraction"
else:
    _QType = fmpq
    BACKEND = "flint"

QType = _QType


def Q(numerator: int = 0, denominator: int = 1):
    """The exact rational numerator/denominator."""
    return _QType(numerator, denominator)


ZERO = Q(0)
ONE = Q(1)
_HALF = Q(1, 2)


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


if BACKEND == "flint":

    def _fq(q):
        return q

else:

    def _fq(q):
        return fmpq(int(q.numerator), int(q.denominator))


def q_to_mpf(q):
    """The rational as an mpmath float (in :data:`MP`)."""
    d = q.denominator
    return _mpf(int(q.numerator)) if d == 1 else _mpf(int(q.numerator)) / int(d)


# ------------------------------------------------------------ precision
class Uncertain(Exception):
    """A decision (a sign, a branch, a division) could not be made at the
    working precision.  Never reaches a user: the solve raises the precision
    and tries again."""


class _Working:
    settle = False  # a ball holding 0 counts as 0 in comparisons


WORKING = _Working()


@contextlib.contextmanager
def working_precision(bits: int, settle: bool = False):
    """Compute irrational values at ``bits`` bits; with ``settle``, a
    comparison that is still undecided counts its ball as exactly 0 (the
    value is 0 to the working precision: see engine.solve_exact)."""
    old, old_settle = _flint_ctx.prec, WORKING.settle
    _flint_ctx.prec = bits
    WORKING.settle = settle
    try:
        yield WORKING
    finally:
        _flint_ctx.prec = old
        WORKING.settle = old_settle


def precision() -> int:
    return _flint_ctx.prec


# Code that calls the engine's functions outside a solve (the check's
# replay of a student's sheet, tests) computes at the first working
# precision rather than at python-flint's default of 53 bits.
if _flint_ctx.prec == 53:
    _flint_ctx.prec = START_PRECISION


def ball(x) -> arb:
    """The arb ball of a rational or an Irr (at the working precision)."""
    if type(x) is Irr:
        return x.b
    return arb(_fq(x))


# ------------------------------------------------------------ irrationals
class Irr:
    """An irrational value: ``b`` an arb ball, ``form`` a zero-argument
    callable giving ``(sympy_text, latex)`` of a short closed form (or None).

    A value near a rational may also be *anchored*: ``anchor`` a rational c
    and ``off`` a ball d, computed without cancellation, with value = c + d
    (a saturated sigmoid is 1 + (-sigma(-z)), 1 - a of a tiny a is
    1 + (-a)).  Sums with rationals, negation and scaling keep the anchor,
    so ``a - t``, ``1 - a`` and ``ln a`` take the digits from ``off``
    instead of cancelling them away."""

    __slots__ = ("b", "form", "anchor", "off", "logb", "_v")

    def __init__(self, b, form: Callable[[], tuple[str, str]] | None = None, anchor=None, off=None, logb=None):
        self.b = b
        self.form = form
        self.anchor = anchor
        self.off = off
        self.logb = logb  # ln of the value, where it was made from an exponential (a tiny softmax output)
        self._v = None

    @property
    def v(self):
        """The midpoint as an mpmath float (exact conversion)."""
        if self._v is None:
            self._v = MP.make_mpf(self.b.mid()._mpf_)
        return self._v

    # -- arithmetic ------------------------------------------------------
    def __add__(self, o):
        if type(o) is Sym:  # a formula: it writes the operation
            return NotImplemented
        if type(o) is Irr:
            if self.anchor is None and o.anchor is None:
                s = self.b + o.b
                if 0 in s and s.mid().is_zero() and self.b.rad() == o.b.rad() and _tight(self.b):
                    return ZERO  # x + (-x), the same ball twice (not two wide intervals about 0)
                return Irr(s)
            c1, d1 = self._parts()
            c2, d2 = o._parts()
            c, d = c1 + c2, d1 + d2
            if not c and 0 in d and d.mid().is_zero() and d1.rad() == d2.rad() and _tight(d1):
                return ZERO
            return _anchored(c, d)
        if not o:
            return self
        if self.anchor is not None:
            return _anchored(self.anchor + o, self.off)
        if _short(o) and _small(self.b, o):
            return Irr(self.b + _fq(o), anchor=o, off=self.b)
        return Irr(self.b + _fq(o))

    __radd__ = __add__

    def __sub__(self, o):
        return self + (-o)

    def __rsub__(self, o):
        return (-self) + o

    def __mul__(self, o):
        if type(o) is Sym:  # a formula: it writes the operation
            return NotImplemented
        if type(o) is Irr:
            if self.anchor is not None and o.anchor is not None:
                c1, d1, c2, d2 = self.anchor, self.off, o.anchor, o.off
                return _anchored(c1 * c2, d1 * _fq(c2) + d2 * _fq(c1) + d1 * d2)
            return Irr(self.b * o.b)
        if not o:
            return ZERO
        if o == 1:
            return self
        if self.anchor is not None:
            return _anchored(self.anchor * o, self.off * _fq(o))
        return Irr(self.b * _fq(o))

    __rmul__ = __mul__

    def __truediv__(self, o):
        if type(o) is Sym:  # a formula: it writes the operation
            return NotImplemented
        if type(o) is Irr:
            if 0 in o.b:
                _undecided_zero(o)
            return Irr(self.b / o.b)
        if not o:
            raise ZeroDivisionError("division by zero")
        return self * (ONE / o)

    def __rtruediv__(self, o):
        if 0 in self.b:
            _undecided_zero(self)
        if not o:
            return ZERO
        return Irr(_fq(o) / self.b)

    def __neg__(self):
        if self.anchor is not None:
            return Irr(-self.b, anchor=-self.anchor, off=-self.off)
        return Irr(-self.b)

    def __pos__(self):
        return self

    def __abs__(self):
        return self if self._sign() >= 0 else -self

    def __pow__(self, k: int):
        if not isinstance(k, int):
            raise TypeError("Irr powers take integer exponents")
        if k < 0 and 0 in self.b:
            _undecided_zero(self)
        if k == 2:
            return self * self
        return Irr(self.b**k)

    def _parts(self):
        return (self.anchor, self.off) if self.anchor is not None else (ZERO, self.b)

    # -- comparison (by value; undecidable comparisons raise Uncertain) ---
    def _sign(self) -> int:
        b = self.b
        if b > 0:
            return 1
        if b < 0:
            return -1
        if WORKING.settle:
            return 0
        raise Uncertain("the sign of a value")

    def _cmp(self, o) -> int:
        d = self - o
        if type(d) is not Irr:
            return (d > 0) - (d < 0)
        return d._sign()

    def __lt__(self, o):
        return self._cmp(o) < 0

    def __le__(self, o):
        return self._cmp(o) <= 0

    def __gt__(self, o):
        return self._cmp(o) > 0

    def __ge__(self, o):
        return self._cmp(o) >= 0

    def __eq__(self, o):
        if type(o) is Irr:
            return self.b.mid() == o.b.mid()
        if is_rational(o) or isinstance(o, int):
            return False  # an irrational value is no rational
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self):
        return not self.b.mid().is_zero()

    def __float__(self):
        return to_float(self)

    def __repr__(self):
        return f"Irr({MP.nstr(self.v, 20)})"


def _anchored(c, d):
    """The value c + d (c rational, d a ball), anchored at c unless c = 0 or
    c has grown long (anchors are for values near the short numbers of an
    exercise -- 1, a target -- and must not turn into exact arithmetic)."""
    if not c:
        return Irr(d)
    if not _short(c):
        return Irr(d + _fq(c))
    return Irr(d + _fq(c), anchor=c, off=d)


#: an anchor's numerator and denominator have at most this many bits
ANCHOR_BITS = 64

if BACKEND == "flint":

    def _short(c) -> bool:
        if type(c) is int:
            return c.bit_length() <= ANCHOR_BITS
        return c.height_bits() <= ANCHOR_BITS

else:

    def _short(c) -> bool:
        return max(int(c.numerator).bit_length(), int(c.denominator).bit_length()) <= ANCHOR_BITS


def _tight(b) -> bool:
    """Whether a ball is a computed value's (its radius the rounding error of
    the working precision), not a wide interval such as a written value's."""
    rad = b.rad()
    if rad.is_zero():
        return True
    scale = max(abs(b.mid()), arb(1))
    return bool(rad < scale * arb(2) ** (-(_flint_ctx.prec // 2)))


def _small(b, q) -> bool:
    """|b| well below |q| (so b + q sits near q and is worth anchoring)."""
    return 4 * abs(b) < abs(_fq(q))


_HALF_BALL = arb(fmpq(1, 2))


def _undecided_zero(x):
    if WORKING.settle or type(x) is not Irr:
        raise ZeroDivisionError("division by zero")
    raise Uncertain("a division by a value near 0")


Num = Union["QType", Irr]


def to_mpf(x):
    return x.v if type(x) is Irr else q_to_mpf(x)


def to_float(x) -> float:
    """float64 of either kind (correctly rounded for rationals); +-inf past
    float range, 0.0 below it."""
    if type(x) is Irr:
        try:
            return float(x.b.mid())
        except OverflowError:  # pragma: no cover - arb returns inf
            return float("inf") if x.b > 0 else float("-inf")
    return q_to_float(x)


def exact_text(x) -> str | None:
    """SymPy-readable exact text: the rational, or a short closed form, or None."""
    if type(x) is Irr:
        if x.form is None:
            return None
        return x.form()[0]
    return q_str(x)


def sign(x) -> int:
    if type(x) is Irr:
        return x._sign()
    return (x > 0) - (x < 0)


def irr(b, form=None) -> Irr:
    """Wrap an arb ball computed at the working precision."""
    return Irr(b, form)


def magnitude_bits(x) -> float:
    """log2 of |x|, roughly (-inf for 0): the size a magnitude limit looks at."""
    if type(x) is Sym:  # a formula's size is its true value's
        x = x.val
    if type(x) is Irr:
        if not x.b.is_finite():
            return math.inf
        man, e = x.b.mid().man_exp()
        man = int(man)
        return int(e) + man.bit_length() if man else -math.inf
    if not x:
        return -math.inf
    return int(x.numerator).bit_length() - int(x.denominator).bit_length()


def magnitude_ok(x, max_bits: int) -> bool:
    """True when an irrational value is not too *large* to keep computing
    with (|x| <= 2^max_bits; tiny values are always fine), or a rational's
    numerator and denominator together fit in max_bits."""
    if type(x) is Sym:  # a formula's size is its true value's
        x = x.val
    if type(x) is Irr:
        if not x.b.is_finite():
            return False
        return magnitude_bits(x) <= max_bits
    return bits(x) <= max_bits


_HALF_VALUE_BITS = limits.MAX_VALUE_BITS // 2


def guard(x, where) -> None:
    """The one size check every value that reaches an output passes: an
    irrational value at most 2^MAX_MAGNITUDE_BITS in magnitude (tiny values
    are fine), a rational at most MAX_VALUE_BITS bits (so its digits can
    always be written out).  ``where`` names the value (text, or a callable
    giving it, built only for the message)."""
    if type(x) is Sym:  # a formula's size is its true value's
        x = x.val
    if type(x) is Irr:
        b = x.b
        if b.is_finite():
            man, e = b.mid().man_exp()
            if not man or int(e) + int(man).bit_length() <= limits.MAX_MAGNITUDE_BITS:
                return
            if not WORKING.settle:
                # too large only if certainly so: a wide ball may hold moderate values
                low = b.abs_lower()
                lman, le = low.mid().man_exp() if low.is_finite() else (0, 0)
                if not int(lman) or int(le) + int(lman).bit_length() <= limits.MAX_MAGNITUDE_BITS:
                    raise Uncertain(f"{_name(where)}: a value not known to be large at this precision")
        elif not WORKING.settle:
            raise Uncertain(f"{_name(where)}: a value not finite at this precision")
        raise LimitError(
            f"{_name(where)}: a value passed 2^{limits.MAX_MAGNITUDE_BITS} in magnitude (too large); "
            "use smaller weights, inputs or learning rate, or fewer steps"
        )
    if BACKEND == "flint":
        if x.height_bits() <= _HALF_VALUE_BITS:
            return
    if bits(x) > limits.MAX_VALUE_BITS:
        raise LimitError(
            f"{_name(where)}: its exact value grew past {limits.MAX_VALUE_BITS} bits (about "
            f"{limits.MAX_VALUE_BITS * 3 // 10} digits, too large to write out); use fewer steps, "
            "shorter decimals or smaller values"
        )


def guard_all(values, where) -> None:
    """:func:`guard` on every value of an iterable (a matrix's entries);
    ``where(k)`` names the k-th (from 0) for a message."""
    half = _HALF_VALUE_BITS
    flint = BACKEND == "flint"
    for k, x in enumerate(values):
        if type(x) is Irr:
            guard(x, lambda k=k: where(k))
        elif not (flint and x.height_bits() <= half):
            guard(x, lambda k=k: where(k))


def _name(where) -> str:
    return where() if callable(where) else where


def accuracy_bits(x) -> float:
    """Correct bits of a value: inf for a rational; for an Irr the ball's
    relative accuracy (-inf when the ball holds 0)."""
    if type(x) is not Irr:
        return math.inf
    if 0 in x.b:
        return -math.inf
    return x.b.rel_accuracy_bits()


# ------------------------------------------------------- elementary functions
def _domain(what: str):
    from ..errors import SolveError

    return SolveError(what)



def exp(x):
    """e^x: exactly 1 at 0."""
    if type(x) is Sym:  # a formula of the student's values
        return x.call("exp", exp(x.val))
    if is_rational(x):
        if not x:
            return ONE
        return Irr(arb(_fq(x)).exp())
    return Irr(x.b.exp())


def log(x, what: Callable[[], str] = lambda: "log"):
    """ln x, exact where it can be (ln 1 = 0); for a value anchored at c,
    ln c + log1p(d / c), so no digit is lost near c."""
    if type(x) is Sym:  # a formula of the student's values
        return x.call("log", log(x.val, what))
    if is_rational(x):
        if x <= 0:
            raise _domain(f"{what()}: log of {'zero' if not x else 'a negative number'} ({q_str(x)})")
        if x == 1:
            return ZERO
        return Irr(arb(_fq(x)).log())
    s = x._sign()
    if s <= 0:
        raise _domain(f"{what()}: log of {'zero' if s == 0 else 'a negative number'}")
    if x.logb is not None:
        return Irr(x.logb)
    c = x.anchor
    if c is not None and c > 0:
        # ln(c + d) = ln c + log1p(d / c): nothing cancels near c
        rest = (x.off / _fq(c)).log1p()
        return Irr(rest if c == 1 else arb(_fq(c)).log() + rest)
    return Irr(x.b.log())


def log1p(x):
    """ln(1 + x) for x > -1, without cancellation for small x."""
    if type(x) is Sym:  # a formula of the student's values
        return x.call("log1p", log1p(x.val))
    b = ball(x)
    if is_rational(x) and not x:
        return ZERO
    return Irr(b.log1p())


def tanh(x):
    if type(x) is Sym:  # a formula of the student's values
        return x.call("tanh", tanh(x.val))
    if is_rational(x) and not x:
        return ZERO
    b = ball(x)
    # tanh z = 1 - 2/(1 + e^{2z}) = -1 + 2/(1 + e^{-2z}): anchored at +-1
    if b > 0:
        return Irr(b.tanh(), anchor=ONE, off=-2 / (1 + (2 * b).exp()))
    return Irr(b.tanh(), anchor=-ONE, off=2 / (1 + (-2 * b).exp()))


def sqrt(x, what: Callable[[], str] = lambda: "sqrt"):
    """Square root: exact for perfect squares of rationals."""
    if type(x) is Sym:  # a formula of the student's values
        return x.call("sqrt", sqrt(x.val, what))
    if is_rational(x):
        if x < 0:
            raise _domain(f"{what()}: square root of a negative number ({q_str(x)})")
        r = rational_root(x, 2)
        if r is not None:
            return r
        return Irr(arb(_fq(x)).sqrt())
    if x._sign() < 0:
        raise _domain(f"{what()}: square root of a negative number")
    return Irr(x.b.sqrt())


def rational_root(q, k: int):
    """The exact k-th root of a non-negative rational, or None."""
    n, d = numer(q), denom(q)
    if n < 0:
        return None
    rn, rd = _iroot(n, k), _iroot(d, k)
    if rn is None or rd is None:
        return None
    return Q(rn, rd)


def _iroot(n: int, k: int):
    """The exact integer k-th root of n >= 0, or None."""
    if n < 2:
        return n
    if k == 2:
        r = math.isqrt(n)
    else:  # Newton's method on integers, from above
        r = 1 << -(-n.bit_length() // k)
        while True:
            s = ((k - 1) * r + n // r ** (k - 1)) // k
            if s >= r:
                break
            r = s
    return r if r**k == n else None


def sigmoid(x):
    """1/(1 + e^-x); for x > 0 anchored at 1 with offset -sigma(-x)."""
    if type(x) is Sym:  # a formula of the student's values
        return x.call("sigmoid", sigmoid(x.val))
    if is_rational(x) and not x:
        return _HALF
    b = ball(x)
    if b > 0:
        e = (-b).exp()
        return Irr(1 / (1 + e), anchor=ONE, off=-e / (1 + e))  # 1 - sigma(-x)
    e = b.exp()
    return Irr(e / (1 + e), logb=b - e.log1p())  # ln sigma(x) = x - ln(1 + e^x)


def softplus(x):
    """ln(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, no lost digits."""
    if type(x) is Sym:  # a formula of the student's values
        return x.call("softplus", softplus(x.val))
    b = ball(x)
    if b > 0:
        return Irr(b + (-b).exp().log1p())
    return Irr(b.exp().log1p())


def sigmoid_derivative(x):
    """sigma'(x) = e^-|x| / (1 + e^-|x|)^2, without cancellation."""
    if type(x) is Sym:  # a formula of the student's values
        return x.call("sigmoid_derivative", sigmoid_derivative(x.val))
    if is_rational(x) and not x:
        return Q(1, 4)
    e = (-abs(ball(x))).exp()
    return Irr(e / (1 + e) ** 2)


def tanh_derivative(x):
    """1 - tanh^2 x = 4 e^-2|x| / (1 + e^-2|x|)^2, without cancellation."""
    if type(x) is Sym:  # a formula of the student's values
        return x.call("tanh_derivative", tanh_derivative(x.val))
    if is_rational(x) and not x:
        return ONE
    b = ball(x)
    e = (-2 * abs(b)).exp()
    return Irr(4 * e / (1 + e) ** 2)
