"""How ``check`` replays a network's update on a student's own values.

For every quantity in the order it is worked (z and a per layer, J, delta
and the gradients from the output back, the updated parameters) it builds
the follow-through from the student's earlier values with the marker's
``run`` (each view: as written, as intervals, with the slips set right) and
asks the marker to ``judge`` the answered entries, offering the classic
slips of that step as candidates.  The step functions are the engine's and
the update the one of rules.py: the method is written once.  The judging
itself is kind-neutral (marking/marker.py); this module is imported by
nothing in marking/ -- the marker is handed in.
"""

from __future__ import annotations

from ...exact import Q, Mat
from ...trace import Key
from ...functions import optimizers
from . import engine, rules

def replay(marker, trace, sheet) -> None:
    """Judge every answered quantity of every update, in the order they are
    worked.  Step 1 starts from the given weights; each later step from the
    student's own updated weights (their W_new / b_new, or the
    follow-through where they gave none)."""
    first = trace.steps[0]
    W_used = [marker.exact(lt.W) for lt in first.layers]
    b_used = [marker.exact(lt.b) for lt in first.layers]
    state = None  # the optimizer's state, per layer {quantity name: Qty}, as the student carried it
    for s in trace.steps:
        step = _Step(marker, trace, s)
        W_used, b_used = step.run(W_used, b_used, state)
        state = step.state


