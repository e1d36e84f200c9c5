"""generate delivers whole class sets at default settings, quickly, or says
early and with numbers why it cannot."""

from __future__ import annotations

import pytest

from conftest import ROOT, run_cli

import stepsolver

#: the slow layer: whole classes of variants
pytestmark = pytest.mark.slow

SETUPS = [
    ["--layers", "2,3,2", "--activation", "sigmoid"],
    ["--layers", "2,3,2", "--activation", "relu", "--batch-size", "3"],
    ["--layers", "3,4,3", "--activation", "tanh"],
    ["--layers", "2,3,3", "--activation", "relu,softmax", "--loss", "cross_entropy"],
]


@pytest.mark.parametrize("args", SETUPS, ids=lambda a: "-".join(a[1::2]))
def test_two_hundred_distinct_variants_at_default_settings(args, tmp_path):
    r = run_cli("generate", *args, "--count", "200", "--out", tmp_path, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    files = sorted(tmp_path.glob("*.toml"))
    assert len(files) == 200
    bodies = {f.read_text().split("learning_rate", 1)[1] for f in files}
    assert len(bodies) == 200
    for f in files[::40]:  # each one solves and is nice: no kink, every update visible
        trace = stepsolver.solve(stepsolver.load_problem(f)).trace
        assert not any(s.kinks for s in trace.steps)


def test_a_batch_of_three_keeps_thirds_exact(tmp_path):
    r = run_cli("generate", *SETUPS[1], "--count", "5", "--out", tmp_path, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    from stepsolver.exact import denom

    trace = stepsolver.solve(stepsolver.load_problem(sorted(tmp_path.glob("*.toml"))[0])).trace
    for lt in trace.steps[0].layers:
        for x in lt.grad_W.entries():
            assert 10**4 * 3 % denom(x) == 0  # m times the value has at most 4 decimals


def test_negative_ranges_as_users_type_them(tmp_path):
    r = run_cli("generate", "--layers", "2,2", "--weight-range", "-3,3", "--input-range", "-1,1", "--count", "3",
                "--out", tmp_path, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    p = stepsolver.load_problem(sorted(tmp_path.glob("*.toml"))[0])
    assert all(-3 <= w <= 3 for layer in p.layers for w in layer.W.entries())
    assert "--weight-range -3,3" in sorted(tmp_path.glob("*.toml"))[0].read_text()


def test_too_small_ranges_are_refused_at_once_naming_what_to_widen(tmp_path):
    r = run_cli("generate", "--layers", "1,1", "--weight-range", "0,1", "--input-range", "1,1", "--count", "500",
                "--out", tmp_path, cwd=ROOT)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "distinct problems" in r.stderr and "--weight-range" in r.stderr


def test_a_shortfall_says_how_many_were_found_and_what_rejected_most(tmp_path):
    # --decimals 1 with a learning rate of 0.01: almost no update shows at 1 decimal
    r = run_cli("generate", "--layers", "2,2", "--activation", "sigmoid", "--learning-rate", "0.001", "--decimals", "1",
                "--count", "50", "--out", tmp_path, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    line = r.stderr.strip()
    assert "found only" in line and "update too small to show" in line and "--learning-rate" in line
