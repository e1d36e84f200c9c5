"""The array namespaces every function's float form is written against.

An activation's ``np_value``/``np_deriv``, a loss's float form, an
optimizer's ``np_step`` and a custom function's array evaluation take an
``xp``: NumPy float64 (:class:`Float64`), or rigorous balls (python-flint
``arb``) in NumPy object arrays (:class:`BallArrays`), so the same array
code runs in either arithmetic.  The independent cross-checks of every kind
use them.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

from ..exact import Mat, to_float


class Float64:
    """NumPy float64 arrays."""

    name = "float64"
    dtype = float

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)
    tanh = staticmethod(np.tanh)
    sqrt = staticmethod(np.sqrt)
    abs = staticmethod(np.abs)
    sign = staticmethod(np.sign)
    where = staticmethod(np.where)
    choose = staticmethod(np.where)
    ones_like = staticmethod(np.ones_like)

    @staticmethod
    def gt(a, b):
        return a > b

    def const(self, q):
        return to_float(q)

    def power(self, a, p, r):
        return np.power(np.asarray(a, dtype=float), p if r == 1 else p / r)

    def logaddexp0(self, z):
        return np.logaddexp(0.0, z)

    def max0(self, z):
        return z.max(axis=0, keepdims=True)

    def top_mask(self, z):
        out = np.zeros(z.shape, dtype=bool)
        out[np.argmax(z, axis=0), np.arange(z.shape[1])] = True
        return out

    def array(self, M: Mat):
        return np.array([[to_float(x) for x in r] for r in M.rows], dtype=float).reshape(M.n, M.m)

    def scalar(self, q):
        return np.float64(to_float(q))

    @contextlib.contextmanager
    def quiet(self):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield


class BallArrays:
    """Rigorous balls (python-flint ``arb``, at the working precision) in
    NumPy object arrays: the same array code, with an error bound on every
    number it computes."""

    name = "balls"
    dtype = object

    def __init__(self):
        from flint import arb

        self.arb = arb
        u = lambda f: np.frompyfunc(f, 1, 1)  # noqa: E731
        self._exp = u(lambda x: x.exp())
        self._log = u(lambda x: x.log())
        self._log1p = u(lambda x: x.log1p())
        self._tanh = u(lambda x: x.tanh())
        self._sqrt = u(lambda x: x.sqrt())
        self._abs = u(abs)
        self._sign = u(lambda x: x.sgn())

    def _obj(self, f, a):
        return np.asarray(f(a), dtype=object)

    def exp(self, a):
        return self._obj(self._exp, a)

    def log(self, a):
        return self._obj(self._log, a)

    def log1p(self, a):
        return self._obj(self._log1p, a)

    def tanh(self, a):
        return self._obj(self._tanh, a)

    def sqrt(self, a):
        return self._obj(self._sqrt, a)

    def abs(self, a):
        return self._obj(self._abs, a)

    def sign(self, a):
        return self._obj(self._sign, a)

    def gt(self, a, b):
        """a > b entry by entry: True, False, or None where the balls overlap."""
        f = np.frompyfunc(lambda x, y: True if x > y else (False if x <= y else None), 2, 1)
        return np.asarray(f(a, b), dtype=object)

    def where(self, c, a, b):
        """A piecewise value: where the condition is undecided (None), the
        union of both branches, which encloses the value whichever holds."""
        c = np.asarray(c, dtype=object)
        a, b = np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
        out = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(a.shape):
            k = c[idx] if c.shape else c.item()
            out[idx] = a[idx] if k is True or k is np.True_ else b[idx] if k is False or k is np.False_ else a[idx].union(b[idx])
        return out

    def choose(self, c, a, b):
        """Two ways of writing the same number: the first where the
        condition certainly holds, else the second (valid everywhere)."""
        c = np.asarray(c, dtype=object)
        a, b = np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
        out = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(a.shape):
            k = c[idx] if c.shape else c.item()
            out[idx] = a[idx] if k is True or k is np.True_ else b[idx]
        return out

    def ones_like(self, a):
        out = np.empty(np.shape(a), dtype=object)
        out.fill(self.arb(1))
        return out

    def const(self, q):
        from flint import fmpq

        return self.arb(fmpq(int(q.numerator), int(q.denominator)))

    def power(self, a, p, r):
        from flint import fmpq

        e = self.arb(fmpq(p, r))
        f = np.frompyfunc(lambda x: x**p if r == 1 else x**e, 1, 1)
        return np.asarray(f(a), dtype=object)

    def logaddexp0(self, z):
        f = np.frompyfunc(lambda v: v + (-v).exp().log1p() if v > 0 else v.exp().log1p(), 1, 1)
        return np.asarray(f(z), dtype=object)

    def max0(self, z):
        # any shift is right for a softmax; the largest midpoint keeps it tame
        return np.array([[max(z[:, j], key=lambda b: b.mid())] for j in range(z.shape[1])], dtype=object).T

    def top_mask(self, z):
        out = np.zeros(z.shape, dtype=bool)
        for j in range(z.shape[1]):
            out[max(range(z.shape[0]), key=lambda i: z[i, j].mid()), j] = True
        return out

    def array(self, M: Mat):
        out = np.empty((M.n, M.m), dtype=object)
        for i, r in enumerate(M.rows):
            for j, x in enumerate(r):
                out[i, j] = self.const(x)
        return out

    def scalar(self, q):
        return self.const(q)

    @contextlib.contextmanager
    def quiet(self):
        yield



#: the float64 namespace
FLOAT64 = Float64()
