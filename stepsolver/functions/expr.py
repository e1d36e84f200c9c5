"""The safe parser for custom activation expressions such as ``x**3/3 - x``,
and the one evaluator of their values and derivatives.

User text is data, never code: the text is checked character by character,
parsed with :func:`ast.parse` (which runs nothing), and every node is checked
against a whitelist -- numbers, ``x``, ``+ - * / **``, parentheses and the
functions ``exp``, ``log``, ``sqrt`` and ``tanh`` -- and turned into a small
tree of our own (:class:`Num`, :class:`Var`, :class:`Add`, :class:`Mul`,
:class:`Pow`, :class:`Call`).  No ``eval``, no ``sympify`` of the raw string.
Exponents must be plain numbers and are bounded, so ``x**(10**10)`` is
refused at once.

Values are computed from the tree *as written*, so every function sees its
own argument: ``exp(log(x))`` at x = -1 is a log of a negative number, not
-1.  SymPy is used only for what it is good at -- the derivative, LaTeX and
short closed forms -- and its derivative is turned back into our tree; the
only heads it can produce from this grammar besides the operators are
``Abs`` and ``sign`` (``sqrt(x**2)`` is ``Abs(x)``), which the tree has, and
anything else is refused when the expression is read, never while solving.

One walker evaluates a tree with an ``ops`` object: exact values (rationals
stay rational, irrational values are certified balls, with every domain
error named), or arrays for the cross-check (``numeric.py``).

Size: about 550 lines, kept together on purpose: the whitelist, the tree and
the one walker over it are what make "what is parsed is what is evaluated"
true.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from .. import exact, limits
from ..errors import InputError, LimitError, SolveError
from ..exact import Q, is_rational, q_str
from ..tomlio import _decimal_exact

FUNCTIONS = ("exp", "log", "sqrt", "tanh")
_ALLOWED_CHARS = re.compile(r"[0-9A-Za-z_ .+\-*/()\t]")


class ExprError(InputError):
    """A custom activation expression that is not allowed."""


# ------------------------------------------------------------------ the tree
@dataclass(frozen=True)
class Num:
    q: Any  # exact rational


@dataclass(frozen=True)
class Var:
    name: str = "x"


@dataclass(frozen=True)
class Add:
    terms: tuple


@dataclass(frozen=True)
class Mul:
    factors: tuple


@dataclass(frozen=True)
class Div:
    num: Any
    den: Any


@dataclass(frozen=True)
class Pow:
    base: Any
    p: int  # exponent p/r, r > 0, in lowest terms
    r: int = 1


@dataclass(frozen=True)
class Call:
    fn: str  # exp | log | sqrt | tanh | abs | sign
    arg: Any


@dataclass(frozen=True)
class Expression:
    """A parsed custom activation: the text as written, its tree, the SymPy
    trees of g(x) and g'(x) (for LaTeX and closed forms) and our tree of g'."""

    text: str
    tree: Any
    expr: Any  # sympy.Expr in the symbol x
    deriv: Any  # sympy.Expr
    dtree: Any

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
        parsed = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise ExprError(f"expression {text!r} is not a valid formula{col}", key=where) from None
    except (ValueError, MemoryError, RecursionError):
        raise ExprError(f"expression {text!r} is not a valid formula", key=where) from None
    builder = _Builder(src, where)
    try:
        tree = builder.build(parsed.body)
    except RecursionError:
        raise LimitError("expression is nested too deeply", key=where) from None
    import sympy

    expr = to_sympy(tree)
    bad = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
    if any(expr.has(b) for b in bad):
        raise ExprError(f"expression {text!r}: division by zero", key=where)
    if expr.has(sympy.I):
        raise ExprError(f"expression {text!r} is not a real number", key=where)
    deriv = sympy.diff(expr, X())
    if any(deriv.has(b) for b in bad) or deriv.has(sympy.I):
        raise ExprError(f"expression {text!r}: its derivative is not a real function", key=where)
    try:
        dtree = from_sympy(deriv)
    except ValueError as exc:
        raise ExprError(f"expression {text!r}: its derivative uses {exc}, which stepsolver cannot evaluate", key=where) from None
    return Expression(text=text, tree=tree, expr=expr, deriv=deriv, dtree=dtree)


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
        self.count()
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return self.power(node, degree)
            if type(node.op) not in (ast.Add, ast.Sub, ast.Mult, ast.Div):
                raise self.fail(node, "only + - * / ** are allowed")
            left = self.build(node.left, degree)
            right = self.build(node.right, degree)
            if isinstance(node.op, ast.Add):
                return Add((left, right))
            if isinstance(node.op, ast.Sub):
                return Add((left, _neg(right)))
            if isinstance(node.op, ast.Mult):
                return Mul((left, right))
            if isinstance(right, Num) and not right.q:
                raise self.fail(node, "division by zero")
            return Div(left, right)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return _neg(self.build(node.operand, degree))
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, degree)
            raise self.fail(node, "only + and - may stand before a term")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or node.value is None:
                raise self.fail(node, "unknown name (the variable is x; the functions are exp, log, sqrt, tanh)")
            if type(node.value) not in (int, float):
                raise self.fail(node, "only plain numbers are allowed")
            seg = ast.get_source_segment(self.src, node) or ""
            return Num(_decimal_exact(seg, self.where, repr(seg)))
        if isinstance(node, ast.Name):
            if node.id == "x":
                return Var("x")
            if node.id in FUNCTIONS:
                raise self.fail(node, f"{node.id} is a function; write {node.id}(...)")
            raise self.fail(node, "unknown name (the variable is x; the functions are exp, log, sqrt, tanh)")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise self.fail(node, "only the functions exp, log, sqrt, tanh may be called")
            if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
                raise self.fail(node, f"{node.func.id} takes exactly one argument")
            return Call(node.func.id, self.build(node.args[0], degree))
        raise self.fail(node, "not allowed in an activation formula")

    def power(self, node: ast.BinOp, degree: int):
        exponent = self.constant(node.right)
        p, r = int(exponent.numerator), int(exponent.denominator)
        if abs(p) > limits.MAX_EXPR_EXPONENT or r > limits.MAX_EXPR_EXPONENT:
            raise LimitError(
                f"exponent {_qtext(exponent)} is too large (numerator and denominator at most "
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
        if isinstance(base, Num) and not base.q and p < 0:
            raise self.fail(node, "division by zero")
        return Pow(base, p, r)

    def constant(self, node: ast.AST):
        """An exponent: a number built from literals with + - * / only."""
        if not _is_constant(node):
            raise self.fail(node, "an exponent must be a plain number (x**x is not supported; write exp(x*log(x)))")
        value = evaluate(self.build(node), None, EXACT_OPS_NO_CHECK)
        if not is_rational(value):
            raise self.fail(node, "an exponent must be a rational number")
        return value


def _neg(node):
    if isinstance(node, Num):
        return Num(-node.q)
    return Mul((Num(Q(-1)), node))


def _qtext(q) -> str:
    return q_str(q)


def _is_constant(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand)
    if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Pow):
        return _is_constant(node.left) and _is_constant(node.right)
    return False


# ------------------------------------------------------------ SymPy bridge
def to_sympy(node):
    import sympy

    if isinstance(node, Num):
        return sympy.Rational(int(node.q.numerator), int(node.q.denominator))
    if isinstance(node, Var):
        return X()
    if isinstance(node, Add):
        return sympy.Add(*[to_sympy(t) for t in node.terms])
    if isinstance(node, Mul):
        return sympy.Mul(*[to_sympy(t) for t in node.factors])
    if isinstance(node, Div):
        return to_sympy(node.num) / to_sympy(node.den)
    if isinstance(node, Pow):
        return sympy.Pow(to_sympy(node.base), sympy.Rational(node.p, node.r))
    if isinstance(node, Call):
        fn = {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "tanh": sympy.tanh,
              "abs": sympy.Abs, "sign": sympy.sign}[node.fn]
        return fn(to_sympy(node.arg))
    raise TypeError(type(node).__name__)  # pragma: no cover


def from_sympy(e):
    """Our tree of a SymPy expression built from this grammar; ValueError
    naming any head the tree does not have."""
    import sympy

    if e.is_Symbol:
        return Var("x")
    if e.is_Rational:
        return Num(Q(int(e.p), int(e.q)))
    if e is sympy.E:
        return Call("exp", Num(Q(1)))
    if e.is_Add:
        return Add(tuple(from_sympy(a) for a in e.args))
    if e.is_Mul:
        return Mul(tuple(from_sympy(a) for a in e.args))
    if e.is_Pow:
        base, ex = e.args
        if not ex.is_Rational:
            raise ValueError(f"a power with exponent {ex}")
        return Pow(from_sympy(base), int(ex.p), int(ex.q))
    for head, name in ((sympy.exp, "exp"), (sympy.log, "log"), (sympy.tanh, "tanh"),
                       (sympy.Abs, "abs"), (sympy.sign, "sign")):
        if isinstance(e, head):
            return Call(name, from_sympy(e.args[0]))
    raise ValueError(type(e).__name__)


def heads(node) -> set:
    """The node kinds and function names a tree uses (for tests)."""
    out = {type(node).__name__}
    if isinstance(node, Call):
        out.add(node.fn)
        out |= heads(node.arg)
    elif isinstance(node, (Add, Mul)):
        for t in node.terms if isinstance(node, Add) else node.factors:
            out |= heads(t)
    elif isinstance(node, Div):
        out |= heads(node.num) | heads(node.den)
    elif isinstance(node, Pow):
        out |= heads(node.base)
    return out


# ------------------------------------------------------------- evaluation
def evaluate(node, x, ops):
    """The value of a tree at x, with the operations of ``ops``."""
    if isinstance(node, Var):
        return x
    if isinstance(node, Num):
        return ops.num(node.q, x)
    if isinstance(node, Add):
        total = None
        for t in node.terms:
            v = evaluate(t, x, ops)
            total = v if total is None else ops.add(total, v)
        return total
    if isinstance(node, Mul):
        total = None
        for t in node.factors:
            v = evaluate(t, x, ops)
            total = v if total is None else ops.check(ops.mul(total, v))
        return total
    if isinstance(node, Div):
        return ops.check(ops.div(evaluate(node.num, x, ops), evaluate(node.den, x, ops)))
    if isinstance(node, Pow):
        return ops.check(ops.pow(evaluate(node.base, x, ops), node.p, node.r))
    if isinstance(node, Call):
        return getattr(ops, "f_" + node.fn)(evaluate(node.arg, x, ops))
    raise TypeError(type(node).__name__)  # pragma: no cover


class ExactOps:
    """Exact evaluation: rationals stay rational where the mathematics
    allows (integer powers, roots of perfect powers, exp(0), log(1)), other
    values are certified balls; a value outside a function's domain is a
    SolveError naming ``what``."""

    def __init__(self, what="expression", guard: bool = True):
        self._what = what  # text, or a callable giving it (built only for a message)
        self.guard = guard

    @property
    def what(self) -> str:
        return self._what() if callable(self._what) else self._what

    def num(self, q, x):
        return q

    def add(self, a, b):
        return a + b

    def mul(self, a, b):
        return a * b

    def div(self, a, b):
        try:
            return a / b
        except ZeroDivisionError:
            raise SolveError(f"{self.what}: division by zero") from None

    def pow(self, a, p: int, r: int):
        if r == 1:
            if p < 0:
                return self.div(exact.ONE, a ** (-p) if exact.is_rational(a) else int_power(a, -p))
            return a**p if exact.is_rational(a) else int_power(a, p)
        if exact.sign(a) < 0:
            raise SolveError(f"{self.what}: fractional power of a negative number")
        if not a:
            if p < 0:
                raise SolveError(f"{self.what}: division by zero")
            return exact.ZERO
        if exact.is_rational(a):
            root = exact.rational_root(a, r)
            if root is not None:
                return self.pow(root, p, 1)
        from flint import arb, fmpq

        return exact.Irr(exact.ball(a) ** arb(fmpq(p, r)))

    def check(self, v):
        if not self.guard:
            return v
        if type(v) is exact.Irr and not v.b.is_finite() and not exact.WORKING.settle:
            raise exact.Uncertain(f"{self.what}: a value not finite at this precision")
        if exact.is_rational(v):
            if exact.bits(v) > 4 * limits.MAX_VALUE_BITS:
                raise LimitError(f"{self.what}: an exact value grew past {4 * limits.MAX_VALUE_BITS} bits")
        elif exact.magnitude_bits(v) > 4 * limits.MAX_MAGNITUDE_BITS:
            raise LimitError(f"{self.what}: a value passed 2^{4 * limits.MAX_MAGNITUDE_BITS} in magnitude (too large)")
        return v

    def f_exp(self, a):
        # e^a past 2^MAX_MAGNITUDE_BITS is refused before it is computed:
        # exp(exp(exp(x))) must not build a number with billions of digits
        if self.guard and exact.magnitude_bits(a) > 10 and a > _EXP_LIMIT:
            raise LimitError(f"{self.what}: exp of a number larger than {int(limits.MAX_MAGNITUDE_BITS * 0.693)} (too large)")
        return exact.exp(a)

    def f_log(self, a):
        return exact.log(a, lambda: self.what)

    def f_sqrt(self, a):
        return exact.sqrt(a, lambda: self.what)

    def f_tanh(self, a):
        return exact.tanh(a)

    def f_abs(self, a):
        return abs(a)

    def f_sign(self, a):
        return exact.Q(exact.sign(a))


def int_power(a, k: int):
    """a**k for an Irr by repeated squaring of values (anchors kept)."""
    result, base = None, a
    while k:
        if k & 1:
            result = base if result is None else result * base
        k >>= 1
        if k:
            base = base * base
    return exact.ONE if result is None else result


EXACT_OPS_NO_CHECK = ExactOps("exponent", guard=False)


def _exp_limit():
    return Q(int(limits.MAX_MAGNITUDE_BITS * 693147), 1_000_000)  # MAX_MAGNITUDE_BITS * ln 2


_EXP_LIMIT = _exp_limit()


def exact_value(tree, z, what):
    """A tree's exact value at the exact z (rational or Irr)."""
    return evaluate(tree, z, ExactOps(what))


