"""Exact known answers: hand-worked exercises and a published walkthrough."""

from fractions import Fraction as Fr

import pytest

import stepsolver
from conftest import ROOT, exact_matrix
from published import assert_published


def step1(path):
    sol = stepsolver.solve(stepsolver.load_problem(ROOT / "problems" / path))
    return sol.trace.steps[0]


def test_linear_2_3_2_matches_the_hand_worked_exercise():
    assert_published("linear_2_3_2.toml", {
        "layer1.z": [0, 8, 1],
        "layer1.a": [0, 8, 1],
        "layer2.z": [15, -4],
        "loss": 109,
        "layer2.delta": [13, -7],
        "layer1.delta": [-1, 33, -60],
        "layer2.grad_W": [[0, 104, 13], [0, -56, -7]],
        "layer2.W_new": [[1, "24/25", "-313/100"], [2, "-11/25", "307/100"]],
        "layer2.b_new": ["187/100", "107/100"],
        "layer1.W_new": [["101/100", "-199/100"], ["167/100", "367/100"], ["-12/5", "8/5"]],
        "layer1.b_new": ["101/100", "167/100", "18/5"],
    })


def test_sigmoid_2_2_2_matches_the_published_walkthrough():
    # figures as published in the well-known step-by-step tutorial, to 8 or
    # 9 decimals: the exact values round to every one of them
    assert_published("sigmoid_2_2_2.toml", {
        "layer1.z[1,1]": "0.3775",
        "layer1.a": ["0.593269992", "0.596884378"],
        "layer2.a": ["0.75136507", "0.772928465"],
        "loss": "0.298371109",
        "layer2.grad_W[1,1]": "0.082167041",
        "layer2.W_new": [["0.35891648", "0.408666186"], ["0.511301270", "0.561370121"]],
        "layer1.W_new": [["0.149780716", "0.19956143"], ["0.24975114", "0.29950229"]],
        # biases fixed, as in the walkthrough
        "layer1.b_new": ["35/100", "35/100"],
    })


def test_assert_published_fails_on_a_wrong_figure():
    with pytest.raises(AssertionError, match=r"layer2.z\[2,1\] is -4, published -5"):
        assert_published("linear_2_3_2.toml", {"layer2.z": [15, -5]})
    with pytest.raises(AssertionError, match="does not round to the published 0.593269993"):
        assert_published("sigmoid_2_2_2.toml", {"layer1.a[1,1]": "0.593269993"})
    with pytest.raises(AssertionError, match="is irrational"):
        assert_published("sigmoid_2_2_2.toml", {"layer1.a[1,1]": "593269992/1000000000"})
    with pytest.raises(AssertionError, match="no such quantity"):
        assert_published("linear_2_3_2.toml", {"layer3.z": [1]})
    with pytest.raises(AssertionError, match="shape 2x1, published 3x1"):
        assert_published("linear_2_3_2.toml", {"layer2.z": [15, -4, 0]})
    with pytest.raises(TypeError):
        assert_published("linear_2_3_2.toml", {"loss": 109.0})


def test_assert_published_reads_scientific_figures():
    # to 3 significant digits the exact value must round to the figure
    assert_published("linear_2_3_2.toml", {"layer2.W_new[1,3]": "-3.13e0", "loss": "1.09e2"})
    with pytest.raises(AssertionError):
        assert_published("linear_2_3_2.toml", {"loss": "1.08e2"})


def test_custom_activation_stays_exact():
    s = step1("custom_activation.toml")
    l1, l2 = s.layers
    # g(x) = x^3/3 - x, g'(x) = x^2 - 1, by hand
    assert exact_matrix(l1.z) == [[Fr(1, 2)], [Fr(3, 2)]]
    assert exact_matrix(l1.a) == [[Fr(-11, 24)], [Fr(-3, 8)]]
    assert exact_matrix(l1.gprime) == [[Fr(-3, 4)], [Fr(5, 4)]]
    assert exact_matrix(l2.z) == [[Fr(-5, 6)]]
    assert Fr(str(s.loss.total)) == Fr(121, 72)
    assert exact_matrix(l2.delta) == [[Fr(-11, 6)]]
    assert exact_matrix(l1.delta) == [[Fr(11, 8)], [Fr(-55, 24)]]


def test_relu_kink_uses_zero_derivative():
    s = step1("relu_kink.toml")
    l1 = s.layers[0]
    assert exact_matrix(l1.z)[1] == [0]
    assert exact_matrix(l1.gprime) == [[1], [0], [1]]
    # no gradient flows through the unit at the kink: its weights stay put
    assert exact_matrix(l1.grad_W)[1] == [0, 0]
    assert exact_matrix(l1.W_new)[1] == exact_matrix(l1.W)[1]
    assert s.kinks == ((1, 2, 1),)


