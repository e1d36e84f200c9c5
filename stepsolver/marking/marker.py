"""Marking a hand calculation the way a careful grader would (kind-neutral).

A student writes rounded values and carries them forward.  So every
answered entry stands for an interval, not a point: the written value plus
or minus half a unit of its own last written place, counting at least 2
places (see stepsolver/answers.py).  The kind replays its method on the
student's own values with the :class:`Marker`'s ``run`` and ``judge``
(``kinds/net/replay.py`` for a network), in four views at once:

pts    the values as written, the method applied exactly (a student who
       rounds what they write and carries the rounded value);
balls  the same on intervals (python-flint balls): what the written digits
       may stand for, so the allowance of each recomputed entry is the
       half-unit uncertainty of every written input propagated through the
       step -- never a fixed tolerance;
clean  their answers judged right, and what a slip-free sheet has where
       they were not;
true   the true values (a student who keeps every digit and never slips).

A quantity the method computes but a sheet does not ask for (dL/da, g',
W^T delta, each example's loss) is an *intermediate*: lecture notes write it
out, rounded, before the next step.  ``run`` therefore also gives the
*careful* readings: the same step with each combination of its intermediate
inputs rounded to the sheet's usual precision.

**Honest readings before slips.**  The order of judgment of one entry
(``Marker.judge``), its digits read to its own last written place:

1. an honest reading reproduced exactly -- the number their own written
   values give (compact or careful), the true value, what a slip-free sheet
   has -> correct (carried when a wrong earlier value really enters it and
   neither the slip-free sheet nor the true value has this number);
2. a classic slip reproduced exactly, applied to their own values (compact
   or careful) or, where every earlier value is right, to the true values
   -> wrong, the slip named;
3. an honest reading within the allowance the rounding of their written
   inputs explains -> correct, or carried where a wrong value enters;
4. otherwise wrong, naming the slips that lie within the allowance.

Step 2 before step 3 keeps what exact reproduction knows against a wide
interval (a = 164 delta: the interval of a two-decimal delta holds many
numbers; the one the slip gives exactly is the slip).  That holds for a
student who rounds what they write.  A student who keeps every digit on the
calculator and writes a few of them is reproduced by intervals, not by the
rounded chain; the marker tells the two apart from the sheet itself (the
*style*: on entries every earlier value of which is right, does the number
written follow the rounded chain or the true value?).  On a calculator's
sheet an exact slip is trusted only where every input is right (then the
honest number is the true one); where a wrong value enters, the interval of
their own values comes first.

An updated value whose true update is smaller than half a unit of the
digits written is *imprecise* ("write at least N decimals"), which earns no
mark and is not wrong, unless the digits written show the update; an
updated value that equals the old one where the digits could show the
update is wrong (``not_updated``).

Items are reported in the order the kind's quantities are worked.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from flint import arb

from .. import exact
from ..errors import LimitError, SolveError
from ..exact import Q, Irr, Mat, is_rational, round_half_away, to_float, to_mpf
from ..trace import Key
from ..answers import AnswerSheet, Given
from ..lang import Text, english
from .report import Hint, Item, Report
from .rules import DefaultRule, half_unit

#: the exceptions a replay step may raise on a student's values (a log of a
#: negative number, a division by a zero they wrote): that reading is absent
_FAIL = (SolveError, LimitError, ZeroDivisionError, ValueError, OverflowError, exact.Uncertain)


# ------------------------------------------------------------- the replay
@dataclass
class Qty:
    """One quantity as the replay carries it (the views: see the module
    docstring).

    bad    entries not correct (wrong, carried, or blank and computed from
           such);
    shift  how far setting the bad inputs right moves each entry (0 where
           nothing bad enters);
    alts, clean_alts  the careful readings of pts and clean (intermediate
           inputs rounded), aligned;
    alt_how  how each careful reading rounds: "all" its intermediates or "some";
    inter  computed by the method, not written (an intermediate);
    how    how this follow-through is worked, as labels ({"gprime": "a"}):
           the questions of the sheet's style it answers."""

    pts: Mat
    balls: Mat
    clean: Mat
    bad: list
    shift: list | None = None
    _true: object = None  # a Mat, or a thunk that computes it (slips read it only now and then)
    alts: tuple = ()
    clean_alts: tuple = ()
    alt_how: tuple = ()
    inter: bool = False
    how: dict = field(default_factory=dict)

    @classmethod
    def exact(cls, M: Mat) -> "Qty":
        return cls(M, M, M, [[False] * M.m for _ in range(M.n)], _true=M)

    @property
    def true(self) -> Mat | None:
        if callable(self._true):
            self._true = self._true()
        return self._true

    def mended(self) -> Mat:
        """The points with every bad entry set to its clean value."""
        if not any(any(r) for r in self.bad):
            return self.pts
        return Mat(tuple(self.clean[i, j] if self.bad[i][j] else x for j, x in enumerate(r)) for i, r in enumerate(self.pts.rows))


