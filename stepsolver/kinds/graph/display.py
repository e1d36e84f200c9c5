"""How a graph's names and expressions are written: display names, the
expression in LaTeX (with names, or with numbers substituted), the symbolic
local derivative of a scalar node, and the backward rule of a vector node.

Display names: ``w1`` is w_1, ``L_reg`` is L_{reg}, ``yhat`` is y-hat,
Greek names (``lam``, ``lambda``, ``alpha``, ``sigma``, ...) are Greek; a
``[symbols]`` form ``W^(1)`` is W^{(1)}.  Nothing here computes a value.
"""

from __future__ import annotations

import re

from ...exact import ONE, ZERO, Q
from .expr import Bin, Fn, Neg, Num, Ref

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eps": "ε", "zeta": "ζ", "eta": "η",
    "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "lam": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π",
    "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ",
    "Psi": "Ψ", "Omega": "Ω",
}
GREEK_TEX = {k: ("\\" + ("lambda" if k == "lam" else "epsilon" if k == "eps" else k)) for k in GREEK}
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_PARTS = re.compile(r"^([A-Za-z]+?)(hat)?(\d*)$")


def _base(word: str, tex: bool) -> str:
    if word in GREEK:
        return GREEK_TEX[word] if tex else GREEK[word]
    if len(word) == 1:
        return word
    return f"\\mathrm{{{word}}}" if tex else word


def name_latex(name: str, symbols: dict | None = None) -> str:
    form = (symbols or {}).get(name, name)
    sup = None
    if "^" in form:
        form, sup = form.split("^", 1)
        sup = sup if sup.startswith("(") else sup
    head, _, sub = form.partition("_")
    m = _PARTS.match(head)
    if m:
        word, hat, digits = m.groups()
        body = _base(word, True)
        if hat:
            body = f"\\hat{{{body}}}"
        subs = [d for d in (digits, sub) if d]
    else:
        body, subs = _base(head, True), [sub] if sub else []
    out = body
    if subs:
        s = ",".join(x if x.isdigit() else (_base(x, True) if x in GREEK or len(x) == 1 else f"\\mathrm{{{x}}}")
                     for x in subs)
        out += f"_{{{s}}}"
    if sup:
        out = f"{{{out}}}^{{{sup}}}"
    return out


def name_text(name: str, symbols: dict | None = None) -> str:
    form = (symbols or {}).get(name, name)
    sup = ""
    if "^" in form:
        form, sup = form.split("^", 1)
        sup = "^" + sup
    head, _, sub = form.partition("_")
    m = _PARTS.match(head)
    if m:
        word, hat, digits = m.groups()
        body = _base(word, False)
        if hat:
            body = body + "\u0302"
        out = body + digits.translate(SUB)
    else:
        out = _base(head, False)
    if sub:
        out += "_" + sub
    return out + sup


# ------------------------------------------------------------------ LaTeX of a tree
PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}
FN_TEX = {"exp": "\\exp", "log": "\\ln", "tanh": "\\tanh", "sigmoid": "\\sigma", "relu": "\\operatorname{relu}",
          "max": "\\max", "min": "\\min"}


def fn_tex(t) -> str:
    """The LaTeX name of a function node: \\sigma, \\ln, the activation's own
    (softplus, a file's g), with a prime for its derivative."""
    name, prime = (t.name[:-1], "'") if t.name.endswith("'") else (t.name, "")
    if name in FN_TEX:
        return FN_TEX[name] + prime
    if len(name) == 1:  # a file's own g: as a mathematician writes g(x)
        return name + prime
    return f"\\operatorname{{{_tex_word(name)}}}{prime}"  # as written: softplus, leaky_relu


def _tex_word(name: str) -> str:
    """A name as a LaTeX word (leaky\\_relu: an underscore is not a subscript)."""
    return name.replace("_", "\\_")


def latex(t, leaf, number=None) -> str:
    """LaTeX of a tree; ``leaf(name)`` writes a name (a symbol or its value),
    ``number(q)`` a constant."""
    number = number or (lambda q: str(q))
    return _tex(t, leaf, number, 0)


def _atomic(t) -> bool:
    return isinstance(t, (Ref, Fn)) or (isinstance(t, Num) and t.q >= 0)


