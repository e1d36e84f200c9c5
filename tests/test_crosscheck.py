"""The NumPy float64 cross-check: silent when the exact solve is right, loud
when it is not, and honest (a note, not a failure) where float64 overflows."""

import pytest

import stepsolver
from stepsolver.kinds.net import engine
from stepsolver.errors import CrossCheckError

SIGMOID_NET = """
learning_rate = 0.5
activation = "sigmoid"
[[layers]]
weights = [[0.15, 0.2], [0.25, 0.3]]
bias = [0.35, 0.35]
[[layers]]
weights = [[0.4, 0.45], [0.5, 0.55]]
bias = [0.6, 0.6]
[[examples]]
x = [0.05, 0.1]
t = [0.01, 0.99]
"""


def test_a_planted_bug_in_the_backward_pass_is_caught(monkeypatch):
    def no_derivative(W_next, delta_next, gprime):  # forgets g'(z)
        dA = W_next.T @ delta_next
        return dA, dA

    monkeypatch.setattr(engine, "hidden_delta", no_derivative)
    with pytest.raises(CrossCheckError) as info:
        stepsolver.solve(stepsolver.loads_problem(SIGMOID_NET))
    assert "layer 1" in str(info.value)


def test_a_planted_bug_in_the_update_is_caught(monkeypatch):
    def wrong_sign(W, b, gW, gb, eta, update_biases):
        return W + gW.scale(eta), b - gb.scale(eta)

    monkeypatch.setattr(engine, "update", wrong_sign)
    with pytest.raises(CrossCheckError, match="W_new"):
        stepsolver.solve(stepsolver.loads_problem(SIGMOID_NET))


def test_a_planted_bug_in_the_loss_is_caught(monkeypatch):
    real = engine.total_loss

    def doubled(per, factor, l2, Ws):
        return real(per, 2 * factor, l2, Ws)

    monkeypatch.setattr(engine, "total_loss", doubled)
    with pytest.raises(CrossCheckError, match="J"):
        stepsolver.solve(stepsolver.loads_problem(SIGMOID_NET))


def test_saturated_sigmoid_is_not_a_false_alarm():
    # sigmoid(40) = 1 - 4e-18: float64 rounds a to 1 and a - t to 0
    sol = stepsolver.solve(
        stepsolver.loads_problem(
            """
learning_rate = 1
activation = "sigmoid"
[[layers]]
weights = [[40]]
[[examples]]
x = 1
t = 1
"""
        )
    )
    delta = sol.trace.steps[0].layers[0].delta[0, 0]
    assert -1e-34 < float(delta) < -1e-36  # exact: -(1-a) a (1-a), about -1.8e-35


def test_values_past_float_range_are_checked_not_skipped():
    sol = stepsolver.solve(
        stepsolver.loads_problem(
            """
learning_rate = 0.001
[[layers]]
weights = [[800]]
activation = "exp(x)"
[[examples]]
x = 1
t = 0
"""
        )
    )
    # the recomputation in rigorous balls covers what float64 cannot hold:
    # nothing is skipped, so there is nothing to note
    assert not any("float64" in n or "skipped" in n for n in sol.trace.notes)
    data = sol.to_dict()
    # exp(800) is past float range: no float value, but the exact form is kept
    assert data["steps"][0]["layers"][0]["a"]["value"] == [[None]]
    assert data["steps"][0]["layers"][0]["a"]["exact"] == [["exp(800)"]]
    # the cost after the update, exp(2 (800 - e^1600/1000)) / 2, is tiny, not 0
    from stepsolver.render.numbers import show

    after = show(sol.trace.final_loss.total)
    assert after.kind == "sci" and after.exp < -10**600, after


def test_cross_entropy_with_a_dominant_class_is_not_a_false_alarm():
    # the case hypothesis found: lse - z cancels in a naive float computation
    stepsolver.solve(
        stepsolver.loads_problem(
            """
learning_rate = 0.1
loss = "cross_entropy"
[[layers]]
weights = [[0], [3]]
bias = [0, 0.25]
activation = "square"
[[layers]]
weights = [[0, -0.75], [0, 1.5]]
bias = [0, 0.25]
activation = "softmax"
[[examples]]
x = 1
t = [0, 1]
"""
        )
    )
