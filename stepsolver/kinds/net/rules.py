"""The rules of one update, each written once.

An :class:`OutputRule` is how delta is found at the output layer for one
pairing of output activation and loss (in the spirit of SymPy's
manualintegrate rules: a small object that knows when it applies, how to
compute, which macro writes it and which slips a student makes with it).
The exact solve, the replay of ``check`` and the templates (through
``step.rule``) all use the same objects; the NumPy cross-check keeps its own
float copy on purpose, so that it stays independent.

:func:`updated` is the update W <- W - eta dJ/dW, the only place it is
written: the exact path, the replay and the slip "wrong sign" use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...exact import ZERO, Mat


def column_sums(T: Mat) -> list:
    out = []
    for j in range(T.m):
        total = ZERO
        for i in range(T.n):
            total = total + T[i, j]
        out.append(total)
    return out


def softmax_backward(A: Mat, G: Mat) -> Mat:
    """delta_i = a_i (g_i - sum_k a_k g_k), column by column, computed as
    a_i sum_k a_k (g_i - g_k): the same number, but where one class
    dominates (a_k = 1 - 1e-1000) the first form cancels every digit and
    the second loses none."""
    cols = []
    for j in range(A.m):
        a = [A[i, j] for i in range(A.n)]
        g = [G[i, j] for i in range(A.n)]
        col = []
        for i in range(A.n):
            total = ZERO
            for k in range(A.n):
                if k != i:
                    total = total + a[k] * (g[i] - g[k])
            col.append(a[i] * total)
        cols.append(col)
    return Mat(tuple(cols[j][i] for j in range(A.m)) for i in range(A.n))


def _paired(factor, A, T, dA, gprime):
    # a - t keeps its digits near a = 1: a saturated output is anchored at 1
    return (A - T).scale(factor)


def _paired_general(factor, A, T, dA, gprime):
    # dL/dz_i = a_i * sum_k t_k - t_i
    sums = column_sums(T)
    return Mat(tuple(A[i, j] * sums[j] - T[i, j] for j in range(A.m)) for i in range(A.n)).scale(factor)


def _softmax_chain(factor, A, T, dA, gprime):
    return softmax_backward(A, dA)


def _chain(factor, A, T, dA, gprime):
    return dA.hadamard(gprime)


@dataclass(frozen=True)
class OutputRule:
    """delta at the output layer.

    name       how the trace and templates name it;
    uses_dL_da whether it goes through dL/da (the paired rules do not: a
               saturated a = 1 has no dL/da, and a - t needs none);
    uses_gprime whether g'(z) enters (the plain chain rule);
    macro      the macro of the detail templates (net/matrix.j2,
               net/element.j2) that writes its delta;
    slips      the slips ``check`` tries on a wrong output delta, in order;
    compute    (factor, A, T, dJ/da, g') -> delta, batch factor included."""

    name: str
    uses_dL_da: bool
    uses_gprime: bool
    macro: str
    slips: tuple[str, ...]
    compute: Callable

    def __str__(self) -> str:
        return self.name


OUTPUT_RULES: dict[str, OutputRule] = {
    r.name: r
    for r in (
        OutputRule("chain", True, True, "delta_out", ("missing_activation_derivative", "derivative_at_a",
                                                    "missing_batch_factor", "loss_factor", "sign_error"), _chain),
        OutputRule("softmax_chain", True, False, "delta_out", ("missing_batch_factor", "loss_factor", "sign_error"),
                   _softmax_chain),
        OutputRule("softmax_ce", False, False, "delta_out", ("missing_batch_factor", "sign_error"), _paired),
        OutputRule("softmax_ce_general", False, False, "delta_out", ("missing_batch_factor", "sign_error"),
                   _paired_general),
        OutputRule("sigmoid_bce", False, False, "delta_out", ("missing_batch_factor", "sign_error"), _paired),
    )
}


def output_rule(loss, act, T: Mat) -> OutputRule:
    """The rule for this output activation, loss and targets."""
    paired = loss.paired(act.name)
    if paired == "softmax_ce":
        return OUTPUT_RULES["softmax_ce" if all(s == 1 for s in column_sums(T)) else "softmax_ce_general"]
    if paired:
        return OUTPUT_RULES[paired]
    return OUTPUT_RULES["softmax_chain" if act.vector else "chain"]


def updated(old: Mat, grad: Mat, eta) -> Mat:
    """The update: old - eta * grad."""
    return old - grad.scale(eta)


def updated_wrong_sign(old: Mat, grad: Mat, eta) -> Mat:
    """The slip of moving with the gradient: old + eta * grad."""
    return updated(old, grad, -eta)