def _tex(t, leaf, number, ctx: int) -> str:
    if isinstance(t, Num):
        s = number(t.q)
        return f"\\left({s}\\right)" if ctx >= 2 and t.q < 0 else s
    if isinstance(t, Ref):
        return leaf(t.name)
    if isinstance(t, Neg):
        s = "-" + _tex(t.a, leaf, number, 3)
        return f"\\left({s}\\right)" if ctx >= 1 else s
    if isinstance(t, Fn):
        args = [_tex(a, leaf, number, 0) for a in t.args]
        if t.name == "T":
            return f"{_tex(t.args[0], leaf, number, 5)}^{{\\top}}"
        if t.name in LAYERS:
            return layer_tex(t, args, lambda u: _tex(u, leaf, number, 3), number)
        if t.name == "sqrt":
            return f"\\sqrt{{{args[0]}}}"
        if t.name == "abs":
            return f"\\left|{args[0]}\\right|"
        if t.name in ("conv2d", "convolve2d"):
            return conv_tex(t, args)
        if t.name in ("maxpool", "avgpool"):
            return pool_tex(t, args[0])
        if t.name in ("relu'", "sign", "ge", "le"):
            inner = {"relu'": "\\operatorname{relu}'", "sign": "\\operatorname{sign}"}
            if t.name in ("ge", "le"):
                op = "\\ge" if t.name == "ge" else "\\le"
                return f"[{args[0]} {op} {args[1]}]"
            return f"{inner[t.name]}\\left({args[0]}\\right)"
        return f"{fn_tex(t)}\\left({', '.join(args)}\\right)"
    p = PREC[t.op]
    if t.op == "/":
        s = f"\\frac{{{_tex(t.a, leaf, number, 0)}}}{{{_tex(t.b, leaf, number, 0)}}}"
        return s
    if t.op == "**":
        base = _tex(t.a, leaf, number, 5)
        if not _atomic(t.a) or isinstance(t.a, Fn):
            base = f"\\left({_tex(t.a, leaf, number, 0)}\\right)"
        return f"{base}^{{{_tex(t.b, leaf, number, 0)}}}"
    a = _tex(t.a, leaf, number, p)
    b = _tex(t.b, leaf, number, p + 1 if t.op in "-" else p)
    if t.op == "+":
        s = f"{a} + {b}"
    elif t.op == "-":
        s = f"{a} - {b}"
    elif t.op == "@":
        s = f"{a} {b}"
    else:
        s = f"{a} \\cdot {b}"
    return f"\\left({s}\\right)" if ctx > p or (ctx == p and t.op in "+-" and ctx > 1) else s


#: the layers' functions (kinds/graph/expr.py, LAYER_SETTINGS)
LAYERS = ("sum", "mean", "var", "softmax", "log_softmax", "batchnorm", "layernorm", "dropout", "embedding", "concat")
#: the index a reduction or a softmax runs over: axis 0 down the rows (i), axis 1 along each row (j)
AXIS_INDEX = {0: "i", 1: "j"}


def axis_sub(axis) -> str:
    return "" if axis is None else f"_{{{AXIS_INDEX[axis]}}}"


def layer_tex(t, args, tight, number) -> str:
    """LaTeX of a layer function: sum_i X, mean_j(X), softmax_j(Z), BN(X; gamma, beta), ..."""
    name = t.name
    if name == "sum":
        return f"\\textstyle\\sum{axis_sub(t.opts[0])} {tight(t.args[0])}"
    if name in ("mean", "var"):
        return f"\\operatorname{{{name}}}{axis_sub(t.opts[0])}\\left({args[0]}\\right)"
    if name in ("softmax", "log_softmax"):
        word = "softmax" if name == "softmax" else "log\\,softmax"
        return f"\\operatorname{{{word}}}{axis_sub(t.opts[0])}\\left({args[0]}\\right)"
    if name in ("batchnorm", "layernorm"):
        word = "BN" if name == "batchnorm" else "LN"
        return f"\\operatorname{{{word}}}\\left({args[0]};\\, {args[1]}, {args[2]}\\right)"
    if name == "dropout":
        return f"\\frac{{{_group(args[0])} \\odot {_group(args[1])}}}{{1 - {number(t.opts[0])}}}"
    if name == "embedding":
        idx = ", ".join(map(str, t.opts[0])) if t.opts[0] is not None else args[1]
        return f"{_group(args[0])}_{{\\left[{idx}\\right],\\,:}}"
    if name == "concat":
        sep = " \\\\ " if t.opts[0] == 0 else " & "
        return "\\left[\\begin{array}{" + ("c" if t.opts[0] == 0 else "c" * len(args)) + "}" + sep.join(args) + "\\end{array}\\right]"
    raise AssertionError(name)


def _group(s: str) -> str:
    """A matrix operand as one group: a name or a matrix stays, anything else is parenthesised."""
    if re.fullmatch(r"[\\A-Za-z0-9_{}^()\[\]]+", s) or (s.startswith("\\begin{") and s.count("\\begin{") == 1):
        return s
    return f"\\left({s}\\right)"


