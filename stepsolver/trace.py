"""The derivation as data.

A :class:`Trace` is an ordered tuple of :class:`Step` (one per update), each
holding the forward pass, the loss, the backward pass, the gradients and the
updated parameters of every layer.  Nothing here computes or prints; the
engine fills it, the renderers read it.  Order comes from explicit indices
(layers and examples count from 1), so one problem always gives
byte-identical output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .activations import Activation
from .matrix import Mat

#: the per-layer quantities every report lists, in this order
REPORTED = ("z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new")


@dataclass(frozen=True)
class LayerTrace:
    """One layer in one step.  Shapes: W n_l x n_(l-1); b, grad_b, b_new
    n_l x 1; a_prev n_(l-1) x m; z, a, gprime, dA, delta n_l x m."""

    index: int
    activation: Activation
    W: Mat
    b: Mat
    a_prev: Mat
    z: Mat
    a: Mat
    gprime: Mat | None  # g'(z) entry by entry; None for softmax
    dA: Mat  # dJ/da^[l]: the batch factor times dL/da at the output, W^T delta above otherwise
    delta: Mat  # dJ/dz^[l], batch factor included
    grad_W_data: Mat  # delta a_prev^T
    grad_W: Mat  # plus lambda W when l2 > 0
    grad_b: Mat  # row sums of delta
    W_new: Mat
    b_new: Mat
    #: delta and dJ/da without the batch factor (dL/dz, dL/da per example):
    #: the dZ and dA of the notations that write 1/m in the gradients instead
    dz_ex: Mat | None = None
    da_ex: Mat | None = None

    @property
    def units(self) -> int:
        return self.W.n


@dataclass(frozen=True)
class ExampleLoss:
    """The loss of one example: its per-output terms and L = outer * sum."""

    example: int  # 1-based index into the problem's examples
    terms: tuple
    value: object


@dataclass(frozen=True)
class LossTrace:
    per_example: tuple[ExampleLoss, ...]
    data: object  # mean or sum of the per-example losses
    l2_norms: tuple  # ||W^[l]||_F^2 per layer (empty when l2 = 0)
    l2_term: object | None  # (lambda/2) sum ||W||^2, or None when l2 = 0
    total: object  # J


@dataclass(frozen=True)
class Step:
    index: int  # 1-based, over all updates
    pass_index: int  # 1-based pass over the examples
    examples: tuple[int, ...]  # 1-based example indices in this update
    X: Mat  # n_0 x m
    T: Mat  # n_L x m
    factor: object  # batch factor: 1/m (mean) or 1 (sum)
    output_rule: str  # 'chain' | 'softmax_ce' | 'softmax_ce_general' | 'sigmoid_bce' | 'softmax_chain'
    dL_da: Mat  # dL/da at the output, per example (no batch factor)
    loss: LossTrace
    layers: tuple[LayerTrace, ...]
    kinks: tuple[tuple[int, int, int], ...] = ()  # (layer, unit, column) where z sits on a kink

    @property
    def m(self) -> int:
        return self.X.m

    @property
    def target_sums(self) -> list:
        """Sum of each target column (softmax with cross-entropy uses it)."""
        from .exact import ZERO

        out = []
        for j in range(self.T.m):
            total = ZERO
            for i in range(self.T.n):
                total = total + self.T[i, j]
            out.append(total)
        return out


@dataclass(frozen=True)
class Trace:
    problem: object  # Problem
    steps: tuple[Step, ...]
    final_loss: LossTrace | None  # J with the parameters after the last update (None: not computable)
    final_outputs: Mat | None  # a^[L] with the parameters after the last update
    notes: tuple[str, ...] = field(default=())  # cross-check remarks (float64 range, ...)
    #: the same update worked by someone rounding every value to round_places decimals (--round N)
    rounded: "Trace | None" = None
    round_places: int | None = None
    #: bits of working precision the irrational values were certified at
    precision: int | None = None
