"""The activation registry: each activation with its derivative kept beside it.

An activation knows

* its exact value and derivative at a rational or irrational z (rationals
  stay rational wherever the mathematics allows: relu, square, sigmoid(0));
* its value and derivative on arrays for the independent cross-check, in
  numerically stable forms, written against an array namespace ``xp``
  (NumPy float64, or mpmath numbers in object arrays; see numeric.py);
* how a teacher writes it: a LaTeX name, its definition and derivative in
  terms of z, and the derivative in terms of a where students use that form
  (a(1 - a) for the sigmoid);
* its convention at a kink (relu'(0) = 0, leaky_relu'(0) = the slope).

Adding an activation means adding a class here and a line in
:data:`REGISTRY`.

Size: about 500 lines, eleven short classes of the same shape side by side.
"""

from __future__ import annotations

from string import Template
from typing import Callable

from .. import exact
from ..errors import InputError
from ..exact import MP, ONE, ZERO, Q, Irr, is_rational, q_latex, q_str
from ..exact.symbolic import Sym
from ..lang import Text


def _sub(template: str, **kw) -> str:
    """Fill ${z} / ${a} with a symbol; ${Z} / ${A} are the same symbol made
    safe to raise to a power (parenthesised when it has a superscript)."""
    for k in list(kw):
        v = kw[k]
        kw[k.upper()] = f"\\left({v}\\right)" if "^" in v else v
    return Template(template).substitute(**kw)


def _neg_text(q) -> str:
    """Text of -q for 'exp(-q)'."""
    return q_str(-q)


class Activation:
    """Base class; subclasses fill in the class attributes and methods."""

    name = ""
    aliases: tuple[str, ...] = ()
    #: LaTeX of the function's name as applied: "\sigma", "\tanh"
    tex_name = "g"
    #: LaTeX definition in terms of ${z}
    tex_def = "${z}"
    #: LaTeX derivative in terms of ${z}
    tex_deriv = "1"
    #: LaTeX derivative in terms of ${a} (the output), or None
    tex_deriv_a: str | None = None
    #: convention at a kink, as a sentence (a lang.Text), or None
    convention: str | None = None
    #: the rule of that convention in symbols (relu'(0) = 0)
    kink_rule: str | None = None
    #: piecewise: the float cross-check takes its branch from the exact z
    piecewise = False
    #: acts on a whole column (softmax) rather than entry by entry
    vector = False
    #: the derivative is 1 everywhere (no g'(z) factor worth showing)
    is_identity = False
    #: rational inputs give rational values (the fast exact path)
    rational = False

    def value(self, z):
        raise NotImplementedError

    def deriv(self, z, a):
        """g'(z); ``a`` = g(z) is passed so forms such as a(1 - a) stay cheap."""
        raise NotImplementedError

    def deriv_from_a(self, z, a):
        """g'(z) as a student computes it from a (a(1 - a) for the sigmoid);
        the same as :meth:`deriv` where there is no such form."""
        return self.deriv(z, a)

    def np_value(self, z, xp):
        """g(z) on an array, with the namespace ``xp`` (numeric.py)."""
        raise NotImplementedError

    def np_deriv(self, z, zsign, xp):
        """g'(z) on an array; ``zsign`` (-1, 0, 1 per entry) decides branches."""
        raise NotImplementedError

    def np_anchor(self, z, a, xp):
        """(c, a - c) on arrays: a rational anchor c (1 where the output is
        near 1) and the offset computed without cancellation, so that a - t
        and 1 - a keep their digits near saturation.  By default c = 0."""
        return 0 * a, a

    # display -------------------------------------------------------------
    def def_tex(self, z: str = "z") -> str:
        return _sub(self.tex_def, z=z)

    def deriv_tex(self, z: str = "z") -> str:
        return _sub(self.tex_deriv, z=z)

    def deriv_a_tex(self, a: str = "a") -> str | None:
        return None if self.tex_deriv_a is None else _sub(self.tex_deriv_a, a=a)

    def describe(self) -> str:
        """What the outputs call it (a lang.Text: the name in English)."""
        return Text(f"act.{self.name}")

    def apply_tex(self, arg: str) -> str:
        return f"{self.tex_name}\\left({arg}\\right)"


