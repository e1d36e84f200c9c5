"""Each asked entry's follow-through as a formula of the student's own
earlier entries, for platforms that recompute it (Numbas's adaptive
marking).

The kind's replay -- the one ``check`` marks with -- is run once with a
recording stand-in for the marker: every value a student writes is a named
symbol (exact/symbolic.py) carrying its true value, every given value is
its exact number, and the follow-through the replay builds for a quantity
(the textbook's: the last it offers, g' from the student's own a) is kept
as that quantity's formula.  So the rules are written once: the formulas
are the replay's own steps, read back.

A quantity whose step the formula cannot follow (a function a formula has
no form for, such as a convolution's ball arithmetic) gets None: the
platform marks it against the true value.  Piecewise steps (relu, max
pooling) take the true solution's branch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exact import Mat
from ..exact.symbolic import NotSymbolic, Sym
from ..trace import Key


@dataclass
class _Value:
    """What the replay passes around (the marker's Qty, one view only)."""

    pts: Mat


def entry_name(index: dict, key: Key, i: int, j: int) -> str:
    return f"v{index[key]}_{i + 1}_{j + 1}"


class Recorder:
    """A marker that records formulas instead of judging a sheet."""

    def __init__(self, trace):
        self.trace = trace
        self.asked: dict[Key, int] = {}
        for s in trace.steps:
            for q in trace.quantities(s):
                if q.asked and q.key not in self.asked:
                    self.asked[q.key] = len(self.asked) + 1
        #: key -> Mat of trees (None: marked against the true value), or None for the whole quantity
        self.formulas: dict[Key, list | None] = {}

    # -- the marker's interface, as the replays use it --------------------
    @staticmethod
    def exact(M: Mat) -> _Value:
        return _Value(M)

    @staticmethod
    def safe(thunk):
        try:
            return thunk()
        except Exception:  # noqa: BLE001 - a candidate is never asked for here
            return None

    def run(self, f, *qs, how: dict | None = None):
        if any(q is None for q in qs):
            return None
        try:
            M = f(*[q.pts for q in qs])
        except (NotSymbolic, TypeError, ValueError, ArithmeticError, AttributeError):
            return None
        except Exception as exc:  # a kind's own refusal (SolveError) of a symbolic step
            if type(exc).__name__ in ("SolveError", "LimitError", "Uncertain"):
                return None
            raise
        return None if M is None else _Value(M)

    def judge(self, qkey: Key, true: Mat, variants, candidates=None, old: Mat | None = None) -> _Value:
        variants = [v for v in variants if v is not None]
        ft = variants[-1].pts if variants else None  # the textbook's follow-through
        if qkey not in self.asked:
            return _Value(ft if ft is not None else true)
        if ft is not None and ft.shape == true.shape:
            self.formulas[qkey] = [[_tree(ft[i, j]) for j in range(true.m)] for i in range(true.n)]
        else:
            self.formulas[qkey] = None
        return _Value(Mat(tuple(Sym.ref(entry_name(self.asked, qkey, i, j), true[i, j]) for j in range(true.m))
                          for i in range(true.n)))

    @staticmethod
    def answers(key):
        return None

    @staticmethod
    def student_value(g):
        raise NotSymbolic("no sheet")


def _tree(x):
    if type(x) is Sym:
        return x.node
    return ("num", x)  # a constant: the given value, or one the step derives from given values only


def formulas(trace) -> tuple[dict, dict]:
    """(index of each asked key, its formulas) for one solved trace: the
    formulas as ``Recorder.formulas``; a kind without a replay gives none."""
    rec = Recorder(trace)
    try:
        trace.kind.replay(rec, trace, None)
    except (NotSymbolic, TypeError, ValueError, ArithmeticError, AttributeError, KeyError):
        pass  # the quantities recorded so far keep their formulas; the rest are marked against the true value
    return rec.asked, rec.formulas
