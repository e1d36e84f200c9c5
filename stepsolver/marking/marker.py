"""Marking a hand calculation the way a careful grader would (kind-neutral).

A student writes rounded values and carries them forward.  So every
answered entry stands for an interval, not a point: the written value
plus or minus half a unit of the precision the sheet was worked to (see
stepsolver/answers.py: ``-0.9`` among two-decimal values is -0.90 +- 0.005).  The
kind replays its method on those intervals (python-flint balls) with the
:class:`Marker`'s ``run`` and ``judge`` (``kinds/net/replay.py`` for a
network), so the allowance of each recomputed entry is the half-unit
uncertainty of every written input propagated through the step -- never a
fixed tolerance.

The replay runs side by side on the student's own values (the
*follow-through*) and on *clean* values, the same sheet with each entry
judged not correct replaced by the true value (at the precision the
student wrote).  A kind may offer several follow-throughs the method allows
(a network: g' at z and from a).

Order of judgment of one entry (``Marker.judge``):

1. the number the student's own written values give, rounded as they
   write, reproduced exactly -> correct (carried when a wrong earlier value
   enters it and a slip-free sheet does not have this number);
2. a classic slip applied to their own values, reproduced exactly -> wrong,
   the slip named;
3. otherwise, with the allowance the rounding of every written input
   explains: the true value, the clean chain, the rounded key
   (``solve --round N`` at the decimals the sheet was worked to) -> correct;
   the follow-through of their own right values -> correct, of values an
   earlier wrong answer really enters -> carried; else wrong, with the slips
   that lie within the allowance named.

An updated value that equals the value before the update, where the true
update changed it, is never correct: if the update is smaller than the
student's digits can show, the verdict is *imprecise* ("write at least N
decimals"), which earns no mark and is not wrong; otherwise it is wrong
(``not_updated``).

Items are reported in the order the kind's quantities are worked.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import exact
from ..errors import LimitError, SolveError
from ..exact import Q, Irr, Mat, is_rational, round_half_away, to_mpf
from ..trace import Key
from ..answers import AnswerSheet, Given
from ..lang import Text, english
from .report import Hint, Item, Report
from .rules import DefaultRule, half_unit

# ------------------------------------------------------------- the replay
@dataclass
class Qty:
    """One quantity as the replay carries it.

    pts   the student's values as written (their answers; where blank, what
          the method gives from their earlier values);
    balls the same, each written value widened by half a unit of the
          precision the sheet was worked to: what they may stand for;
    clean their answers judged correct, and the true value, rounded as they
          write, where not: the sheet without its slips;
    bad   entries not correct (wrong, carried, or blank and computed from
          such)."""

    pts: Mat
    balls: Mat
    clean: Mat
    bad: list
    #: how far setting the bad inputs right moves each entry (0 where nothing bad enters)
    shift: list | None = None

    @classmethod
    def exact(cls, M: Mat) -> "Qty":
        return cls(M, M, M, [[False] * M.m for _ in range(M.n)])

    def mended(self) -> Mat:
        """The points with every bad entry set to its clean value."""
        if not any(any(r) for r in self.bad):
            return self.pts
        return Mat(tuple(self.clean[i, j] if self.bad[i][j] else x for j, x in enumerate(r)) for i, r in enumerate(self.pts.rows))


def _safe(thunk):
    try:
        return thunk()
    except (SolveError, LimitError, ZeroDivisionError, ValueError, OverflowError, exact.Uncertain):
        return None


def run(f, *qs) -> Qty | None:
    """f (matrices in, a matrix out) applied to each view of the inputs; the
    result's ``bad`` says which entries a bad input really enters: setting
    the bad inputs right changes them (not through a zero factor, not
    through another unit of an elementwise step, not where a unit is off on
    both sides of its kink)."""
    if any(q is None for q in qs):
        return None
    pts = _safe(lambda: f(*[q.pts for q in qs]))
    if pts is None:
        return None
    balls = _safe(lambda: f(*[q.balls for q in qs])) or pts
    clean = _safe(lambda: f(*[q.clean for q in qs])) or pts
    if any(any(any(r) for r in q.bad) for q in qs):
        moved = _safe(lambda: f(*[q.mended() for q in qs]))
        shift = [[None if moved is None else abs(to_mpf(moved[i, j]) - to_mpf(pts[i, j])) for j in range(pts.m)]
                 for i in range(pts.n)]
        bad = [[d is None or d > 0 for d in r] for r in shift]
    else:
        shift = None
        bad = [[False] * pts.m for _ in range(pts.n)]
    return Qty(pts, balls, clean, bad, shift)


def student_value(g: Given):
    """A written value as the interval it stands for."""
    h = half_unit(g)
    if not h:
        return g.q
    from flint import arb

    return Irr(arb(exact._fq(g.q), exact._fq(h)))


def _union(values):
    """One value standing for all of them (the ball holding them all)."""
    values = [v for v in values if v is not None]
    if len(values) == 1:
        return values[0]
    b = exact.ball(values[0])
    for v in values[1:]:
        b = b.union(exact.ball(v))
    return Irr(b)


def _mid(v):
    """The midpoint of a value (for showing the follow-through)."""
    if v is None or is_rational(v):
        return v
    return Irr(v.b.mid())


def _rounded_to(v, places: int):
    """v rounded to ``places`` decimals, as a student writing it would."""
    return round_half_away(v, places)


class Marker:
    """Judges one sheet; the kind's replay calls ``judge`` for each of its
    quantities in the order it works them, building the follow-through with
    ``run`` (see the module docstring)."""

    def __init__(self, trace, sheet: AnswerSheet, rule):
        self.trace = trace
        self.problem = trace.problem
        self.sheet = sheet
        self.rule = rule
        self.report = Report(trace=trace, rule=rule)
        self._rounded: dict = {}

    # -- what a replay builds with -------------------------------------------
    run = staticmethod(run)
    safe = staticmethod(_safe)
    student_value = staticmethod(student_value)

    @staticmethod
    def exact(M: Mat) -> "Qty":
        """A given value (the problem's weights, inputs): exact in every view."""
        return Qty.exact(M)

    def answers(self, key: Key):
        """The rows of Given|None the sheet has for a quantity, or None."""
        return self.sheet.get(key)

    def run_sheet(self) -> Report:
        self.trace.kind.replay(self, self.trace, self.sheet)
        order = {}
        for step in self.trace.steps:
            for q in self.trace.quantities(step):
                order.setdefault(q.key, len(order))
        self.report.items.sort(key=lambda it: order.get(it.key, len(order)))
        return self.report

    @staticmethod
    def reproduces(g: Given, v, places: int) -> bool:
        """Whether the written value is exactly v rounded to the digits written."""
        if v is None or g.fraction:
            return v is not None and is_rational(v) and v == g.q
        try:
            return round_half_away(v if is_rational(v) else Irr(v.b.mid()), places) == g.q
        except (exact.Uncertain, ValueError, OverflowError):
            return False

    def _sentence(self, code: str):
        """The sentence of a slip: the kind's own (``hint.KIND.CODE`` in the
        language tables, or the ``hints`` table of a kind registered from
        outside), else the common one (``hint.CODE``)."""
        kind = getattr(self.trace.kind, "name", "")
        if english().has(f"hint.{kind}.{code}"):
            return Text(f"hint.{kind}.{code}")
        own = getattr(self.trace.kind, "hints", {})
        if code in own:
            return own[code]
        return Text(f"hint.{code}")

    def _hint(self, codes) -> Hint:
        """The slip named by its code, and the next one that gives the same number."""
        text = self._sentence(codes[0])
        if len(codes) > 1:
            text = Text("hint.with_also", first=text, also=self._sentence(codes[1]))
        return Hint(codes[0], text, tuple(codes[1:]))

    def close(self, g: Given, v) -> bool:
        """Within the entry's own half unit of a point (no propagated allowance)."""
        if v is None:
            return False
        if not is_rational(v):
            v = Irr(v.b.mid())
        return self.rule.accepts(g, v)

    # -- one quantity ------------------------------------------------------
    def judge(self, qkey: Key, true: Mat, variants, candidates=None, old: Mat | None = None) -> Qty:
        """Judge the answered entries of one quantity.  ``variants`` are the
        follow-throughs the method allows (g' at z, g' from a), None where
        one could not be computed; the last is the textbook's.
        ``candidates()`` gives (slip code, matrix) pairs; ``old`` is the
        value before an update."""
        answers = self.sheet.get(qkey)
        variants = [q for q in variants if q is not None]
        pts, balls, clean, bad = [], [], [], []
        cand_cache = None
        for i in range(true.n):
            prow, brow, crow, drow = [], [], [], []
            for j in range(true.m):
                g = answers[i][j] if answers is not None else None
                tv = true[i, j]
                if g is None:  # unanswered: carry on from their own earlier values
                    if variants:
                        last = variants[-1]
                        prow.append(last.pts[i, j])
                        brow.append(_union([q.balls[i, j] for q in variants]))
                        crow.append(last.clean[i, j])
                        drow.append(any(q.bad[i][j] for q in variants))
                    else:
                        prow.append(tv)
                        brow.append(tv)
                        crow.append(tv)
                        drow.append(False)
                    continue
                enters = any(q.bad[i][j] for q in variants)
                hint, needed = None, None
                places = max(g.places, g.reading, 2)  # counting at least 2 places, as the rule does
                # 1. the number the student's own written values give, rounded as
                #    they write (the textbook way of working), reproduced exactly
                own = [q for q in variants if self.reproduces(g, q.pts[i, j], places)]
                if own:
                    right = [q for q in own if not q.bad[i][j]]
                    # a wrong earlier value enters: correct only if a slip-free
                    # sheet has this very number here too
                    if right or any(self.reproduces(g, q.clean[i, j], places) for q in variants):
                        verdict = "correct"
                    else:
                        verdict = "carried"
                elif self.reproduces(g, tv, places):
                    # the true value, rounded as they write: right, whatever
                    # slip would also give these digits
                    verdict = "correct"
                else:
                    verdict = None
                    # 2. a classic slip applied to their own values, reproduced exactly
                    if cand_cache is None:
                        cand_cache = [(code, M) for code, M in (candidates() if candidates else []) if M is not None]
                    codes = [code for code, M in cand_cache if M.shape == true.shape and self.reproduces(g, M[i, j], places)]
                    if codes:
                        verdict = "wrong"
                        hint = self._hint(list(dict.fromkeys(codes)))
                if verdict is None:
                    # 3. otherwise, with the allowance the rounding of every
                    #    written input explains: the true value, the clean chain,
                    #    the rounded key, their own values, then the slips
                    consistent = any(self.rule.accepts(g, q.balls[i, j]) for q in variants)
                    ok = self.rule.accepts(g, tv) or any(self.close(g, q.clean[i, j]) for q in variants)
                    if not ok:
                        ok = self.matches_rounded_key(g, qkey, i, j)
                    if not ok and not enters:
                        # the rounding of their own (right) values explains the difference
                        ok = consistent
                    if ok:
                        verdict = "correct"
                    elif enters and consistent:
                        verdict = "carried"
                    else:
                        verdict = "wrong"
                        codes = []
                        for code, M in cand_cache:
                            if code not in codes and M.shape == true.shape and self.rule.accepts(g, M[i, j]):
                                codes.append(code)
                        if codes:
                            hint = self._hint(codes)
                if verdict == "correct" and old is not None:
                    needed = self._invisible_update(g, old[i, j], tv)
                    if needed is not None:
                        verdict = "imprecise"
                        hint = Hint("too_few_decimals", Text("hint.too_few_decimals", count=needed))
                follow = variants[-1].pts[i, j] if variants else None
                allowance = self.rule.tolerance(g, tv)
                if variants and not is_rational(variants[-1].balls[i, j]):
                    allowance = allowance + variants[-1].balls[i, j].b.rad()
                self.report.items.append(
                    Item(qkey.step, qkey.where, qkey.name, i + 1, j + 1, g, tv, _mid(follow), verdict, hint,
                         float(allowance.mid()), needed)
                )
                prow.append(g.q)
                brow.append(student_value(g))
                right = verdict in ("correct", "imprecise")
                if right:
                    crow.append(g.q)
                else:  # what a slip-free sheet worked to these decimals has here
                    key_value = self.rounded_key_value(max(2, g.reading), qkey, i, j)
                    crow.append(tv if g.fraction else key_value if key_value is not None
                                else _rounded_to(tv, max(2, g.reading)))
                drow.append(not right)
            pts.append(prow)
            balls.append(brow)
            clean.append(crow)
            bad.append(drow)
        return Qty(Mat(pts), Mat(balls), Mat(clean), bad)

    def _invisible_update(self, g: Given, old, new):
        """The decimals needed to show an update the student's answer does
        not show, or None: when the true update is nonzero and the value
        before the update is just as acceptable at the digits written."""
        delta = new - old
        if not delta or not self.rule.accepts(g, old):
            return None
        size = abs(to_mpf(delta))
        needed = 0
        while Q(1, 2 * 10**needed) >= Q(int(size * 10**40), 10**40) and needed < 40:
            needed += 1
        return needed

    def rounded_key_value(self, places: int, qkey: Key, i: int, j: int):
        """The entry of the rounded key (solve --round places), or None."""
        if not 1 <= places <= 8:
            return None
        if places not in self._rounded:
            try:
                trace = self.trace.kind.solve_rounded(self.problem, places)
            except (SolveError, LimitError):
                trace = None
            values = None
            if trace is not None:
                values = {q.key: q.value for st in trace.steps for q in trace.quantities(st)}
            self._rounded[places] = values
        values = self._rounded[places]
        M = None if values is None else values.get(qkey)
        return M[i, j] if M is not None else None

    def matches_rounded_key(self, g: Given, qkey: Key, i: int, j: int) -> bool:
        """Whether the value is the one a careful student gets when rounding
        every value they write to the decimals the sheet was worked to
        (stepsolver solve --round N): that key is accepted as well."""
        if g.fraction:
            return False
        # counting at least 2 places, as the rule does: a key worked to one
        # decimal would pass the old weights for the new
        v = self.rounded_key_value(max(2, g.reading if g.reading >= 0 else g.places), qkey, i, j)
        return v is not None and self.close(g, v)


def _pm(h):
    """The ball [0 +- h]."""
    from flint import arb

    return arb(0, exact._fq(h))


def check(trace, sheet: AnswerSheet, rule=None) -> Report:
    """Mark ``sheet`` against the solved ``trace``."""
    # the replay computes at the precision the trace was certified at, and
    # takes an undecidable sign of the student's own values as 0
    with exact.working_precision(trace.precision or exact.START_PRECISION, settle=True):
        return Marker(trace, sheet, rule or DefaultRule()).run_sheet()
