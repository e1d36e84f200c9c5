"""Node expressions of a computation graph: the whitelist parser, shapes,
exact values, and the local derivatives (vector-Jacobian products).

User text is data, never code.  The text is checked character by character,
parsed with :func:`ast.parse` (which runs nothing) and every node checked
against the whitelist -- names, numbers, ``+ - * / **``, unary minus,
parentheses, ``@``, and the functions ``T``, ``sum``, ``exp``, ``log``,
``sqrt``, ``tanh``, ``sigmoid``, ``relu``, ``abs``, ``max``, ``min`` -- into
a small tree of our own.  Numbers keep the digits written (0.1 is 1/10).

Values are matrices (a scalar is 1 x 1); ``+ - * /`` and the functions are
elementwise with scalar broadcasting, ``@`` the matrix product.  Kinks:
relu'(0) = 0, abs'(0) = 0, a max/min tie sends the gradient to the first
argument.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ... import exact
from ... import limits
from ...errors import InputError, LimitError, SolveError
from ...exact import ONE, ZERO, Mat, Q
from ...functions.expr import int_power
from ...tomlio import parse_number

FUNCTIONS = {"exp": 1, "log": 1, "sqrt": 1, "tanh": 1, "sigmoid": 1, "relu": 1, "abs": 1, "max": 2, "min": 2,
             "T": 1, "sum": 1}
ELEMENTWISE = ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs")
_ALLOWED = re.compile(r"[0-9A-Za-z_ .+\-*/()@,\t]*")
MAX_LENGTH = 2000
MAX_NODES = 400


# ------------------------------------------------------------------ tree
@dataclass(frozen=True)
class Num:
    q: object
    text: str


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Bin:
    op: str  # + - * / ** @
    a: object
    b: object


@dataclass(frozen=True)
class Neg:
    a: object


@dataclass(frozen=True)
class Fn:
    name: str
    args: tuple


def names(tree) -> list[str]:
    """The names a tree reads, in order of first use."""
    out: list[str] = []

    def walk(t):
        if isinstance(t, Ref):
            if t.name not in out:
                out.append(t.name)
        elif isinstance(t, Bin):
            walk(t.a)
            walk(t.b)
        elif isinstance(t, Neg):
            walk(t.a)
        elif isinstance(t, Fn):
            for a in t.args:
                walk(a)

    walk(tree)
    return out


# ------------------------------------------------------------------ parsing
def parse(text, key: str):
    """The tree of a node's expression (InputError naming the key)."""
    if not isinstance(text, str):
        raise InputError("an expression must be a string, such as \"w * x + b\"", key=key)
    if len(text) > MAX_LENGTH:
        raise InputError(f"the expression is longer than {MAX_LENGTH} characters", key=key)
    bad = [c for c in text if not _ALLOWED.fullmatch(c)]
    if bad:
        raise InputError(f"character {bad[0]!r} is not allowed in an expression", key=key)
    if not text.strip():
        raise InputError("the expression is empty", key=key)
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise InputError(f"cannot read the expression {text.strip()!r}", key=key) from None
    b = _Builder(text.strip(), key)
    tree = b.build(node)
    return tree


class _Builder:
    def __init__(self, src: str, key: str):
        self.src, self.key, self.count = src, key, 0

    def fail(self, what: str):
        return InputError(f"{what} in {self.src!r}", key=self.key)

    def build(self, node):
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(f"more than {MAX_NODES} operations")
        if isinstance(node, ast.BinOp):
            ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
            op = ops.get(type(node.op))
            if op is None:
                raise self.fail("an operator that is not allowed")
            return Bin(op, self.build(node.left), self.build(node.right))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                inner = self.build(node.operand)
                if isinstance(inner, Num):
                    return Num(-inner.q, "-" + inner.text)
                return Neg(inner)
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand)
            raise self.fail("an operator that is not allowed")
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise self.fail(f"the function {node.id} without its argument")
            return Ref(node.id)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self.fail("a value that is not a number")
            text = ast.get_source_segment(self.src, node) or repr(node.value)
            return Num(parse_number(text.replace("_", ""), self.key), text)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else "?"
                raise self.fail(f"unknown function {name!r} (known: {', '.join(FUNCTIONS)})")
            if node.keywords:
                raise self.fail("a keyword argument")
            want = FUNCTIONS[node.func.id]
            if len(node.args) != want:
                raise self.fail(f"{node.func.id} takes {want} argument{'s' if want > 1 else ''}")
            return Fn(node.func.id, tuple(self.build(a) for a in node.args))
        raise self.fail("something that is not an expression of names and numbers")