def _safe(thunk):
    try:
        return thunk()
    except _FAIL:
        return None


_ROUNDED: dict = {}


def rounded(M: Mat | None, places: int) -> Mat | None:
    """M with every entry rounded to ``places`` decimals (a careful student's
    intermediate), or None where an entry cannot be rounded."""
    if M is None:
        return None
    key = (id(M), places)
    hit = _ROUNDED.get(key)
    if hit is not None and hit[0] is M:
        return hit[1]
    try:
        out = M.map(lambda x: round_half_away(x if is_rational(x) else Irr(x.b.mid()), places))
    except (exact.Uncertain, ValueError, OverflowError, TypeError):
        out = None
    if len(_ROUNDED) > 4096:
        _ROUNDED.clear()
    _ROUNDED[key] = (M, out)
    return out


class View:
    """How a slip candidate reads the replay's quantities: ``v(q)`` is the
    matrix of a quantity (a Qty or a given Mat) in this view, ``v.inter(M)``
    a matrix the candidate computes as an intermediate.

    pts         the values as written;
    careful     the same, every intermediate rounded to ``places``;
    true        the true values;
    balls       the intervals."""

    def __init__(self, name: str, places: int | None = None):
        self.name, self.places = name, places

    def __call__(self, q):
        if q is None or isinstance(q, Mat):
            return q
        M = q.pts if self.name == "careful" else getattr(q, self.name)
        if M is None:
            raise ValueError(f"no {self.name} view")
        if self.name == "careful" and q.inter:
            M = rounded(M, self.places)
            if M is None:
                raise ValueError("cannot round")
        return M

    def inter(self, M: Mat | None) -> Mat | None:
        if self.name == "careful" and M is not None:
            return rounded(M, self.places)
        return M


BALLS = View("balls")


def _read_places(g: Given) -> int:
    """The decimals an entry is read to: its own (or the declared ones),
    counting at least 2 and, as the rule does, at most 15 significant digits
    (a float64 printed in full, 0.46211715726000974, counts as written)."""
    places = max(g.places, g.reading, 2)
    if g.q and places > 15:
        lead = math.floor(math.log10(abs(to_float(g.q)))) if abs(to_float(g.q)) > 0 else 0
        places = max(2, min(places, 14 - lead))
    return places


_WINDOWS: dict = {}
#: the rounded keys of each solved trace, by decimals
_KEYS: dict = {}


def _float_window(g: Given, places: int) -> tuple[float, float, float]:
    """(the written value, half a unit of ``places``, the margin within which
    float64 cannot tell the edge of that interval; 0 where it never can)."""
    key = (g.text, places)
    w = _WINDOWS.get(key)
    if w is None:
        c, h = to_float(g.q), 10.0 ** -places / 2
        margin = 1e-9 * max(abs(c), h)
        if not (abs(c) < 1e12 and h > 1e-300 and c == c):
            margin = 0.0
        w = _WINDOWS[key] = (c, h, margin)
        if len(_WINDOWS) > 100_000:
            _WINDOWS.clear()
    return w


def student_value(g: Given):
    """A written value as the interval it stands for."""
    h = half_unit(g)
    if not h:
        return g.q
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


def _radius(v) -> float:
    return 0.0 if v is None or is_rational(v) else float(v.b.rad())


