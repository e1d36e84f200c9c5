"""Shared helpers for the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.toml"))


def _kind(path) -> str:
    import tomllib

    return tomllib.loads(path.read_text(encoding="utf-8")).get("kind", "net")


#: the layered networks, and the computation graphs, of problems/
NET_PROBLEMS = [p for p in PROBLEMS if _kind(p) == "net"]
GRAPH_PROBLEMS = [p for p in PROBLEMS if _kind(p) == "graph"]


def run_cli(*args, cwd=None, env=None, timeout=120):
    """Run the installed command line in a subprocess; returns CompletedProcess."""
    e = dict(os.environ)
    e.pop("STEPSOLVER_DEBUG", None)
    if env:
        e.update(env)
    return subprocess.run(
        [sys.executable, "-m", "stepsolver", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=e,
        timeout=timeout,
    )


def F(x) -> Fraction:
    """Fraction from an exact string or number."""
    return Fraction(str(x))


def exact_matrix(M):
    """A stepsolver Mat of rationals as a list of lists of Fraction."""
    from stepsolver.exact import q_str

    return [[Fraction(q_str(x)) for x in row] for row in M.rows]


@pytest.fixture
def solve_text():
    import stepsolver

    def _solve(text: str, name: str = "test.toml"):
        return stepsolver.solve(stepsolver.loads_problem(text, name))

    return _solve


# `HYPOTHESIS_PROFILE=stress pytest` runs the property tests much longer.
from hypothesis import HealthCheck, settings  # noqa: E402

# The default run is derandomized so CI cannot flake on a lucky draw; the
# stress profile explores new random networks every time.
settings.register_profile("default-ci", derandomize=True, deadline=None)
settings.register_profile("stress", max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default-ci"))