def conv_tex(t, args) -> str:
    """X star K (cross-correlation, conv2d) or X ast K (convolve2d), the
    stride and padding written under the operator when they are not 1 and 0."""
    stride, pad = t.opts
    op = "\\star" if t.name == "conv2d" else "\\ast"
    notes = [f"s={stride}"] if stride != 1 else []
    if pad:
        notes.append(f"p={pad}")
    sep = ",\\,"
    sub = "_{" + sep.join(notes) + "}" if notes else ""
    return f"{_group(args[0])} {op}{sub} {_group(args[1])}"


def pool_tex(t, arg) -> str:
    size, stride = t.opts
    sub = f"{size}\\times {size}" + (f",\\,s={stride}" if stride != size else "")
    return f"\\operatorname{{{t.name}}}_{{{sub}}}\\left({arg}\\right)"


# ------------------------------------------------------------------ symbolic derivatives (scalar nodes)
def _num(q) -> Num:
    return Num(Q(q) if isinstance(q, int) else q, str(q))


def _is(t, q) -> bool:
    return isinstance(t, Num) and t.q == q


def _mul(a, b):
    if isinstance(a, Num) and isinstance(b, Bin) and b.op == "*" and isinstance(b.a, Num):
        return _mul(_num(a.q * b.a.q), b.b)
    if _is(a, 0) or _is(b, 0):
        return _num(0)
    if _is(a, 1):
        return b
    if _is(b, 1):
        return a
    if _is(a, -1):
        return _neg(b)
    if _is(b, -1):
        return _neg(a)
    if isinstance(a, Num) and isinstance(b, Num):
        return _num(a.q * b.q)
    if isinstance(b, Num) and not isinstance(a, Num):
        return _mul(b, a)
    return Bin("*", a, b)


def _add(a, b):
    if _is(a, 0):
        return b
    if _is(b, 0):
        return a
    if isinstance(a, Num) and isinstance(b, Num):
        return _num(a.q + b.q)
    if isinstance(b, Neg):
        return Bin("-", a, b.a)
    if isinstance(b, Num) and b.q < 0:
        return Bin("-", a, _num(-b.q))
    return Bin("+", a, b)


def _neg(a):
    if isinstance(a, Num):
        return _num(-a.q)
    if isinstance(a, Neg):
        return a.a
    return Neg(a)


def _div(a, b):
    if _is(a, 0):
        return _num(0)
    if _is(b, 1):
        return a
    if isinstance(b, Num) and b.q:
        if isinstance(a, Num):
            return _num(a.q / b.q)
        if isinstance(a, Bin) and a.op == "*" and isinstance(a.a, Num):
            return _mul(_num(a.a.q / b.q), a.b)
        if isinstance(a, Neg):
            return _neg(_div(a.a, b))
    return Bin("/", a, b)


def local_derivative(node_tree, node_name: str, name: str):
    """d node / d name, written with the node's own name where its whole
    expression reappears (sigma'(z) = y (1 - y) for y = sigma(z))."""
    return replace(deriv(node_tree, name), node_tree, Ref(node_name))


def replace(t, old, new):
    if t == old:
        return new
    if isinstance(t, Bin):
        return Bin(t.op, replace(t.a, old, new), replace(t.b, old, new))
    if isinstance(t, Neg):
        return Neg(replace(t.a, old, new))
    if isinstance(t, Fn):
        return Fn(t.name, tuple(replace(a, old, new) for a in t.args), t.opts)
    return t