class _Step:
    """The replay of one update."""

    def __init__(self, marker, trace, s):
        self.marker, self.trace, self.s, self.problem = marker, trace, s, trace.problem
        self.judge = marker.judge
        self.state = None  # the optimizer's state after this update, per layer, as the student has it

    def key(self, layer, name) -> Key:
        return Key(self.s.index, layer, name)

    def run(self, W_used, b_used, state=None):
        run, _safe, m_ = self.marker.run, self.marker.safe, self.marker
        s = self.s
        p = self.problem
        L = len(p.layers)
        acts = [l.activation for l in p.layers]
        X = m_.exact(s.X)
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

            def z_cands(v, W=W, A_prev=A_prev, b=b):
                return [("missing_bias", _safe(lambda: v(W) @ v(A_prev)) if any(x for x in b.pts.entries()) else None)]

            Zv[l] = self.judge(self.key(l + 1, "z"), lt.z, [ft], z_cands)
            ft = run(lambda Z, act=act: engine.activate(act, Z), Zv[l])

            def a_cands(v, Z=Zv[l], act=act):
                return [("activation_not_applied", None if act.is_identity else v(Z))]

            Av[l] = self.judge(self.key(l + 1, "a"), lt.a, [ft], a_cands)
            A_prev = Av[l]

        # loss -----------------------------------------------------------------
        AL = Av[-1]

        def per_example(A: Mat) -> Mat:
            """Each example's loss, as a row (an intermediate lecture notes write out)."""
            return Mat([[e.value for e in engine.example_losses(p.loss, A, T, ids, lambda k: "check")]])

        def total(per: Mat, l2_term=None, data_factor=None) -> Mat:
            f = factor if data_factor is None else data_factor
            data = f * engine._sum(per.entries())
            return Mat([[data if l2_term is None else data + l2_term[0, 0]]])

        def l2_of(*Ws):
            return Mat([[engine.total_loss((), 1, p.l2, list(Ws)).l2_term]])

        per = run(per_example, AL)
        l2 = run(l2_of, *W_used) if p.l2 else None
        ft_loss = run(total, per, l2) if p.l2 else run(total, per)

        def loss_cands(v):
            out = []
            n_out = AL.pts.n
            pe = _safe(lambda: v.inter(per_example(v(AL))))
            reg = _safe(lambda: v.inter(l2_of(*[v(W) for W in W_used]))) if p.l2 else None
            if pe is None or (p.l2 and reg is None):
                return out
            for k in (Q(2), Q(1, 2)) + ((Q(n_out), Q(n_out, 2)) if p.loss.name == "mse" and n_out > 1 else ()):
                out.append(("loss_factor", _safe(lambda k=k: total(pe, reg, factor * k))))
            if mean_batch:
                for k in (Q(m), Q(1, m)):
                    out.append(("missing_batch_factor", _safe(lambda k=k: total(pe, reg, factor * k))))
            if p.l2:
                out.append(("missing_l2", _safe(lambda: total(pe))))
            return out

        self.judge(self.key(None, "loss"), Mat([[s.loss.total]]), [ft_loss], loss_cands)

        # backward ---------------------------------------------------------------
        Dv = [None] * L
        GWv, Gbv = [None] * L, [None] * L
        rule = s.rule
        for l in range(L - 1, -1, -1):
            lt = s.layers[l]
            act = acts[l]
            Z, A = Zv[l], Av[l]
            # g' as the student takes it: at their z, and from their own a
            gp_z = run(lambda Zm, Am, act=act: engine.activation_derivative(act, Zm, Am), Z, A, how={"gprime": "z"})
            gp_a = run(lambda Zm, Am, act=act: engine.activation_derivative(act, Zm, Am, by_a=True), Z, A,
                       how={"gprime": "a"})
            gps = [g for g in (gp_z, gp_a) if g is not None]
            if l == L - 1:
                dL = run(lambda Am: engine.loss_gradient(p.loss, Am, T, ids, lambda k: "check"), A)
                if not rule.uses_dL_da:
                    variants = [run(lambda Am: engine.output_delta(rule, factor, Am, T, None, None)[1], A)]
                elif not rule.uses_gprime:  # softmax with another loss: its Jacobian
                    variants = [run(lambda Am, dLm: engine.output_delta(rule, factor, Am, T, dLm, None)[1], A, dL)]
                else:
                    variants = [run(lambda Am, dLm, gpm: engine.output_delta(rule, factor, Am, T, dLm, gpm)[1], A, dL, gp,
                                    how={"factor": "after"} if factor != 1 else None)
                                for gp in gps]
                    if factor != 1:
                        # dJ/da = (1/m) dL/da written out before the product with g'
                        dJ = run(lambda dLm: dLm.scale(factor), dL)
                        variants = [run(lambda Am, dJm, gpm: engine.output_delta(rule, 1, Am, T, dJm, gpm)[1], A, dJ, gp,
                                        how={"factor": "first"})
                                    for gp in gps] + variants

                def d_cands(v, A=A, dL=dL, variants=variants, act=act, gps=gps):
                    out = []
                    slips = rule.slips
                    dLv = _safe(lambda: v(dL))
                    if dLv is not None and "missing_activation_derivative" in slips and not act.is_identity:
                        base = dLv.scale(factor)
                        out.append(("missing_activation_derivative", v.inter(base)))
                        gp_at_a = _safe(lambda: v.inter(engine.activation_derivative(act, v(A), engine.activate(act, v(A)))))
                        out.append(("derivative_at_a", _safe(lambda: base.hadamard(gp_at_a)) if gp_at_a is not None else None))
                    if not rule.uses_dL_da or not rule.uses_gprime:
                        plain = [_safe(lambda ft=ft: v(ft)) for ft in variants]
                    else:  # the chain with the slip's factor, from each g'
                        plain = [_safe(lambda gp=gp: engine.output_delta(rule, factor, v(A), T, dLv, v(gp))[1]) for gp in gps]
                    for ft in plain:
                        if ft is None:
                            continue
                        if mean_batch and "missing_batch_factor" in slips:
                            out += [("missing_batch_factor", ft.scale(Q(m))), ("missing_batch_factor", ft.scale(Q(1, m)))]
                        if "loss_factor" in slips:
                            n_out = ft.n
                            ks = (Q(2), Q(1, 2)) + ((Q(n_out), Q(n_out, 2)) if p.loss.name == "mse" and n_out > 1 else ())
                            out += [("loss_factor", ft.scale(k)) for k in ks]
                        if "sign_error" in slips:
                            out.append(("sign_error", ft.scale(Q(-1))))
                    return out

            else:
                Dn = Dv[l + 1]
                Wn = W_used[l + 1]
                back = run(lambda Wm, Dm: Wm.T @ Dm, Wn, Dn)
                if act.is_identity:
                    variants = [back]
                else:
                    variants = [run(lambda bk, gm: bk.hadamard(gm), back, gp) for gp in gps]

                def d_cands(v, l=l, Dn=Dn, Wn=Wn, back=back, gps=gps, act=act):
                    out = []
                    if back is not None and not act.is_identity:
                        bk = v(back)
                        out.append(("missing_activation_derivative", bk))
                        Am = v(Av[l])
                        gp_at_a = _safe(lambda: v.inter(engine.activation_derivative(act, Am, engine.activate(act, Am))))
                        out.append(("derivative_at_a", _safe(lambda: bk.hadamard(gp_at_a)) if gp_at_a is not None else None))
                    for gp in (gps if not act.is_identity else [None]):
                        gv = _safe(lambda: v(gp)) if gp is not None else None
                        if gp is not None and gv is None:
                            continue
                        if Wn.pts.n == Wn.pts.m:
                            wd = _safe(lambda: v.inter(v(Wn) @ v(Dn)))
                            out.append(("missing_transpose", None if wd is None else (wd if gv is None else _safe(lambda: wd.hadamard(gv)))))
                        W_upd = self.provisional_W_new(s, l + 2, Wn, GWv[l + 1], v)  # the layer above, 1-based
                        if W_upd is not None:
                            ud = _safe(lambda: v.inter(W_upd.T @ v(Dn)))
                            out.append(("used_updated_weights", None if ud is None else (ud if gv is None else _safe(lambda: ud.hadamard(gv)))))
                    return out

            Dv[l] = self.judge(self.key(l + 1, "delta"), lt.delta, variants, d_cands)
            D = Dv[l]
            A_prev = X if l == 0 else Av[l - 1]
            W = W_used[l]
            ftW = run(lambda Dm, Am, Wm: engine.gradients(Dm, Am, Wm, p.l2)[1], D, A_prev, W)
            ftb = run(lambda Dm: Dm.row_sums(), D)

            def gW_cands(v, D=D, A_prev=A_prev, W=W):
                out = []
                data = _safe(lambda: v(D) @ v(A_prev).T)
                if data is None:
                    return out
                if mean_batch:
                    for k in (Q(m), Q(1, m)):
                        out.append(("missing_batch_factor", _safe(lambda k=k: data.scale(k) + v(W).scale(p.l2) if p.l2 else data.scale(k))))
                if p.l2:
                    out.append(("missing_l2", data))
                return out

            GWv[l] = self.judge(self.key(l + 1, "grad_W"), lt.grad_W, [ftW], gW_cands)

            def gb_cands(v, D=D, ftb=ftb):
                out = []
                if m > 1:
                    for j in range(m):
                        out.append(("bias_not_summed", v(D).col(j)))
                if mean_batch and ftb is not None:
                    out += [("missing_batch_factor", v(ftb).scale(Q(m))), ("missing_batch_factor", v(ftb).scale(Q(1, m)))]
                return out

            Gbv[l] = self.judge(self.key(l + 1, "grad_b"), lt.grad_b, [ftb], gb_cands)

        # updates ------------------------------------------------------------------
        if not p.optimizer.plain:
            return self.optimizer_updates(W_used, b_used, GWv, Gbv, state)
        new_W, new_b = [], []
        for l in range(L):
            lt = s.layers[l]
            eta = lt.eta  # the learning rate the update used, from the trace
            W, b, GW, Gb = W_used[l], b_used[l], GWv[l], Gbv[l]
            new_W.append(self.plain_update(self.key(l + 1, "W_new"), lt.W_new, W, GW, eta, lt.W))
            if p.update_biases:
                new_b.append(self.plain_update(self.key(l + 1, "b_new"), lt.b_new, b, Gb, eta, lt.b))
            else:
                new_b.append(self.judge(self.key(l + 1, "b_new"), lt.b_new, [b], None))
        return new_W, new_b

    def plain_update(self, key, true, theta, G, eta, old):
        """theta - eta dJ/dtheta from the student's own gradient."""
        run, _safe = self.marker.run, self.marker.safe
        ft = run(lambda Tm, Gm: rules.updated(Tm, Gm, eta), theta, G)

        def cands(v):
            return [
                ("wrong_update_sign", _safe(lambda: rules.updated_wrong_sign(v(theta), v(G), eta))),
                ("missing_learning_rate", _safe(lambda: rules.updated(v(theta), v(G), 1))),
                ("not_updated", theta.pts),
            ]

        return self.judge(key, true, [ft], cands, old=old)

    def optimizer_updates(self, W_used, b_used, GWv, Gbv, state):
        """The updates with an optimizer that keeps state: each state entry
        from the student's own earlier state and gradient, then the new
        parameters from their own state (``self.state`` keeps it for the
        next update)."""
        p, s, m_ = self.problem, self.s, self.marker
        opt = p.optimizer
        new_W, new_b = [], []
        self.state = []
        for l in range(len(p.layers)):
            lt = s.layers[l]
            kept = {}
            for param, theta, g in (("W", W_used[l], GWv[l]), ("b", b_used[l], Gbv[l])):
                if param == "b" and not p.update_biases:
                    new_b.append(self.judge(self.key(l + 1, "b_new"), lt.b_new, [theta], None))
                    continue
                prev = (state[l] if state else {})
                before = {k: prev.get(f"{k}_{param}") or m_.exact(lt.opt_before[f"{k}_{param}"]) for k in opt.state}
                new, own = self.optimizer_param(l, lt, param, theta, g, before)
                (new_W if param == "W" else new_b).append(new)
                kept.update({f"{k}_{param}": own[k] for k in opt.state})
            self.state.append(kept)
        return new_W, new_b

    def optimizer_param(self, l, lt, param, theta, g, before):
        """One parameter's state entries and new value, judged in worked order."""
        k = self.s.index
        return optimizers.judge_update(
            self.marker, self.problem.optimizer, theta, g, before, k, lt.eta,
            key_of=lambda name: Key(k, l + 1, f"{name}_{param}"), true_of=lambda name: lt.opt[f"{name}_{param}"],
            key_new=Key(k, l + 1, f"{param}_new"), true_new=getattr(lt, f"{param}_new"), old=getattr(lt, param))

    def provisional_W_new(self, s, layer: int, W, GW, v) -> Mat | None:
        """The weights of ``layer`` as the student updated them this step,
        read in the view ``v``: their W_new where given, otherwise
        W - eta * their gradient."""
        if v.name == "true":
            return s.layers[layer - 1].W_new
        given = self.marker.answers(self.key(layer, "W_new"))
        student_value, _safe = self.marker.student_value, self.marker.safe
        base = None
        if GW is not None and self.problem.optimizer.plain:
            base = _safe(lambda: rules.updated(v(W), v(GW), s.layers[layer - 1].eta))
        if base is None:
            base = s.layers[layer - 1].W_new
        if given is None:
            return base
        point = v.name != "balls"
        return Mat(
            tuple((given[i][c].q if point else student_value(given[i][c])) if given[i][c] is not None else base[i, c]
                  for c in range(base.m))
            for i in range(base.n)
        )
