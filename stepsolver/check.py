"""Marking a hand calculation the way a careful grader would.

Each answered entry is compared with the true value and with the
*follow-through* value: what the right method gives from the student's own
earlier answers.  Where the student left an earlier quantity blank, the
follow-through continues through the value the right method gives from their
answers before it, so a slip is still followed across skipped steps (with no
earlier slip this is the true value, as the issue specifies).

* correct -- equals the true value, or equals the follow-through value while
  everything it is computed from was correct (rounding carried forward);
* carried -- equals the follow-through value of an earlier wrong or carried
  answer: the consequence of an earlier slip, not a new one;
* wrong -- neither.  Where a classic slip, applied to the student's own
  earlier values, reproduces the number, the item carries a hint code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import engine
from .answers import AnswerSheet, Given
from .errors import LimitError, SolveError
from .exact import MP, Q, exact_text, is_rational, to_float, to_mpf
from .matrix import Mat

# --------------------------------------------------------------- rules


class DefaultRule:
    key = "default"

    def describe(self) -> str:
        return (
            "a fraction must equal the value exactly; a decimal must lie within half a unit of its last "
            "written decimal place, counting at least 2 places (0.96 accepts 0.958; 8 does not accept 7.9)"
        )

    def matches(self, g: Given, v) -> bool:
        if v is None:
            return False
        if g.fraction:
            return is_rational(v) and g.q == v
        tol = Q(1, 2 * 10 ** max(2, g.places))
        # no written decimal is held to more than 15 significant digits, so
        # a float64 printed in full (0.46211715726000974) counts as written
        if is_rational(v):  # decided exactly: half a unit off is still accepted
            return abs(g.q - v) <= max(tol, abs(v) * Q(1, 10**15))
        return _absdiff(g.q, v) <= max(to_mpf(tol), abs(v.v) * MP.mpf("1e-15"))


class ToleranceRule:
    key = "tolerance"

    def __init__(self, rtol, atol):
        self.rtol, self.atol = rtol, atol

    def describe(self) -> str:
        return f"|given - value| <= {_qs(self.atol)} + {_qs(self.rtol)} * |value| (--atol {_qs(self.atol)}, --rtol {_qs(self.rtol)})"

    def matches(self, g: Given, v) -> bool:
        if v is None:
            return False
        if is_rational(v):
            return abs(g.q - v) <= self.atol + self.rtol * abs(v)
        return _absdiff(g.q, v) <= to_mpf(self.atol) + to_mpf(self.rtol) * abs(v.v)


class SigFigsRule:
    key = "sig_figs"

    def __init__(self, n: int):
        self.n = n

    def describe(self) -> str:
        return f"the given value must agree with the true value to {self.n} significant figures (--sig-figs {self.n})"

    def matches(self, g: Given, v) -> bool:
        if v is None:
            return False
        val = to_mpf(v)
        if not val:
            return abs(g.q) <= Q(1, 2 * 10**self.n)
        e = int(MP.floor(MP.log10(abs(val))))
        half = Q(10 ** (e - self.n + 1), 2) if e - self.n + 1 >= 0 else Q(1, 2 * 10 ** (self.n - 1 - e))
        if is_rational(v):
            return abs(g.q - v) <= half
        return _absdiff(g.q, v) <= to_mpf(half)


def _absdiff(q, v):
    return abs(to_mpf(q) - to_mpf(v))


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
}


@dataclass(frozen=True)
class Hint:
    code: str
    text: str


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
    verdict: str  # correct | carried | wrong
    hint: Hint | None


@dataclass
class Report:
    trace: object
    rule: object
    items: list = field(default_factory=list)

    @property
    def counts(self) -> dict:
        c = {"correct": 0, "wrong": 0, "carried": 0}
        for it in self.items:
            c[it.verdict] += 1
        return c

    @property
    def ok(self) -> bool:
        c = self.counts
        return c["wrong"] == 0 and c["carried"] == 0

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
                    "hint": {"code": it.hint.code, "text": it.hint.text} if it.hint else None,
                }
                for it in self.items
            ],
        }


def expected_text(v) -> str:
    t = exact_text(v)
    return t if t is not None else MP.nstr(to_mpf(v), 20)


def _jf(v):
    f = to_float(v)
    return None if f != f or f in (float("inf"), float("-inf")) else f


# ------------------------------------------------------------- views
class View:
    """The student's version of one quantity: the values the next steps
    start from (their answer where given, the follow-through otherwise) and
    which entries are wrong or carried (``bad``)."""

    def __init__(self, values: Mat, bad: list[list[bool]]):
        self.values = values
        self.bad = bad

    @classmethod
    def true(cls, M: Mat) -> "View":
        return cls(M, [[False] * M.m for _ in range(M.n)])


def _safe(thunk):
    try:
        return thunk()
    except (SolveError, LimitError, ZeroDivisionError, ValueError, OverflowError):
        return None


class _Checker:
    def __init__(self, trace, sheet: AnswerSheet, rule):
        self.trace = trace
        self.problem = trace.problem
        self.sheet = sheet
        self.rule = rule
        self.report = Report(trace=trace, rule=rule)
        self._rounded: dict = {}

    # -- one quantity ------------------------------------------------------
    def judge(self, s, layer, key, true: Mat, ft: Mat | None, deps_bad, answers, candidates) -> View:
        values, bad = [], []
        cand_cache = None
        for i in range(true.n):
            vrow, brow = [], []
            for j in range(true.m):
                g = answers[i][j] if answers is not None else None
                dep_bad = deps_bad[i][j]
                fv = ft[i, j] if ft is not None else None
                if g is None:  # unanswered: carry on from their own earlier values
                    vrow.append(fv if fv is not None else true[i, j])
                    brow.append(dep_bad)
                    continue
                tv = true[i, j]
                eq_true = self.rule.matches(g, tv)
                eq_ft = fv is not None and self.rule.matches(g, fv)
                if not eq_true and not eq_ft:
                    eq_true = self.matches_rounded_key(g, s.index, layer, key, i, j)
                hint = None
                if eq_true or (eq_ft and not dep_bad):
                    verdict = "correct"
                elif eq_ft:
                    verdict = "carried"
                else:
                    verdict = "wrong"
                    if cand_cache is None:
                        cand_cache = [(code, M) for code, M in (candidates() if candidates else []) if M is not None]
                    codes = []
                    for code, M in cand_cache:
                        if code not in codes and M.shape == true.shape and self.rule.matches(g, M[i, j]):
                            codes.append(code)
                    if codes:
                        text = HINTS[codes[0]]
                        if len(codes) > 1:
                            text += " (The same number also results if: " + HINTS[codes[1]][0].lower() + HINTS[codes[1]][1:].rstrip(".") + ".)"
                        hint = Hint(codes[0], text)
                self.report.items.append(
                    Item(s.index, layer, key, i + 1, j + 1, g, tv, fv, verdict, hint)
                )
                vrow.append(g.q)
                brow.append(verdict != "correct")
            values.append(vrow)
            bad.append(brow)
        return View(Mat(values), bad)

    def matches_rounded_key(self, g: Given, step: int, layer, key: str, i: int, j: int) -> bool:
        """Whether the value is the one a careful student gets when rounding
        every intermediate value to the decimals they wrote (stepsolver solve
        --round N): that key is accepted as well as the exact one."""
        if g.fraction or not 1 <= g.places <= 8:
            return False
        from .engine import solve_rounded

        if g.places not in self._rounded:
            try:
                self._rounded[g.places] = solve_rounded(self.problem, g.places)
            except (SolveError, LimitError):
                self._rounded[g.places] = None
        trace = self._rounded[g.places]
        if trace is None or step > len(trace.steps):
            return False
        s = trace.steps[step - 1]
        if key == "loss":
            v = s.loss.total
        else:
            M = getattr(s.layers[layer - 1], key)
            v = M[i, j] if M is not None else None
        return v is not None and self.rule.matches(g, v)

    # -- a whole step ------------------------------------------------------
    def run(self) -> Report:
        # step 1 starts from the given weights; each later step from the
        # student's own updated weights (their W_new / b_new, or the
        # follow-through where they gave none)
        first = self.trace.steps[0]
        W_used = [View.true(lt.W) for lt in first.layers]
        b_used = [View.true(lt.b) for lt in first.layers]
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
        X = View.true(s.X)
        T = s.T
        m = s.m
        factor = engine.batch_factor(p.batch, m)
        mean_batch = p.batch == "mean" and m > 1

        # forward ------------------------------------------------------------
        Zv, Av = [None] * L, [None] * L
        A_prev = X
        for l in range(L):
            lt = s.layers[l]
            act = acts[l]
            W, b = W_used[l], b_used[l]
            ft = _safe(lambda: engine.preactivation(W.values, b.values, A_prev.values))
            deps = [
                [any(A_prev.bad[k][j] for k in range(A_prev.values.n)) or any(W.bad[i]) or b.bad[i][0] for j in range(m)]
                for i in range(lt.z.n)
            ]

            def z_cands(W=W, A_prev=A_prev, b=b):
                return [("missing_bias", (W.values @ A_prev.values) if any(x for x in b.values.entries()) else None)]

            Zv[l] = self.judge(s, l + 1, "z", lt.z, ft, deps, self.answers_for(ans, l + 1, "z"), z_cands)
            Z = Zv[l]
            ft = _safe(lambda: engine.activate(act, Z.values))
            if act.vector:
                deps = [[any(Z.bad[k][j] for k in range(Z.values.n)) for j in range(m)] for _ in range(lt.a.n)]
            else:
                deps = Z.bad

            def a_cands(Z=Z, act=act):
                return [("activation_not_applied", None if act.is_identity else Z.values)]

            Av[l] = self.judge(s, l + 1, "a", lt.a, ft, deps, self.answers_for(ans, l + 1, "a"), a_cands)
            A_prev = Av[l]

        # loss -----------------------------------------------------------------
        AL = Av[-1]
        ids = s.examples

        def loss_from(A: Mat, data_factor=None, with_l2=True):
            per = engine.example_losses(p.loss, A, T, ids, lambda k: "check")
            f = factor if data_factor is None else data_factor
            return engine.total_loss(per, f, p.l2 if with_l2 else 0, [W.values for W in W_used]).total

        ft_loss = _safe(lambda: Mat([[loss_from(AL.values)]]))
        loss_bad = any(any(r) for r in AL.bad) or (bool(p.l2) and any(any(any(r) for r in W.bad) for W in W_used))
        loss_ans = [[ans.loss]] if ans is not None and ans.loss is not None else None

        def loss_cands():
            out = []
            n_out = AL.values.n
            if mean_batch:
                for k in (Q(m), Q(1, m)):
                    out.append(("missing_batch_factor", _safe(lambda k=k: Mat([[loss_from(AL.values, factor * k)]]))))
            for k in (Q(2), Q(1, 2)) + ((Q(n_out), Q(n_out, 2)) if p.loss.name == "mse" and n_out > 1 else ()):
                out.append(("loss_factor", _safe(lambda k=k: Mat([[loss_from(AL.values, factor * k)]]))))
            if p.l2:
                out.append(("missing_l2", _safe(lambda: Mat([[loss_from(AL.values, with_l2=False)]]))))
            return out

        self.judge(s, None, "loss", Mat([[s.loss.total]]), ft_loss, [[loss_bad]], loss_ans, loss_cands)

        # backward ---------------------------------------------------------------
        Dv = [None] * L
        GWv, Gbv = [None] * L, [None] * L
        rule = s.output_rule
        for l in range(L - 1, -1, -1):
            lt = s.layers[l]
            act = acts[l]
            Z = Zv[l]
            gp_z = _safe(lambda: engine.activation_derivative(act, Z.values, engine.activate(act, Z.values)))
            if l == L - 1:
                A = Av[l]
                dL = _safe(lambda: engine.loss_gradient(p.loss, A.values, T, ids, lambda k: "check"))
                ft = None
                if dL is not None and (gp_z is not None or act.vector):
                    ft = _safe(lambda: engine.output_delta(rule, factor, A.values, T, dL, gp_z)[1])
                deps = [
                    [any(A.bad[k][j] or Z.bad[k][j] for k in range(lt.z.n)) for j in range(m)] for _ in range(lt.z.n)
                ]

                def d_cands(A=A, Z=Z, dL=dL, gp_z=gp_z, ft=ft, act=act):
                    out = []
                    if dL is not None and rule == "chain" and not act.is_identity:
                        base = dL.scale(factor)
                        out.append(("missing_activation_derivative", base))
                        gp_a = _safe(lambda: engine.activation_derivative(act, A.values, engine.activate(act, A.values)))
                        out.append(("derivative_at_a", base.hadamard(gp_a) if gp_a is not None else None))
                    if ft is not None:
                        if mean_batch:
                            out += [("missing_batch_factor", ft.scale(Q(m))), ("missing_batch_factor", ft.scale(Q(1, m)))]
                        if rule in ("chain", "softmax_chain"):
                            n_out = ft.n
                            ks = (Q(2), Q(1, 2)) + ((Q(n_out), Q(n_out, 2)) if p.loss.name == "mse" and n_out > 1 else ())
                            out += [("loss_factor", ft.scale(k)) for k in ks]
                        out.append(("sign_error", ft.scale(Q(-1))))
                    return out

            else:
                Dn = Dv[l + 1]
                Wn = W_used[l + 1]
                ft = None
                if gp_z is not None:
                    ft = _safe(lambda: engine.hidden_delta(Wn.values, Dn.values, gp_z)[1])
                deps = [
                    [
                        any(Dn.bad[k][j] for k in range(Dn.values.n)) or Z.bad[i][j] or any(Wn.bad[k][i] for k in range(Wn.values.n))
                        for j in range(m)
                    ]
                    for i in range(lt.z.n)
                ]

                def d_cands(l=l, Dn=Dn, Wn=Wn, gp_z=gp_z, act=act):
                    out = []
                    back = _safe(lambda: Wn.values.T @ Dn.values)
                    if back is not None and not act.is_identity:
                        out.append(("missing_activation_derivative", back))
                        A = Av[l]
                        gp_a = _safe(lambda: engine.activation_derivative(act, A.values, engine.activate(act, A.values)))
                        out.append(("derivative_at_a", back.hadamard(gp_a) if gp_a is not None else None))
                    if gp_z is not None and Wn.values.n == Wn.values.m:
                        out.append(("missing_transpose", _safe(lambda: (Wn.values @ Dn.values).hadamard(gp_z))))
                    W_upd = self.provisional_W_new(s, l + 2, Wn, GWv[l + 1])  # the layer above, 1-based
                    if W_upd is not None and gp_z is not None:
                        out.append(("used_updated_weights", _safe(lambda: (W_upd.T @ Dn.values).hadamard(gp_z))))
                    return out

            Dv[l] = self.judge(s, l + 1, "delta", lt.delta, ft, deps, self.answers_for(ans, l + 1, "delta"), d_cands)
            D = Dv[l]
            A_prev = X if l == 0 else Av[l - 1]
            W = W_used[l]
            grads = _safe(lambda: engine.gradients(D.values, A_prev.values, W.values, p.l2))
            ftW = grads[1] if grads else None
            ftb = grads[2] if grads else None
            depsW = [
                [
                    any(D.bad[i]) or any(A_prev.bad[c]) or (bool(p.l2) and W.bad[i][c])
                    for c in range(lt.W.m)
                ]
                for i in range(lt.W.n)
            ]

            def gW_cands(D=D, A_prev=A_prev, W=W, grads=grads):
                out = []
                if grads is None:
                    return out
                data, gW, _ = grads
                if mean_batch:
                    for k in (Q(m), Q(1, m)):
                        out.append(("missing_batch_factor", data.scale(k) + W.values.scale(p.l2) if p.l2 else data.scale(k)))
                if p.l2:
                    out.append(("missing_l2", data))
                return out

            GWv[l] = self.judge(s, l + 1, "grad_W", lt.grad_W, ftW, depsW, self.answers_for(ans, l + 1, "grad_W"), gW_cands)
            depsb = [[any(D.bad[i])] for i in range(lt.b.n)]

            def gb_cands(D=D, ftb=ftb):
                out = []
                if m > 1:
                    for j in range(m):
                        out.append(("bias_not_summed", D.values.col(j)))
                if mean_batch and ftb is not None:
                    out += [("missing_batch_factor", ftb.scale(Q(m))), ("missing_batch_factor", ftb.scale(Q(1, m)))]
                return out

            Gbv[l] = self.judge(s, l + 1, "grad_b", lt.grad_b, ftb, depsb, self.answers_for(ans, l + 1, "grad_b"), gb_cands)

        # updates ------------------------------------------------------------------
        new_W, new_b = [], []
        eta = p.learning_rate
        for l in range(L):
            lt = s.layers[l]
            W, b, GW, Gb = W_used[l], b_used[l], GWv[l], Gbv[l]
            ft = _safe(lambda: W.values - GW.values.scale(eta))
            deps = [[GW.bad[i][c] or W.bad[i][c] for c in range(lt.W.m)] for i in range(lt.W.n)]

            def w_cands(W=W, GW=GW):
                return [
                    ("wrong_update_sign", _safe(lambda: W.values + GW.values.scale(eta))),
                    ("missing_learning_rate", _safe(lambda: W.values - GW.values)),
                ]

            new_W.append(self.judge(s, l + 1, "W_new", lt.W_new, ft, deps, self.answers_for(ans, l + 1, "W_new"), w_cands))
            if p.update_biases:
                ftb = _safe(lambda: b.values - Gb.values.scale(eta))
                depsb = [[Gb.bad[i][0] or b.bad[i][0]] for i in range(lt.b.n)]

                def b_cands(b=b, Gb=Gb):
                    return [
                        ("wrong_update_sign", _safe(lambda: b.values + Gb.values.scale(eta))),
                        ("missing_learning_rate", _safe(lambda: b.values - Gb.values)),
                    ]

                new_b.append(self.judge(s, l + 1, "b_new", lt.b_new, ftb, depsb, self.answers_for(ans, l + 1, "b_new"), b_cands))
            else:
                new_b.append(self.judge(s, l + 1, "b_new", lt.b_new, b.values, b.bad, self.answers_for(ans, l + 1, "b_new"), None))
        return new_W, new_b

    def provisional_W_new(self, s, layer: int, W: View, GW: View | None) -> Mat | None:
        """The weights of ``layer`` as the student updated them this step:
        their W_new where given, otherwise W - eta * their gradient."""
        ans = self.sheet.steps[s.index - 1] if s.index - 1 < len(self.sheet.steps) else None
        given = self.answers_for(ans, layer, "W_new")
        base = None
        if GW is not None:
            base = _safe(lambda: W.values - GW.values.scale(self.problem.learning_rate))
        if base is None:
            base = s.layers[layer - 1].W_new
        if given is None:
            return base
        return Mat(
            tuple(given[i][c].q if given[i][c] is not None else base[i, c] for c in range(base.m)) for i in range(base.n)
        )


def check(trace, sheet: AnswerSheet, rule=None) -> Report:
    """Mark ``sheet`` against the solved ``trace``."""
    from .exact import START_PRECISION, working_precision

    # the replay computes at the precision the trace was certified at, and
    # takes an undecidable sign of the student's own values as 0
    with working_precision(trace.precision or START_PRECISION, settle=True):
        return _Checker(trace, sheet, rule or DefaultRule()).run()
