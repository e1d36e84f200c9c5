"""The safe parser for custom activation expressions such as ``x**3/3 - x``.

User text is data, never code: the text is checked character by character,
parsed with :func:`ast.parse` (which runs nothing), and every node is checked
against a whitelist -- numbers, ``x``, ``+ - * / **``, parentheses and the
functions ``exp``, ``log``, ``sqrt`` and ``tanh`` -- before the SymPy
expression is built by hand, node by node.  No ``eval``, no ``sympify`` of
the raw string.  Exponents must be plain numbers and are bounded, so
``x**(10**10)`` is refused at once.

The module also evaluates a built expression (its value or its derivative)
without ``lambdify``: :func:`eval_mp` walks the SymPy tree with mpmath, and
:func:`eval_np` with NumPy for the float cross-check.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from . import limits
from .errors import InputError, LimitError, SolveError
from .tomlio import _decimal_exact

FUNCTIONS = ("exp", "log", "sqrt", "tanh")
_ALLOWED_CHARS = re.compile(r"[0-9A-Za-z_ .+\-*/()\t]")


class ExprError(InputError):
    """A custom activation expression that is not allowed."""


@dataclass(frozen=True)
class Expression:
    """A parsed custom activation: the text as written and SymPy trees for
    g(x) and g'(x)."""

    text: str
    expr: Any  # sympy.Expr in the symbol x
    deriv: Any  # sympy.Expr

    def latex(self, arg: str = "z") -> str:
        import sympy

        return sympy.latex(self.expr.xreplace({X(): sympy.Symbol(arg)}))

    def deriv_latex(self, arg: str = "z") -> str:
        import sympy

        return sympy.latex(self.deriv.xreplace({X(): sympy.Symbol(arg)}))


_X = None


def X():
    """The SymPy symbol x (real)."""
    global _X
    if _X is None:
        import sympy

        _X = sympy.Symbol("x", real=True)
    return _X


def parse_expression(text: str, where: str) -> Expression:
    """Parse ``text`` into an :class:`Expression`, or raise :class:`ExprError`
    naming the offending part."""
    if len(text) > limits.MAX_EXPR_CHARS:
        raise LimitError(
            f"expression is {len(text)} characters long, the limit is {limits.MAX_EXPR_CHARS}", key=where
        )
    if not text.strip():
        raise ExprError("empty expression (write a name such as 'sigmoid' or an expression in x)", key=where)
    for ch in text:
        if not _ALLOWED_CHARS.fullmatch(ch):
            hint = " (use ** for powers)" if ch == "^" else ""
            if ch == ",":
                hint = " (each function takes one argument)"
            raise ExprError(
                f"expression {text!r}: character {ch!r} is not allowed{hint}; "
                "use numbers, x, + - * / **, parentheses and exp, log, sqrt, tanh",
                key=where,
            )
    src = text.strip()
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise ExprError(f"expression {text!r} is not a valid formula{col}", key=where) from None
    except (ValueError, MemoryError, RecursionError):
        raise ExprError(f"expression {text!r} is not a valid formula", key=where) from None
    builder = _Builder(src, where)
    try:
        expr = builder.build(tree.body)
    except RecursionError:
        raise LimitError("expression is nested too deeply", key=where) from None
    import sympy

    bad = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
    if any(expr.has(b) for b in bad):
        raise ExprError(f"expression {text!r} divides by zero", key=where)
    if expr.has(sympy.I):
        raise ExprError(f"expression {text!r} is not a real number", key=where)
    deriv = sympy.diff(expr, X())
    return Expression(text=text, expr=expr, deriv=deriv)


