"""A number that is also its formula: how the follow-through of a replay is
written down for a platform that recomputes it (Numbas's adaptive marking).

A :class:`Sym` holds a small expression tree over named entries (the
student's own earlier values) and exact numbers, and beside it the exact
value the tree has at the true values.  Arithmetic with exact numbers and
other Syms builds the tree; the elementary functions of numbers.py build a
call when handed a Sym.  The value decides what the code must decide (a
relu's branch, a comparison): a formula takes the branches of the true
solution.  Anything else a Sym cannot do raises :class:`NotSymbolic`, and
the caller writes that quantity as its true value instead.

Trees are tuples, so they are data: ``("ref", name)``, ``("num", q)``,
``("add", a, b)``, ``("sub", a, b)``, ``("mul", a, b)``, ``("div", a, b)``,
``("neg", a)``, ``("pow", a, k)``, ``("call", function, a)``.
"""

from __future__ import annotations


class NotSymbolic(TypeError):
    """An operation the formula cannot follow."""


def _node(x):
    if type(x) is Sym:
        return x.node
    if isinstance(x, (str, bytes, list, tuple, dict)) or x is None:
        raise NotSymbolic(f"cannot write {type(x).__name__} in a formula")
    return ("num", x)  # an exact number (rational, or irrational: its value is written)


def _value(x):
    return x.val if type(x) is Sym else x



class Sym:
    __slots__ = ("node", "val")

    def __init__(self, node, val):
        self.node = node
        self.val = val

    @classmethod
    def ref(cls, name: str, val) -> Sym:
        return cls(("ref", name), val)

    # -- arithmetic ------------------------------------------------------
    def __add__(self, o):
        if not type(o) is Sym and not _value(o):
            return self
        return Sym(("add", self.node, _node(o)), self.val + _value(o))

    def __radd__(self, o):
        if not _value(o):
            return self
        return Sym(("add", _node(o), self.node), _value(o) + self.val)

    def __sub__(self, o):
        if not type(o) is Sym and not _value(o):
            return self
        return Sym(("sub", self.node, _node(o)), self.val - _value(o))

    def __rsub__(self, o):
        if not _value(o):
            return -self
        return Sym(("sub", _node(o), self.node), _value(o) - self.val)

    def __mul__(self, o):
        if type(o) is not Sym:
            if not o:
                return o * 0
            if o == 1:
                return self
        return Sym(("mul", self.node, _node(o)), self.val * _value(o))

    def __rmul__(self, o):
        if not o:
            return o * 0
        if o == 1:
            return self
        return Sym(("mul", _node(o), self.node), _value(o) * self.val)

    def __truediv__(self, o):
        if type(o) is not Sym and o == 1:
            return self
        return Sym(("div", self.node, _node(o)), self.val / _value(o))

    def __rtruediv__(self, o):
        return Sym(("div", _node(o), self.node), _value(o) / self.val)

    def __neg__(self):
        if self.node[0] == "neg":
            return Sym(self.node[1], -self.val)
        return Sym(("neg", self.node), -self.val)

    def __pos__(self):
        return self

    def __pow__(self, k):
        if not isinstance(k, int):
            raise NotSymbolic("a power that is not a whole number")
        if k == 1:
            return self
        return Sym(("pow", self.node, k), self.val**k)

    def __abs__(self):
        return self.call("abs", abs(self.val))

    def call(self, function: str, val) -> Sym:
        return Sym(("call", function, self.node), val)

    # -- decisions are the true solution's -------------------------------
    def __lt__(self, o):
        return self.val < _value(o)

    def __le__(self, o):
        return self.val <= _value(o)

    def __gt__(self, o):
        return self.val > _value(o)

    def __ge__(self, o):
        return self.val >= _value(o)

    def __eq__(self, o):
        return type(o) is Sym and o.node == self.node

    def __hash__(self):
        return hash(self.node)

    def __bool__(self):
        return bool(self.val)

    def __repr__(self):
        return f"Sym({self.node!r})"

    # anything the exact code asks of a number that a formula has not (an AttributeError, so that
    # getattr(x, name, default) and hasattr keep working)
    def __getattr__(self, name):
        raise AttributeError(f"a formula has no {name}")


def refs(node) -> list[str]:
    """The names a tree refers to, in order of first use."""
    out: list[str] = []

    def walk(n):
        if n[0] == "ref":
            if n[1] not in out:
                out.append(n[1])
        elif n[0] == "num":
            return
        elif n[0] == "call":
            walk(n[2])
        elif n[0] in ("neg", "pow"):
            walk(n[1])
        else:
            walk(n[1])
            walk(n[2])

    walk(node)
    return out