#: at most this many intermediate inputs are rounded one combination at a time;
#: past it, all or none
_SUBSETS = 3


@dataclass
class _Style:
    """What the sheet shows of how the student works, one question at a time
    (a *dimension*, each with its possible answers):

    digits    "rounded": they carry the rounded values they write, or "kept":
              they keep every digit on the calculator (evidence: entries,
              every input right, whose number follows the rounded chain and
              not the true value, or the other way round; entries after a
              wrong value that only the interval of their own values explains);
    careful   whether they round the intermediates (entries only a careful
              reading reproduces, or only the compact one);
    and any the kind labels its follow-throughs with (a network: g' taken
    at z or from a; the batch factor taken into dJ/da or not).

    A judgment that asks before the sheet has shown enough may be answered
    otherwise than the whole sheet shows: ``asked`` keeps the answers given,
    and the marker then judges the sheet once more with the whole sheet's
    answers ``fixed``."""

    counts: Counter = field(default_factory=Counter)
    fixed: dict | None = None
    asked: list = field(default_factory=list)

    def add(self, dim: str, value) -> None:
        self.counts[(dim, value)] += 1

    #: where two answers have the same evidence, the one that says more (a
    #: careful student rounds all their intermediates, not some)
    TIES = {"careful": ("all", "none")}

    def _lead(self, dim: str):
        """The answer with the most evidence, or None (none, or a tie)."""
        seen = sorted(((n, v) for (d, v), n in self.counts.items() if d == dim), key=lambda nv: -nv[0])
        if not seen:
            return None
        best = [v for n, v in seen if n == seen[0][0]]
        if len(best) == 1:
            return best[0]
        return next((v for v in self.TIES.get(dim, ()) if v in best), None)

    def ask(self, dim: str, decide):
        """``decide`` (the answer with the most evidence, or None) -> the
        judgment's choice, made on the evidence so far (or the whole sheet's,
        when fixed); the choice is kept to compare with the whole sheet's."""
        if self.fixed is not None:
            return decide(self.fixed.get(dim))
        choice = decide(self._lead(dim))
        self.asked.append((dim, decide, choice))
        return choice

    def prefer(self, dim: str, default=None):
        """The answer the sheet shows, else ``default`` (the textbook's)."""
        return self.ask(dim, lambda v: default if v is None else v)

    @property
    def keeps_digits(self) -> bool:
        return self.ask("digits", lambda v: v == "kept")

    def final(self) -> dict:
        return {d: self._lead(d) for d in {d for d, _ in self.counts} | {d for d, _, _ in self.asked}}

    def misjudged(self) -> bool:
        """Whether a judgment chose otherwise than the whole sheet shows."""
        final = self.final()
        return any(decide(final.get(dim)) != choice for dim, decide, choice in self.asked)


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
        self.style = _Style()
        usual = getattr(sheet, "usual", None)
        #: the precision a careful student rounds intermediates to
        self.careful_places = (usual,) if usual is not None and 1 <= usual <= 12 else ()

    # -- what a replay builds with -------------------------------------------
    safe = staticmethod(_safe)
    student_value = staticmethod(student_value)

    @staticmethod
    def exact(M: Mat) -> "Qty":
        """A given value (the problem's weights, inputs): exact in every view."""
        return Qty.exact(M)

    def run(self, f, *qs, how: dict | None = None) -> Qty | None:
        """f (matrices in, a matrix out) applied to each view of the inputs;
        the result's ``bad`` says which entries a bad input really enters:
        setting the bad inputs right changes them (not through a zero factor,
        not through another unit of an elementwise step, not where a unit is
        off on both sides of its kink).  The result is an intermediate;
        ``how`` labels the way it is worked (its inputs' labels are kept)."""
        if any(q is None for q in qs):
            return None
        pts = _safe(lambda: f(*[q.pts for q in qs]))
        if pts is None:
            return None
        balls = _safe(lambda: f(*[q.balls for q in qs])) or pts
        # with no wrong input anywhere the slip-free sheet is theirs: clean is pts
        anybad = any(any(any(r) for r in q.bad) for q in qs)
        clean = (_safe(lambda: f(*[q.clean for q in qs])) or pts) if anybad else pts

        def true():
            views = [q.true for q in qs]
            return None if any(M is None for M in views) else _safe(lambda: f(*views))

        if anybad:
            moved = _safe(lambda: f(*[q.mended() for q in qs]))
            shift = [[None if moved is None else abs(to_mpf(moved[i, j]) - to_mpf(pts[i, j])) for j in range(pts.m)]
                     for i in range(pts.n)]
            bad = [[d is None or d > 0 for d in r] for r in shift]
        else:
            shift = None
            bad = [[False] * pts.m for _ in range(pts.n)]
        alts, clean_alts, alt_how = self._careful(f, qs, anybad)
        labels = {k: v for q in qs for k, v in q.how.items()} | (how or {})
        return Qty(pts, balls, clean, bad, shift, true, alts, clean_alts, alt_how, inter=True, how=labels)

    def _careful(self, f, qs, anybad: bool = True):
        """The careful readings of pts and clean, aligned (the same working on
        both; None where it cannot be computed), and how each rounds: f with
        each combination of its intermediate inputs rounded to the sheet's
        usual precision, and with each careful reading of an input."""
        inter = [k for k, q in enumerate(qs) if q.inter]
        if not self.careful_places or not inter:
            return (), (), ()
        subsets = [c for r in range(1, len(inter) + 1) for c in combinations(inter, r)] if len(inter) <= _SUBSETS \
            else [tuple(inter)]
        out, how = {}, []
        for view in ("pts", "clean") if anybad else ("pts",):
            base = [getattr(q, view) for q in qs]
            # (inputs, every input reading careful throughout): as computed, then each input's own careful readings
            choices = [(base, True)] + [(base[:k] + [a] + base[k + 1:], h == "all") for k, q in enumerate(qs)
                                        for a, h in zip(q.alts if view == "pts" else q.clean_alts, q.alt_how)]
            found = []
            for n, (c, whole) in enumerate(choices):
                if n:
                    found.append(None if any(M is None for M in c) else _safe(lambda c=c: f(*c)))
                    if view == "pts":
                        how.append("some")
                for places in self.careful_places:
                    for sub in subsets:
                        r = [rounded(M, places) if k in sub else M for k, M in enumerate(c)]
                        found.append(None if any(M is None for M in r) else _safe(lambda r=r: f(*r)))
                        if view == "pts":
                            how.append("all" if whole and len(sub) == len(inter) else "some")
            out[view] = tuple(found)
        return out["pts"], out.get("clean", out["pts"]), tuple(how)

    def answers(self, key: Key):
        """The rows of Given|None the sheet has for a quantity, or None."""
        return self.sheet.get(key)

    def run_sheet(self) -> Report:
        self.trace.kind.replay(self, self.trace, self.sheet)
        if self.style.misjudged():  # judge again, knowing how the whole sheet is worked
            fixed = self.style.final()
            self.report = Report(trace=self.trace, rule=self.rule)
            self.style = _Style(fixed=fixed)
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
        # float64 decides unless v lies at the edge of the written value's
        # interval (then the exact rounding does)
        c, h, margin = _float_window(g, places)
        try:
            f = to_float(v)
        except (ValueError, OverflowError):
            f = float("nan")
        if f == f and margin:
            d = abs(f - c)
            if abs(d - h) > margin:
                return d < h
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
        ``candidates(view)`` gives (slip code, matrix) pairs read in a
        :class:`View`; ``old`` is the value before an update."""
        answers = self.sheet.get(qkey)
        variants = [q for q in variants if q is not None]
        slips = _Slips(self, candidates, true.shape)
        workings: Counter = Counter()  # (variant, reading) that reproduced an entry of theirs
        pts, balls, clean, bad = [], [], [], []
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
                verdict, hint, enters = self._verdict(g, tv, variants, slips, qkey, i, j, workings)
                needed = None
                if old is not None and verdict != "imprecise":
                    needed = self._invisible_update(g, old[i, j], tv, verdict)
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
                # a student who keeps every digit carries a wrong value on in the
                # digits they do not write, even where those they write are right
                hidden = right and enters and self.style.keeps_digits
                crow.append(g.q if right and not hidden else None)  # set below: what a slip-free sheet has
                drow.append(not right or hidden)
            pts.append(prow)
            balls.append(brow)
            clean.append(crow)
            bad.append(drow)
        # what a slip-free sheet worked the student's way has where they were not right
        working = None
        for i, row in enumerate(clean):
            for j, x in enumerate(row):
                if x is None:
                    if working is None:
                        if workings:  # the reading of theirs that reproduces most of their entries
                            seen = [(w, dict(how), None, None) for (w, how) in workings]
                            keep = {w for w, *_ in self._theirs(seen, variants)}
                            working = max(workings, key=lambda wh: (wh[0] in keep, workings[wh]))[0]
                        else:
                            working = self._their_reading(variants)
                    row[j] = self._slip_free(answers[i][j], true[i, j], qkey, i, j, variants, working)
        return Qty(Mat(pts), Mat(balls), Mat(clean), bad, _true=true)

    def _verdict(self, g: Given, tv, variants, slips, qkey: Key, i: int, j: int, workings: Counter):
        """(verdict, hint, whether a wrong earlier value enters) of one written
        entry (the order: module docstring); ``workings`` counts the readings
        that reproduce it."""
        places = _read_places(g)

        def rep(v):
            return self.reproduces(g, v, places)

        enters = any(q.bad[i][j] for q in variants)
        # each reading of their own values beside the same working on the
        # slip-free sheet, with how it is worked (its labels)
        pairs = [((a, b), dict(q.how, careful=h), q, P, C) for a, q in enumerate(variants)
                 for b, (P, C, h) in enumerate(zip((q.pts,) + q.alts, (q.clean,) + q.clean_alts, ("none",) + q.alt_how))]
        matched = [(w, how, q, C) for w, how, q, P, C in pairs if P is not None and rep(P[i, j])]
        own = [q for _, _, q, _ in matched]
        true_exact = rep(tv)
        style = self.style
        # how the student works: a question the readings answer differently,
        # which only some answers' readings reproduce
        for dim in {d for _, how, _, _, _ in pairs for d in how}:
            values = {how.get(dim) for _, how, _, _, _ in pairs}
            got = {how.get(dim) for _, how, _, _ in matched}
            if got and got != values:
                for value in got:
                    style.add(dim, value)
        within: list = []

        def consistent() -> bool:  # their own values' intervals hold it (worked out once, on demand)
            if not within:
                within.append(any(self.rule.accepts(g, q.balls[i, j]) for q in variants))
            return within[0]

        if not enters:
            # with every input right, a rounder writes the rounded chain, a calculator the true value
            # (the rounded chain tells them apart only where their written inputs leave it
            # wider than the entry's own digits: elsewhere a calculator writes it too)
            if own and not true_exact and max(_radius(q.balls[i, j]) for q in own) > 10.0 ** -places:
                style.add("digits", "rounded")
            elif true_exact and variants and not own:
                style.add("digits", "kept")
        elif not own and consistent():
            style.add("digits", "kept")  # only the interval of their own values explains it
        # the working that is theirs: the one their sheet shows, where it reproduces this entry
        # (where the sheet does not show it, the textbook's: the last follow-through's)
        workings.update((w, tuple(sorted(how.items()))) for w, how, _, _ in matched)
        if matched:  # the same working without the slip
            free = [C is not None and rep(C[i, j]) for _, _, _, C in matched]
            if enters and len(set(free)) > 1:  # the readings differ: the one that is theirs decides
                theirs = self._theirs(matched, variants)
                slip_free = any(C is not None and rep(C[i, j]) for _, _, _, C in theirs)
            else:
                slip_free = free[0]
        else:
            slip_free = any(C is not None and rep(C[i, j]) for _, _, _, _, C in pairs)

        def kept() -> bool:  # asked only where the answer matters
            return style.keeps_digits

        # 1. an honest reading, exactly (for a student who keeps every digit,
        # the rounded chain of their inputs is not their working: where every
        # input is right, theirs is the true value)
        if own and (enters or true_exact or not kept()):
            if any(not q.bad[i][j] for q in own):
                return "correct", None, enters
            # a wrong value enters: right only if a slip-free sheet of theirs has this number too
            same = true_exact if kept() else slip_free
            return ("correct" if same else "carried"), None, enters
        if true_exact or (slip_free and not kept()):
            return "correct", None, enters
        # 2. a slip, exactly (on a calculator's sheet, where every input is right)
        if not (enters and kept()):
            codes = slips.exact(g, places, i, j, with_true=not enters)
            if codes:
                return "wrong", self._hint(codes), enters
        # 3. an honest reading within the allowance the rounding explains
        ok = self.rule.accepts(g, tv)
        if not ok and (any(self.close(g, q.clean[i, j]) for q in variants) or self.matches_rounded_key(g, qkey, i, j)):
            ok = not kept()  # a slip-free sheet rounded as written: theirs only if they round what they write
        if ok:
            return "correct", None, enters
        if consistent():
            if enters:
                return "carried", None, enters
            # the rounding of their own right values explains the difference:
            # right for a student who carries what they write; for one who keeps
            # every digit, it follows from digits of earlier values they did not write
            return ("carried" if kept() else "correct"), None, enters
        if enters and kept():
            codes = slips.exact(g, places, i, j, with_true=False)
            if codes:
                return "wrong", self._hint(codes), enters
        # 4. wrong, naming the slips within the allowance
        codes = slips.within(g, i, j)
        return "wrong", (self._hint(codes) if codes else None), enters

    def _theirs(self, matched, variants):
        """Of the readings that reproduce an entry, (working, how, ...) tuples,
        those worked the way the sheet shows the student works (where it does
        not show it, the textbook's: the last follow-through's, compact)."""
        theirs = matched
        textbook = dict(variants[-1].how, careful="none") if variants else {}
        for dim in sorted({d for _, how, *_ in matched for d in how}):
            if len({how.get(dim) for _, how, *_ in theirs}) > 1:
                lead = self.style.prefer(dim, textbook.get(dim))
                theirs = [m for m in theirs if m[1].get(dim) == lead] or theirs
        return theirs

    def _their_reading(self, variants):
        """(variant, reading) worked the way the sheet shows the student works
        (the textbook's where it does not show it), for a quantity none of
        whose entries of theirs a reading reproduces; None: the compact one."""
        if not variants:
            return None
        textbook = variants[-1].how
        want = {dim: self.style.prefer(dim, textbook.get(dim)) for dim in textbook}
        a = next((a for a, q in enumerate(variants) if all(q.how.get(d) == v for d, v in want.items())),
                 len(variants) - 1)
        if not self.style.ask("careful", lambda v: v == "all"):
            return (a, 0)
        b = next((b for b, h in enumerate(variants[a].alt_how, 1) if h == "all"), 0)
        return (a, b)

    def _slip_free(self, g: Given, tv, qkey: Key, i: int, j: int, variants, working):
        """What a slip-free sheet has at an entry judged not right (or right
        over wrong unwritten digits): the true value where it was written as a
        fraction or the student keeps every digit; else the reading their
        entries of this quantity follow (or the sheet shows they work by)
        applied to the slip-free sheet, rounded as they write; else the
        rounded key at the digits written."""
        places = self._worked_to(g)
        if g.fraction or self.style.keeps_digits:
            return tv
        if working is not None:
            q = variants[working[0]]
            C = q.clean if working[1] == 0 else q.clean_alts[working[1] - 1]
            if C is not None:
                try:
                    return round_half_away(C[i, j] if is_rational(C[i, j]) else Irr(C[i, j].b.mid()), places)
                except (exact.Uncertain, ValueError, OverflowError):
                    pass
        key_value = self.rounded_key_value(places, qkey, i, j)
        if key_value is not None:
            return key_value
        return round_half_away(tv if is_rational(tv) else Irr(tv.b.mid()), places)

    def _invisible_update(self, g: Given, old, new, verdict: str):
        """The decimals needed to show an update the written digits do not
        show, or None.  Digits that are the old value's (it rounds to them)
        do not show the update: where the true update is smaller than half a
        unit of the last place written, that is imprecise (no mark, not wrong)
        unless the value follows from an earlier wrong one (carried); where it
        is larger, only a value otherwise judged correct is (one judged wrong
        is the old value copied)."""
        delta = new - old
        if not delta or g.fraction or verdict == "carried":  # carried: their own working shows it
            return None
        # the digits written, or the sheet's (1 among two-decimal values is 1.00)
        p = max(g.places, g.reading, self.sheet.usual or 0)
        try:
            as_old = round_half_away(old if is_rational(old) else Irr(old.b.mid()), p)
        except (exact.Uncertain, ValueError, OverflowError):
            return None
        if g.q != as_old:
            return None  # the digits show an update
        size = abs(to_mpf(delta))
        if size >= to_mpf(Q(1, 2 * 10**p)) and verdict != "correct":
            return None
        needed = 0
        while Q(1, 2 * 10**needed) >= Q(int(size * 10**40), 10**40) and needed < 40:
            needed += 1
        return needed

    def _worked_to(self, g: Given) -> int:
        """The decimals the sheet was worked to, for an entry: the sheet's
        usual precision, or the entry's own where it writes more (at least 2)."""
        return max(2, g.places, g.reading, self.sheet.usual or 0)

    def rounded_key_value(self, places: int, qkey: Key, i: int, j: int):
        """The entry of the rounded key (solve --round places), or None."""
        if not 1 <= places <= 8:
            return None
        # one cache per solved trace: a class marked against one exercise solves each key once
        held = _KEYS.get(id(self.trace))
        if held is None or held[0] is not self.trace:
            if len(_KEYS) > 64:
                _KEYS.clear()
            held = _KEYS[id(self.trace)] = (self.trace, {})
        cache = held[1]
        if places not in cache:
            try:
                trace = self.trace.kind.solve_rounded(self.problem, places)
            except (SolveError, LimitError):
                trace = None
            values = None
            if trace is not None:
                values = {q.key: q.value for st in trace.steps for q in trace.quantities(st)}
            cache[places] = values
        values = cache[places]
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
        v = self.rounded_key_value(self._worked_to(g), qkey, i, j)
        return v is not None and self.close(g, v)


def _takes_view(f) -> bool:
    """Whether a candidates function reads a view (``candidates(view)``); one
    that takes none (a kind written before views) gives interval matrices,
    read in every view by their midpoints."""
    import inspect

    try:
        return bool(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        return True


@dataclass
class _Slips:
    """A quantity's slip candidates, computed once per view on demand."""

    marker: Marker
    candidates: object
    shape: tuple
    _cache: dict = field(default_factory=dict)

    def _of(self, view: View):
        key = (view.name, view.places)
        if key not in self._cache:
            out = []
            if self.candidates is not None:
                try:
                    found = self.candidates(view) if _takes_view(self.candidates) else self.candidates()
                    out = [(code, M) for code, M in found if M is not None and M.shape == self.shape]
                except _FAIL + (TypeError, AttributeError):
                    out = []
            self._cache[key] = out
        return self._cache[key]

    def exact(self, g: Given, places: int, i: int, j: int, with_true: bool) -> list:
        """The slips whose number, read in a point view, is the one written."""
        views = [View("pts")] + [View("careful", p) for p in self.marker.careful_places]
        if with_true:
            views.append(View("true"))
        codes = []
        for v in views:
            for code, M in self._of(v):
                if code not in codes and self.marker.reproduces(g, M[i, j], places):
                    codes.append(code)
        return codes

    def within(self, g: Given, i: int, j: int) -> list:
        """The slips whose interval holds the number written."""
        codes = []
        for code, M in self._of(BALLS):
            if code not in codes and self.marker.rule.accepts(g, M[i, j]):
                codes.append(code)
        return codes


def check(trace, sheet: AnswerSheet, rule=None) -> Report:
    """Mark ``sheet`` against the solved ``trace``."""
    # the replay computes at the precision the trace was certified at, and
    # takes an undecidable sign of the student's own values as 0
    with exact.working_precision(trace.precision or exact.START_PRECISION, settle=True):
        return Marker(trace, sheet, rule or DefaultRule()).run_sheet()
