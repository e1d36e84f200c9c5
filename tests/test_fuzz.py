"""Fuzzing: mutated problem files either solve or fail with one line and
exit code 2 -- never a traceback, never a hang, never exit 3."""

import json
import time
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NET_PROBLEMS as PROBLEMS
from stepsolver.cli import main
from stepsolver.tomlio import FloatText

BASES = [tomllib.loads(p.read_text(), parse_float=FloatText) for p in PROBLEMS]

JUNK = [
    True, False, "abc", "", "?", "1/0", "nan", "-inf", "1e999", "x**x", "sigmoid", "softmax", "relu",
    FloatText("1e400"), FloatText("nan"), FloatText("-0.0"), FloatText("1e-30"), 0, -1, 10**45, 2**63,
    [], [[]], [1], [[1, 2], [3]], [[[1]]], {"a": 1}, [{"x": 1}], "__import__('os')", "x" * 300,
]


def to_toml(d: dict) -> str:
    """A small TOML writer for problem-shaped data."""
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, FloatText):
            return str(v)
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {val(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    lines, tables = [], []
    for k, v in d.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            tables.append((k, v))
        else:
            lines.append(f"{json.dumps(k)} = {val(v)}")
    for k, rows in tables:
        for row in rows:
            lines.append(f"[[{json.dumps(k)}]]")
            lines += [f"{json.dumps(kk)} = {val(vv)}" for kk, vv in row.items()]
    return "\n".join(lines) + "\n"


def paths(obj, prefix=()):
    """Every (container, key) pair in a nested structure."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield obj, k
            yield from paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield obj, i
            yield from paths(v, prefix + (i,))


@st.composite
def mutated(draw):
    d = _copy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        spots = list(paths(d))
        container, key = draw(st.sampled_from(spots))
        action = draw(st.sampled_from(["delete", "junk", "dup", "reshape", "newkey"]))
        if action == "delete" and isinstance(container, dict):
            del container[key]
        elif action == "delete" and isinstance(container, list) and len(container) > 0:
            container.pop(key)
        elif action == "junk":
            container[key] = _copy(draw(st.sampled_from(JUNK)))
        elif action == "dup" and isinstance(container, list):
            container.append(_copy(container[key]))
        elif action == "reshape" and isinstance(container[key], list) and container[key]:
            v = container[key]
            container[key] = v[:-1] if draw(st.booleans()) else v + [_copy(v[-1])]
        elif action == "newkey" and isinstance(container, dict):
            container[draw(st.sampled_from(["learning_rat", "weight", "x2", "t", "bias", "activation", "steps"]))] = _copy(
                draw(st.sampled_from(JUNK))
            )
    return d


def _copy(v):
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


@settings(deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
@given(mutated(), st.sampled_from(["json", "md", "text"]))
def test_mutated_problems_solve_or_fail_cleanly(tmp_path_factory, capsys, data, fmt):
    path = tmp_path_factory.mktemp("fuzz") / "p.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    start = time.perf_counter()
    code = main(["solve", str(path), "--format", fmt, "--time-limit", "20"])
    elapsed = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert code in (0, 2), (code, err, to_toml(data))
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
        assert out == ""
    else:
        assert out and err == ""
    assert elapsed < 25


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(PROBLEMS), st.integers(0, 10_000), st.binary(min_size=0, max_size=8), st.booleans())
def test_corrupted_text_solves_or_fails_cleanly(tmp_path_factory, capsys, problem, pos, junk, truncate):
    raw = problem.read_bytes()
    pos %= len(raw) + 1
    data = raw[:pos] if truncate else raw[:pos] + junk + raw[pos:]
    path = tmp_path_factory.mktemp("fuzz") / "p.toml"
    path.write_bytes(data)
    code = main(["solve", str(path), "--format", "json", "--time-limit", "20"])
    out, err = capsys.readouterr()
    assert code in (0, 2), (code, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