class _Builder:
    def __init__(self, src: str, where: str):
        self.src = src
        self.where = where
        self.nodes = 0

    def fail(self, node: ast.AST, what: str) -> ExprError:
        seg = ast.get_source_segment(self.src, node) or type(node).__name__
        return ExprError(f"expression {self.src!r}: {what}: {seg!r}", key=self.where)

    def count(self):
        self.nodes += 1
        if self.nodes > limits.MAX_EXPR_NODES:
            raise LimitError(
                f"expression has more than {limits.MAX_EXPR_NODES} parts; write a shorter formula",
                key=self.where,
            )

    def build(self, node: ast.AST, degree: int = 1):
        import sympy

        self.count()
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return self.power(node, degree)
            ops = {ast.Add: sympy.Add, ast.Sub: None, ast.Mult: sympy.Mul, ast.Div: None}
            if type(node.op) not in ops:
                raise self.fail(node, "only + - * / ** are allowed")
            left = self.build(node.left, degree)
            right = self.build(node.right, degree)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if right == 0:
                raise self.fail(node, "division by zero")
            return left / right
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.build(node.operand, degree)
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, degree)
            raise self.fail(node, "only + and - may stand before a term")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or node.value is None:
                raise self.fail(node, "unknown name (the variable is x; the functions are exp, log, sqrt, tanh)")
            if type(node.value) not in (int, float):
                raise self.fail(node, "only plain numbers are allowed")
            seg = ast.get_source_segment(self.src, node) or ""
            q = _decimal_exact(seg, self.where, repr(seg))
            return sympy.Rational(int(q.numerator), int(q.denominator))
        if isinstance(node, ast.Name):
            if node.id == "x":
                return X()
            if node.id in FUNCTIONS:
                raise self.fail(node, f"{node.id} is a function; write {node.id}(...)")
            raise self.fail(node, "unknown name (the variable is x; the functions are exp, log, sqrt, tanh)")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise self.fail(node, "only the functions exp, log, sqrt, tanh may be called")
            if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
                raise self.fail(node, f"{node.func.id} takes exactly one argument")
            arg = self.build(node.args[0], degree)
            fn = {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "tanh": sympy.tanh}[node.func.id]
            return fn(arg)
        raise self.fail(node, "not allowed in an activation formula")

    def power(self, node: ast.BinOp, degree: int):
        import sympy

        exponent = self.constant(node.right)
        p, q = exponent.p, exponent.q
        if abs(p) > limits.MAX_EXPR_EXPONENT or q > limits.MAX_EXPR_EXPONENT:
            raise LimitError(
                f"exponent {exponent} is too large (numerator and denominator at most "
                f"{limits.MAX_EXPR_EXPONENT})",
                key=self.where,
            )
        new_degree = degree * max(1, abs(p))
        if new_degree > limits.MAX_EXPR_DEGREE:
            raise LimitError(
                f"nested powers reach degree {new_degree}, the limit is {limits.MAX_EXPR_DEGREE}",
                key=self.where,
            )
        base = self.build(node.left, new_degree)
        if base == 0 and exponent < 0:
            raise self.fail(node, "division by zero")
        return sympy.Pow(base, exponent)

    def constant(self, node: ast.AST):
        """An exponent: a number built from literals with + - * / only."""
        import sympy

        if not _is_constant(node):
            raise self.fail(node, "an exponent must be a plain number (x**x is not supported; write exp(x*log(x)))")
        value = self.build(node)
        if not isinstance(value, sympy.Rational):
            raise self.fail(node, "an exponent must be a rational number")
        return value


def _is_constant(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand)
    if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Pow):
        return _is_constant(node.left) and _is_constant(node.right)
    return False


# ------------------------------------------------------------- evaluation
def exact_at(expr, q, what: str):
    """Evaluate the SymPy expression at the rational ``q``.  Returns a
    rational (exact.Q) when the value is rational, otherwise an Irr carrying
    the closed form.  ``what`` names the place for error messages."""
    import sympy

    from .exact import Q, irr

    s = expr.xreplace({X(): sympy.Rational(int(q.numerator), int(q.denominator))})
    if s.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise SolveError(f"{what}: division by zero")
    if s.is_Rational:
        return Q(int(s.p), int(s.q))
    if s.has(sympy.I) or s.is_real is False:
        raise SolveError(f"{what}: not a real number (log or root of a negative number)")
    v = eval_mp(expr, _to_mp(q), what)
    text = sympy.sstr(s)
    if len(text) <= 80:
        return irr(v, _Form(s))
    return irr(v)


class _Form:
    """Lazy closed form of a SymPy value: (text, latex)."""

    __slots__ = ("s",)

    def __init__(self, s):
        self.s = s

    def __call__(self):
        import sympy

        return sympy.sstr(self.s), sympy.latex(self.s)