class _SympyForm:
    """Lazy closed form of a SymPy expression at a rational: (text, latex)."""

    __slots__ = ("expr", "q")

    def __init__(self, expr, q):
        self.expr, self.q = expr, q

    def __call__(self):
        import sympy

        s = self.expr.xreplace({X(): sympy.Rational(int(self.q.numerator), int(self.q.denominator))})
        return sympy.sstr(s), sympy.latex(s)


def closed_form(expr, q):
    return _SympyForm(expr, q)


class ArrayOps:
    """Evaluation on arrays for the cross-check, with the namespace ``xp``
    (NumPy float64, or mpmath numbers in object arrays)."""

    def __init__(self, xp):
        self.xp = xp

    def num(self, q, x):
        return self.xp.const(q) * self.xp.ones_like(x)

    def add(self, a, b):
        return a + b

    def mul(self, a, b):
        return a * b

    def div(self, a, b):
        return a / b

    def pow(self, a, p, r):
        return self.xp.power(a, p, r)

    def check(self, v):
        return v

    def f_exp(self, a):
        return self.xp.exp(a)

    def f_log(self, a):
        return self.xp.log(a)

    def f_sqrt(self, a):
        return self.xp.sqrt(a)

    def f_tanh(self, a):
        return self.xp.tanh(a)

    def f_abs(self, a):
        return self.xp.abs(a)

    def f_sign(self, a):
        return self.xp.sign(a)


def eval_array(tree, arr, xp):
    """A tree on an array (cross-check); inf/nan where float64 cannot hold it."""
    with xp.quiet():
        return evaluate(tree, arr, ArrayOps(xp))
