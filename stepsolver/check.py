"""Marking a hand calculation the way a careful grader would.

A student writes rounded values and carries them forward.  So every
answered entry stands for an interval, not a point: the written value
plus or minus half a unit of the precision the sheet was worked to (see
answers.py: ``-0.9`` among two-decimal values is -0.90 +- 0.005).  The
grader replays the method on those intervals (python-flint balls), so the
allowance of each recomputed entry is the half-unit uncertainty of every
written input propagated through the step -- never a fixed tolerance.

The replay runs twice side by side: on the student's own values (the
*follow-through*) and on *clean* values, the same sheet with each entry
judged not correct replaced by the true value (at the precision the
student wrote).  g' is taken both at the student's z and from their own a
(sigma' = a(1 - a), tanh' = 1 - a^2, relu' = [a > 0]), as the lecture notes
and the rounded key do; either is right.

Order of judgment of one entry:

1. the true value, within the entry's half unit -> correct;
2. the clean replay (the student's own rounded chain with their slips set
   right: a slip-free rounded chain differs from the exact one by more than
   half a unit) -> correct;
3. the rounded key (``solve --round N`` at the decimals the sheet was
   worked to) -> correct;
4. the follow-through of their own values -> carried: it follows from an
   earlier wrong answer that really enters it (through a zero factor or
   another unit of an elementwise step nothing enters, and the clean replay
   already matched in step 2);
5. otherwise wrong, and each classic slip, applied to the student's own
   values on the same intervals, is tried; one that reproduces the number
   names the slip.

An updated weight that equals the weight before the update, where the true
update changed it, is never correct: if the update is smaller than the
student's digits can show, the verdict is *imprecise* ("write at least N
decimals"), which earns no mark and is not wrong; otherwise it is wrong
(``not_updated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import engine, exact
from .answers import AnswerSheet, Given
from .errors import LimitError, SolveError
from .exact import MP, Q, Irr, exact_text, is_rational, to_float, to_mpf
from .matrix import Mat

# --------------------------------------------------------------- rules


def half_unit(g: Given):
    """Half a unit of the last place the entry is read to, counting at
    least 2 places; 0 for a fraction (exact)."""
    if g.fraction:
        return exact.ZERO
    places = max(2, g.reading if g.reading >= 0 else g.places)
    return Q(1, 2 * 10**places)


def _distance(q, v):
    """A lower bound of |q - v| (v a rational or a ball), as an arb."""
    from flint import arb

    if is_rational(v):
        return arb(exact._fq(abs(q - v)))
    return (v.b - exact.ball(q)).abs_lower()


def _magnitude(v):
    from flint import arb

    if is_rational(v):
        return arb(exact._fq(abs(v)))
    return abs(v.b).abs_upper() if v.b.is_finite() else arb(0)


class DefaultRule:
    key = "default"

    def describe(self) -> str:
        return (
            "a fraction must equal the value exactly; a decimal must lie within half a unit of the last place the "
            "sheet was worked to (counting at least 2 places), plus what the rounding of your own earlier values "
            "can explain (0.96 accepts 0.958; 8 does not accept 7.9)"
        )

    def tolerance(self, g: Given, v):
        from flint import arb

        # no written decimal is held to more than 15 significant digits, so
        # a float64 printed in full (0.46211715726000974) counts as written
        return max(arb(exact._fq(half_unit(g))), _magnitude(v) * arb(exact._fq(Q(1, 10**15)))) if not g.fraction else arb(0)

    def accepts(self, g: Given, v) -> bool:
        if v is None:
            return False
        if is_rational(v) and not g.fraction:
            # an exact value half a unit away rounds to one side only
            d, h = abs(g.q - v), half_unit(g)
            if d == h:
                return engine.round_half_away(v, max(2, g.reading if g.reading >= 0 else g.places)) == g.q
        return bool(_distance(g.q, v) <= self.tolerance(g, v))

    def matches(self, g: Given, v) -> bool:
        return self.accepts(g, v)


class ToleranceRule(DefaultRule):
    key = "tolerance"

    def __init__(self, rtol, atol):
        self.rtol, self.atol = rtol, atol

    def accepts(self, g: Given, v) -> bool:
        return v is not None and bool(_distance(g.q, v) <= self.tolerance(g, v))

    def describe(self) -> str:
        return f"|given - value| <= {_qs(self.atol)} + {_qs(self.rtol)} * |value| (--atol {_qs(self.atol)}, --rtol {_qs(self.rtol)})"

    def tolerance(self, g: Given, v):
        from flint import arb

        return arb(exact._fq(self.atol)) + arb(exact._fq(self.rtol)) * _magnitude(v)


class SigFigsRule(DefaultRule):
    key = "sig_figs"

    def __init__(self, n: int):
        self.n = n

    def accepts(self, g: Given, v) -> bool:
        return v is not None and bool(_distance(g.q, v) <= self.tolerance(g, v))

    def describe(self) -> str:
        return f"the given value must agree with the true value to {self.n} significant figures (--sig-figs {self.n})"

    def tolerance(self, g: Given, v):
        from flint import arb

        val = to_mpf(v)
        if not val:
            return arb(exact._fq(Q(1, 2 * 10**self.n)))
        e = int(MP.floor(MP.log10(abs(val))))
        half = Q(10 ** (e - self.n + 1), 2) if e - self.n + 1 >= 0 else Q(1, 2 * 10 ** (self.n - 1 - e))
        return arb(exact._fq(half))


def _qs(q) -> str:
    from .exact import q_str

    return q_str(q)


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
    layer: int | None
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
        return {
            "ok": self.ok,
            "rule": self.rule.describe(),
            "counts": self.counts,
            "items": [
                {
                    "step": it.step,
                    "layer": it.layer,
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
    return engine.round_half_away(v, places)


class _Checker:
    def __init__(self, trace, sheet: AnswerSheet, rule):
        self.trace = trace
        self.problem = trace.problem
        self.sheet = sheet
        self.rule = rule
        self.report = Report(trace=trace, rule=rule)
        self._rounded: dict = {}

    @staticmethod
    def reproduces(g: Given, v, places: int) -> bool:
        """Whether the written value is exactly v rounded to the digits written."""
        if v is None or g.fraction:
            return v is not None and is_rational(v) and v == g.q
        try:
            return engine.round_half_away(v if is_rational(v) else Irr(v.b.mid()), places) == g.q
        except (exact.Uncertain, ValueError, OverflowError):
            return False

    @staticmethod
    def _hint(codes) -> Hint:
        text = HINTS[codes[0]]
        if len(codes) > 1:
            text += " (The same number also results if: " + HINTS[codes[1]][0].lower() + HINTS[codes[1]][1:].rstrip(".") + ".)"
        return Hint(codes[0], text, tuple(codes[1:]))

    def close(self, g: Given, v) -> bool:
        """Within the entry's own half unit of a point (no propagated allowance)."""
        if v is None:
            return False
        if not is_rational(v):
            v = Irr(v.b.mid())
        return self.rule.accepts(g, v)

    # -- one quantity ------------------------------------------------------
    def judge(self, s, layer, key, true: Mat, variants, answers, candidates=None, old: Mat | None = None) -> Qty:
        """Judge the answered entries of one quantity.  ``variants`` are the
        follow-throughs the method allows (g' at z, g' from a), None where
        one could not be computed; the last is the textbook's."""
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
                        ok = self.matches_rounded_key(g, s.index, layer, key, i, j)
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
                        hint = Hint("too_few_decimals", f"The update changes this value by less than half a unit "
                                    f"of the digits written; write at least {needed} decimals to show it.")
                follow = variants[-1].pts[i, j] if variants else None
                allowance = self.rule.tolerance(g, tv)
                if variants and not is_rational(variants[-1].balls[i, j]):
                    allowance = allowance + variants[-1].balls[i, j].b.rad()
                self.report.items.append(
                    Item(s.index, layer, key, i + 1, j + 1, g, tv, _mid(follow), verdict, hint,
                         float(allowance.mid()), needed)
                )
                prow.append(g.q)
                brow.append(student_value(g))
                right = verdict in ("correct", "imprecise")
                if right:
                    crow.append(g.q)
                else:  # what a slip-free sheet worked to these decimals has here
                    key_value = self.rounded_key_value(max(2, g.reading), s.index, layer, key, i, j)
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

    def rounded_key_value(self, places: int, step: int, layer, key: str, i: int, j: int):
        """The entry of the rounded key (solve --round places), or None."""
        if not 1 <= places <= 8:
            return None
        from .engine import solve_rounded

        if places not in self._rounded:
            try:
                self._rounded[places] = solve_rounded(self.problem, places)
            except (SolveError, LimitError):
                self._rounded[places] = None
        trace = self._rounded[places]
        if trace is None or step > len(trace.steps):
            return None
        st = trace.steps[step - 1]
        if key == "loss":
            return st.loss.total
        M = getattr(st.layers[layer - 1], key)
        return M[i, j] if M is not None else None

    def matches_rounded_key(self, g: Given, step: int, layer, key: str, i: int, j: int) -> bool:
        """Whether the value is the one a careful student gets when rounding
        every value they write to the decimals the sheet was worked to
        (stepsolver solve --round N): that key is accepted as well."""
        if g.fraction:
            return False
        # counting at least 2 places, as the rule does: a key worked to one
        # decimal would pass the old weights for the new
        v = self.rounded_key_value(max(2, g.reading if g.reading >= 0 else g.places), step, layer, key, i, j)
        return v is not None and self.close(g, v)

    # -- a whole step ------------------------------------------------------
    def run(self) -> Report:
        # step 1 starts from the given weights; each later step from the
        # student's own updated weights (their W_new / b_new, or the
        # follow-through where they gave none)
        first = self.trace.steps[0]
        W_used = [Qty.exact(lt.W) for lt in first.layers]
        b_used = [Qty.exact(lt.b) for lt in first.layers]
        for s in self.trace.steps:
            ans = self.sheet.steps[s.index - 1] if s.index - 1 < len(self.sheet.steps) else None
            W_used, b_used = self.run_step(s, ans, W_used, b_used)
        return self.report

    def answers_for(self, ans, layer, key):
        return ans.get(layer, key) if ans is not None else None

    def run_step(self, s, ans, W_used, b_used):
        p = self.problem
        L = len(p.layers)
        acts = [l.activation for l in p.layers]
        X = Qty.exact(s.X)
        T = s.T
        m = s.m
        factor = engine.batch_factor(p.batch, m)
        mean_batch = p.batch == "mean" and m > 1
        ids = s.examples

        # forward ------------------------------------------------------------
        Zv, Av = [None] * L, [None] * L
        A_prev = X
        for l in range(L):
            lt = s.layers[l]
            act = acts[l]
            W, b = W_used[l], b_used[l]
            ft = run(engine.preactivation, W, b, A_prev)

            def z_cands(W=W, A_prev=A_prev, b=b):
                return [("missing_bias", _safe(lambda: W.balls @ A_prev.balls) if any(x for x in b.pts.entries()) else None)]

            Zv[l] = self.judge(s, l + 1, "z", lt.z, [ft], self.answers_for(ans, l + 1, "z"), z_cands)
            ft = run(lambda Z, act=act: engine.activate(act, Z), Zv[l])

            def a_cands(Z=Zv[l], act=act):
                return [("activation_not_applied", None if act.is_identity else Z.balls)]

            Av[l] = self.judge(s, l + 1, "a", lt.a, [ft], self.answers_for(ans, l + 1, "a"), a_cands)
            A_prev = Av[l]

        # loss -----------------------------------------------------------------
        AL = Av[-1]

        def loss_from(A: Mat, Ws, data_factor=None, with_l2=True):
            per = engine.example_losses(p.loss, A, T, ids, lambda k: "check")
            f = factor if data_factor is None else data_factor
            return Mat([[engine.total_loss(per, f, p.l2 if with_l2 else 0, Ws).total]])

        ft_loss = run(lambda A, *Ws: loss_from(A, list(Ws)), AL, *W_used)
        loss_ans = [[ans.loss]] if ans is not None and ans.loss is not None else None
        Wballs = [W.balls for W in W_used]

        def loss_cands():
            out = []
            n_out = AL.pts.n
            for k in (Q(2), Q(1, 2)) + ((Q(n_out), Q(n_out, 2)) if p.loss.name == "mse" and n_out > 1 else ()):
                out.append(("loss_factor", _safe(lambda k=k: loss_from(AL.balls, Wballs, factor * k))))
            if mean_batch:
                for k in (Q(m), Q(1, m)):
                    out.append(("missing_batch_factor", _safe(lambda k=k: loss_from(AL.balls, Wballs, factor * k))))
            if p.l2:
                out.append(("missing_l2", _safe(lambda: loss_from(AL.balls, Wballs, with_l2=False))))
            return out

        self.judge(s, None, "loss", Mat([[s.loss.total]]), [ft_loss], loss_ans, loss_cands)

        # backward ---------------------------------------------------------------
        Dv = [None] * L
        GWv, Gbv = [None] * L, [None] * L
        rule = s.output_rule
        for l in range(L - 1, -1, -1):
            lt = s.layers[l]
            act = acts[l]
            Z, A = Zv[l], Av[l]
            # g' as the student takes it: at their z, and from their own a
            gp_z = run(lambda Zm, Am, act=act: engine.activation_derivative(act, Zm, Am), Z, A)
            gp_a = run(lambda Zm, Am, act=act: engine.activation_derivative(act, Zm, Am, by_a=True), Z, A)
            gps = [g for g in (gp_z, gp_a) if g is not None]
            if l == L - 1:
                dL = run(lambda Am: engine.loss_gradient(p.loss, Am, T, ids, lambda k: "check"), A)
                if rule in ("softmax_ce", "softmax_ce_general", "sigmoid_bce"):
                    variants = [run(lambda Am: engine.output_delta(rule, factor, Am, T, None, None)[1], A)]
                elif act.vector:  # softmax with another loss: its Jacobian
                    variants = [run(lambda Am, dLm: engine.output_delta(rule, factor, Am, T, dLm, None)[1], A, dL)]
                else:
                    variants = [run(lambda Am, dLm, gpm: engine.output_delta(rule, factor, Am, T, dLm, gpm)[1], A, dL, gp)
                                for gp in gps]

                def d_cands(A=A, dL=dL, variants=variants, act=act):
                    out = []
                    if dL is not None and rule == "chain" and not act.is_identity:
                        base = dL.balls.scale(factor)
                        out.append(("missing_activation_derivative", base))
                        gp_at_a = _safe(lambda: engine.activation_derivative(act, A.balls, engine.activate(act, A.balls)))
                        out.append(("derivative_at_a", base.hadamard(gp_at_a) if gp_at_a is not None else None))
                    for ft in variants:
                        if ft is None:
                            continue
                        if mean_batch:
                            out += [("missing_batch_factor", ft.balls.scale(Q(m))), ("missing_batch_factor", ft.balls.scale(Q(1, m)))]
                        if rule in ("chain", "softmax_chain"):
                            n_out = ft.balls.n
                            ks = (Q(2), Q(1, 2)) + ((Q(n_out), Q(n_out, 2)) if p.loss.name == "mse" and n_out > 1 else ())
                            out += [("loss_factor", ft.balls.scale(k)) for k in ks]
                        out.append(("sign_error", ft.balls.scale(Q(-1))))
                    return out

            else:
                Dn = Dv[l + 1]
                Wn = W_used[l + 1]
                back = run(lambda Wm, Dm: Wm.T @ Dm, Wn, Dn)
                if act.is_identity:
                    variants = [back]
                else:
                    variants = [run(lambda bk, gm: bk.hadamard(gm), back, gp) for gp in gps]

                def d_cands(l=l, Dn=Dn, Wn=Wn, back=back, gps=gps, act=act):
                    out = []
                    if back is not None and not act.is_identity:
                        out.append(("missing_activation_derivative", back.balls))
                        Am = Av[l].balls
                        gp_at_a = _safe(lambda: engine.activation_derivative(act, Am, engine.activate(act, Am)))
                        out.append(("derivative_at_a", back.balls.hadamard(gp_at_a) if gp_at_a is not None else None))
                    for gp in (gps if not act.is_identity else [None]):
                        gv = gp.balls if gp is not None else None
                        if Wn.pts.n == Wn.pts.m:
                            wd = _safe(lambda: Wn.balls @ Dn.balls)
                            out.append(("missing_transpose", None if wd is None else (wd if gv is None else _safe(lambda: wd.hadamard(gv)))))
                        W_upd = self.provisional_W_new(s, l + 2, Wn, GWv[l + 1])  # the layer above, 1-based
                        if W_upd is not None:
                            ud = _safe(lambda: W_upd.T @ Dn.balls)
                            out.append(("used_updated_weights", None if ud is None else (ud if gv is None else _safe(lambda: ud.hadamard(gv)))))
                    return out

            Dv[l] = self.judge(s, l + 1, "delta", lt.delta, variants, self.answers_for(ans, l + 1, "delta"), d_cands)
            D = Dv[l]
            A_prev = X if l == 0 else Av[l - 1]
            W = W_used[l]
            ftW = run(lambda Dm, Am, Wm: engine.gradients(Dm, Am, Wm, p.l2)[1], D, A_prev, W)
            ftb = run(lambda Dm: Dm.row_sums(), D)

            def gW_cands(D=D, A_prev=A_prev, W=W):
                out = []
                data = _safe(lambda: D.balls @ A_prev.balls.T)
                if data is None:
                    return out
                if mean_batch:
                    for k in (Q(m), Q(1, m)):
                        out.append(("missing_batch_factor", _safe(lambda k=k: data.scale(k) + W.balls.scale(p.l2) if p.l2 else data.scale(k))))
                if p.l2:
                    out.append(("missing_l2", data))
                return out

            GWv[l] = self.judge(s, l + 1, "grad_W", lt.grad_W, [ftW], self.answers_for(ans, l + 1, "grad_W"), gW_cands)

            def gb_cands(D=D, ftb=ftb):
                out = []
                if m > 1:
                    for j in range(m):
                        out.append(("bias_not_summed", D.balls.col(j)))
                if mean_batch and ftb is not None:
                    out += [("missing_batch_factor", ftb.balls.scale(Q(m))), ("missing_batch_factor", ftb.balls.scale(Q(1, m)))]
                return out

            Gbv[l] = self.judge(s, l + 1, "grad_b", lt.grad_b, [ftb], self.answers_for(ans, l + 1, "grad_b"), gb_cands)

        # updates ------------------------------------------------------------------
        new_W, new_b = [], []
        eta = p.learning_rate
        for l in range(L):
            lt = s.layers[l]
            W, b, GW, Gb = W_used[l], b_used[l], GWv[l], Gbv[l]
            ft = run(lambda Wm, Gm: Wm - Gm.scale(eta), W, GW)

            def w_cands(W=W, GW=GW):
                return [
                    ("wrong_update_sign", _safe(lambda: W.balls + GW.balls.scale(eta))),
                    ("missing_learning_rate", _safe(lambda: W.balls - GW.balls)),
                    ("not_updated", W.pts),
                ]

            new_W.append(self.judge(s, l + 1, "W_new", lt.W_new, [ft], self.answers_for(ans, l + 1, "W_new"), w_cands,
                                    old=lt.W))
            if p.update_biases:
                ftb = run(lambda bm, Gm: bm - Gm.scale(eta), b, Gb)

                def b_cands(b=b, Gb=Gb):
                    return [
                        ("wrong_update_sign", _safe(lambda: b.balls + Gb.balls.scale(eta))),
                        ("missing_learning_rate", _safe(lambda: b.balls - Gb.balls)),
                        ("not_updated", b.pts),
                    ]

                new_b.append(self.judge(s, l + 1, "b_new", lt.b_new, [ftb], self.answers_for(ans, l + 1, "b_new"), b_cands,
                                        old=lt.b))
            else:
                new_b.append(self.judge(s, l + 1, "b_new", lt.b_new, [b], self.answers_for(ans, l + 1, "b_new"), None))
        return new_W, new_b

    def provisional_W_new(self, s, layer: int, W: Qty, GW: Qty | None) -> Mat | None:
        """The weights of ``layer`` as the student updated them this step:
        their W_new where given, otherwise W - eta * their gradient."""
        ans = self.sheet.steps[s.index - 1] if s.index - 1 < len(self.sheet.steps) else None
        given = self.answers_for(ans, layer, "W_new")
        base = None
        if GW is not None:
            base = _safe(lambda: W.balls - GW.balls.scale(self.problem.learning_rate))
        if base is None:
            base = s.layers[layer - 1].W_new
        if given is None:
            return base
        return Mat(
            tuple(student_value(given[i][c]) if given[i][c] is not None else base[i, c] for c in range(base.m))
            for i in range(base.n)
        )


def _pm(h):
    """The ball [0 +- h]."""
    from flint import arb

    return arb(0, exact._fq(h))


def check(trace, sheet: AnswerSheet, rule=None) -> Report:
    """Mark ``sheet`` against the solved ``trace``."""
    from .exact import START_PRECISION, working_precision

    # the replay computes at the precision the trace was certified at, and
    # takes an undecidable sign of the student's own values as 0
    with working_precision(trace.precision or START_PRECISION, settle=True):
        return _Checker(trace, sheet, rule or DefaultRule()).run()