def test_leaky_relu_kink_uses_the_slope(solve_text):
    sol = solve_text(
        """
learning_rate = 1
leaky_slope = 0.1
[[layers]]
weights = [[1, -1]]
activation = "leaky_relu"
[[examples]]
x = [2, 2]
t = 1
"""
    )
    l1 = sol.trace.steps[0].layers[0]
    assert exact_matrix(l1.z) == [[0]]
    assert exact_matrix(l1.gprime) == [[Fr(1, 10)]]
    # a = 0, dL/da = -1, delta = -1 * 0.1
    assert exact_matrix(l1.delta) == [[Fr(-1, 10)]]


def test_batch_mean_and_sum_differ_by_the_batch_factor(solve_text):
    base = """
learning_rate = 0.5
batch = "{batch}"
[[layers]]
weights = [[1, 2]]
bias = [1]
[[examples]]
x = [1, 0]
t = 0
[[examples]]
x = [0, 1]
t = 1
"""
    mean = solve_text(base.format(batch="mean")).trace.steps[0]
    total = solve_text(base.format(batch="sum")).trace.steps[0]
    # z = (2, 3); a - t = (2, 2); L = (2, 2); J_mean = 2, J_sum = 4
    assert Fr(str(mean.loss.total)) == 2
    assert Fr(str(total.loss.total)) == 4
    assert exact_matrix(mean.layers[0].delta) == [[1, 1]]
    assert exact_matrix(total.layers[0].delta) == [[2, 2]]
    assert exact_matrix(mean.layers[0].grad_W) == [[1, 1]]
    assert exact_matrix(mean.layers[0].grad_b) == [[2]]
    assert exact_matrix(total.layers[0].grad_b) == [[4]]
    assert exact_matrix(mean.layers[0].W_new) == [[Fr(1, 2), Fr(3, 2)]]


def test_l2_adds_lambda_w_to_the_weight_gradient_only(solve_text):
    sol = solve_text(
        """
learning_rate = 0.1
l2 = 0.5
[[layers]]
weights = [[2, -2]]
bias = [1]
[[examples]]
x = [1, 1]
t = 0
"""
    )
    s = sol.trace.steps[0]
    lt = s.layers[0]
    # z = 1, L = 1/2, l2 term = 0.5/2 * 8 = 2, J = 5/2
    assert Fr(str(s.loss.total)) == Fr(5, 2)
    assert exact_matrix(lt.grad_W) == [[1 + 1, 1 - 1]]
    assert exact_matrix(lt.grad_b) == [[1]]
    assert exact_matrix(lt.W_new) == [[Fr(18, 10), -2]]


def test_online_updates_chain_the_weights(solve_text):
    sol = solve_text(
        """
learning_rate = 1
update = "online"
steps = 2
[[layers]]
weights = [[1]]
[[examples]]
x = 1
t = 0
[[examples]]
x = 2
t = 0
"""
    )
    steps = sol.trace.steps
    assert [s.examples for s in steps] == [(1,), (2,), (1,), (2,)]
    # w=1: ex1 grad = 1 -> w=0; ex2: a=0, grad 0 -> w=0 ...
    assert exact_matrix(steps[0].layers[0].W_new) == [[0]]
    assert exact_matrix(steps[1].layers[0].W) == [[0]]
    assert [s.pass_index for s in steps] == [1, 1, 2, 2]


def test_softmax_cross_entropy_delta_is_a_minus_t():
    s = step1("softmax_cross_entropy.toml")
    out = s.layers[-1]
    assert s.output_rule == "softmax_ce"
    for i in range(3):
        assert float(out.delta[i, 0]) == pytest.approx(float(out.a[i, 0]) - float(s.T[i, 0]), abs=1e-15)
    assert sum(float(out.a[i, 0]) for i in range(3)) == pytest.approx(1.0, abs=1e-15)


def test_sigmoid_of_zero_and_its_derivative_are_exact(solve_text):
    sol = solve_text(
        """
learning_rate = 1
activation = "sigmoid"
[[layers]]
weights = [[0, 0]]
[[examples]]
x = [3, 4]
t = 1
"""
    )
    lt = sol.trace.steps[0].layers[0]
    assert exact_matrix(lt.a) == [[Fr(1, 2)]]
    assert exact_matrix(lt.gprime) == [[Fr(1, 4)]]
    assert exact_matrix(lt.delta) == [[Fr(-1, 8)]]
    assert exact_matrix(lt.W_new) == [[Fr(3, 8), Fr(1, 2)]]


def test_decimals_are_read_exactly(solve_text):
    sol = solve_text(
        """
learning_rate = 0.1
[[layers]]
weights = [[0.1, 0.2]]
bias = ["1/3"]
[[examples]]
x = [1, 1]
t = 0.3
"""
    )
    s = sol.trace.steps[0]
    # 0.1 + 0.2 + 1/3 - 0.3 = 1/3 exactly (no binary rounding anywhere)
    assert exact_matrix(s.layers[0].z) == [[Fr(1, 10) + Fr(2, 10) + Fr(1, 3)]]
    assert exact_matrix(s.layers[0].delta) == [[Fr(1, 3)]]