def deriv(t, name: str):
    """d t / d name, as a tree (scalar trees)."""
    if isinstance(t, Num):
        return _num(0)
    if isinstance(t, Ref):
        return _num(1 if t.name == name else 0)
    if isinstance(t, Neg):
        return _neg(deriv(t.a, name))
    if isinstance(t, Fn):
        if t.name in ("T", "sum"):
            return deriv(t.args[0], name)
        if t.name in ("max", "min"):
            a, b = t.args
            ind = Fn("ge" if t.name == "max" else "le", (a, b))
            da, db = deriv(a, name), deriv(b, name)
            return _add(_mul(ind, da), _mul(_add(_num(1), _neg(ind)), db)) if not _is(db, 0) else _mul(ind, da)
        a = t.args[0]
        da = deriv(a, name)
        if _is(da, 0):
            return _num(0)
        outer = {
            "exp": lambda: t,
            "log": lambda: _div(_num(1), a),
            "sqrt": lambda: _div(_num(1), _mul(_num(2), t)),
            "tanh": lambda: _add(_num(1), _neg(Bin("**", t, _num(2)))),
            "sigmoid": lambda: _mul(t, Bin("-", _num(1), t)),
            "relu": lambda: Fn("relu'", (a,)),
            "abs": lambda: Fn("sign", (a,)),
            "identity": lambda: _num(1),
            "linear": lambda: _num(1),
            "square": lambda: _mul(_num(2), a),
        }.get(t.name, lambda: Fn(t.name + "'", (a,), act=t.act))()
        return _mul(outer, da)
    a, b = t.a, t.b
    if t.op == "+":
        return _add(deriv(a, name), deriv(b, name))
    if t.op == "-":
        return _add(deriv(a, name), _neg(deriv(b, name)))
    if t.op in ("*", "@"):
        return _add(_mul(deriv(a, name), b), _mul(a, deriv(b, name)))
    if t.op == "/":
        da, db = deriv(a, name), deriv(b, name)
        if _is(db, 0):
            return _div(da, b)
        return _div(_add(_mul(da, b), _neg(_mul(a, db))), Bin("**", b, _num(2)))
    if t.op == "**":
        da, db = deriv(a, name), deriv(b, name)
        if _is(db, 0):
            if isinstance(b, Num):
                p = b.q
                power = a if p - 1 == ONE else (_num(1) if p - 1 == ZERO else Bin("**", a, _num(p - 1)))
                return _mul(_mul(_num(p), power), da)
            return _mul(_mul(b, Bin("**", a, _add(b, _num(-1)))), da)
        return _mul(t, _add(_mul(db, Fn("log", (a,))), _div(_mul(b, da), a)))
    raise AssertionError(t)


# ------------------------------------------------------------------ the backward rule of a vector node
def _one_factor(s: str, products: bool = False) -> bool:
    """Whether LaTeX ``s`` reads as one factor: nothing at its top level
    (outside braces, brackets and \\left ... \\right) joins two parts;
    with ``products``, a product is one factor too (only a sum or a leading
    minus is not: what may follow a \\cdot without parentheses)."""
    depth, i = 0, 0
    if s.startswith("-"):
        return False
    while i < len(s):
        if s.startswith("\\left", i) or s.startswith("\\begin", i):
            depth += 1
            i += 5
            continue
        if s.startswith("\\right", i) or s.startswith("\\end", i):
            depth -= 1
            i += 4
            continue
        ch = s[i]
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif depth == 0 and products:
            if ch in "+-" and 0 < i < len(s) - 1 and s[i - 1] == " " and s[i + 1] == " ":
                return False
        elif depth == 0 and (ch in "+- " or s.startswith(("\\cdot", "\\odot", "\\oslash", "\\,", "\\star",
                                                          "\\ast", "\\textstyle"), i)):
            return False
        i += 1
    return True


def _wrap(s: str, products: bool = False) -> str:
    """s as one factor: a name, a number, one matrix or one function's value as it is, anything else in
    parentheses (with ``products``, a product as it is: a factor after a \\cdot)."""
    return s if _one_factor(s, products) else f"\\left({s}\\right)"


def factor(s: str) -> str:
    """LaTeX ``s`` as a factor after a \\cdot: in parentheses where it is a sum or starts with a minus."""
    return _wrap(s, products=True)


