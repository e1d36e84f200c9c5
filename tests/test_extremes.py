"""Exact at the extremes: saturated units, tiny and huge values, cancelling
forms.  Every valid problem is answered with the independent reference's
values (tests/netref.py: plain mpmath with its own stable forms and
precision doubling, or exact Fractions), refused only where a documented
limit is really passed, and never ends in an internal error."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest

import netref
import stepsolver
import stress
from conftest import run_cli
from stepsolver.kinds.net import engine, numeric
from stepsolver.errors import CrossCheckError, LimitError

#: the slow layer: random problems against the independent reference
pytestmark = pytest.mark.slow

CASES = sorted((Path(__file__).parent / "extremes").glob("*.toml"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_each_class_is_answered_with_the_reference_values(path):
    text = path.read_text()
    ref = netref.reference(text)
    assert ref["status"] == "ok", ref
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning leaks out
        sol = stepsolver.solve(stepsolver.loads_problem(text, path.name))
        sol.render("json")
        sol.render("md")
    assert stress.compare(sol.trace, ref) == []


@pytest.mark.parametrize("path", CASES[:4], ids=lambda p: p.stem)
def test_the_command_line_is_quiet_and_succeeds(path):
    r = run_cli("solve", path, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


def test_a_tiny_derivative_is_printed_in_scientific_form():
    sol = stepsolver.solve(stepsolver.load_problem(Path(__file__).parent / "extremes" / "refused-tiny-gprime.toml"))
    md = sol.render("md")
    # tanh'(1100) = 4 e^-2200 / (1 + e^-2200)^2 = 1.426e-955
    assert r"1.426 \times 10^{-955}" in md


def test_the_cost_after_the_update_past_the_size_limit_is_a_note():
    sol = stepsolver.solve(stepsolver.load_problem(Path(__file__).parent / "extremes" / "internal-final-cost-4300-digits.toml"))
    assert sol.trace.final_loss is None
    assert any("cannot be computed" in n and "12000 bits" in n for n in sol.trace.notes)
    assert "cannot be computed" in sol.render("md")


def test_structural_zeros_are_exact_zeros():
    # softmax + cross-entropy: the deltas of each column sum to 0, so a hidden
    # layer whose outgoing weights are all equal gets exactly 0
    sol = stepsolver.solve(stepsolver.loads_problem("""
learning_rate = 0.5
loss = "cross_entropy"
[[layers]]
weights = [[0.5, -0.25], [0.75, 1]]
activation = "sigmoid"
[[layers]]
weights = [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]
bias = [0, 0.1, 0.2]
activation = "softmax"
[[examples]]
x = [1, 2]
t = [0, 1, 0]
"""))
    hidden = sol.trace.steps[0].layers[0]
    assert all(x == 0 and stepsolver.exact.is_rational(x) for x in hidden.delta.entries())
    assert all(x == 0 for x in hidden.grad_W.entries())


# ------------------------------------------------------------- planted bugs
SATURATED = (Path(__file__).parent / "extremes" / "refused-tiny-a.toml").read_text()


def test_a_planted_bug_is_caught_where_float64_cannot_look(monkeypatch):
    real = engine.gradients

    def off_by_a_millionth(delta, A_prev, W, l2):
        data, gW, gb = real(delta, A_prev, W, l2)
        return data, gW.scale(stepsolver.exact.Q(1_000_001, 1_000_000)), gb

    monkeypatch.setattr(engine, "gradients", off_by_a_millionth)
    trace = engine.solve_exact(stepsolver.loads_problem(SATURATED))
    assert not numeric._quick_agreement(trace)  # every value is below 1e-900
    with pytest.raises(CrossCheckError, match="grad_W"):
        numeric.crosscheck(trace)


def test_a_planted_bug_ends_in_exit_3_on_the_command_line(tmp_path):
    # the engine's sigmoid derivative made wrong by one part in 10^30 at a
    # saturated unit; only the rigorous recomputation can see it
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        "from stepsolver import exact, cli\n"
        "from stepsolver.functions import activations\n"
        "real = exact.sigmoid_derivative\n"
        "activations.exact.sigmoid_derivative = lambda z: real(z) * exact.Q(10**30 + 1, 10**30)\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    path = Path(__file__).parent / "extremes" / "refused-tiny-a.toml"
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(script), "solve", str(path), "-f", "json"], capture_output=True, text=True)
    assert r.returncode == 3, r.stderr
    assert "disagree" in r.stderr and "delta" in r.stderr


# ---------------------------------------------------------- the wide distribution
def _seeded(k):
    return stress.random_problem(random.Random(20261201 * 1000 + k), max_depth=4, max_width=5, max_examples=4)


@pytest.mark.parametrize("block", range(8))
def test_random_valid_problems_agree_with_the_reference(block):
    """25 seeded problems per block (200 in all) of the wide distribution:
    each answered with the reference's values or refused where the
    reference confirms a documented limit; never wrong, never exit 3."""
    outcomes = []
    for k in range(block * 25, block * 25 + 25):
        text = _seeded(k)
        res = stress.run_one(text, render=("json",))
        outcomes.append(res["outcome"])
        assert res["outcome"] in ("right", "refused_true"), (k, res, text)
        assert not res.get("warnings"), (k, res["warnings"])
    assert outcomes.count("right") >= 20


def test_a_refusal_names_the_step_layer_and_quantity():
    text = """
learning_rate = 1
steps = 2
[[layers]]
weights = [[1]]
activation = "x**4"
[[layers]]
weights = [[2]]
activation = "exp(x)"
[[examples]]
x = 2
t = 1e30
"""
    with pytest.raises(LimitError) as info:
        stepsolver.solve(stepsolver.loads_problem(text))
    msg = str(info.value)
    # step 1: z2 = 32, fine; the update makes W1 huge, so step 2 asks for e^(2 z)
    # far past 2^3000
    assert "step 2, layer" in msg and "too large" in msg, msg