# ------------------------------------------------------------------ shapes
def shape_of(tree, shapes: dict, key: str) -> tuple[int, int]:
    """The shape of a tree's value (InputError naming the key on a mismatch)."""
    def fail(what):
        return InputError(what, key=key)

    def walk(t):
        if isinstance(t, Num):
            return (1, 1)
        if isinstance(t, Ref):
            return shapes[t.name]
        if isinstance(t, Neg):
            return walk(t.a)
        if isinstance(t, Bin):
            a, b = walk(t.a), walk(t.b)
            if t.op == "@":
                if a[1] != b[0]:
                    raise fail(f"shape mismatch in {show(t)}: {a[0]}x{a[1]} @ {b[0]}x{b[1]}")
                return (a[0], b[1])
            if t.op == "**" and b != (1, 1) and a != b:
                raise fail(f"shape mismatch in {show(t)}: {a[0]}x{a[1]} ** {b[0]}x{b[1]}")
            if a == (1, 1):
                return b
            if b == (1, 1) or a == b:
                return a
            raise fail(f"shape mismatch in {show(t)}: {a[0]}x{a[1]} {t.op} {b[0]}x{b[1]}")
        if isinstance(t, Fn):
            shapes_ = [walk(a) for a in t.args]
            if t.name == "T":
                return (shapes_[0][1], shapes_[0][0])
            if t.name == "sum":
                return (1, 1)
            if t.name in ("max", "min"):
                a, b = shapes_
                if a == (1, 1):
                    return b
                if b == (1, 1) or a == b:
                    return a
                raise fail(f"shape mismatch in {show(t)}")
            return shapes_[0]
        raise AssertionError(t)

    return walk(tree)


_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 3}


def show(t, ctx: int = 0) -> str:
    """The tree as plain text, parenthesised only where needed (for
    messages and the text report)."""
    if isinstance(t, Num):
        return t.text
    if isinstance(t, Ref):
        return t.name
    if isinstance(t, Neg):
        return f"-{show(t.a, 3)}"
    if isinstance(t, Bin):
        p = _PREC[t.op]
        right = p + 1 if t.op in ("-", "/") else p
        text = f"{show(t.a, p + (t.op == '**'))} {t.op} {show(t.b, right)}"
        return f"({text})" if p < ctx else text
    return f"{t.name}({', '.join(show(a) for a in t.args)})"


# ------------------------------------------------------------------ exact values
def _broadcast(A: Mat, B: Mat, f) -> Mat:
    if A.shape == (1, 1) and B.shape != (1, 1):
        a = A[0, 0]
        return B.map(lambda y: f(a, y))
    if B.shape == (1, 1) and A.shape != (1, 1):
        b = B[0, 0]
        return A.map(lambda x: f(x, b))
    return Mat(tuple(f(x, y) for x, y in zip(ra, rb)) for ra, rb in zip(A.rows, B.rows))