class _Rule:
    """A backward rule as a teacher writes it while it is being built:
    coef x (scalar factors) / (scalar divisors) x (entrywise factors), of the
    shape of the quantity it is the gradient of.  Constant factors are folded
    into coef (the 1/2 of a loss and the 2 of its square cancel), a power's
    exponent is reduced (2 (P - Y)^1 is 2 (P - Y)), and a scalar spread over a
    matrix by a sum is the scalar itself until it ends the rule alone (then it
    is written times the ones, 1).  Display only: the numbers substituted are
    still the ones the engine used."""

    __slots__ = ("coef", "den", "had", "scal", "shape")

    def __init__(self, shape, coef=ONE, scal=(), den=(), had=()):
        self.shape, self.coef, self.scal, self.den, self.had = shape, coef, tuple(scal), tuple(den), tuple(had)

    @classmethod
    def of(cls, text: str, shape) -> _Rule:
        return cls(shape, scal=(text,)) if shape == (1, 1) else cls(shape, had=(text,))

    def _with(self, **kw) -> _Rule:
        d = {"shape": self.shape, "coef": self.coef, "scal": self.scal, "den": self.den, "had": self.had}
        d.update(kw)
        return _Rule(**d)

    def times_const(self, q) -> _Rule:
        return self._with(coef=self.coef * q)

    def times(self, text: str, shape, out_shape=None) -> _Rule:
        """The rule times a factor of ``shape`` (a scalar factor, or an entrywise one)."""
        out = out_shape or self.shape
        if text in ("1", "1.0"):
            return self._with(shape=out)
        if shape == (1, 1):
            return self._with(scal=self.scal + (text,), shape=out)
        return self._with(had=self.had + (text,), shape=out)

    def divided(self, text: str) -> _Rule:
        return self._with(den=self.den + (text,))

    def reduced(self, target) -> _Rule:
        """The rule summed to ``target``'s shape where it was broadcast (only to a scalar is the sum written)."""
        if target == self.shape or target != (1, 1):
            return self._with(shape=target) if target != self.shape else self
        if not self.had:  # the sum of a scalar spread over N entries: N times it
            return self._with(shape=(1, 1), coef=self.coef * Q(self.shape[0] * self.shape[1]))
        return _Rule((1, 1), scal=(f"\\textstyle\\sum {_wrap(self.body())}",))

    def body(self) -> str:
        return _Rule(self.shape, had=self.had).text() if self.had else "\\mathbf{1}"

    def text(self) -> str:
        c = self.coef
        sign = "-" if c < 0 else ""
        c = -c if c < 0 else c
        p, q = int(c.numerator), int(c.denominator)
        many = len(self.scal) + len(self.had) + (p != 1) > 1 or bool(self.den) or q != 1
        top = [] if p == 1 and (self.scal or self.had or q != 1) else [str(p)]
        top += [_wrap(x) if many else x for x in self.scal]
        bottom = ([str(q)] if q != 1 else []) + [_wrap(x) for x in self.den]
        head = "\\, ".join(top)
        if bottom:
            dot = " \\cdot "
            head = f"\\frac{{{head or '1'}}}{{{dot.join(bottom)}}}"
        had = [_wrap(x) if len(self.had) > 1 else _wrap(x, products=True) if head else x for x in self.had]
        if not had and self.shape != (1, 1):
            had = ["\\mathbf{1}"]
        body = " \\odot ".join(had)
        if head and body:
            out = f"{head}\\, {body}" if not self.scal and not self.den and q == 1 else f"{head} \\cdot {body}"
        else:
            out = head or body or "1"
        if sign and (out.startswith("-")):
            out = _wrap(out)
        return sign + out


