"""The loss registry: per-example loss, its gradient with respect to the
output a, the float64 forms for the cross-check, and the LaTeX a teacher
writes -- with the 1/2 or 1/n factor always shown.

Output rules that textbooks simplify are kept as *paired rules*: softmax with
cross-entropy gives dL/dz = a - t (for targets summing to 1), sigmoid with
binary cross-entropy gives dL/dz = a - t.  The engine uses a paired rule when
the output activation matches, the chain dL/da * g'(z) otherwise.
"""

from __future__ import annotations

from string import Template
from typing import Callable

from .. import exact
from ..errors import SolveError
from ..exact import ONE, ZERO, Q, q_latex, q_str
from ..lang import Text


def ln(x, what: Callable[[], str]):
    """Natural log, exact where it can be (ln 1 = 0), without lost digits
    near 1 (see exact.log); a log of zero or of a negative number is a
    SolveError naming ``what``."""
    v = exact.log(x, what)
    if exact.is_rational(x) and type(v) is exact.Irr:
        v.form = _LogForm(x)
    return v


class _LogForm:
    __slots__ = ("q",)

    def __init__(self, q):
        self.q = q

    def __call__(self):
        return (f"log({q_str(self.q)})", f"\\ln\\left({q_latex(self.q)}\\right)")


class Loss:
    name = ""
    #: per-example loss in LaTeX; ${a} and ${t} stand for the k-th output and target (a_k, t_k)
    tex = ""
    #: one term of the sum, ${a} and ${t} standing for numbers
    tex_term = ""
    #: the factor in front of the sum (${n}: the number of outputs); "" for none
    tex_outer = ""
    #: dL/da_k in LaTeX, entry by entry (${a}, ${t}: a_k, t_k, or numbers)
    tex_grad = ""
    #: dL/da as a vector formula; ${a}, ${t} (and ${n}) may be symbols or matrices
    tex_grad_vec = ""
    #: whether tex_grad_vec reads well with matrices substituted
    grad_subst = True
    #: one-line statement of the factor convention
    @property
    def title(self) -> str:
        """What the outputs call the loss (a lang.Text: its name in English)."""
        return Text(f"loss.{self.name}")

    @property
    def factor_note(self) -> str:
        """One-line statement of the factor convention (a lang.Text)."""
        return Text(f"loss.note.{self.name}")

    #: name of the required output activation, if any
    requires_output: str | None = None
    #: the loss takes the log of the outputs (cross-entropies)
    uses_logs = False

    # display helpers (symbols or numbers go in; LaTeX comes out) --------
    def formula_tex(self, a: str, t: str) -> str:
        return Template(self.tex).substitute(a=a, t=t)

    def term_tex(self, a: str, t: str) -> str:
        return Template(self.tex_term).substitute(a=a, t=t)

    def outer_tex(self, n: int) -> str:
        return Template(self.tex_outer).substitute(n=n)

    def grad_tex(self, a: str, t: str) -> str:
        return Template(self.tex_grad).substitute(a=a, t=t)

    def grad_vec_tex(self, a: str, t: str, n="n") -> str:
        return Template(self.tex_grad_vec).substitute(a=a, t=t, n=n)

    def terms(self, a: list, t: list, what) -> list:
        """The per-output terms whose sum (times :meth:`outer`) is L."""
        raise NotImplementedError

    def outer(self, n: int):
        """The factor in front of the sum (1/2, 1/n, -1, 1)."""
        return ONE

    def value(self, a: list, t: list, what) -> tuple[list, object]:
        terms = self.terms(a, t, what)
        total = ZERO
        for x in terms:
            total = total + x
        return terms, self.outer(len(a)) * total

    def grad(self, a: list, t: list, what) -> list:
        raise NotImplementedError

    def np_value(self, A, T, xp, diff, comp):
        """Per-example losses (a row) from arrays (namespace ``xp``);
        ``diff`` is a - t and ``comp`` 1 - a, each computed without
        cancellation by the caller."""
        raise NotImplementedError

    def np_grad(self, A, T, xp, diff, comp):
        raise NotImplementedError

    def paired(self, activation_name: str) -> str | None:
        """Name of the simplified output rule for this output activation."""
        return None


class HalfSSE(Loss):
    name = "half_sse"
    tex = r"\frac{1}{2}\sum_{k}\left(${a} - ${t}\right)^{2}"
    tex_term = r"\left(${a} - ${t}\right)^{2}"
    tex_outer = r"\frac{1}{2}"
    tex_grad = r"${a} - ${t}"
    tex_grad_vec = r"${a} - ${t}"

    def terms(self, a, t, what):
        return [(x - y) * (x - y) for x, y in zip(a, t)]

    def outer(self, n):
        return Q(1, 2)

    def grad(self, a, t, what):
        return [x - y for x, y in zip(a, t)]

    def np_value(self, A, T, xp, diff, comp):
        return (diff**2).sum(axis=0) / 2

    def np_grad(self, A, T, xp, diff, comp):
        return diff


class SSE(Loss):
    name = "sse"
    tex = r"\sum_{k}\left(${a} - ${t}\right)^{2}"
    tex_term = r"\left(${a} - ${t}\right)^{2}"
    tex_outer = r""
    tex_grad = r"2\left(${a} - ${t}\right)"
    tex_grad_vec = r"2\left(${a} - ${t}\right)"

    def terms(self, a, t, what):
        return [(x - y) * (x - y) for x, y in zip(a, t)]

    def grad(self, a, t, what):
        return [2 * (x - y) for x, y in zip(a, t)]

    def np_value(self, A, T, xp, diff, comp):
        return (diff**2).sum(axis=0)

    def np_grad(self, A, T, xp, diff, comp):
        return 2 * diff