def _to_mp(q):
    from .exact import q_to_mpf

    return q_to_mpf(q)


def eval_mp(expr, v, what: str):
    """Evaluate at the mpmath value ``v`` (in exact.MP) by walking the tree."""
    from .exact import MP

    return _walk(expr, v, _MPOps(MP, what))


def eval_np(expr, arr):
    """Evaluate at a NumPy float array (for the cross-check); inf/nan where
    float64 cannot hold the value."""
    import numpy as np

    with np.errstate(all="ignore"):
        out = _walk(expr, arr, _NPOps(np))
    return np.broadcast_to(np.asarray(out, dtype=float), np.shape(arr)).copy()


class _MPOps:
    def __init__(self, mp, what):
        self.mp = mp
        self.what = what

    def num(self, r):
        return self.mp.mpf(int(r.p)) / int(r.q)

    def const(self, c):
        return self.mp.mpf(c.evalf(self.mp.dps + 5))

    def exp(self, a):
        # e^a past 2^MAX_MAGNITUDE_BITS is refused before it is computed:
        # exp(exp(exp(x))) must not build a number with billions of digits
        if a > limits.MAX_MAGNITUDE_BITS * 0.6931471805599453:
            raise LimitError(f"{self.what}: exp of a number larger than {int(limits.MAX_MAGNITUDE_BITS * 0.693)}")
        return self.mp.exp(a)

    def tanh(self, a):
        return self.mp.tanh(a)

    def log(self, a):
        if a == 0:
            raise SolveError(f"{self.what}: log of zero")
        if a < 0:
            raise SolveError(f"{self.what}: log of a negative number")
        return self.mp.log(a)

    def pow(self, a, r):
        if r.q == 1:
            if a == 0 and r.p < 0:
                raise SolveError(f"{self.what}: division by zero")
            return a ** int(r.p)
        if a < 0:
            raise SolveError(f"{self.what}: fractional power of a negative number")
        if a == 0:
            if r.p < 0:
                raise SolveError(f"{self.what}: division by zero")
            return self.mp.mpf(0)
        return self.mp.power(a, self.mp.mpf(int(r.p)) / int(r.q))

    def check(self, v):
        if v and abs(self.mp.mag(v)) > 4 * limits.MAX_MAGNITUDE_BITS:
            raise LimitError(f"{self.what}: a value passed 2^{4 * limits.MAX_MAGNITUDE_BITS} in magnitude")
        return v


class _NPOps:
    def __init__(self, np):
        self.np = np

    def num(self, r):
        return int(r.p) / int(r.q)

    def const(self, c):
        return float(c)

    def exp(self, a):
        return self.np.exp(a)

    def tanh(self, a):
        return self.np.tanh(a)

    def log(self, a):
        return self.np.log(a)

    def pow(self, a, r):
        if r.q == 1:
            return self.np.power(self.np.asarray(a, dtype=float), int(r.p))
        return self.np.power(self.np.asarray(a, dtype=float), int(r.p) / int(r.q))


def _walk(e, v, ops):
    import sympy

    if e.is_Symbol:
        return v
    if e.is_Rational:
        return ops.num(e)
    if e.is_Number or e.is_NumberSymbol:
        return ops.const(e)
    if e.is_Add:
        total = None
        for a in e.args:
            t = _walk(a, v, ops)
            total = t if total is None else total + t
        return total
    if e.is_Mul:
        total = None
        for a in e.args:
            t = _walk(a, v, ops)
            total = t if total is None else total * t
        return ops.check(total) if hasattr(ops, "check") else total
    if e.is_Pow:
        base, ex = e.args
        if ex.is_Rational:
            out = ops.pow(_walk(base, v, ops), ex)
            return ops.check(out) if hasattr(ops, "check") else out
        raise TypeError(f"unsupported power {e}")  # excluded by the parser
    if isinstance(e, sympy.exp):
        return ops.exp(_walk(e.args[0], v, ops))
    if isinstance(e, sympy.log):
        return ops.log(_walk(e.args[0], v, ops))
    if isinstance(e, sympy.tanh):
        return ops.tanh(_walk(e.args[0], v, ops))
    raise TypeError(f"unsupported node {type(e).__name__}")  # pragma: no cover
