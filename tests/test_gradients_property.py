"""The engine's gradients against central finite differences of J, over
random small networks, for every activation and every loss (hypothesis)."""

from __future__ import annotations

import mpmath
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stepsolver
from stepsolver.kinds.net import engine
from stepsolver.exact import MP, Q, is_rational, to_mpf
from stepsolver.exact import Mat
from stepsolver.kinds.net.problem import problem_from_dict

HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "square",
          "x**3/3 - x", "tanh(x) + x/10", "exp(x)/4", "log(1 + x**2)", "sqrt(1 + x**2)"]
H = Q(1, 10**12)

quarter = st.integers(-6, 6).map(lambda k: f"{k}/4")


@st.composite
def networks(draw):
    loss = draw(st.sampled_from(["half_sse", "sse", "mse", "cross_entropy", "binary_cross_entropy"]))
    n0 = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    if loss == "cross_entropy":
        n_out, out_act = draw(st.integers(2, 3)), "softmax"
    elif loss == "binary_cross_entropy":
        n_out, out_act = draw(st.integers(1, 2)), "sigmoid"
    else:
        n_out = draw(st.integers(1, 3))
        out_act = draw(st.sampled_from(HIDDEN + ["softmax"])) if n_out > 1 else draw(st.sampled_from(HIDDEN))
    sizes = [n0] + hidden + [n_out]
    layers = []
    for l in range(1, len(sizes)):
        act = out_act if l == len(sizes) - 1 else draw(st.sampled_from(HIDDEN))
        W = [[draw(quarter) for _ in range(sizes[l - 1])] for _ in range(sizes[l])]
        b = [draw(quarter) for _ in range(sizes[l])]
        layers.append({"weights": W, "bias": b, "activation": act})
    m = draw(st.integers(1, 3))
    examples = []
    for _ in range(m):
        x = [draw(quarter) for _ in range(n0)]
        if loss == "binary_cross_entropy":
            t = [draw(st.sampled_from(["0", "1", "1/4", "1/2"])) for _ in range(n_out)]
        elif loss == "cross_entropy":
            t = [draw(st.sampled_from(["0", "1", "1/2"])) for _ in range(n_out)]
        else:
            t = [draw(quarter) for _ in range(n_out)]
        examples.append({"x": x, "t": t})
    data = {
        "learning_rate": "1/10",
        "loss": loss,
        "batch": draw(st.sampled_from(["mean", "sum"])),
        "l2": draw(st.sampled_from(["0", "1/10"])),
        "leaky_slope": "1/5",
        "layers": layers,
        "examples": examples,
    }
    return data


def cost(problem, params):
    acts = [l.activation for l in problem.layers]
    X, T = problem.X, problem.T
    _, as_ = engine.forward(params, acts, X, lambda *a, **k: "fd")
    ids = tuple(range(1, X.m + 1))
    per = engine.example_losses(problem.loss, as_[-1], T, ids, lambda k: "fd")
    return engine.total_loss(per, engine.batch_factor(problem.batch, X.m), problem.l2, [W for W, _ in params]).total


def bump(M: Mat, i: int, j: int, h) -> Mat:
    rows = [list(r) for r in M.rows]
    rows[i][j] = rows[i][j] + h
    return Mat(rows)


def near_kink(step, problem) -> bool:
    for lt, layer in zip(step.layers, problem.layers):
        if layer.activation.piecewise:
            if any(abs(to_mpf(z)) < mpmath.mpf("1e-6") for z in lt.z.entries()):
                return True
    return False


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_gradients_match_finite_differences(data):
    from stepsolver.errors import LimitError, SolveError

    problem = problem_from_dict(data)
    try:
        sol = stepsolver.solve(problem)  # also runs the NumPy cross-check
    except (SolveError, LimitError):
        return  # a custom activation undefined there, or values too large to carry
    step = sol.trace.steps[0]
    if near_kink(step, problem):
        return
    params = [(l.W, l.b) for l in problem.layers]
    for l, lt in enumerate(step.layers):
        for name, M, grad in (("W", lt.W, lt.grad_W), ("b", lt.b, lt.grad_b)):
            for i in range(M.n):
                for j in range(M.m):
                    plus = list(params)
                    minus = list(params)
                    W, b = params[l]
                    if name == "W":
                        plus[l] = (bump(W, i, j, H), b)
                        minus[l] = (bump(W, i, j, -H), b)
                    else:
                        plus[l] = (W, bump(b, i, j, H))
                        minus[l] = (W, bump(b, i, j, -H))
                    fd = (to_mpf(cost(problem, plus)) - to_mpf(cost(problem, minus))) / (2 * to_mpf(H))
                    g = to_mpf(grad[i, j])
                    assert abs(g - fd) <= MP.mpf("1e-14") * (1 + abs(g)), (
                        f"layer {l + 1} {name}[{i + 1}][{j + 1}]: engine {g}, finite difference {fd}"
                    )
            # the update is exactly W - eta * grad
    for lt in step.layers:
        for w, g, wn in zip(lt.W.entries(), lt.grad_W.entries(), lt.W_new.entries()):
            expected = w - problem.learning_rate * g
            if is_rational(expected) and is_rational(wn):
                assert expected == wn
            else:
                assert abs(to_mpf(expected) - to_mpf(wn)) < MP.mpf("1e-40")
