"""What ``check`` reports: one :class:`Item` per answered entry, its verdict
and the slip named (:class:`Hint`), gathered in a :class:`Report`.

Kind-neutral data.  A hint's sentence is a lang.Text (``hint.CODE`` in the
language tables, ``hint.KIND.CODE`` for a kind's own), written in the
report's language when it is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..answers import Given
from ..exact import MP, exact_text, to_float, to_mpf
from ..lang import english
from ..trace import Key

# ------------------------------------------------------------- hints
#: the slips check names for every kind; their sentences are ``hint.CODE``
#: in the language tables (stepsolver/lang/)
HINTS = ("missing_activation_derivative", "derivative_at_a", "missing_transpose", "used_updated_weights",
         "wrong_update_sign", "missing_learning_rate", "missing_batch_factor", "loss_factor", "bias_not_summed",
         "sign_error", "missing_bias", "activation_not_applied", "missing_l2", "not_updated")


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

    def to_dict(self, tr=None) -> dict:
        """The JSON report; prose (the rule, the hints) in ``tr``'s language."""
        tr = tr or english()
        # how the kind names the part of the exercise: "layer" (a network), "node" (a graph)
        where = getattr(self.trace.kind, "where_key", "layer")
        return {
            "ok": self.ok,
            "rule": tr.text(self.rule.describe()),
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
                    "hint": ({"code": it.hint.code, "text": tr.text(it.hint.text)} | ({"also": list(it.hint.also)} if it.hint.also else {}))
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