def vjp_terms(t, name: str, G: str, leaf, shapes, own=None, number=None) -> list[str]:
    """LaTeX of each term the upstream ``G`` contributes to ``name`` through
    the tree (a matrix rule: z = W @ x gives W: G x^T); ``own`` = (tree,
    LaTeX of the node's name) writes the whole node by its name (softmax's S).
    Each term is simplified as a teacher writes it (:class:`_Rule`)."""
    out: list[str] = []
    number_of = number or (lambda q: str(q))

    def shape(u):
        from .expr import shape_of

        return shape_of(u, shapes, "display")

    def tex(u):
        return latex(u, leaf)

    wrap = _wrap

    def back(u, g):
        if isinstance(g, str):
            g = _Rule.of(g, shape(u))
        if isinstance(u, Num):
            return
        if isinstance(u, Ref):
            if u.name == name:
                out.append(g)
            return
        if isinstance(u, Neg):
            back(u.a, g.times_const(-ONE))
            return
        if isinstance(u, Fn):
            a = u.args[0]
            if u.name == "T":
                if g.shape == (1, 1):
                    back(a, g)
                elif len(g.had) == 1:
                    f = g.had[0]
                    f = f[: -len("^{\\top}")] if f.endswith("^{\\top}") else f"{wrap(f)}^{{\\top}}"
                    back(a, g._with(had=(f,), shape=shape(a)))
                elif not g.had:
                    back(a, g._with(shape=shape(a)))
                else:
                    back(a, f"{wrap(g.text())}^{{\\top}}")
            elif u.name in LAYERS:
                layer_back(u, g)
            elif u.name in ("conv2d", "convolve2d"):
                gs = g.text()
                stride, pad = u.opts
                K = u.args[1]
                Gd = f"\\operatorname{{dil}}_{{{stride}}}\\left({gs}\\right)" if stride != 1 else wrap(gs)
                full = "\\ast" if u.name == "conv2d" else "\\star"
                dx = f"{Gd} {full}_{{\\mathrm{{full}}}} {_group(tex(K))}"
                back(a, f"\\operatorname{{crop}}_{{{pad}}}\\left({dx}\\right)" if pad else dx)
                Xt = f"\\operatorname{{pad}}_{{{pad}}}\\left({tex(a)}\\right)" if pad else _group(tex(a))
                dk = f"{Xt} \\star {Gd}"
                back(K, dk if u.name == "conv2d" else f"\\operatorname{{rot}}_{{180}}\\left({dk}\\right)")
            elif u.name in ("maxpool", "avgpool"):
                size, stride = u.opts
                how = "\\max" if u.name == "maxpool" else "\\mathrm{avg}"
                back(a, f"\\operatorname{{unpool}}^{{{how}}}_{{{size}\\times {size}" +
                     (f",\\,s={stride}" if stride != size else "") + f"}}\\left({g.text()}\\right)")
            elif u.name in ("max", "min"):
                op = "\\ge" if u.name == "max" else "\\le"
                b = u.args[1]
                back(a, g.times(f"[{tex(a)} {op} {tex(b)}]", shape(u), shape(u)).reduced(shape(a)))
                back(b, g.times(f"[{tex(b)} {'<' if u.name == 'max' else '>'} {tex(a)}]", shape(u),
                                shape(u)).reduced(shape(b)))
            else:
                inner = Fn(u.name, (Ref("\0"),))
                d = deriv(inner, "\0")
                if _is(d, 1):
                    back(a, g)
                    return
                if own is not None and u == own[0]:  # tanh' = 1 - h^2 and sigma' = s(1 - s), by the node's name
                    d = replace(d, inner, Ref("\1"))
                local = latex(d, lambda n: wrap(tex(a)) if n == "\0" else own[1] if n == "\1" else leaf(n), None)
                back(a, g.times(local, shape(a)))
            return
        a, b = u.a, u.b
        sa, sb, su = shape(a), shape(b), shape(u)

        if u.op == "+":
            back(a, g.reduced(sa))
            back(b, g.reduced(sb))
        elif u.op == "-":
            back(a, g.reduced(sa))
            back(b, g.times_const(-ONE).reduced(sb))
        elif u.op == "*":
            for x, y, sx in ((a, b, sa), (b, a, sb)):
                if isinstance(y, Num):
                    back(x, g.times_const(y.q).reduced(sx))
                else:
                    back(x, g.times(tex(y), shape(y), su).reduced(sx))
        elif u.op == "/":
            if isinstance(b, Num) and b.q:
                back(a, g.times_const(1 / b.q).reduced(sa))
            elif sb == (1, 1):
                back(a, g.divided(tex(b)).reduced(sa))
                back(b, g.times_const(-ONE).times(tex(a), sa, su).divided(f"{wrap(tex(b))}^{{2}}").reduced(sb))
            else:
                gs = g.text()
                rule = f"{wrap(gs)} \\oslash {wrap(tex(b))}"
                back(a, rule if su == sa else f"\\textstyle\\sum {wrap(rule)}")
                rule = f"-{wrap(gs)} \\odot {wrap(tex(a))} \\oslash {wrap(tex(b))}^{{2}}"
                back(b, rule if su == sb else f"\\textstyle\\sum {wrap(rule)}")
        elif u.op == "**":
            if isinstance(b, Num):
                p = b.q
                r = g.times_const(p)
                if p - 1 == ONE:
                    r = r.times(tex(a), sa, su)
                elif p - 1 != ZERO:
                    r = r.times(f"{wrap(tex(a))}^{{{latex(_num(p - 1), leaf)}}}", sa, su)
                back(a, r.reduced(sa))
            else:
                gs = g.text()
                back(a, g.times(tex(b), sb, su).times(f"{wrap(tex(a))}^{{{tex(b)} - 1}}", sa, su).reduced(sa))
                back(b, g.times(f"{wrap(tex(u))} \\ln {wrap(tex(a))}", su, su).reduced(sb))
        elif u.op == "@":
            if g.shape == (1, 1):
                back(a, g.times(transposed(b), (2, 2), sa))
                back(b, g.times(transposed(a), (2, 2), sb))
            else:
                head = g._with(had=(), shape=(1, 1))
                gs = g.body()
                gt = gs[: -len("^{\\top}")] if gs.endswith("^{\\top}") else f"{wrap(gs)}^{{\\top}}"
                # (G B^T) for A, (A^T G) for B; for a transposed operand A = C^T, C-bar = B G^T (and the like)
                if isinstance(a, Fn) and a.name == "T":
                    back(a.args[0], head.times(f"{wrap(tex(b))}\\, {gt}", (2, 2), shape(a.args[0])))
                else:
                    back(a, head.times(f"{wrap(gs)}\\, {transposed(b)}", (2, 2), sa))
                if isinstance(b, Fn) and b.name == "T":
                    back(b.args[0], head.times(f"{gt}\\, {wrap(tex(a))}", (2, 2), shape(b.args[0])))
                else:
                    back(b, head.times(f"{transposed(a)} {wrap(gs)}", (2, 2), sb))

    def transposed(u):
        """u^T, and (K^T)^T written K."""
        if isinstance(u, Fn) and u.name == "T":
            return wrap(tex(u.args[0]))
        return f"{wrap(tex(u))}^{{\\top}}"

    def named(u):
        """A subtree by the node's own name where it is the whole node (S for softmax(Z))."""
        return own[1] if own is not None and u == own[0] else tex(u)

    def layer_back(u, rule):
        a = u.args[0]
        name, axis = u.name, (u.opts[0] if u.opts else None)
        sa = shape(a)
        i = AXIS_INDEX.get(axis, "")
        if name in ("sum", "mean") and axis is None:
            k = sa[0] * sa[1]
            r = rule._with(shape=sa)  # the scalar spread over the entries: the ones stay implicit
            back(a, r.times_const(1 / Q(k)) if name == "mean" else r)
            return
        g = rule.text()
        if name in ("sum", "mean"):
            spread = f"\\mathbf{{1}}\\, {wrap(g)}" if axis == 0 else f"{wrap(g)}\\, \\mathbf{{1}}^{{\\top}}"
            if name == "mean":
                k = sa[axis]
                spread = f"\\frac{{1}}{{{k}}} {spread}"
            back(a, spread)
        elif name == "var":
            k = sa[0] * sa[1] if axis is None else sa[axis]
            mu = f"\\operatorname{{mean}}{axis_sub(axis)}\\left({tex(a)}\\right)"
            spread = g if axis is None else (f"\\mathbf{{1}}\\, {wrap(g)}" if axis == 0 else f"{wrap(g)}\\, \\mathbf{{1}}^{{\\top}}")
            back(a, f"\\frac{{2}}{{{k}}}\\, {wrap(spread)} \\odot \\left({tex(a)} - {mu}\\right)")
        elif name == "softmax":
            S = named(u)
            sub = f"_{{{i}}}" if i else ""
            back(a, f"{wrap(S)} \\odot \\left({g} - \\textstyle\\sum{sub} {wrap(g)} \\odot {wrap(S)}\\right)")
        elif name == "log_softmax":
            sub = f"_{{{i}}}" if i else ""
            soft = f"\\operatorname{{softmax}}{sub}\\left({tex(a)}\\right)"
            back(a, f"{g} - {soft} \\odot \\textstyle\\sum{sub} {wrap(g)}")
        elif name in ("batchnorm", "layernorm"):
            k = "i" if name == "batchnorm" else "j"
            N = sa[0] if name == "batchnorm" else sa[1]
            gamma = tex(u.args[1])
            gh = f"{wrap(g)} \\odot {wrap(gamma)}" if name == "layernorm" else wrap(g)
            front = (f"\\frac{{{gamma}}}{{{N} \\sqrt{{\\sigma^{{2}} + \\epsilon}}}}" if name == "batchnorm"
                     else f"\\frac{{1}}{{{N} \\sqrt{{\\sigma^{{2}} + \\epsilon}}}}")
            back(a, f"{front} \\odot \\left({N}\\, {gh} - \\textstyle\\sum_{{{k}}} {gh} - \\hat{{x}} \\odot "
                    f"\\textstyle\\sum_{{{k}}} {gh} \\odot \\hat{{x}}\\right)")
            back(u.args[1], f"\\textstyle\\sum_{{i}} {wrap(g)} \\odot \\hat{{x}}")
            back(u.args[2], f"\\textstyle\\sum_{{i}} {wrap(g)}")
        elif name == "dropout":
            p = number_of(u.opts[0])
            back(a, f"\\frac{{{wrap(g)} \\odot {wrap(tex(u.args[1]))}}}{{1 - {p}}}")
            back(u.args[1], f"\\frac{{{wrap(g)} \\odot {wrap(tex(a))}}}{{1 - {p}}}")
        elif name == "embedding":
            idx = ", ".join(map(str, u.opts[0])) if u.opts[0] is not None else tex(u.args[1])
            back(a, f"\\operatorname{{scatter}}_{{\\left[{idx}\\right]}}\\left({g}\\right)")
        elif name == "concat":
            at = 0
            for part in u.args:
                r, c = shape(part)
                size = r if u.opts[0] == 0 else c
                span = f"{at + 1}" if size == 1 else f"{at + 1}..{at + size}"
                rows = f"{span},\\,:" if u.opts[0] == 0 else f":,\\,{span}"
                back(part, f"{wrap(g)}_{{{rows}}}")
                at += size

    back(t, G)
    # the same term met on two paths (Y * Y) is written once, twice as much
    merged: dict = {}
    for r in out:
        k = (r.shape, r.scal, r.den, r.had)
        merged[k] = merged[k]._with(coef=merged[k].coef + r.coef) if k in merged else r
    return [r.text() for r in merged.values() if r.coef != 0] or ["0"]


