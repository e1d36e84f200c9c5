"""A whole class: variants, exercise sheets, rounded keys, Moodle and CSV."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

import stepsolver
from conftest import ROOT, run_cli
from stepsolver.exact import denom, is_rational, to_mpf
from stepsolver.exact import terminating_places

LINEAR = ROOT / "problems" / "linear_2_3_2.toml"
SIGMOID = ROOT / "problems" / "sigmoid_2_2_2.toml"


def generate(tmp_path, *args, name="out"):
    out = tmp_path / name
    r = run_cli("generate", *args, "--out", out, timeout=300)
    assert r.returncode == 0, r.stderr
    return sorted(out.glob("*.toml"))


# ------------------------------------------------------------------ variants
def test_generation_is_deterministic_and_distinct(tmp_path):
    args = ["--layers", "2,3,2", "--activation", "relu", "--learning-rate", "0.1", "--count", "30", "--seed", "7"]
    a = generate(tmp_path, *args, name="a")
    b = generate(tmp_path, *args, name="b")
    assert len(a) == 30
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]  # the same bytes every run
    bodies = [p.read_text().split("learning_rate", 1)[1] for p in a]
    assert len(set(bodies)) == 30  # all distinct
    c = generate(tmp_path, *args[:-1], "8", name="c")
    assert [p.read_bytes() for p in c] != [p.read_bytes() for p in a]


def trace_values(trace):
    for s in trace.steps:
        yield s.loss.total
        for e in s.loss.per_example:
            yield e.value
        for lt in s.layers:
            for M in (lt.z, lt.a, lt.gprime, lt.delta, lt.grad_W, lt.grad_b, lt.W_new, lt.b_new):
                if M is not None:
                    yield from M.entries()


CONFIGS = [
    ["--layers", "2,3,2", "--activation", "relu"],
    ["--layers", "3,2,1", "--activation", "relu,identity", "--batch-size", "2"],
    ["--layers", "2,2,2", "--activation", "identity", "--loss", "mse", "--learning-rate", "0.05"],
    ["--layers", "2,2", "--activation", "x**2", "--batch-size", "2", "--batch", "sum"],
    ["--layers", "2,2,2", "--activation", "sigmoid"],
    ["--layers", "2,3,1", "--activation", "tanh,sigmoid", "--loss", "binary_cross_entropy"],
    ["--layers", "2,3,3", "--activation", "relu,softmax", "--loss", "cross_entropy"],
]


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: " ".join(c[1:4:2]))
def test_nice_numbers_over_many_seeds(tmp_path, config):
    for seed in (1, 2, 3):
        files = generate(tmp_path, *config, "--count", "6", "--seed", str(seed), name=f"s{seed}")
        assert len(files) == 6
        for path in files:
            sol = stepsolver.solve(stepsolver.load_problem(path))  # solved and cross-checked
            trace = sol.trace
            acts = [l.activation.name for l in trace.problem.layers]
            for v in trace_values(trace):
                assert abs(to_mpf(v)) <= 1000, (path.name, v)
                if is_rational(v):
                    places = terminating_places(denom(v))
                    assert places is not None and places <= 4, (path.name, v)
            for s in trace.steps:
                assert not s.kinks, path.name  # no relu at exactly 0
                for lt, act in zip(s.layers, acts):
                    if act in ("sigmoid", "tanh"):
                        limit = 3 if act == "sigmoid" else 2
                        assert all(abs(to_mpf(z)) <= limit for z in lt.z.entries()), path.name
                assert any(x for lt in s.layers for x in lt.grad_W.entries()), path.name


@pytest.mark.slow
def test_impossible_requests_fail_with_a_clear_message(tmp_path):
    r = run_cli("generate", "--layers", "2,2", "--activation", "relu", "--weight-range", "0,0", "--count", "3",
                "--out", tmp_path / "x")
    assert r.returncode == 2 and "variants" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_cli("generate", "--layers", "2,2", "--activation", "sigmod", "--out", tmp_path / "y")
    assert r.returncode == 2 and "did you mean 'sigmoid'" in r.stderr
    r = run_cli("generate", "--layers", "2,2", "--loss", "cross_entropy", "--activation", "relu", "--out", tmp_path / "z")
    assert r.returncode == 2 and "--loss" in r.stderr


# ------------------------------------------------------------------- sheets
def test_question_sheet_contains_no_answers(tmp_path):
    for fmt in ("md", "latex", "html", "text"):
        r = run_cli("solve", LINEAR, SIGMOID, "--sheet", "questions", "--format", fmt, "--figures", "inline")
        assert r.returncode == 0, r.stderr
        out = r.stdout
        # answers of the two problems that appear nowhere in their statements
        for answer in ("109", "0.96", "3.13", "1.87", "0.5933", "0.7514", "0.2984", "0.3589", "0.1385"):
            assert answer not in out, (fmt, answer)
        assert "To compute" in out
    both = run_cli("solve", LINEAR, "--sheet", "both").stdout
    assert both.index("To compute") < both.index("# Answers") < both.index("0.96")


# ------------------------------------------------------------- rounded keys
def test_round_shows_the_rounded_working_and_flags_differences():
    out = run_cli("solve", SIGMOID, "--round", "2", "--format", "md").stdout
    section = out.split("Rounded to 2 decimals at every step")[1]
    # z[2] unit 2: exactly 1.2249 -> 1.22, but 1.225 -> 1.23 from two-decimal working
    row = [line for line in section.splitlines() if line.startswith("| z, layer 2 | (2, 1)")][0]
    assert "1.22" in row and "1.23" in row and row.rstrip().endswith("| * |")


def test_check_accepts_the_rounded_key(tmp_path):
    from stepsolver.kinds.net.engine import solve_rounded

    problem = stepsolver.load_problem(SIGMOID)
    rounded = solve_rounded(problem, 2).steps[0]
    z2 = [f"{float(x):.2f}" for x in rounded.layers[1].z.entries()]
    W2 = [[f"{float(x):.2f}" for x in r] for r in rounded.layers[1].W_new.rows]
    answers = tmp_path / "a.toml"
    answers.write_text(
        "[[layers]]\n[[layers]]\nz = [" + ", ".join(z2) + "]\nW_new = [" + ", ".join("[" + ", ".join(r) + "]" for r in W2) + "]\n"
    )
    assert z2[1] == "1.23"  # not the exact 1.2249 rounded
    d = json.loads(run_cli("check", SIGMOID, answers, "-f", "json").stdout)
    assert d["ok"], [i for i in d["items"] if i["verdict"] != "correct"]


# --------------------------------------------------------------- exports
def test_moodle_quiz_parses_and_its_answers_are_the_solution(tmp_path):
    from test_grader import _blanks, _quiz_values

    out = tmp_path / "quiz.xml"
    r = run_cli("solve", LINEAR, SIGMOID, "--format", "moodle", "-o", out)
    assert r.returncode == 0, r.stderr
    root = ET.parse(out).getroot()
    assert root.tag == "quiz"
    questions = [q for q in root.findall("question") if q.get("type") != "category"]
    assert [q.get("type") for q in questions] == ["cloze", "cloze"]  # one question per problem
    checked = 0
    for q, path, frozen in zip(questions, (LINEAR, SIGMOID), (False, True)):
        text = q.find("questiontext/text").text
        assert r"\(" in text and "$" not in text
        step = json.loads(run_cli("solve", path, "-f", "json").stdout)["steps"][0]
        want = _quiz_values(step, update_biases=not frozen)
        blanks = _blanks(q)
        assert len(blanks) == len(want)
        for (a, tol), (v, _) in zip(blanks, want):
            assert a == pytest.approx(v, rel=1e-12, abs=1e-12) and tol > 0
            checked += 1
    assert checked > 40


def test_csv_has_every_quantity(tmp_path):
    rows = list(csv.DictReader(io.StringIO(run_cli("solve", LINEAR, "-f", "csv").stdout)))
    d = json.loads(run_cli("solve", LINEAR, "-f", "json").stdout)
    lt = d["steps"][0]["layers"][1]
    w_new = [r for r in rows if r["quantity"] == "W_new" and r["layer"] == "2"]
    assert [r["exact"] for r in w_new] == [e for row in lt["W_new"]["exact"] for e in row]
    assert rows[0]["quantity"] == "loss" and rows[0]["exact"] == "109"
    assert len(rows) == 1 + (3 + 3 + 3 + 6 + 3 + 6 + 3) + (2 + 2 + 2 + 6 + 2 + 6 + 2)


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    r = run_cli("solve", LINEAR, SIGMOID, ROOT / "problems" / "relu_kink.toml", "-f", "json")
    assert r.returncode == 0 and r.stderr == ""