class Identity(Activation):
    name = "identity"
    rational = True
    aliases = ("linear",)
    tex_name = r"\operatorname{id}"
    tex_def = "${z}"
    tex_deriv = "1"
    is_identity = True

    def value(self, z):
        return z

    def deriv(self, z, a):
        return ONE

    def np_value(self, z, xp):
        return z

    def np_deriv(self, z, zsign, xp):
        return xp.ones_like(z)


class Sigmoid(Activation):
    name = "sigmoid"
    tex_name = r"\sigma"
    tex_def = r"\frac{1}{1 + e^{-${z}}}"
    tex_deriv = r"\sigma(${z})\bigl(1 - \sigma(${z})\bigr)"
    tex_deriv_a = r"${a}(1 - ${a})"

    def value(self, z):
        a = exact.sigmoid(z)
        if type(a) is Irr and is_rational(z):
            a.form = _Closed(_sigmoid_form, z)
        return a

    def deriv(self, z, a):
        # sigma'(z) = e^-|z| / (1 + e^-|z|)^2: a(1 - a) would cancel once
        # sigma(z) rounds to 1
        d = exact.sigmoid_derivative(z)
        if type(d) is Irr and is_rational(z):
            d.form = _Closed(_sigmoid_deriv_form, z)
        return d

    def deriv_from_a(self, z, a):
        return a * (1 - a)

    def np_value(self, z, xp):
        e = xp.exp(-xp.abs(z))
        return xp.where(xp.gt(z, 0), 1 / (1 + e), e / (1 + e))

    def np_deriv(self, z, zsign, xp):
        e = xp.exp(-xp.abs(z))
        return e / (1 + e) ** 2

    def np_anchor(self, z, a, xp):
        e = xp.exp(-xp.abs(z))
        up = xp.gt(z, 0)
        return xp.choose(up, xp.ones_like(a), 0 * a), xp.choose(up, -e / (1 + e), a)


def _sigmoid_form(z):
    nz = -z
    return (f"1/(1 + exp({_neg_text(z)}))", f"\\frac{{1}}{{1 + e^{{{q_latex(nz)}}}}}")


def _sigmoid_deriv_form(z):
    e_text = f"exp({_neg_text(z)})"
    e_tex = f"e^{{{q_latex(-z)}}}"
    return (f"{e_text}/(1 + {e_text})**2", f"\\frac{{{e_tex}}}{{\\left(1 + {e_tex}\\right)^{{2}}}}")


class Tanh(Activation):
    name = "tanh"
    tex_name = r"\tanh"
    tex_def = r"\tanh(${z}) = \frac{e^{${z}} - e^{-${z}}}{e^{${z}} + e^{-${z}}}"
    tex_deriv = r"1 - \tanh^{2}\left(${z}\right)"
    tex_deriv_a = r"1 - ${A}^{2}"

    def value(self, z):
        a = exact.tanh(z)
        if type(a) is Irr and is_rational(z):
            a.form = _Closed(_tanh_form, z)
        return a

    def deriv(self, z, a):
        # 1 - tanh^2 z = 4 e^-2|z| / (1 + e^-2|z|)^2, without cancellation
        d = exact.tanh_derivative(z)
        if type(d) is Irr and is_rational(z):
            d.form = _Closed(_tanh_deriv_form, z)
        return d

    def deriv_from_a(self, z, a):
        return 1 - a * a

    def np_value(self, z, xp):
        return xp.tanh(z)

    def np_deriv(self, z, zsign, xp):
        e = xp.exp(-2 * xp.abs(z))
        return 4 * e / (1 + e) ** 2

    def np_anchor(self, z, a, xp):
        # tanh z = 1 - 2e/(1 + e) for z > 0, -1 + 2e/(1 + e) for z < 0, e = e^-2|z|
        e = xp.exp(-2 * xp.abs(z))
        one = xp.ones_like(a)
        up, down = xp.gt(z, 0), xp.gt(-z, 0)
        c = xp.choose(up, one, xp.choose(down, -one, 0 * a))
        return c, xp.choose(up, -2 * e / (1 + e), xp.choose(down, 2 * e / (1 + e), a))

    def def_tex(self, z: str = "z") -> str:
        return _sub(r"\frac{e^{${z}} - e^{-${z}}}{e^{${z}} + e^{-${z}}}", z=z)