class Evaluator:
    """Exact values of trees; ``what`` names the node in errors."""

    def __init__(self, what: str, from_output: bool = False):
        self.what = what
        #: sigma' = y(1 - y) and tanh' = 1 - y^2 from the node's value y, as a
        #: student takes them (check's follow-through); the solve uses z
        self.from_output = from_output

    def fail(self, why: str) -> SolveError:
        return SolveError(f"{self.what}: {why}")

    def div(self, a, b):
        if not b:
            raise self.fail("division by zero")
        return a / b

    def power(self, a, p):
        """a ** p for scalars: exact for rational p where it can be.  A power
        whose result would pass stepsolver's size limits is refused before
        it is computed (x**(10**10) must not build a number of 10^10 bits)."""
        self._check_size(a, p)
        if exact.is_rational(p):
            num, den = exact.numer(p), exact.denom(p)
            if den == 1:
                if num < 0:
                    if not a:
                        raise self.fail("division by zero (0 to a negative power)")
                    return ONE / int_power(a, -num)
                return int_power(a, num)
            if exact.sign(a) < 0:
                raise self.fail("a fractional power of a negative number")
            if not a:
                if num < 0:
                    raise self.fail("division by zero (0 to a negative power)")
                return ZERO
            if exact.is_rational(a):
                root = exact.rational_root(a, den)
                if root is not None:
                    return self.power(root, Q(num))
            from flint import arb, fmpq

            return exact.Irr(exact.ball(a) ** arb(fmpq(num, den)))
        if exact.sign(a) <= 0:
            raise self.fail("a power with a non-rational exponent of a number that is not positive")
        return exact.exp(p * exact.log(a))

    def _check_size(self, a, p):
        if not a or a == ONE or a == -ONE:
            return
        if exact.is_rational(p):
            k = abs(Fr_value(p))
        else:
            k = abs(exact.to_float(p))
        if exact.is_rational(a) and exact.is_rational(p) and exact.denom(p) == 1:
            grow = (exact.bits(a) + 1) * k
            if grow > 4 * limits.MAX_VALUE_BITS:
                raise LimitError(f"{self.what}: a power whose exact value would pass {4 * limits.MAX_VALUE_BITS} bits "
                                 "(too large to write out)")
        m = abs(exact.magnitude_bits(a)) if a else 0
        if m * k > 4 * limits.MAX_MAGNITUDE_BITS or k > 10**6:
            raise LimitError(f"{self.what}: a power that passes 2^{4 * limits.MAX_MAGNITUDE_BITS} in magnitude (too large)")

    def f(self, name: str, a):
        v = self._f(name, a)
        if type(v) is exact.Irr and exact.is_rational(a) and v.form is None and name in _FORMS:
            v.form = _Form(name, a)
        return v

    def _f(self, name: str, a):
        if name == "exp":
            return exact.exp(a)
        if name == "log":
            if exact.sign(a) <= 0:
                raise self.fail(f"log of a non-positive value ({exact.to_float(a):.6g})")
            return exact.log(a, lambda: self.what)
        if name == "sqrt":
            if exact.sign(a) < 0:
                raise self.fail(f"sqrt of a negative value ({exact.to_float(a):.6g})")
            return exact.sqrt(a, lambda: self.what)
        if name == "tanh":
            return exact.tanh(a)
        if name == "sigmoid":
            return exact.sigmoid(a)
        if name == "relu":
            return a if exact.sign(a) > 0 else ZERO
        if name == "abs":
            return -a if exact.sign(a) < 0 else a
        raise AssertionError(name)

    def df(self, name: str, a, fa):
        """f'(a), given f(a) = fa."""
        if name == "exp":
            return fa
        if name == "log":
            return ONE / a
        if name == "sqrt":
            if not fa:
                raise self.fail("the derivative of sqrt at 0 is infinite")
            return ONE / (2 * fa)
        if name == "tanh":
            return ONE - fa * fa if self.from_output else exact.tanh_derivative(a)
        if name == "sigmoid":
            return fa * (ONE - fa) if self.from_output else exact.sigmoid_derivative(a)
        if name == "relu":
            return ONE if exact.sign(a) > 0 else ZERO
        if name == "abs":
            return Q(exact.sign(a))
        raise AssertionError(name)

    def value(self, tree, env: dict, memo: dict | None = None) -> Mat:
        memo = {} if memo is None else memo
        key = id(tree)
        if key in memo:
            return memo[key][1]
        v = self._value(tree, env, memo)
        memo[key] = (tree, v)  # the tree is kept so its id is not reused
        return v

    def _value(self, t, env, memo) -> Mat:
        if isinstance(t, Num):
            return Mat([[t.q]])
        if isinstance(t, Ref):
            return env[t.name]
        if isinstance(t, Neg):
            return -self.value(t.a, env, memo)
        if isinstance(t, Bin):
            A, B = self.value(t.a, env, memo), self.value(t.b, env, memo)
            if t.op == "+":
                return _broadcast(A, B, lambda x, y: x + y)
            if t.op == "-":
                return _broadcast(A, B, lambda x, y: x - y)
            if t.op == "*":
                return _broadcast(A, B, lambda x, y: x * y)
            if t.op == "/":
                return _broadcast(A, B, self.div)
            if t.op == "**":
                return _broadcast(A, B, self.power)
            if t.op == "@":
                return A @ B
        if isinstance(t, Fn):
            vals = [self.value(a, env, memo) for a in t.args]
            if t.name == "T":
                return vals[0].T
            if t.name == "sum":
                total = ZERO
                for x in vals[0].entries():
                    total = total + x
                return Mat([[total]])
            if t.name == "max":
                return _broadcast(vals[0], vals[1], lambda x, y: x if exact.sign(x - y) >= 0 else y)
            if t.name == "min":
                return _broadcast(vals[0], vals[1], lambda x, y: x if exact.sign(x - y) <= 0 else y)
            return vals[0].map(lambda x: self.f(t.name, x))
        raise AssertionError(t)

    # -- the local derivative: G (shaped like the tree's value) back to names
    def vjp(self, tree, env: dict, G: Mat, memo: dict | None = None) -> dict:
        """{name: G pulled back through the tree onto that name} (each
        shaped like the name's value)."""
        memo = {} if memo is None else memo
        out: dict = {}
        self._back(tree, env, G, memo, out)
        return out

    def _back(self, t, env, G: Mat, memo, out):
        if isinstance(t, Num):
            return
        if isinstance(t, Ref):
            out[t.name] = out[t.name] + G if t.name in out else G
            return
        if isinstance(t, Neg):
            self._back(t.a, env, -G, memo, out)
            return
        if isinstance(t, Fn):
            A = self.value(t.args[0], env, memo)
            if t.name == "T":
                self._back(t.args[0], env, G.T, memo, out)
            elif t.name == "sum":
                g = G[0, 0]
                self._back(t.args[0], env, Mat.fill(A.n, A.m, g), memo, out)
            elif t.name in ("max", "min"):
                B = self.value(t.args[1], env, memo)
                first = (lambda x, y: exact.sign(x - y) >= 0) if t.name == "max" else (lambda x, y: exact.sign(x - y) <= 0)
                mask = _broadcast(A, B, lambda x, y: ONE if first(x, y) else ZERO)
                self._back(t.args[0], env, _reduce_to(_broadcast(G, mask, lambda g, k: g * k), A), memo, out)
                self._back(t.args[1], env, _reduce_to(_broadcast(G, mask, lambda g, k: g * (ONE - k)), B), memo, out)
            else:
                FA = self.value(t, env, memo)
                D = Mat(tuple(self.df(t.name, x, fx) for x, fx in zip(ra, rf)) for ra, rf in zip(A.rows, FA.rows))
                self._back(t.args[0], env, G.hadamard(D), memo, out)
            return
        A, B = self.value(t.a, env, memo), self.value(t.b, env, memo)
        if t.op == "+":
            self._back(t.a, env, _reduce_to(G, A), memo, out)
            self._back(t.b, env, _reduce_to(G, B), memo, out)
        elif t.op == "-":
            self._back(t.a, env, _reduce_to(G, A), memo, out)
            self._back(t.b, env, _reduce_to(-G, B), memo, out)
        elif t.op == "*":
            self._back(t.a, env, _reduce_to(_broadcast(G, B, lambda g, y: g * y), A), memo, out)
            self._back(t.b, env, _reduce_to(_broadcast(G, A, lambda g, x: g * x), B), memo, out)
        elif t.op == "/":
            self._back(t.a, env, _reduce_to(_broadcast(G, B, self.div), A), memo, out)
            C = self.value(t, env, memo)
            # d(a/b)/db = -(a/b)/b
            dB = _broadcast(_broadcast(G, C, lambda g, c: -g * c), B, self.div)
            self._back(t.b, env, _reduce_to(dB, B), memo, out)
        elif t.op == "**":
            C = self.value(t, env, memo)
            if not names(t.b):
                p = B[0, 0]
                dA = _broadcast(G, A, lambda g, x: g * p * self.power(x, p - 1) if p != 0 else ZERO)
                self._back(t.a, env, _reduce_to(dA, A), memo, out)
            else:
                dA = _broadcast(_broadcast(G, B, lambda g, y: g * y), _broadcast(A, B, lambda x, y: self.power(x, y - 1)),
                                lambda u, w: u * w)
                self._back(t.a, env, _reduce_to(dA, A), memo, out)
                dB = _broadcast(_broadcast(G, C, lambda g, c: g * c), A, lambda u, x: u * self.f("log", x))
                self._back(t.b, env, _reduce_to(dB, B), memo, out)
        elif t.op == "@":
            self._back(t.a, env, G @ B.T, memo, out)
            self._back(t.b, env, A.T @ G, memo, out)


