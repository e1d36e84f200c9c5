"""The update rules: plain gradient descent and the optimizers with state.

Each rule is PyTorch's form (torch.optim), with its state starting at zero
and t counting updates from 1:

* ``sgd``       theta <- theta - eta g
* ``momentum``  v <- mu v + g;                 theta <- theta - eta v
* ``nesterov``  v <- mu v + g;                 theta <- theta - eta (g + mu v)
* ``adagrad``   G <- G + g^2;                  theta <- theta - eta g / (sqrt(G) + eps)
* ``rmsprop``   s <- rho s + (1 - rho) g^2;    theta <- theta - eta g / (sqrt(s) + eps)
* ``adam``      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
                m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t);
                theta <- theta - eta m_hat / (sqrt(v_hat) + eps)

with ``epsilon_inside = true`` the root takes the epsilon: sqrt(G + eps)
(Goodfellow et al.'s RMSProp).  g is the gradient of the update, the l2
term included.

Every step is written once, here, as small functions on matrices of exact
values (rationals, certified balls): the exact solve of every kind, the
rounded key and the replay of ``check`` (on a student's own values, and with
each classic slip) all call them.  The NumPy cross-check keeps its own float
copy on purpose.  How a rule is written (symbols, formulas) lives in the
templates; its sentences in the language tables (``opt.*``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import exact
from ..exact.symbolic import Sym
from ..errors import InputError
from ..exact import ONE, ZERO, Q, Mat, q_str
from ..tomlio import check_keys, choose, expect_table, parse_bool, parse_number

#: name -> (its hyper-parameters in the order they are stated, the state it keeps)
RULES = {
    "sgd": ((), ()),
    "momentum": (("momentum",), ("velocity",)),
    "nesterov": (("momentum",), ("velocity",)),
    "adagrad": (("epsilon",), ("G",)),
    "rmsprop": (("rho", "epsilon"), ("s",)),
    "adam": (("beta1", "beta2", "epsilon"), ("m", "v")),
}

#: PyTorch's defaults (torch.optim), except the momentum, which PyTorch
#: leaves at 0 (plain descent): 0.9, the value every textbook uses
DEFAULTS = {
    "sgd": {},
    "momentum": {"momentum": Q(9, 10)},
    "nesterov": {"momentum": Q(9, 10)},
    "adagrad": {"epsilon": Q(1, 10**10)},
    "rmsprop": {"rho": Q(99, 100), "epsilon": Q(1, 10**8)},
    "adam": {"beta1": Q(9, 10), "beta2": Q(999, 1000), "epsilon": Q(1, 10**8)},
}

#: the names of the state entries an update shows, per rule, in worked order
#: (the persistent state first, then Adam's bias-corrected averages)
SHOWN = {
    "sgd": (),
    "momentum": ("velocity",),
    "nesterov": ("velocity",),
    "adagrad": ("G",),
    "rmsprop": ("s",),
    "adam": ("m", "v", "m_hat", "v_hat"),
}

#: how each state entry is written (LaTeX), subscripted by its parameter: v_{W^{[1]}}
SYMBOLS = {"velocity": "v", "G": "G", "s": "s", "m": "m", "v": "v", "m_hat": r"\hat{m}", "v_hat": r"\hat{v}"}


def state_symbol(name: str, th: str) -> str:
    """The symbol of a state entry of the parameter written ``th``."""
    return f"{SYMBOLS[name]}_{{{th}}}"


KEYS = ("name", "momentum", "beta1", "beta2", "rho", "epsilon", "epsilon_inside")
ROOTED = ("adagrad", "rmsprop", "adam")


@dataclass(frozen=True)
class Optimizer:
    """An update rule and its hyper-parameters (exact values)."""

    name: str = "sgd"
    params: tuple = ()  # ((name, value), ...) in the order of RULES
    epsilon_inside: bool = False
    #: which keys the problem file set (the others are defaults, and said so)
    explicit: frozenset = field(default_factory=frozenset)

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        for k, v in self.__dict__.get("params", ()):
            if k == key:
                return v
        raise AttributeError(key)

    @property
    def plain(self) -> bool:
        return self.name == "sgd"

    @property
    def state(self) -> tuple[str, ...]:
        """The persistent state (carried from update to update)."""
        return RULES[self.name][1]

    @property
    def shown(self) -> tuple[str, ...]:
        return SHOWN[self.name]

    @property
    def rooted(self) -> bool:
        return self.name in ROOTED

    def defaulted(self) -> tuple[str, ...]:
        """The hyper-parameters left at their defaults."""
        return tuple(k for k, _ in self.params if k not in self.explicit)

    def quantity_names(self, param: str) -> tuple[str, ...]:
        """The quantity names of one parameter's state: 'm_W', 'v_hat_b'."""
        return tuple(f"{s}_{param}" for s in self.shown)

    def to_dict(self) -> dict:
        out = {"name": self.name}
        for k, v in self.params:
            out[k] = v
        if self.rooted:
            out["epsilon_inside"] = self.epsilon_inside
        return out

    # ---------------------------------------------------------- the steps
    def zeros(self, theta: Mat) -> dict:
        return {s: Mat.fill(theta.n, theta.m, ZERO) for s in self.state}

    def step(self, theta: Mat, g: Mat, before: dict | None, t: int, eta, rnd=None):
        """One update of one parameter matrix: (theta_new, the state entries
        shown {name: Mat} in worked order, the direction eta multiplies, the
        denominator sqrt(.) + eps of the rules with a root, else None).
        ``before`` is the persistent state after the previous update (None:
        zeros); ``rnd`` rounds every value a student writes down before it is
        used (the rounded key)."""
        rnd = rnd or (lambda M: M)
        before = before if before is not None else self.zeros(theta)
        name = self.name
        shown: dict = {}
        denom = None
        if name == "sgd":
            direction = g
        elif name in ("momentum", "nesterov"):
            v = rnd(accumulate_velocity(before["velocity"], g, self.momentum))
            shown["velocity"] = v
            direction = v if name == "momentum" else nesterov_direction(g, v, self.momentum)
        elif name == "adagrad":
            G = rnd(accumulate_squares(before["G"], g, ONE, ONE))
            shown["G"] = G
            denom = root(G, self.epsilon, self.epsilon_inside)
            direction = divide(g, denom)
        elif name == "rmsprop":
            s = rnd(accumulate_squares(before["s"], g, self.rho, 1 - self.rho))
            shown["s"] = s
            denom = root(s, self.epsilon, self.epsilon_inside)
            direction = divide(g, denom)
        else:  # adam
            m = rnd(average(before["m"], g, self.beta1))
            v = rnd(accumulate_squares(before["v"], g, self.beta2, 1 - self.beta2))
            m_hat = rnd(bias_corrected(m, self.beta1, t))
            v_hat = rnd(bias_corrected(v, self.beta2, t))
            shown.update(m=m, v=v, m_hat=m_hat, v_hat=v_hat)
            denom = root(v_hat, self.epsilon, self.epsilon_inside)
            direction = divide(m_hat, denom)
        new = theta - direction.scale(eta)
        if self.rooted:
            # a rule with a root is exact only by accident (a perfect square);
            # a long rational from it is carried as a certified ball, so that
            # later updates do not grow past the size limit of exact rationals
            new = loosened(new)
            shown = {k: loosened(M) for k, M in shown.items()}
        return new, shown, direction, denom

    def np_step(self, theta, g, prev, t, eta, xp):
        """One update on arrays of the namespace ``xp`` (NumPy float64 or
        balls; the cross-checks of every kind), in torch.optim's own order of
        operations (the first momentum buffer a copy of g; Adam's step size
        eta / (1 - b1^t) and denominator sqrt(v) / sqrt(1 - b2^t) + eps),
        written apart from the exact steps below: (new parameters, the state
        entries by name, the state kept for the next update; ``prev`` is
        that of the previous update or None)."""
        c = {k: xp.const(v) for k, v in self.params}
        name = self.name
        eps_in = self.epsilon_inside
        if name in ("momentum", "nesterov"):
            buf = g * 1 if prev is None else c["momentum"] * prev["velocity"] + g
            step = buf if name == "momentum" else g + c["momentum"] * buf
            return theta - eta * step, {"velocity": buf}, {"velocity": buf}
        if name in ("adagrad", "rmsprop"):
            key = "G" if name == "adagrad" else "s"
            old = prev[key] if prev is not None else 0 * g
            acc = old + g * g if name == "adagrad" else c["rho"] * old + (1 - c["rho"]) * (g * g)
            std = xp.sqrt(acc + c["epsilon"]) if eps_in else xp.sqrt(acc) + c["epsilon"]
            return theta - eta * g / std, {key: acc}, {key: acc}
        # adam
        m0 = prev["m"] if prev is not None else 0 * g
        v0 = prev["v"] if prev is not None else 0 * g
        b1, b2 = c["beta1"], c["beta2"]
        m = m0 + (1 - b1) * (g - m0)
        v = b2 * v0 + (1 - b2) * (g * g)
        bc1 = 1 - b1**t
        bc2 = 1 - b2**t
        if eps_in:
            denom = xp.sqrt(v / bc2 + c["epsilon"])
        else:
            denom = xp.sqrt(v) / xp.sqrt(bc2) + c["epsilon"]
        new = theta - (eta / bc1) * m / denom
        return new, {"m": m, "v": v, "m_hat": m / bc1, "v_hat": v / bc2}, {"m": m, "v": v}

    @property
    def accumulator(self) -> str | None:
        """The state entry under the root: Adam's v_hat, AdaGrad's G, RMSProp's s."""
        return {"adam": "v_hat", "adagrad": "G", "rmsprop": "s"}.get(self.name)