def _tanh_form(z):
    return (f"tanh({q_str(z)})", f"\\tanh\\left({q_latex(z)}\\right)")


def _tanh_deriv_form(z):
    return (f"1 - tanh({q_str(z)})**2", f"1 - \\tanh^{{2}}\\left({q_latex(z)}\\right)")


class ReLU(Activation):
    name = "relu"
    rational = True
    tex_name = r"\operatorname{ReLU}"
    tex_def = r"\max(0, ${z})"
    tex_deriv = r"\begin{cases} 1 & ${z} > 0 \\ 0 & ${z} \le 0 \end{cases}"
    convention = Text("net.conv.kink_relu")
    kink_rule = "relu'(0) = 0"
    piecewise = True

    def value(self, z):
        return z if z > 0 else ZERO

    def deriv(self, z, a):
        return ONE if z > 0 else ZERO

    def np_value(self, z, xp):
        return xp.where(xp.gt(z, 0), z, 0 * z)

    def np_deriv(self, z, zsign, xp):
        return xp.where(zsign > 0, xp.ones_like(z), 0 * z)


class LeakyReLU(Activation):
    name = "leaky_relu"
    rational = True
    tex_name = r"\operatorname{LeakyReLU}"
    piecewise = True

    def __init__(self, slope=Q(1, 100)):
        self.slope = slope
        s = q_latex(slope)
        self.tex_def = r"\begin{cases} ${z} & ${z} > 0 \\ " + s + r"\,${z} & ${z} \le 0 \end{cases}"
        self.tex_deriv = r"\begin{cases} 1 & ${z} > 0 \\ " + s + r" & ${z} \le 0 \end{cases}"
        self.convention = Text("net.conv.kink_leaky_relu", slope=q_str(slope))
        self.kink_rule = f"leaky_relu'(0) = {q_str(slope)}"

    def value(self, z):
        return z if z > 0 else self.slope * z

    def deriv(self, z, a):
        return ONE if z > 0 else self.slope

    def np_value(self, z, xp):
        return xp.where(xp.gt(z, 0), z, xp.const(self.slope) * z)

    def np_deriv(self, z, zsign, xp):
        return xp.where(zsign > 0, xp.ones_like(z), xp.const(self.slope) * xp.ones_like(z))

    def describe(self) -> str:
        return Text("act.leaky_relu", slope=q_str(self.slope))


class Softplus(Activation):
    name = "softplus"
    tex_name = r"\operatorname{softplus}"
    tex_def = r"\ln\left(1 + e^{${z}}\right)"
    tex_deriv = r"\sigma(${z}) = \frac{1}{1 + e^{-${z}}}"
    tex_deriv_a = r"1 - e^{-${a}}"

    def value(self, z):
        # max(z, 0) + log1p(e^-|z|): no overflow, and no digit lost for z << 0
        a = exact.softplus(z)
        if is_rational(z):
            a.form = _Closed(_softplus_form, z)
        return a

    def deriv(self, z, a):
        return SIGMOID.value(z)

    def np_value(self, z, xp):
        return xp.logaddexp0(z)

    def np_deriv(self, z, zsign, xp):
        return SIGMOID.np_value(z, xp)


def _softplus_form(z):
    return (f"log(1 + exp({q_str(z)}))", f"\\ln\\left(1 + e^{{{q_latex(z)}}}\\right)")


class Square(Activation):
    name = "square"
    rational = True
    tex_name = r"\operatorname{sq}"
    tex_def = r"${Z}^{2}"
    tex_deriv = r"2${z}"

    def value(self, z):
        return z * z

    def deriv(self, z, a):
        return 2 * z

    def np_value(self, z, xp):
        return z * z

    def np_deriv(self, z, zsign, xp):
        return 2 * z

    def apply_tex(self, arg: str) -> str:
        return f"\\left({arg}\\right)^{{2}}"