# ------------------------------------------------------------------ one entry written out (--detail element)
def expand(t, i: int, j: int, entry, number, shapes) -> str:
    """LaTeX of entry (i, j) of a tree's value with every number written:
    a matrix product as its sum, a transpose by its indices, sum() by its
    terms.  ``entry(name, i, j)`` writes one entry of a name's value."""
    from .expr import shape_of

    def shape(u):
        return shape_of(u, shapes, "display")

    def at(u, a, b):
        sa = shape(u)
        return (0, 0) if sa == (1, 1) else (a, b)

    def wrap(s):
        return f"\\left({s}\\right)" if re.search(r" [-+] |\\cdot", s) else s

    def go(u, a, b) -> str:
        if isinstance(u, Num):
            s = number(u.q)
            return f"\\left({s}\\right)" if s.startswith("-") else s
        if isinstance(u, Ref):
            x, y = at(u, a, b)
            s = entry(u.name, x, y)
            return f"\\left({s}\\right)" if s.startswith("-") else s
        if isinstance(u, Neg):
            return f"-{wrap(go(u.a, a, b))}"
        if isinstance(u, Fn):
            if u.name == "T":
                return go(u.args[0], b, a)
            if u.name in ("sum", "mean") and len(u.args) == 1:
                n, m = shape(u.args[0])
                axis = u.opts[0] if u.opts else None
                cells = ([(r, c) for r in range(n) for c in range(m)] if axis is None else
                         [(r, b) for r in range(n)] if axis == 0 else [(a, c) for c in range(m)])
                total = " + ".join(go(u.args[0], r, c) for r, c in cells)
                return total if u.name == "sum" else f"\\frac{{{total}}}{{{len(cells)}}}"
            if u.name in LAYERS:  # written whole in the matrix line above; here its entry
                return f"\\left[{fn_tex(u)}\\right]_{{{a + 1}{b + 1}}}"
            if u.name in ("conv2d", "convolve2d"):
                stride, pad = u.opts
                n, m = shape(u.args[0])
                f, g = shape(u.args[1])
                terms = []
                for p in range(f):
                    for q in range(g):
                        r, c = stride * a + p - pad, stride * b + q - pad
                        kp, kq = (p, q) if u.name == "conv2d" else (f - 1 - p, g - 1 - q)
                        x = go(u.args[0], r, c) if 0 <= r < n and 0 <= c < m else "0"
                        terms.append(f"{go(u.args[1], kp, kq)} \\cdot {x}")
                return " + ".join(terms)
            if u.name in ("maxpool", "avgpool"):
                size, stride = u.opts
                cells = [go(u.args[0], stride * a + p, stride * b + q) for p in range(size) for q in range(size)]
                if u.name == "maxpool":
                    return f"\\max\\left({', '.join(cells)}\\right)"
                return f"\\frac{{{' + '.join(cells)}}}{{{size * size}}}"
            if u.name in ("max", "min"):
                (x1, y1), (x2, y2) = at(u.args[0], a, b), at(u.args[1], a, b)
                return f"{FN_TEX[u.name]}\\left({go(u.args[0], x1, y1)}, {go(u.args[1], x2, y2)}\\right)"
            inner = go(u.args[0], *at(u.args[0], a, b))
            if u.name == "sqrt":
                return f"\\sqrt{{{inner}}}"
            if u.name == "abs":
                return f"\\left|{inner}\\right|"
            return f"{fn_tex(u)}\\left({inner}\\right)"
        if u.op == "@":
            k = shape(u.a)[1]
            return " + ".join(f"{go(u.a, a, q)} \\cdot {go(u.b, q, b)}" for q in range(k))
        left, right = go(u.a, *at(u.a, a, b)), go(u.b, *at(u.b, a, b))
        if u.op == "/":
            return f"\\frac{{{left}}}{{{right}}}"
        if u.op == "**":
            base = left if left.startswith("\\left") else wrap(left)
            return f"{base}^{{{right}}}"
        op = {"+": "+", "-": "-", "*": "\\cdot"}[u.op]
        if u.op == "*":
            left, right = wrap(left), wrap(right)
        if u.op == "-":
            right = wrap(right)
        return f"{left} {op} {right}"

    return go(t, i, j)