# ------------------------------------------------- the pieces, each once
def accumulate_velocity(v: Mat, g: Mat, mu) -> Mat:
    """v <- mu v + g."""
    return v.scale(mu) + g


def nesterov_direction(g: Mat, v: Mat, mu) -> Mat:
    """g + mu v (the look-ahead gradient of PyTorch's Nesterov)."""
    return g + v.scale(mu)


def average(m: Mat, g: Mat, beta) -> Mat:
    """m <- beta m + (1 - beta) g."""
    return m.scale(beta) + g.scale(1 - beta)


def accumulate_squares(s: Mat, g: Mat, keep, take) -> Mat:
    """s <- keep s + take g^2 (entry by entry)."""
    return s.scale(keep) + g.hadamard(g).scale(take)


def bias_corrected(m: Mat, beta, t: int) -> Mat:
    """m / (1 - beta^t)."""
    return m.scale(1 / (1 - beta**t))


def root(s: Mat, eps, inside: bool) -> Mat:
    """sqrt(s) + eps, or sqrt(s + eps) with ``inside``, entry by entry."""
    if inside:
        return s.map(lambda x: _sqrt(x + eps))
    return s.map(lambda x: _sqrt(x) + eps)


def _sqrt(x):
    """The root of an accumulated square, which is never negative: a ball
    that reaches below 0 (a square known only to lie near 0) is cut at 0."""
    if exact.is_rational(x) or type(x) is Sym or x.b > 0:  # a Sym: a formula of the student's values
        return exact.sqrt(x)
    top = x.b.upper()
    if not top > 0:
        return ZERO
    # [0, sqrt of the upper end]: the root of every non-negative value the ball holds
    return exact.irr(exact.ball(ZERO).union(top.sqrt().upper()))