class Softmax(Activation):
    """Acts on a column: a_i = e^{z_i} / sum_k e^{z_k}.  Output layer only;
    the engine uses its Jacobian a_i (delta_ij - a_j) rather than g'(z)."""

    name = "softmax"
    tex_name = r"\operatorname{softmax}"
    tex_def = r"\frac{e^{${z}_{i}}}{\sum_{k} e^{${z}_{k}}}"
    tex_deriv = r"a_{i}\left(\delta_{ij} - a_{j}\right)"
    vector = True

    def column(self, zs: list) -> list:
        """softmax of one column of z values.  Each output is e^(z_i - top)
        over the sum; an output above 1/2 is anchored at 1 with offset minus
        the sum of the others, so 1 - a and ln a keep their digits."""
        if any(type(z) is Sym for z in zs):  # a formula of the student's values
            top = max(range(len(zs)), key=lambda i: exact.to_mpf(getattr(zs[i], "val", zs[i])))
            exps = [ONE if i == top else exact.exp(z - zs[top]) for i, z in enumerate(zs)]
            total = sum(exps[1:], exps[0])
            return [e / total for e in exps]
        if all(is_rational(z) for z in zs) and all(z == zs[0] for z in zs):
            return [Q(1, len(zs))] * len(zs)
        balls = [exact.ball(z) for z in zs]
        mids = [b.mid() for b in balls]
        top = max(range(len(zs)), key=lambda i: mids[i])
        shifted = [b - balls[top] for b in balls]
        exps = [ONE_BALL if i == top else s.exp() for i, s in enumerate(shifted)]
        total = sum(exps[1:], exps[0])
        log_total = total.log()
        rational = all(is_rational(z) for z in zs)
        out = []
        for i, e in enumerate(exps):
            form = _Closed(_softmax_form, (tuple(zs), i)) if rational else None
            a = e / total
            if a > HALF_BALL:
                others = sum((x for k, x in enumerate(exps) if k != i), ZERO_BALL)
                out.append(Irr(a, form, anchor=ONE, off=-others / total))
            else:
                # ln a = (z_i - top) - ln(sum): exact digits however small a is
                out.append(Irr(a, form, logb=(ZERO_BALL if i == top else shifted[i]) - log_total))
        return out

    def np_column(self, z, xp):
        """(a, c, a - c) column by column: a = e^(z - top) / sum; an output
        above 1/2 is anchored at 1 with offset minus the sum of the others."""
        import numpy as np

        e = xp.exp(z - xp.max0(z))
        total = e.sum(axis=0, keepdims=True)
        a = e / total
        n = z.shape[0]
        others = (np.ones((n, n)) - np.eye(n)) @ e  # sum over k != i, nothing cancels
        up = xp.gt(a, 0.5)
        return a, xp.choose(up, xp.ones_like(a), 0 * a), xp.choose(up, -others / total, a)


def _softmax_form(arg):
    zs, i = arg
    zi = zs[i]
    others = [z - zi for j, z in enumerate(zs) if j != i]
    text = "1/(1 + " + " + ".join(f"exp({q_str(d)})" for d in others) + ")"
    tex = "\\frac{1}{1 + " + " + ".join(f"e^{{{q_latex(d)}}}" for d in others) + "}"
    return (text, tex)


class _Closed:
    """A lazily built closed form: builder(arg) -> (text, latex)."""

    __slots__ = ("builder", "arg")

    def __init__(self, builder: Callable, arg):
        self.builder = builder
        self.arg = arg

    def __call__(self):
        return self.builder(self.arg)


