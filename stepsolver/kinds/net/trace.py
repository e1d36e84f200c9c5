"""A network's derivation as data.

A :class:`NetTrace` is an ordered tuple of :class:`Step` (one per update),
each holding the forward pass, the loss, the backward pass, the gradients
and the updated parameters of every layer.  Nothing here computes or
prints; the engine fills it, the views read it, and :func:`quantities`
lists it for everything kind-neutral (see stepsolver/trace.py).  Order comes
from explicit indices (layers and examples count from 1), so one problem
always gives byte-identical output.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...exact import ZERO, Mat
from ...lang import Text
from ...functions.activations import Activation
from ...trace import Key, Quantity, Trace
from .rules import OUTPUT_RULES, OutputRule

#: the per-layer quantities every report lists, in record order
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
    #: the learning rate this layer's update used
    eta: object = None
    #: delta and dJ/da without the batch factor (dL/dz, dL/da per example):
    #: the dZ and dA of the notations that write 1/m in the gradients instead
    dz_ex: Mat | None = None
    da_ex: Mat | None = None
    #: the optimizer's state entries after this update, by quantity name
    #: ("velocity_W", "m_hat_b", ...; empty for plain descent), in worked order
    opt: dict | None = None
    #: its persistent state before this update, by the same names (zeros at t = 1)
    opt_before: dict | None = None
    #: what eta multiplies in the update, per parameter ("W", "b")
    opt_dir: dict | None = None
    #: the denominator sqrt(.) + eps of AdaGrad, RMSProp and Adam, per parameter
    opt_root: dict | None = None

    def __getattr__(self, key):
        # the optimizer's state entries read like the other quantities: lt.m_W
        if not key.startswith("_"):
            opt = self.__dict__.get("opt")
            if opt and key in opt:
                return opt[key]
        raise AttributeError(key)

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
    def rule(self) -> OutputRule:
        """The output rule as an object (``output_rule`` is its name)."""
        return OUTPUT_RULES[self.output_rule]

    @property
    def target_sums(self) -> list:
        """Sum of each target column (softmax with cross-entropy uses it)."""
        out = []
        for j in range(self.T.m):
            total = ZERO
            for i in range(self.T.n):
                total = total + self.T[i, j]
            out.append(total)
        return out


@dataclass(frozen=True)
class NetTrace(Trace):
    steps: tuple[Step, ...]
    final_loss: LossTrace | None = None  # J with the parameters after the last update (None: not computable)
    final_outputs: Mat | None = None  # a^[L] with the parameters after the last update

    def quantities(self, step: Step) -> list[Quantity]:
        return quantities(self, step)


def quantities(trace: NetTrace, step: Step) -> list[Quantity]:
    """The quantities of one update in worked order: z and a per layer, J,
    then delta and the gradients from the output back, then the updated
    parameters.  Each names its rule and operands (the update's eta
    included); ``record`` is its place in the layer records (J first, then
    per layer z, a, delta, grad_W, grad_b, W_new, b_new), which CSV and the
    --round table keep."""
    k = step.index
    n_rep = len(REPORTED)
    biases = trace.problem.update_biases

    def q(lt, name, rule, operands, asked=True):
        return Quantity(Key(k, lt.index, name), getattr(lt, name), rule, operands, asked,
                        1 + (lt.index - 1) * n_rep + REPORTED.index(name), Text("label.net", name=name, layer=lt.index))

    out = []
    for lt in step.layers:
        out.append(q(lt, "z", "preactivation", (("W", lt.W), ("a_prev", lt.a_prev), ("b", lt.b))))
        out.append(q(lt, "a", "activation", (("z", lt.z),)))
    out.append(Quantity(Key(k, None, "loss"), Mat([[step.loss.total]]), "loss", (("a", step.layers[-1].a), ("t", step.T)),
                        True, 0, "J"))
    last = len(step.layers)
    for lt in reversed(step.layers):
        if lt.index == last:
            out.append(q(lt, "delta", step.output_rule, (("dA", lt.dA), ("gprime", lt.gprime))))
        else:
            above = step.layers[lt.index]
            out.append(q(lt, "delta", "hidden_delta", (("W_next", above.W), ("delta_next", above.delta),
                                                         ("gprime", lt.gprime))))
        out.append(q(lt, "grad_W", "grad_W", (("delta", lt.delta), ("a_prev", lt.a_prev), ("W", lt.W))))
        out.append(q(lt, "grad_b", "grad_b", (("delta", lt.delta),)))
    opt = trace.problem.optimizer
    rule = "update" if opt.plain else f"update_{opt.name}"

    def state(lt, param):
        # the optimizer's state entries of one parameter, just before its new value
        base = 1 + (lt.index - 1) * n_rep + REPORTED.index(f"{param}_new")
        names = opt.quantity_names(param)
        for k, name in enumerate(names):
            operands = (("grad", getattr(lt, f"grad_{param}")),) + tuple(
                (f"{s}_before", lt.opt_before[f"{s}_{param}"]) for s in opt.state)
            yield Quantity(Key(k_, lt.index, name), lt.opt[name], f"opt_{name.rsplit('_', 1)[0]}", operands, True,
                           base - 1 + (k + 1) / (len(names) + 1), Text("label.net", name=name, layer=lt.index))

    k_ = k
    for lt in step.layers:
        if lt.opt:
            out.extend(state(lt, "W"))
        out.append(q(lt, "W_new", rule, (("W", lt.W), ("grad", lt.grad_W), ("eta", lt.eta))))
        if biases:
            if lt.opt:
                out.extend(state(lt, "b"))
            out.append(q(lt, "b_new", rule, (("b", lt.b), ("grad", lt.grad_b), ("eta", lt.eta))))
        else:  # kept as it was: reported, never asked
            out.append(q(lt, "b_new", "kept", (("b", lt.b),), asked=False))
    return out