def scaled_by_root(u: Mat, s: Mat, eps, inside: bool) -> Mat:
    """u / (sqrt(s) + eps) entry by entry (u / sqrt(s + eps) with ``inside``)."""
    return divide(u, root(s, eps, inside))


def divide(u: Mat, d: Mat) -> Mat:
    def one(x, y):
        if exact.is_rational(y) and not y:
            if exact.is_rational(x) and not x:
                raise ZeroDivisionError("0/0")
            raise ZeroDivisionError("division by zero")
        return x / y

    return Mat(tuple(one(x, y) for x, y in zip(ru, rd)) for ru, rd in zip(u.rows, d.rows))


#: the longest rational a rule with a root keeps exact (bits): Adam's first
#: step gives g / (|g| + eps), 30000000/30000001 for g = 3/10
EXACT_BITS = 128


def loosened(M: Mat) -> Mat:
    """M with every rational longer than EXACT_BITS as a certified ball."""
    def one(x):
        if exact.is_rational(x) and exact.bits(x) > EXACT_BITS:
            return exact.irr(exact.ball(x))
        return x

    return M.map(one)


# ------------------------------------------------------------ the replay
def judge_update(marker, opt, theta, g, before: dict, t: int, eta, *, key_of, true_of, key_new, true_new, old):
    """How ``check`` replays one parameter's update with an optimizer that
    keeps state, for every kind: each state entry from the student's own
    earlier state and gradient, then the new value from their own state,
    each judged by the marker (handed in; this module imports nothing of
    marking/) with the classic slips of that step as candidates.

    theta, g    the parameter before and its gradient as the student has
                them (the marker's replay quantities);
    before      the persistent state before this update, by state name;
    key_of(name), true_of(name)   the key and the true value of a state entry;
    key_new, true_new, old        the same of the new parameter, and its old value.
    Returns (the new parameter, the state entries {name: quantity})."""
    run, _safe = marker.run, marker.safe
    eps, inside = getattr(opt, "epsilon", None), opt.epsilon_inside
    own: dict = {}

    def judge(name, ft, cands):
        own[name] = marker.judge(key_of(name), true_of(name), [ft], cands)
        return own[name]

    if opt.name in ("momentum", "nesterov"):
        mu = opt.momentum
        v0 = before["velocity"]
        ft = run(lambda V, G: accumulate_velocity(V, G, mu), v0, g)
        judge("velocity", ft, lambda v: [
            ("velocity_sign", _safe(lambda: v(v0).scale(mu) - v(g))),
            ("cs231n_velocity", _safe(lambda: v(v0).scale(mu) - v(g).scale(eta))),
            ("momentum_left_out", v(g) if t > 1 else None),
        ])
        vel = own["velocity"]
        if opt.name == "momentum":
            ft = run(lambda T, V: T - V.scale(eta), theta, vel)
        else:
            ft = run(lambda T, G, V: T - nesterov_direction(G, V, mu).scale(eta), theta, g, vel)

        def extra(v):
            out = [("plain_gradient_step", _safe(lambda: v(theta) - v(g).scale(eta)))]
            if opt.name == "nesterov":
                out.append(("nesterov_as_momentum", _safe(lambda: v(theta) - v(vel).scale(eta))))
            return out
    elif opt.name in ("adagrad", "rmsprop"):
        key = "G" if opt.name == "adagrad" else "s"
        keep, take = (1, 1) if opt.name == "adagrad" else (opt.rho, 1 - opt.rho)
        s0 = before[key]
        ft = run(lambda S, G: accumulate_squares(S, G, keep, take), s0, g)

        def acc_cands(v):
            out = [("gradient_not_squared", _safe(lambda: v(s0).scale(keep) + v(g).scale(take)))]
            if opt.name == "rmsprop":
                out.append(("beta_swapped", _safe(lambda: accumulate_squares(v(s0), v(g), take, keep))))
            return out

        judge(key, ft, acc_cands)
        acc = own[key]
        ft = run(lambda T, G, S: T - scaled_by_root(G, S, eps, inside).scale(eta), theta, g, acc)

        def extra(v):
            return [
                ("epsilon_placement", _safe(lambda: v(theta) - scaled_by_root(v(g), v(acc), eps, not inside).scale(eta))),
                ("plain_gradient_step", _safe(lambda: v(theta) - v(g).scale(eta))),
            ]
    else:  # adam
        b1, b2 = opt.beta1, opt.beta2
        m0, v0 = before["m"], before["v"]
        ft = run(lambda M, G: average(M, G, b1), m0, g)
        judge("m", ft, lambda v: [("beta_swapped", _safe(lambda: average(v(m0), v(g), 1 - b1)))])
        ft = run(lambda V, G: accumulate_squares(V, G, b2, 1 - b2), v0, g)
        judge("v", ft, lambda v: [
            ("beta_swapped", _safe(lambda: accumulate_squares(v(v0), v(g), 1 - b2, b2))),
            ("gradient_not_squared", _safe(lambda: v(v0).scale(b2) + v(g).scale(1 - b2))),
        ])
        m, sq = own["m"], own["v"]
        for name, src, beta in (("m_hat", m, b1), ("v_hat", sq, b2)):
            ft = run(lambda M, beta=beta: bias_corrected(M, beta, t), src)
            judge(name, ft, lambda v, src=src, beta=beta: [
                ("bias_correction_left_out", v(src)),
                ("bias_correction_power", _safe(lambda: bias_corrected(v(src), beta, 1)) if t > 1 else None),
            ])
        mh, vh = own["m_hat"], own["v_hat"]
        ft = run(lambda T, M, V: T - scaled_by_root(M, V, eps, inside).scale(eta), theta, mh, vh)

        def extra(v):
            return [
                ("bias_correction_left_out", _safe(lambda: v(theta) - scaled_by_root(v(m), v(sq), eps, inside).scale(eta))),
                ("epsilon_placement", _safe(lambda: v(theta) - scaled_by_root(v(mh), v(vh), eps, not inside).scale(eta))),
                ("plain_gradient_step", _safe(lambda: v(theta) - v(g).scale(eta))),
            ]

    def cands(v):
        out = extra(v)
        d = _safe(lambda: (v(theta) - v(ft)).scale(1 / eta)) if ft is not None else None
        if d is not None:
            out += [("wrong_update_sign", _safe(lambda: v(theta) + d.scale(eta))),
                    ("missing_learning_rate", _safe(lambda: v(theta) - d))]
        out.append(("not_updated", theta.pts))
        return out

    new = marker.judge(key_new, true_new, [ft], cands, old=old)
    return new, own