class MSE(Loss):
    name = "mse"
    tex = r"\frac{1}{n}\sum_{k=1}^{n}\left(${a} - ${t}\right)^{2}"
    tex_term = r"\left(${a} - ${t}\right)^{2}"
    tex_outer = r"\frac{1}{${n}}"
    tex_grad = r"\frac{2}{n}\left(${a} - ${t}\right)"
    tex_grad_vec = r"\frac{2}{${n}}\left(${a} - ${t}\right)"

    def terms(self, a, t, what):
        return [(x - y) * (x - y) for x, y in zip(a, t)]

    def outer(self, n):
        return Q(1, n)

    def grad(self, a, t, what):
        c = Q(2, len(a))
        return [c * (x - y) for x, y in zip(a, t)]

    def np_value(self, A, T, xp, diff, comp):
        return (diff**2).sum(axis=0) / A.shape[0]

    def np_grad(self, A, T, xp, diff, comp):
        return 2 * diff / A.shape[0]


class CrossEntropy(Loss):
    name = "cross_entropy"
    tex = r"-\sum_{k} ${t}\ln ${a}"
    tex_term = r"${t}\ln ${a}"
    tex_outer = r"-"
    tex_grad = r"-\frac{${t}}{${a}}"
    tex_grad_vec = r"-${t} \oslash ${a}"
    grad_subst = False
    requires_output = "softmax"
    uses_logs = True

    def terms(self, a, t, what):
        out = []
        for k, (x, y) in enumerate(zip(a, t), 1):
            out.append(ZERO if not y else y * ln(x, lambda k=k: f"{what()}, output {k}"))
        return out

    def outer(self, n):
        return Q(-1)

    def grad(self, a, t, what):
        out = []
        for k, (x, y) in enumerate(zip(a, t), 1):
            if not y:
                out.append(ZERO)
            elif not x:
                raise SolveError(f"{what()}, output {k}: division by zero (a = 0 with t != 0)")
            else:
                out.append(-y / x)
        return out

    def np_value(self, A, T, xp, diff, comp):
        logs = xp.where(T != 0, xp.log(xp.where(xp.gt(A, 0), A, xp.ones_like(A))), 0 * A)
        return -(T * logs).sum(axis=0)

    def np_grad(self, A, T, xp, diff, comp):
        return xp.where(T != 0, -T / xp.where(xp.gt(A, 0), A, xp.ones_like(A)), 0 * A)

    def paired(self, activation_name):
        return "softmax_ce" if activation_name == "softmax" else None


class BinaryCrossEntropy(Loss):
    name = "binary_cross_entropy"
    tex = r"-\sum_{k}\left[${t}\ln ${a} + \left(1 - ${t}\right)\ln\left(1 - ${a}\right)\right]"
    tex_term = r"${t}\ln ${a} + \left(1 - ${t}\right)\ln\left(1 - ${a}\right)"
    tex_outer = r"-"
    tex_grad = r"\frac{${a} - ${t}}{${a}\left(1 - ${a}\right)}"
    tex_grad_vec = r"\left(${a} - ${t}\right) \oslash \left(${a} \odot \left(1 - ${a}\right)\right)"
    grad_subst = False
    uses_logs = True

    def terms(self, a, t, what):
        out = []
        for k, (x, y) in enumerate(zip(a, t), 1):
            w = lambda k=k: f"{what()}, output {k}"  # noqa: E731
            term = ZERO
            if y:
                term = term + y * ln(x, w)
            if 1 - y:
                term = term + (1 - y) * ln(1 - x, w)
            out.append(term)
        return out

    def outer(self, n):
        return Q(-1)

    def grad(self, a, t, what):
        out = []
        for k, (x, y) in enumerate(zip(a, t), 1):
            g = ZERO
            if y:
                if not x:
                    raise SolveError(f"{what()}, output {k}: division by zero (a = 0)")
                g = g - y / x
            if 1 - y:
                if not (1 - x):
                    raise SolveError(f"{what()}, output {k}: division by zero (a = 1)")
                g = g + (1 - y) / (1 - x)
            out.append(g)
        return out

    def np_value(self, A, T, xp, diff, comp):
        one = xp.ones_like(A)
        la = xp.where(T != 0, xp.log(xp.where(xp.gt(A, 0), A, one)), 0 * A)
        lb = xp.where(T != 1, xp.log(xp.where(xp.gt(comp, 0), comp, one)), 0 * A)
        return -(T * la + (1 - T) * lb).sum(axis=0)

    def np_grad(self, A, T, xp, diff, comp):
        one = xp.ones_like(A)
        ga = xp.where(T != 0, -T / xp.where(xp.gt(A, 0), A, one), 0 * A)
        gb = xp.where(T != 1, (1 - T) / xp.where(xp.gt(comp, 0), comp, one), 0 * A)
        return ga + gb

    def paired(self, activation_name):
        return "sigmoid_bce" if activation_name == "sigmoid" else None

    def terms_from_logits(self, z: list, t: list) -> list:
        """The terms for a sigmoid output, from z: t ln(sigma(z)) + (1-t)
        ln(1 - sigma(z)) = -(t softplus(-z) + (1-t) softplus(z)), which stays
        exact where 1 - sigma(z) rounds to 0."""
        out = []
        for x, y in zip(z, t):
            term = ZERO
            if y:
                term = term - y * exact.softplus(-x)
            if 1 - y:
                term = term - (1 - y) * exact.softplus(x)
            out.append(term)
        return out


REGISTRY: dict[str, Loss] = {
    "half_sse": HalfSSE(),
    "sse": SSE(),
    "mse": MSE(),
    "cross_entropy": CrossEntropy(),
    "binary_cross_entropy": BinaryCrossEntropy(),
}