class Custom(Activation):
    """An activation given as an expression in x, e.g. ``x**3/3 - x``: its
    values from the formula as written, its derivative from SymPy."""

    name = "custom"
    tex_name = "g"

    def __init__(self, expression, name: str | None = None):
        self.expression = expression
        self.text = expression.text
        self.rational = bool(expression.expr.is_rational_function())
        #: the name a graph file gives it ([functions] g = "x**3/3 - x"), or None
        self.own_name = name
        if name is not None:
            self.tex_name = f"\\operatorname{{{name}}}" if len(name) > 1 else name

    def value(self, z):
        from .expr import closed_form, exact_value

        v = exact_value(self.expression.tree, z, lambda: f"activation {self.text!r} at z = {_zdesc(z)}")
        if type(v) is Irr and is_rational(z):
            v.form = closed_form(self.expression.expr, z)
        return v

    def deriv(self, z, a):
        from .expr import closed_form, exact_value

        v = exact_value(self.expression.dtree, z, lambda: f"derivative of {self.text!r} at z = {_zdesc(z)}")
        if type(v) is Irr and is_rational(z):
            v.form = closed_form(self.expression.deriv, z)
        return v

    def np_value(self, z, xp):
        from .expr import eval_array

        return eval_array(self.expression.tree, z, xp)

    def np_deriv(self, z, zsign, xp):
        from .expr import eval_array

        return eval_array(self.expression.dtree, z, xp)

    def def_tex(self, z: str = "z") -> str:
        return self.expression.latex(z)

    def deriv_tex(self, z: str = "z") -> str:
        return self.expression.deriv_latex(z)

    def describe(self) -> str:
        return Text("act.custom", text=self.text)


def _zdesc(z) -> str:
    if is_rational(z):
        return q_str(z)
    return MP.nstr(z.v, 10)


SIGMOID = Sigmoid()
ONE_BALL = exact.ball(ONE)
ZERO_BALL = exact.ball(ZERO)
HALF_BALL = exact.ball(Q(1, 2))

#: name -> factory taking the problem's options (leaky_slope)
REGISTRY: dict[str, Callable[..., Activation]] = {
    "identity": lambda **o: Identity(),
    "linear": lambda **o: Identity(),
    "sigmoid": lambda **o: SIGMOID,
    "tanh": lambda **o: Tanh(),
    "relu": lambda **o: ReLU(),
    "leaky_relu": lambda **o: LeakyReLU(o.get("leaky_slope", Q(1, 100))),
    "softplus": lambda **o: Softplus(),
    "square": lambda **o: Square(),
    "softmax": lambda **o: Softmax(),
}

NAMES = tuple(REGISTRY)


def resolve(spec: str, where: str, **options) -> Activation:
    """An activation from a name or an expression in x."""
    import difflib
    import re

    if not isinstance(spec, str):
        raise InputError("expected an activation name or an expression in x", key=where)
    name = spec.strip()
    if name in REGISTRY:
        return REGISTRY[name](**options)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name != "x":
        near = difflib.get_close_matches(name.lower(), list(REGISTRY), n=1, cutoff=0.6)
        hint = f"did you mean '{near[0]}'? " if near else ""
        shown = name if len(name) <= 30 else name[:27] + "..."
        raise InputError(
            f"unknown activation {shown!r} ({hint}known: {', '.join(REGISTRY)}; "
            "or an expression in x such as \"x**2\")",
            key=where,
        )
    from .expr import parse_expression

    return Custom(parse_expression(spec, where))


#: the activations that act entry by entry (a graph node may apply any of them)
ELEMENTWISE = tuple(name for name, make in REGISTRY.items() if not make().vector)


def elementwise(options: dict | None = None, custom: dict | None = None, where: str = "functions") -> dict:
    """name -> Activation of every elementwise activation (with the file's
    options: leaky_slope) and of the file's own functions of one variable
    (``custom``: name -> expression in x, read at ``where.name``)."""
    options = options or {}
    table = {name: REGISTRY[name](**options) for name in ELEMENTWISE}
    for name, text in (custom or {}).items():
        if not isinstance(text, str):
            raise InputError("expected an expression in x, such as \"x**3/3 - x\"", key=f"{where}.{name}")
        from .expr import parse_expression

        table[name] = Custom(parse_expression(text, f"{where}.{name}"), name=name)
    return table
