"""What ``check`` reports: one :class:`Item` per answered entry, its verdict
and the slip named (:class:`Hint`), gathered in a :class:`Report`.

Kind-neutral data; the prose of the hints lives here until the language
tables take it over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..answers import Given
from ..exact import MP, exact_text, to_float, to_mpf
from ..trace import Key

# ------------------------------------------------------------- hints
HINTS = {
    "missing_activation_derivative": "This δ leaves out the factor g′(z): δ = ∂J/∂a ⊙ g′(z).",
    "derivative_at_a": "The derivative g′ was evaluated at a instead of at z (for the sigmoid, σ′(z) = a(1 − a), not σ′(a)).",
    "missing_transpose": "Backpropagation multiplies by the transpose: δ^[l] = (W^[l+1])ᵀ δ^[l+1] ⊙ g′(z^[l]), not W^[l+1] δ^[l+1].",
    "used_updated_weights": "δ was propagated through weights already updated in this step; every gradient of one update uses the weights from before it.",
    "wrong_update_sign": "The update moves against the gradient: W ← W − η ∂J/∂W, not W + η ∂J/∂W.",
    "missing_learning_rate": "The gradient must be scaled by the learning rate: W ← W − η ∂J/∂W, not W − ∂J/∂W.",
    "missing_batch_factor": "The batch factor 1/m is left out or applied twice: J is the mean over the m examples, so 1/m enters once.",
    "loss_factor": "The constant factor of the loss is off (the 1/2 of ½Σ(a − t)², the 2 of its derivative, or the 1/n of the mean).",
    "bias_not_summed": "The bias gradient sums δ over all the examples of the batch, not one example's δ.",
    # beyond the catalogue, checked after it
    "sign_error": "The sign is flipped: ∂L/∂a = a − t, not t − a.",
    "missing_bias": "The bias b was left out of z = W a + b.",
    "activation_not_applied": "The activation was not applied: a = g(z), not z.",
    "missing_l2": "The L2 term λW was left out of the weight gradient (or (λ/2)Σ‖W‖² out of J).",
    "not_updated": "This is the value from before the update: W ← W − η ∂J/∂W changes it.",
}


@dataclass(frozen=True)
class Hint:
    code: str
    text: str
    also: tuple = ()  # other slips that give the same number


VERDICTS = ("correct", "wrong", "carried", "imprecise")


@dataclass(frozen=True)
class Item:
    step: int
    layer: int | None  # the Key's ``where`` (a network's layer; None for the loss)
    quantity: str
    row: int
    col: int
    given: Given
    expected: object
    followed: object | None
    verdict: str  # correct | carried | wrong | imprecise
    hint: Hint | None
    allowance: object = None  # the half-width accepted around the follow-through (rational or float)
    decimals_needed: int | None = None  # imprecise: the decimals that would show the update

    @property
    def key(self) -> Key:
        return Key(self.step, self.layer, self.quantity)


@dataclass
class Report:
    trace: object
    rule: object
    items: list = field(default_factory=list)

    @property
    def counts(self) -> dict:
        c = {v: 0 for v in VERDICTS}
        for it in self.items:
            c[it.verdict] += 1
        return c

    @property
    def ok(self) -> bool:
        c = self.counts
        return c["wrong"] == 0 and c["carried"] == 0 and c["imprecise"] == 0

    @property
    def first_wrong(self) -> Item | None:
        return next((it for it in self.items if it.verdict == "wrong"), None)

    def to_dict(self) -> dict:
        # how the kind names the part of the exercise: "layer" (a network), "node" (a graph)
        where = getattr(self.trace.kind, "where_key", "layer")
        return {
            "ok": self.ok,
            "rule": self.rule.describe(),
            "counts": self.counts,
            "items": [
                {
                    "step": it.step,
                    where: it.layer,
                    "quantity": it.quantity,
                    "row": it.row,
                    "col": it.col,
                    "given": it.given.text,
                    "expected": expected_text(it.expected),
                    "expected_value": _jf(it.expected),
                    "verdict": it.verdict,
                    "hint": ({"code": it.hint.code, "text": it.hint.text} | ({"also": list(it.hint.also)} if it.hint.also else {}))
                    if it.hint else None,
                    "allowance": None if it.allowance is None else _jf(it.allowance),
                }
                for it in self.items
            ],
        }


def expected_text(v) -> str:
    t = exact_text(v)
    return t if t is not None else MP.nstr(to_mpf(v), 20)


def _jf(v):
    if isinstance(v, float):
        return v
    f = to_float(v)
    return None if f != f or f in (float("inf"), float("-inf")) else f
