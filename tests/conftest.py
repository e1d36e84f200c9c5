"""Shared helpers for the tests."""

from __future__ import annotations

import os
import shutil
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


def run_process(*args, cwd=None, env=None, timeout=120):
    """The command line in a real subprocess (python -m stepsolver): for what
    the process itself does (the console script, signals, pipes)."""
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


def run_cli(*args, cwd=None, env=None, timeout=120):
    """The command line run in this process -- ``stepsolver.cli.main`` with
    its arguments, working folder and environment, stdout and stderr captured
    -- as a CompletedProcess (returncode, stdout, stderr).  A tenth of the
    cost of a subprocess; ``STEPSOLVER_TEST_SUBPROCESS=1`` runs each in a
    real one instead."""
    if os.environ.get("STEPSOLVER_TEST_SUBPROCESS"):
        return run_process(*args, cwd=cwd, env=env, timeout=timeout)
    import io

    from stepsolver import cli

    argv = [str(a) for a in args]
    out, err = io.BytesIO(), io.BytesIO()
    streams = (sys.stdout, sys.stderr)
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    wrappers = (io.TextIOWrapper(out, encoding="utf-8", write_through=True),
                io.TextIOWrapper(err, encoding="utf-8", write_through=True))  # held: dropping one closes its buffer
    sys.stdout, sys.stderr = wrappers
    try:
        os.environ.pop("STEPSOLVER_DEBUG", None)
        if env:
            os.environ.update({k: str(v) for k, v in env.items()})
        os.chdir(cwd or ROOT)
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse: --help, bad arguments
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        sys.stdout, sys.stderr = streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)

    def text(buf) -> str:  # as a subprocess in text mode reads it
        return buf.getvalue().decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")

    result = subprocess.CompletedProcess(["stepsolver", *argv], code, text(out), text(err))
    for w in wrappers:
        w.detach()
    return result


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


# ------------------------------------------------------------------ a real browser
def chromium_driver():
    """Debian's Chromium driven by Selenium through chromedriver, headless; None when absent."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ModuleNotFoundError:
        return None
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        return None
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,1600"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session's browser tests (skipped without it)."""
    b = chromium_driver()
    if b is None:
        pytest.skip("Chromium, chromedriver or selenium is not installed")
    yield b
    b.quit()
