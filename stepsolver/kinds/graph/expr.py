"""Node expressions of a computation graph: the whitelist parser, shapes,
exact values, and the local derivatives (vector-Jacobian products).

User text is data, never code.  The text is checked character by character,
parsed with :func:`ast.parse` (which runs nothing) and every node checked
against the whitelist -- names, numbers, ``+ - * / **``, unary minus,
parentheses, ``@``, and the functions ``T``, ``sum``, ``exp``, ``log``,
``sqrt``, ``abs``, ``max``, ``min``, the activations and convolutions -- into
a small tree of our own.  Numbers keep the digits written (0.1 is 1/10).

Values are matrices (a scalar is 1 x 1); ``+ - * /`` and the functions are
elementwise with scalar broadcasting, ``@`` the matrix product.  Every
elementwise activation a network accepts is a function here too, taken from
the one registry (functions/activations.py: value, derivative, float form,
notation), with a file's own functions of one variable.  Kinks: relu'(0) =
0, leaky_relu'(0) = the slope, abs'(0) = 0, a max/min tie sends the
gradient to the first argument.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ... import exact
from ... import limits
from ...errors import InputError, LimitError, SolveError
from ...exact import ONE, ZERO, Mat, Q
from ...functions import activations
from ...functions.expr import int_power
from ...tomlio import parse_number

#: the functions of the expression language and their number of matrix
#: arguments; beside them every elementwise activation a network accepts
#: (functions/activations.py: sigmoid, tanh, relu, leaky_relu, softplus,
#: square, identity) and a file's own functions of one variable ([functions])
FUNCTIONS = {"exp": 1, "log": 1, "sqrt": 1, "abs": 1, "max": 2, "min": 2,
             "T": 1, "sum": 1, "conv2d": 2, "convolve2d": 2, "maxpool": 1, "avgpool": 1,
             "mean": 1, "var": 1, "softmax": 1, "log_softmax": 1, "batchnorm": 3, "layernorm": 3,
             "dropout": 2, "embedding": 1, "concat": -1,
             **{name: 1 for name in activations.ELEMENTWISE}}
#: the layers' functions (NumPy/PyTorch semantics) and their settings, in
#: positional order after the matrices: (name, kind, default); kind "axis"
#: is 0, 1 or absent (None), "number" a number written out (0.00001,
#: 1e-5, 1/100000 or "1/100000"), "indices" a list of whole numbers or the
#: name of a constant holding them.  REQUIRED: no default.
REQUIRED = object()
LAYER_SETTINGS = {
    "sum": (("axis", "axis", None),),
    "mean": (("axis", "axis", None),),
    "var": (("axis", "axis", None),),
    "softmax": (("axis", "axis", None),),
    "log_softmax": (("axis", "axis", None),),
    "batchnorm": (("eps", "number", Q(1, 100000)),),
    "layernorm": (("eps", "number", Q(1, 100000)),),
    "dropout": (("p", "number", REQUIRED),),
    "embedding": (("idx", "indices", REQUIRED),),
    "concat": (("axis", "axis", 0),),
}
#: the normalisations: eps inside the root, biased variance (PyTorch)
NORMS = ("batchnorm", "layernorm")
SOFTMAXES = ("softmax", "log_softmax")
REDUCTIONS = ("sum", "mean", "var")
#: convolutions: conv2d(X, K, stride=1, pad=0) (cross-correlation, as in deep
#: learning libraries) and convolve2d (the kernel flipped in both directions)
CONV = ("conv2d", "convolve2d")
#: pooling: maxpool(X, size, stride=size), avgpool(X, size, stride=size)
POOL = ("maxpool", "avgpool")
#: their whole-number settings, in positional order, with the smallest value allowed
SETTINGS = {"conv2d": (("stride", 1), ("pad", 0)), "convolve2d": (("stride", 1), ("pad", 0)),
            "maxpool": (("size", 1), ("stride", 1)), "avgpool": (("size", 1), ("stride", 1))}
MAX_SETTING = 16
MATH = ("exp", "log", "sqrt", "abs")
ELEMENTWISE = MATH + activations.ELEMENTWISE
#: the elementwise activations with their default settings (leaky_slope 0.01)
DEFAULT_FUNCTIONS = activations.elementwise()
_ALLOWED = re.compile(r"[0-9A-Za-z_ .+\-*/()@,=\t\[\]\"']*")
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
    #: whole-number settings: (stride, pad) of a convolution, (size, stride) of a pooling
    opts: tuple = ()
    #: an elementwise activation (functions/activations.py) or a file's own
    #: function: its value, derivative, float form and notation
    act: object = field(default=None, compare=False)


def subtrees(tree):
    """Every subtree of a tree, the tree first (pre-order)."""
    stack = [tree]
    while stack:
        t = stack.pop()
        yield t
        if isinstance(t, Bin):
            stack += [t.b, t.a]
        elif isinstance(t, Neg):
            stack.append(t.a)
        elif isinstance(t, Fn):
            stack += list(reversed(t.args))


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
def parse(text, key: str, functions: dict | None = None):
    """The tree of a node's expression (InputError naming the key);
    ``functions`` names the activations it may apply (name -> Activation:
    the built-in ones with the file's settings and its own functions)."""
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
    b = _Builder(text.strip(), key, DEFAULT_FUNCTIONS if functions is None else functions)
    tree = b.build(node)
    return tree


class _Builder:
    def __init__(self, src: str, key: str, functions: dict):
        self.src, self.key, self.count, self.functions = src, key, 0, functions

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
            return Ref(node.id)  # a name that is called is the function; one that is not is a value (a target T)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self.fail("a value that is not a number")
            text = ast.get_source_segment(self.src, node) or repr(node.value)
            return Num(parse_number(text.replace("_", ""), self.key), text)
        if isinstance(node, ast.Call):
            known = isinstance(node.func, ast.Name) and (node.func.id in FUNCTIONS or node.func.id in self.functions)
            if not known:
                name = node.func.id if isinstance(node.func, ast.Name) else "?"
                every = list(FUNCTIONS) + [f for f in self.functions if f not in FUNCTIONS]
                raise self.fail(f"unknown function {name!r} (known: {', '.join(every)})")
            if node.func.id in SETTINGS:
                return self._windowed(node)
            if node.func.id in LAYER_SETTINGS:
                return self._layer(node)
            if node.keywords:
                raise self.fail("a keyword argument")
            want = FUNCTIONS.get(node.func.id, 1)
            if len(node.args) != want:
                raise self.fail(f"{node.func.id} takes {want} argument{'s' if want > 1 else ''}")
            return Fn(node.func.id, tuple(self.build(a) for a in node.args), act=self.functions.get(node.func.id))
        raise self.fail("something that is not an expression of names and numbers")

    def _layer(self, node):
        """sum/mean/var/softmax(X, axis=...), batchnorm/layernorm(X, gamma,
        beta, eps=...), dropout(X, M, p), embedding(W, idx), concat(A, B, ...,
        axis=...): the matrices, then the settings positional or by keyword."""
        name = node.func.id
        spec = LAYER_SETTINGS[name]
        n_mat = FUNCTIONS[name]
        if n_mat < 0:  # concat: every positional argument is a matrix
            mats_nodes, extra = list(node.args), []
            if len(mats_nodes) < 2:
                raise self.fail(f"{name} needs at least two matrices")
        else:
            if len(node.args) < n_mat:
                raise self.fail(f"{name} takes {n_mat} matri{'ces' if n_mat > 1 else 'x'} first")
            mats_nodes, extra = node.args[:n_mat], node.args[n_mat:]
        if len(extra) > len(spec):
            raise self.fail(f"{name} takes at most {n_mat + len(spec)} arguments")
        given = {key: a for (key, _, _), a in zip(spec, extra)}
        kinds = {key: kind for key, kind, _ in spec}
        for k in node.keywords:
            if k.arg not in kinds:
                raise self.fail(f"{name} has no setting {k.arg!r} (its settings: {', '.join(kinds)})")
            if k.arg in given:
                raise self.fail(f"{k.arg} given twice")
            given[k.arg] = k.value
        opts = []
        args = [self.build(a) for a in mats_nodes]
        for key, kind, default in spec:
            if key not in given:
                if default is REQUIRED:
                    raise self.fail(f"{name} needs its {key}")
                opts.append(default)
                continue
            a = given[key]
            if kind == "axis":
                if not (isinstance(a, ast.Constant) and a.value in (0, 1) and not isinstance(a.value, bool)):
                    raise self.fail(f"the axis of {name} must be 0 (down the rows) or 1 (along each row)")
                opts.append(a.value)
            elif kind == "number":
                opts.append(self._number(a, f"the {key} of {name}"))
            else:  # indices: a list written out, or a constant's name
                if isinstance(a, ast.Name):
                    args.append(Ref(a.id))
                    opts.append(None)
                    continue
                if not isinstance(a, ast.List) or not a.elts:
                    raise self.fail(f"the {key} of {name} must be a list of whole numbers, such as [0, 2, 0]")
                vals = []
                for e in a.elts:
                    if not (isinstance(e, ast.Constant) and isinstance(e.value, int) and not isinstance(e.value, bool)
                            and 0 <= e.value <= 100_000):
                        raise self.fail(f"the {key} of {name} must be whole numbers from 0, such as [0, 2, 0]")
                    vals.append(e.value)
                if len(vals) > 256:
                    raise self.fail(f"the {key} of {name} lists more than 256 indices")
                opts.append(tuple(vals))
        return Fn(name, tuple(args), tuple(opts))

    def _number(self, a, what: str):
        """A number setting written out: 0.00001, 1e-5, -0.5, 1/100000 or "1/100000"."""
        if isinstance(a, ast.Constant) and isinstance(a.value, str):
            return parse_number(a.value, self.key)
        if isinstance(a, ast.BinOp) and isinstance(a.op, ast.Div):
            num, den = self._number(a.left, what), self._number(a.right, what)
            if not den:
                raise self.fail(f"{what} divides by zero")
            return num / den
        if isinstance(a, ast.UnaryOp) and isinstance(a.op, ast.USub):
            return -self._number(a.operand, what)
        if isinstance(a, ast.Constant) and isinstance(a.value, (int, float)) and not isinstance(a.value, bool):
            text = ast.get_source_segment(self.src, a) or repr(a.value)
            return parse_number(text.replace("_", ""), self.key)
        raise self.fail(f"{what} must be a number written out, such as 0.00001 or 1/100000")

    def _windowed(self, node):
        """conv2d(X, K, stride, pad) and maxpool(X, size, stride), the
        settings positional or by keyword, whole numbers written out."""
        name = node.func.id
        n_mat = FUNCTIONS[name]
        settings = SETTINGS[name]
        if len(node.args) < n_mat:
            need = "an input and a kernel" if n_mat == 2 else "an input and a size"
            raise self.fail(f"{name} needs {need}")
        if name in POOL and len(node.args) < 2 and not any(k.arg == "size" for k in node.keywords):
            raise self.fail(f"{name} needs a window size, such as {name}(X, 2)")
        mats = [self.build(a) for a in node.args[:n_mat]]
        given = {}
        extra = node.args[n_mat:]
        if len(extra) > len(settings):
            raise self.fail(f"{name} takes at most {n_mat + len(settings)} arguments")
        for (key, _), a in zip(settings, extra):
            given[key] = a
        for k in node.keywords:
            if k.arg not in dict(settings):
                raise self.fail(f"{name} has no setting {k.arg!r} (its settings: {', '.join(k for k, _ in settings)})")
            if k.arg in given:
                raise self.fail(f"{k.arg} given twice")
            given[k.arg] = k.value
        values = {}
        for key, low in settings:
            if key not in given:
                continue
            a = given[key]
            if not (isinstance(a, ast.Constant) and isinstance(a.value, int) and not isinstance(a.value, bool)):
                raise self.fail(f"the {key} of {name} must be a whole number written out")
            if not low <= a.value <= MAX_SETTING:
                raise self.fail(f"the {key} of {name} must be from {low} to {MAX_SETTING}, got {a.value}")
            values[key] = a.value
        if name in CONV:
            opts = (values.get("stride", 1), values.get("pad", 0))
        else:
            opts = (values["size"], values.get("stride", values["size"]))
        return Fn(name, tuple(mats), opts)


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
            c = broadcast_shape(a, b)
            if c is None:
                raise fail(f"shape mismatch in {show(t)}: {a[0]}x{a[1]} {t.op} {b[0]}x{b[1]} "
                           "(shapes broadcast when each dimension is equal or 1)")
            return c
        if isinstance(t, Fn):
            shapes_ = [walk(a) for a in t.args]
            if t.name == "T":
                return (shapes_[0][1], shapes_[0][0])
            if t.name in LAYER_SETTINGS:
                return layer_shape(t, shapes_, fail)
            if t.name in CONV or t.name in POOL:
                return window_shape(t, shapes_, fail)
            if t.name in ("max", "min"):
                c = broadcast_shape(*shapes_)
                if c is None:
                    raise fail(f"shape mismatch in {show(t)}")
                return c
            return shapes_[0]
        raise AssertionError(t)

    return walk(tree)


def broadcast_shape(a, b):
    """NumPy's broadcasting of two 2-D shapes (each dimension equal or 1), or None."""
    out = []
    for x, y in zip(a, b):
        if x != y and x != 1 and y != 1:
            return None
        out.append(max(x, y))
    return tuple(out)


def softmax_axis(t, shape) -> int:
    """The axis a softmax runs along: the one given, or a vector's own."""
    axis = t.opts[0]
    if axis is None:
        return 1 if shape[0] == 1 and shape[1] > 1 else 0
    return axis


def layer_shape(t, shapes_, fail) -> tuple[int, int]:
    """The shape of a layer function's value (refused naming the node where
    the inputs do not fit)."""
    n, m = shapes_[0]
    name = t.name
    if name in REDUCTIONS:
        axis = t.opts[0]
        return (1, 1) if axis is None else ((1, m) if axis == 0 else (n, 1))
    if name in SOFTMAXES:
        if t.opts[0] is None and n > 1 and m > 1:
            raise fail(f"{show(t)}: the softmax of a {n}x{m} matrix needs its axis: "
                       f"{name}(..., axis=1) along each row, axis=0 down each column")
        return (n, m)
    if name in NORMS:
        d = m
        for what, (r, c) in zip(("gamma", "beta"), shapes_[1:]):
            if r * c != d or (r != 1 and c != 1):
                raise fail(f"{show(t)}: {what} must hold one number per column of the {n}x{m} input "
                           f"({d} numbers), got {r}x{c}")
        return (n, m)
    if name == "dropout":
        if shapes_[1] != (n, m):
            raise fail(f"{show(t)}: the mask must be {n}x{m} like the input, got {shapes_[1][0]}x{shapes_[1][1]}")
        return (n, m)
    if name == "embedding":
        if t.opts[0] is None:
            r, c = shapes_[1]
            if r != 1 and c != 1:
                raise fail(f"{show(t)}: the indices must be a list (a vector), got {r}x{c}")
            k = r * c
        else:
            k = len(t.opts[0])
            bad = [i for i in t.opts[0] if i >= n]
            if bad:
                raise fail(f"{show(t)}: index {bad[0]} is past the {n} rows of the table (indices count from 0)")
        return (k, m)
    if name == "concat":
        axis = t.opts[0]
        if axis == 0:
            if len({c for _, c in shapes_}) != 1:
                raise fail(f"{show(t)}: stacking rows (axis=0) needs the same number of columns, got "
                           + ", ".join(f"{r}x{c}" for r, c in shapes_))
            return (sum(r for r, _ in shapes_), shapes_[0][1])
        if len({r for r, _ in shapes_}) != 1:
            raise fail(f"{show(t)}: stacking columns (axis=1) needs the same number of rows, got "
                       + ", ".join(f"{r}x{c}" for r, c in shapes_))
        return (shapes_[0][0], sum(c for _, c in shapes_))
    raise AssertionError(name)


def window_shape(t, shapes_, fail) -> tuple[int, int]:
    """The output shape of a convolution or a pooling: floor((n + 2p - f)/s) + 1
    per direction, refused (naming the node) where the windows do not fit
    exactly."""
    (n, m) = shapes_[0]
    if t.name in CONV:
        (f, g), (s, p) = shapes_[1], t.opts
        what = f"a {f}x{g} kernel"
    else:
        (f, s), p = t.opts, 0
        g = f
        what = f"a {f}x{f} window"
    N, M = n + 2 * p, m + 2 * p
    pad = f" padded by {p} on every side ({N}x{M})" if p else ""
    if f > N or g > M:
        raise fail(f"{show(t)}: {what} does not fit in the {n}x{m} input{pad}")
    # floor((n + 2p - f)/s) + 1, as PyTorch: where the windows do not tile,
    # the last rows and columns are not covered (the picture and the
    # conventions say which)
    return ((N - f) // s + 1, (M - g) // s + 1)


def uncovered(t, in_shape, k_shape) -> tuple[int, int]:
    """(rows, columns) of the padded input that no window covers."""
    (n, m) = in_shape
    if t.name in CONV:
        (f, g), (s, p) = k_shape, t.opts
    else:
        (f, s), p = t.opts, 0
        g = f
    N, M = n + 2 * p, m + 2 * p
    return ((N - f) % s, (M - g) % s)


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
    args = [show(a) for a in t.args]
    if t.name in SETTINGS:
        for (key, _), v in zip(SETTINGS[t.name], t.opts):
            args.append(f"{key}={v}")
    if t.name in LAYER_SETTINGS:
        for (key, kind, default), v in zip(LAYER_SETTINGS[t.name], t.opts):
            if v is None or (kind == "axis" and t.name == "concat" and v == 0):
                continue
            if kind == "number":
                if t.name in NORMS and v == default:
                    continue
                v = exact.q_str(v)
            elif kind == "indices":
                v = "[" + ", ".join(map(str, v)) + "]"
            args.append(f"{key}={v}")
    return f"{t.name}({', '.join(args)})"


# ------------------------------------------------------------------ exact values
def _broadcast(A: Mat, B: Mat, f) -> Mat:
    """f entry by entry, NumPy's broadcasting: a dimension of 1 is repeated."""
    if A.shape == (1, 1) and B.shape != (1, 1):
        a = A[0, 0]
        return B.map(lambda y: f(a, y))
    if B.shape == (1, 1) and A.shape != (1, 1):
        b = B[0, 0]
        return A.map(lambda x: f(x, b))
    if A.shape == B.shape:
        return Mat(tuple(f(x, y) for x, y in zip(ra, rb)) for ra, rb in zip(A.rows, B.rows))
    n, m = max(A.n, B.n), max(A.m, B.m)
    return Mat(tuple(f(A[i if A.n > 1 else 0, j if A.m > 1 else 0], B[i if B.n > 1 else 0, j if B.m > 1 else 0])
                     for j in range(m)) for i in range(n))


def _total(xs):
    total = ZERO
    for x in xs:
        total = total + x
    return total


def _slices(X: Mat, axis: int) -> list[list]:
    """The columns (axis 0) or the rows (axis 1) of X, each a list."""
    return [list(c) for c in zip(*X.rows)] if axis == 0 else [list(r) for r in X.rows]


def _from_slices(slices: list[list], axis: int) -> Mat:
    return Mat(tuple(r) for r in zip(*slices)) if axis == 0 else Mat(tuple(r) for r in slices)


def _reduce(X: Mat, axis, f) -> Mat:
    """f of each column (axis 0: a 1 x m row), each row (axis 1: n x 1) or of
    every entry (None: 1 x 1)."""
    if axis is None:
        return Mat([[f(list(X.entries()))]])
    vals = [f(sl) for sl in _slices(X, axis)]
    return Mat([vals]) if axis == 0 else Mat([[v] for v in vals])


def _spread(G: Mat, shape, axis) -> Mat:
    """A reduction's upstream gradient repeated over what it reduced."""
    n, m = shape
    if axis is None:
        return Mat.fill(n, m, G[0, 0])
    return Mat(tuple(G[0, j] if axis == 0 else G[i, 0] for j in range(m)) for i in range(n))


class Evaluator:
    """Exact values of trees; ``what`` names the node in errors."""

    def __init__(self, what: str, from_output: bool = False, slip: str | None = None):
        self.what = what
        #: a classic slip worked into every convolution and pooling (check's
        #: candidates): kernel_flipped, pool_everywhere, overlap_overwritten
        self.slip = slip
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

    def fn(self, t, a):
        """The elementwise function of a tree node at a: its activation's, or
        a mathematical function's."""
        if t.act is not None:
            try:
                v = t.act.value(a)
            except (exact.Uncertain, SolveError, LimitError):
                raise
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                raise self.fail(f"{t.name} at {exact.to_float(a):.6g}: {exc}") from None
            if type(v) is exact.Irr and exact.is_rational(a) and t.name in _FORMS:
                v.form = _Form(t.name, a)  # a graph writes tanh 1/2, not tanh(1/2)
            return v
        return self.f(t.name, a)

    def dfn(self, t, a, fa):
        """Its derivative at a, given its value fa (from fa where the student
        takes it so: sigma' = y(1 - y))."""
        if t.act is not None:
            d = t.act.deriv_from_a(a, fa) if self.from_output else t.act.deriv(a, fa)
            if type(d) is exact.Irr and d.form is not None:
                d = exact.Irr(d.b, None, d.anchor, d.off)  # a local derivative is shown by its value
            return d
        return self.df(t.name, a, fa)

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
                if self.slip == "scale_left_out" and _is_scale(t):
                    return A
                return _broadcast(A, B, self.div)
            if t.op == "**":
                return _broadcast(A, B, self.power)
            if t.op == "@":
                return A @ B
        if isinstance(t, Fn):
            vals = [self.value(a, env, memo) for a in t.args]
            if t.name == "T":
                return vals[0].T
            if t.name in LAYER_SETTINGS:
                return self.layer(t, vals, env)
            if t.name in CONV:
                stride, pad = t.opts
                K = vals[1] if (t.name == "conv2d") != (self.slip == "kernel_flipped") else flip(vals[1])
                return correlate(padded(vals[0], pad), K, stride)
            if t.name == "maxpool":
                size, stride = t.opts
                X = vals[0]
                return Mat(tuple(X[window_argmax(X, i, j, size, stride)] for j in range(_out(X.m, size, stride)))
                           for i in range(_out(X.n, size, stride)))
            if t.name == "avgpool":
                size, stride = t.opts
                X = vals[0]
                return Mat(tuple(_window_sum(X, i, j, size, stride) / (size * size)
                                 for j in range(_out(X.m, size, stride))) for i in range(_out(X.n, size, stride)))
            if t.name == "max":
                return _broadcast(vals[0], vals[1], lambda x, y: x if exact.sign(x - y) >= 0 else y)
            if t.name == "min":
                return _broadcast(vals[0], vals[1], lambda x, y: x if exact.sign(x - y) <= 0 else y)
            return vals[0].map(lambda x: self.fn(t, x))
        raise AssertionError(t)

    # -- the layers' functions ----------------------------------------------------
    def _mean(self, xs):
        return _total(xs) / len(xs)

    def _var(self, xs):
        """The variance of a slice: biased (divided by N), as PyTorch's
        normalisations; the slip divides by N - 1."""
        mu = self._mean(xs)
        sq = _total([(x - mu) * (x - mu) for x in xs])
        if self.slip == "unbiased_variance" and len(xs) > 1:
            return sq / (len(xs) - 1)
        return sq / len(xs)

    def _softmax(self, xs):
        shift = xs[0]
        if all(exact.is_rational(x) for x in xs):
            shift = max(xs)
        es = [exact.exp(x - shift) for x in xs]
        total = _total(es)
        return [e / total for e in es], shift, total

    def _norm(self, xs, eps):
        """(x-hat of a slice, its root sqrt(var + eps))."""
        mu = self._mean(xs)
        var = self._var(xs)
        if self.slip == "eps_left_out":
            eps = ZERO
        inside = var + eps
        if not inside:
            raise self.fail("the variance is 0 and eps is 0: the normalisation divides by zero")
        root = exact.sqrt(inside, lambda: self.what)
        return [(x - mu) / root for x in xs], root

    def _indices(self, t, vals):
        if t.opts[0] is not None:
            return list(t.opts[0])
        out = []
        for x in vals[1].entries():
            if not exact.is_rational(x) or exact.denom(x) != 1 or x < 0:
                raise self.fail(f"the indices of {t.name} must be whole numbers from 0, got {exact.to_float(x):g}")
            out.append(int(exact.numer(x)))
        if any(i >= vals[0].n for i in out):
            raise self.fail(f"an index of {t.name} is past the {vals[0].n} rows of the table")
        return out

    def layer(self, t, vals, env) -> Mat:
        """The value of a layer function (the settings in t.opts)."""
        X = vals[0]
        name = t.name
        if name == "sum":
            return _reduce(X, t.opts[0], _total)
        if name == "mean":
            return _reduce(X, t.opts[0], self._mean)
        if name == "var":
            return _reduce(X, t.opts[0], self._var)
        if name in SOFTMAXES:
            axis = softmax_axis(t, X.shape)
            if self.slip == "softmax_wrong_axis" and X.n > 1 and X.m > 1:
                axis = 1 - axis
            out = []
            for sl in _slices(X, axis):
                S, shift, total = self._softmax(sl)
                if name == "softmax":
                    out.append(S)
                else:
                    lse = shift + exact.log(total, lambda: self.what)
                    out.append([x - lse for x in sl])
            return _from_slices(out, axis)
        if name in NORMS:
            eps = t.opts[0]
            gamma, beta = list(vals[1].entries()), list(vals[2].entries())
            axis = 0 if name == "batchnorm" else 1
            hats = [self._norm(sl, eps)[0] for sl in _slices(X, axis)]
            H = _from_slices(hats, axis)
            return Mat(tuple(gamma[j] * H[i, j] + beta[j] for j in range(X.m)) for i in range(X.n))
        if name == "dropout":
            M, p = vals[1], t.opts[0]
            for x in M.entries():
                if x != ZERO and x != ONE:
                    raise self.fail("the dropout mask must hold only 0 and 1")
            if not (ZERO <= p < ONE):
                raise self.fail(f"the dropout probability p must be at least 0 and below 1, got {exact.q_str(p)}")
            scale = ONE if self.slip == "dropout_unscaled" else ONE / (ONE - p)
            return _broadcast(X, M, lambda x, k: x * k * scale)
        if name == "embedding":
            return Mat(tuple(X.rows[i]) for i in self._indices(t, vals))
        if name == "concat":
            if t.opts[0] == 0:
                return Mat(tuple(r) for V in vals for r in V.rows)
            return Mat(tuple(x for V in vals for x in V.rows[i]) for i in range(X.n))
        raise AssertionError(name)

    def layer_back(self, t, vals, G: Mat, env) -> dict:
        """{argument index: G pulled back onto that argument} of a layer function."""
        X = vals[0]
        name = t.name
        if name == "sum":
            return {0: _spread(G, X.shape, t.opts[0])}
        if name == "mean":
            k = X.n * X.m if t.opts[0] is None else (X.n if t.opts[0] == 0 else X.m)
            return {0: _spread(G, X.shape, t.opts[0]).map(lambda g: g / k)}
        if name == "var":
            axis = t.opts[0]
            Mu = _reduce(X, axis, self._mean)
            k = X.n * X.m if axis is None else (X.n if axis == 0 else X.m)
            if self.slip == "unbiased_variance" and k > 1:
                k -= 1
            Gs = _spread(G, X.shape, axis)
            Ms = _spread(Mu, X.shape, axis)
            # d var / d x_i = 2 (x_i - mu) / N (the mean's own change sums to 0)
            return {0: Mat(tuple(Gs[i, j] * 2 * (X[i, j] - Ms[i, j]) / k for j in range(X.m)) for i in range(X.n))}
        if name in SOFTMAXES:
            axis = softmax_axis(t, X.shape)
            if self.slip == "softmax_wrong_axis" and X.n > 1 and X.m > 1:
                axis = 1 - axis
            out = []
            for sl, gs in zip(_slices(X, axis), _slices(G, axis)):
                S = self._softmax(sl)[0]
                if name == "softmax":  # dZ = S (dS - sum(dS S))
                    inner = _total([g * y for g, y in zip(gs, S)])
                    out.append([y * (g - inner) for g, y in zip(gs, S)])
                else:  # dZ = dY - S sum(dY)
                    tot = _total(gs)
                    out.append([g - y * tot for g, y in zip(gs, S)])
            return {0: _from_slices(out, axis)}
        if name in NORMS:
            eps = t.opts[0]
            gamma = list(vals[1].entries())
            axis = 0 if name == "batchnorm" else 1
            dX_sl, hats_sl = [], []
            for idx, (sl, gs) in enumerate(zip(_slices(X, axis), _slices(G, axis))):
                hat, root = self._norm(sl, eps)
                hats_sl.append(hat)
                # g-hat = dY * gamma (per column: one gamma for a batchnorm column, each entry's own in a row)
                gh = [g * (gamma[idx] if axis == 0 else gamma[j]) for j, g in enumerate(gs)]
                N = len(sl)
                s1 = _total(gh)
                s2 = _total([a * h for a, h in zip(gh, hat)])
                dX_sl.append([(N * a - s1 - h * s2) / (N * root) for a, h in zip(gh, hat)])
            H = _from_slices(hats_sl, axis)
            dgamma = [_total([G[i, j] * H[i, j] for i in range(X.n)]) for j in range(X.m)]
            dbeta = [_total([G[i, j] for i in range(X.n)]) for j in range(X.m)]
            return {0: _from_slices(dX_sl, axis), 1: _like(dgamma, vals[1]), 2: _like(dbeta, vals[2])}
        if name == "dropout":
            M, p = vals[1], t.opts[0]
            scale = ONE if self.slip == "dropout_unscaled" else ONE / (ONE - p)
            return {0: _broadcast(G, M, lambda g, k: g * k * scale),
                    1: Mat(tuple(G[i, j] * X[i, j] * scale for j in range(X.m)) for i in range(X.n))}
        if name == "embedding":
            rows = [[ZERO] * X.m for _ in range(X.n)]
            for k, i in enumerate(self._indices(t, vals)):  # repeated indices add up
                rows[i] = [a + g for a, g in zip(rows[i], G.rows[k])]
            return {0: Mat(tuple(r) for r in rows)}
        if name == "concat":
            out, at = {}, 0
            for k, V in enumerate(vals):
                if t.opts[0] == 0:
                    out[k] = Mat(tuple(G.rows[at + i]) for i in range(V.n))
                    at += V.n
                else:
                    out[k] = Mat(tuple(G.rows[i][at: at + V.m]) for i in range(V.n))
                    at += V.m
            return out
        raise AssertionError(name)

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
            elif t.name in LAYER_SETTINGS:
                vals = [self.value(a, env, memo) for a in t.args]
                for k, back in self.layer_back(t, vals, G, env).items():
                    self._back(t.args[k], env, back, memo, out)
            elif t.name in CONV:
                stride, pad = t.opts
                K0 = self.value(t.args[1], env, memo)
                plain = (t.name == "conv2d") != (self.slip == "kernel_flipped")
                K = K0 if plain else flip(K0)
                Xp = padded(A, pad)
                dK = correlate_back_kernel(Xp, G, K.shape, stride)
                dXp = correlate_back_input(K, G, Xp.shape, stride, self.slip == "overlap_overwritten")
                self._back(t.args[0], env, cropped(dXp, pad), memo, out)
                self._back(t.args[1], env, dK if plain else flip(dK), memo, out)
            elif t.name in POOL:
                size, stride = t.opts
                self._back(t.args[0], env, pool_back(t.name, A, G, size, stride, self.slip), memo, out)
            elif t.name in ("max", "min"):
                B = self.value(t.args[1], env, memo)
                first = (lambda x, y: exact.sign(x - y) >= 0) if t.name == "max" else (lambda x, y: exact.sign(x - y) <= 0)
                mask = _broadcast(A, B, lambda x, y: ONE if first(x, y) else ZERO)
                self._back(t.args[0], env, _reduce_to(_broadcast(G, mask, lambda g, k: g * k), A), memo, out)
                self._back(t.args[1], env, _reduce_to(_broadcast(G, mask, lambda g, k: g * (ONE - k)), B), memo, out)
            else:
                FA = self.value(t, env, memo)
                D = Mat(tuple(self.dfn(t, x, fx) for x, fx in zip(ra, rf)) for ra, rf in zip(A.rows, FA.rows))
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
            if self.slip == "scale_left_out" and _is_scale(t):
                self._back(t.a, env, G, memo, out)
                return
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


# ------------------------------------------------------------------ windows
def _out(n: int, size: int, stride: int) -> int:
    return (n - size) // stride + 1


def padded(X: Mat, p: int) -> Mat:
    """X with p rows and columns of zeros on every side."""
    if not p:
        return X
    m = X.m + 2 * p
    zero_rows = [(ZERO,) * m] * p
    return Mat(zero_rows + [(ZERO,) * p + tuple(r) + (ZERO,) * p for r in X.rows] + zero_rows)


def cropped(X: Mat, p: int) -> Mat:
    """The inverse of padded: the padding removed."""
    if not p:
        return X
    return Mat(tuple(r[p:X.m - p]) for r in X.rows[p:X.n - p])


def flip(K: Mat) -> Mat:
    """K turned by 180 degrees (flipped in both directions)."""
    return Mat(tuple(reversed(r)) for r in reversed(K.rows))


def correlate(X: Mat, K: Mat, stride: int) -> Mat:
    """Y[i, j] = sum over a, b of K[a, b] X[s i + a, s j + b] (X already padded)."""
    f, g = K.shape

    def entry(i, j):
        total = ZERO
        for a in range(f):
            for b in range(g):
                total = total + K[a, b] * X[stride * i + a, stride * j + b]
        return total

    return Mat(tuple(entry(i, j) for j in range(_out(X.m, g, stride))) for i in range(_out(X.n, f, stride)))


def correlate_back_kernel(X: Mat, G: Mat, shape, stride: int) -> Mat:
    """dK[a, b] = sum over i, j of G[i, j] X[s i + a, s j + b]."""
    f, g = shape

    def entry(a, b):
        total = ZERO
        for i in range(G.n):
            for j in range(G.m):
                total = total + G[i, j] * X[stride * i + a, stride * j + b]
        return total

    return Mat(tuple(entry(a, b) for b in range(g)) for a in range(f))


def correlate_back_input(K: Mat, G: Mat, shape, stride: int, overwrite: bool = False) -> Mat:
    """dX[r, c] = sum of G[i, j] K[r - s i, c - s j] over the windows that
    hold (r, c): each output's gradient spread over its window, overlapping
    windows adding up (the full convolution of G with K)."""
    n, m = shape
    f, g = K.shape
    acc = [[ZERO] * m for _ in range(n)]
    for i in range(G.n):
        for j in range(G.m):
            for a in range(f):
                for b in range(g):
                    r, c = stride * i + a, stride * j + b
                    acc[r][c] = (ZERO if overwrite else acc[r][c]) + G[i, j] * K[a, b]
    return Mat(acc)


def window_argmax(X: Mat, i: int, j: int, size: int, stride: int) -> tuple[int, int]:
    """The first maximum of window (i, j) in row-major order."""
    best = None
    for a in range(size):
        for b in range(size):
            r, c = stride * i + a, stride * j + b
            if best is None or exact.sign(X[r, c] - X[best]) > 0:
                best = (r, c)
    return best


def window_ties(X: Mat, size: int, stride: int) -> bool:
    """Whether some max-pool window holds its maximum more than once."""
    for i in range(_out(X.n, size, stride)):
        for j in range(_out(X.m, size, stride)):
            top = X[window_argmax(X, i, j, size, stride)]
            hits = sum(1 for a in range(size) for b in range(size) if not exact.sign(X[stride * i + a, stride * j + b] - top))
            if hits > 1:
                return True
    return False


def _window_sum(X: Mat, i: int, j: int, size: int, stride: int):
    total = ZERO
    for a in range(size):
        for b in range(size):
            total = total + X[stride * i + a, stride * j + b]
    return total


def pool_back(name: str, X: Mat, G: Mat, size: int, stride: int, slip: str | None = None) -> Mat:
    """Max pooling routes each output's gradient to its window's first
    maximum; average pooling spreads it as G / size^2; overlapping windows
    add up.  ``slip``: pool_everywhere (every entry of the window gets the
    whole gradient), overlap_overwritten (the last window wins)."""
    acc = [[ZERO] * X.m for _ in range(X.n)]

    def put(r, c, x):
        acc[r][c] = x if slip == "overlap_overwritten" else acc[r][c] + x

    for i in range(G.n):
        for j in range(G.m):
            if name == "maxpool" and slip != "pool_everywhere":
                put(*window_argmax(X, i, j, size, stride), G[i, j])
            else:
                share = G[i, j] if slip == "pool_everywhere" else G[i, j] / (size * size)
                for a in range(size):
                    for b in range(size):
                        put(stride * i + a, stride * j + b, share)
    return Mat(acc)


def pool_mask(X: Mat, size: int, stride: int) -> Mat:
    """How many windows route their gradient to each entry (max pooling)."""
    acc = [[ZERO] * X.m for _ in range(X.n)]
    for i in range(_out(X.n, size, stride)):
        for j in range(_out(X.m, size, stride)):
            r, c = window_argmax(X, i, j, size, stride)
            acc[r][c] = acc[r][c] + ONE
    return Mat(acc)


def _reduce_to(G: Mat, like: Mat) -> Mat:
    """A broadcast operand's share: G summed over the dimensions ``like``
    was repeated along (all of them for a scalar)."""
    if G.shape == like.shape:
        return G
    if like.n == 1 and G.n > 1:
        G = _reduce(G, 0, _total)
    if like.m == 1 and G.m > 1:
        G = _reduce(G, 1, _total)
    return G


def _like(values: list, V: Mat) -> Mat:
    """A flat list of numbers in V's shape (a gamma given as a row or a column)."""
    return Mat([values]) if V.n == 1 else Mat([[v] for v in values])


def _is_scale(t) -> bool:
    """A division of a matrix product by a constant: attention's 1/sqrt(d)."""
    def has_matmul(u):
        if isinstance(u, Bin):
            return u.op == "@" or has_matmul(u.a) or has_matmul(u.b)
        if isinstance(u, Fn):
            return any(has_matmul(a) for a in u.args)
        if isinstance(u, Neg):
            return has_matmul(u.a)
        return False

    return isinstance(t, Bin) and t.op == "/" and not names(t.b) and has_matmul(t.a)


def Fr_value(q) -> float:
    """|q| as a float, large rationals included."""
    return abs(exact.numer(q)) / exact.denom(q) if exact.bits(q) < 2000 else float("inf")