# ------------------------------------------------------------- reading
def read(value, where: str) -> Optimizer:
    """The [optimizer] table of a problem file (``where`` its key path)."""
    table = expect_table(value, where)
    check_keys(table, KEYS, where)
    name = choose(table.get("name", "sgd"), f"{where}.name", {k: k for k in RULES}, "optimizer")
    allowed = RULES[name][0]
    for k in table:
        if k in ("name",):
            continue
        if k == "epsilon_inside" and name in ROOTED:
            continue
        if k not in allowed:
            takes = ", ".join(allowed + (("epsilon_inside",) if name in ROOTED else ())) or "no settings"
            raise InputError(f"{name} has no {k} (it takes {takes})", key=f"{where}.{k}")
    params = []
    for k in allowed:
        if k in table:
            v = parse_number(table[k], f"{where}.{k}")
            if k == "epsilon":
                if v < 0:
                    raise InputError(f"must be 0 or more, got {q_str(v)}", key=f"{where}.{k}")
            elif not (0 <= v < 1):
                raise InputError(f"must be at least 0 and below 1, got {q_str(v)}", key=f"{where}.{k}")
        else:
            v = DEFAULTS[name][k]
        params.append((k, v))
    inside = parse_bool(table["epsilon_inside"], f"{where}.epsilon_inside") if "epsilon_inside" in table else False
    return Optimizer(name=name, params=tuple(params), epsilon_inside=inside, explicit=frozenset(table))


SGD = Optimizer()

__all__ = ["Optimizer", "SGD", "read", "RULES", "DEFAULTS", "SHOWN"]


#: other names students write for an optimizer's state in an answers file
#: (every kind reads them: v for momentum's velocity, s or r for AdaGrad's G,
#: v or r for RMSProp's s)
ANSWER_ALIASES = {
    "momentum": {"v": "velocity"},
    "nesterov": {"v": "velocity"},
    "adagrad": {"s": "G", "r": "G"},
    "rmsprop": {"v": "s", "r": "s"},
    "adam": {},
}