_FORMS = {
    "exp": lambda q: (f"exp({exact.q_str(q)})", f"e^{{{exact.q_latex(q)}}}"),
    "log": lambda q: (f"log({exact.q_str(q)})", f"\\ln {_paren_tex(q)}"),
    "sqrt": lambda q: (f"sqrt({exact.q_str(q)})", f"\\sqrt{{{exact.q_latex(q)}}}"),
    "tanh": lambda q: (f"tanh({exact.q_str(q)})", f"\\tanh {_paren_tex(q)}"),
    "sigmoid": lambda q: (f"1/(1 + exp({exact.q_str(-q)}))", f"\\frac{{1}}{{1 + e^{{{exact.q_latex(-q)}}}}}"),
}


def _paren_tex(q) -> str:
    t = exact.q_latex(q)
    return f"\\left({t}\\right)" if not exact.is_rational(q) or exact.denom(q) != 1 or q < 0 else t


class _Form:
    """A lazily built closed form of f(q) for a rational q: (text, LaTeX)."""

    __slots__ = ("name", "q")

    def __init__(self, name, q):
        self.name, self.q = name, q

    def __call__(self):
        return _FORMS[self.name](self.q)


def _reduce_to(G: Mat, like: Mat) -> Mat:
    """A broadcast scalar's share: the sum of G where ``like`` is 1 x 1."""
    if like.shape == (1, 1) and G.shape != (1, 1):
        total = ZERO
        for x in G.entries():
            total = total + x
        return Mat([[total]])
    return G


def Fr_value(q) -> float:
    """|q| as a float, large rationals included."""
    return abs(exact.numer(q)) / exact.denom(q) if exact.bits(q) < 2000 else float("inf")
