"""The rules a written value is judged by: how close is close enough.

The default allows half a unit of the entry's own last written place
(counting at least 2 places); --atol/--rtol and --sig-figs replace it.  A
rule answers ``accepts(given, value)`` for a value that is a rational or a
ball (python-flint arb): a ball is accepted when some value in it is.
"""

from __future__ import annotations

from flint import arb

from .. import exact
from ..exact import MP, Q, is_rational, q_str, round_half_away, to_mpf
from ..answers import Given
from ..lang import Text


def half_unit(g: Given):
    """Half a unit of the last place the entry is read to, counting at
    least 2 places; 0 for a fraction (exact)."""
    if g.fraction:
        return exact.ZERO
    places = max(2, g.reading if g.reading >= 0 else g.places)
    return Q(1, 2 * 10**places)


def _distance(q, v):
    """A lower bound of |q - v| (v a rational or a ball), as an arb."""
    if is_rational(v):
        return arb(exact._fq(abs(q - v)))
    return (v.b - exact.ball(q)).abs_lower()


def _magnitude(v):
    if is_rational(v):
        return arb(exact._fq(abs(v)))
    return abs(v.b).abs_upper() if v.b.is_finite() else arb(0)


class DefaultRule:
    key = "default"

    def describe(self) -> str:
        return Text("rule.default")

    def tolerance(self, g: Given, v):
        # no written decimal is held to more than 15 significant digits, so
        # a float64 printed in full (0.46211715726000974) counts as written
        return max(arb(exact._fq(half_unit(g))), _magnitude(v) * arb(exact._fq(Q(1, 10**15)))) if not g.fraction else arb(0)

    def accepts(self, g: Given, v) -> bool:
        if v is None:
            return False
        if is_rational(v) and not g.fraction:
            # an exact value half a unit away rounds to one side only
            d, h = abs(g.q - v), half_unit(g)
            if d == h:
                return round_half_away(v, max(2, g.reading if g.reading >= 0 else g.places)) == g.q
        return bool(_distance(g.q, v) <= self.tolerance(g, v))

    def matches(self, g: Given, v) -> bool:
        return self.accepts(g, v)


class ToleranceRule(DefaultRule):
    key = "tolerance"

    def __init__(self, rtol, atol):
        self.rtol, self.atol = rtol, atol

    def accepts(self, g: Given, v) -> bool:
        return v is not None and bool(_distance(g.q, v) <= self.tolerance(g, v))

    def describe(self) -> str:
        return Text("rule.tolerance", atol=_qs(self.atol), rtol=_qs(self.rtol))

    def tolerance(self, g: Given, v):
        return arb(exact._fq(self.atol)) + arb(exact._fq(self.rtol)) * _magnitude(v)


class SigFigsRule(DefaultRule):
    key = "sig_figs"

    def __init__(self, n: int):
        self.n = n

    def accepts(self, g: Given, v) -> bool:
        return v is not None and bool(_distance(g.q, v) <= self.tolerance(g, v))

    def describe(self) -> str:
        return Text("rule.sig_figs", n=self.n)

    def tolerance(self, g: Given, v):
        val = to_mpf(v)
        if not val:
            return arb(exact._fq(Q(1, 2 * 10**self.n)))
        e = int(MP.floor(MP.log10(abs(val))))
        half = Q(10 ** (e - self.n + 1), 2) if e - self.n + 1 >= 0 else Q(1, 2 * 10 ** (self.n - 1 - e))
        return arb(exact._fq(half))


def _qs(q) -> str:
    return q_str(q)


