"""The grader against simulated students (tests/students.py), the hand
sheets once judged wrongly, no free marks for work not done (in check and in
the Moodle export), and rounded keys that never die."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import students
from conftest import ROOT, run_cli

CASES = Path(__file__).parent / "check_cases"
from conftest import NET_PROBLEMS as PROBLEMS  # noqa: E402 - the network kind's marking


# ------------------------------------------------------- simulated students
@pytest.mark.parametrize("seed, style, ks, right", [
    (11, "rounder", (2, 3, 4, 6), 0.99), (12, "rounder", (2, 3, 4, 6), 0.99),
    (11, "calculator", (2, 3, 4, 6), 0.99), (11, "careful", (2,), 0.96),
])
@pytest.mark.slow
def test_simulated_students_are_marked_like_a_careful_teacher(seed, style, ks, right):
    """Sheets of each working style (tests/students.py: rounded to 2, 3, 4 or
    6 decimals and carried forward; intermediates rounded too; every digit
    kept and each quantity written with its own decimals), no slip or one
    catalogued slip: every slip-free sheet all correct; on one-slip sheets
    the slipped entries wrong, what comes before correct, what the slip
    changes carried; the slip named by its hint."""
    stats, failures = students.run(seed, 120, ks=ks, style=style)
    clean_failures = [f for f in failures if f["slip"] is None]
    assert stats["clean_ok"] == stats["clean"], clean_failures[:1]
    assert stats["slip_ok"] >= right * stats["slip"], [(f["slip"], f["bad"]) for f in failures if f["bad"]][:3]
    assert stats["named"] >= 0.99 * stats["slip"], [(f["slip"], f["hints"]) for f in failures if f["slip"]][:3]


@pytest.mark.slow
def test_every_catalogued_slip_is_planted_and_named():
    stats, _ = students.run(21, 260)
    assert set(stats["by_slip"]) == set(students.SLIPS)
    for slip, (n, named) in stats["by_slip"].items():
        assert named >= 0.9 * n, (slip, named, n)


# ------------------------------------------------------------- hand sheets
def verdicts(problem, answers):
    r = run_cli("check", problem, answers, "-f", "json")
    assert r.returncode in (0, 1), r.stderr
    d = json.loads(r.stdout)
    return {(i["layer"], i["quantity"], i["row"], i["col"]): (i["verdict"], (i["hint"] or {}).get("code")) for i in d["items"]}, d


def test_a_dropped_zero_is_read_to_the_sheets_decimals():
    v, d = verdicts(CASES / "1-dropped-zeros.problem.toml", CASES / "1-dropped-zeros.answers.toml")
    assert d["counts"]["wrong"] == 0 and d["counts"]["carried"] == 0
    assert v[(2, "delta", 1, 1)][0] == "correct"  # -0.9 on a 2-decimal sheet is -0.90
    # W2[2] and b2[2] change by 0.0008: two decimals cannot show it (no mark, not wrong)
    assert v[(2, "W_new", 2, 1)][0] == v[(2, "b_new", 2, 1)][0] == "imprecise"
    v2, _ = verdicts(CASES / "1-dropped-zeros.problem.toml", CASES / "1-dropped-zeros.same-with-zeros.answers.toml")
    assert {k: x[0] for k, x in v.items()} == {k: x[0] for k, x in v2.items()}


def test_follow_through_after_a_slip_knows_what_rounding_does():
    v, d = verdicts(CASES / "2-follow-through-after-slip.problem.toml", CASES / "2-follow-through-after-slip.answers.toml")
    assert v[(1, "z", 1, 1)] == ("wrong", "missing_bias")
    assert all(x[0] == "carried" for k, x in v.items() if k != (1, "z", 1, 1))


def test_the_derivative_at_a_is_named_through_the_rounding():
    v, _ = verdicts(CASES / "3-derivative-at-a-no-hint.problem.toml", CASES / "3-derivative-at-a-no-hint.answers.toml")
    assert v[(1, "delta", 1, 1)] == ("wrong", "derivative_at_a")
    assert [k for k, x in v.items() if x[0] == "wrong"] == [(1, "delta", 1, 1)]
    assert v[(1, "grad_W", 1, 2)][0] == "carried" and v[(2, "delta", 2, 1)][0] == "correct"


def test_a_compact_slip_free_sheet_is_all_correct():
    _, d = verdicts(CASES / "4-no-slip-compact.problem.toml", CASES / "4-no-slip-compact.answers.toml")
    assert d["ok"] and d["counts"]["correct"] == 19


def test_delta_from_the_students_own_a_is_carried_after_a_missing_activation():
    v, _ = verdicts(CASES / "5-activation-not-applied.problem.toml", CASES / "5-activation-not-applied.answers.toml")
    assert [x for k, x in v.items() if k[1] == "a"] == [("wrong", "activation_not_applied")] * 3
    assert all(x[0] == "carried" for k, x in v.items() if k[1] not in ("z", "a"))


def test_a_declared_precision_reads_every_entry(tmp_path):
    # z = 1 on a sheet declared to 4 decimals is 1.0000: the true z = 1.0001 is not it
    problem = tmp_path / "p.toml"
    problem.write_text("learning_rate = 0.1\n[[layers]]\nweights = [[1.0001]]\n[[examples]]\nx = 1\nt = 0\n")
    answers = tmp_path / "a.toml"
    answers.write_text("[[layers]]\nz = [1]\n")
    _, d = verdicts(problem, answers)
    assert d["ok"]  # read to the 2-place floor, 1 is 1.00 and accepts 1.0001
    answers.write_text("decimals = 4\n[[layers]]\nz = [1]\n")
    _, d = verdicts(problem, answers)
    assert d["counts"]["wrong"] == 1


# ----------------------------------------------------------- no free marks
def _old_weights_sheet(sol: dict, places: int | None) -> str:
    """Answers that copy the given weights and biases as W_new/b_new."""
    def fmt(v):
        return repr(v) if places is None else f"{round(v, places):.{places}f}"

    lines = []
    for lt in sol["steps"][0]["layers"]:
        lines.append("[[layers]]")
        W = lt["W"]["value"]
        b = lt["b"]["value"]
        lines.append("W_new = [" + ", ".join("[" + ", ".join(fmt(v) for v in r) + "]" for r in W) + "]")
        lines.append("b_new = [" + ", ".join(fmt(r[0]) for r in b) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("places", [None, 1, 2])
@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_copying_the_old_weights_is_never_correct(tmp_path, path, places):
    sol = json.loads(run_cli("solve", path, "-f", "json").stdout)
    if len(sol["steps"]) > 1:
        pytest.skip("one update")
    answers = tmp_path / "old.toml"
    answers.write_text(_old_weights_sheet(sol, places))
    r = run_cli("check", path, answers, "-f", "json")
    d = json.loads(r.stdout)
    layers = sol["steps"][0]["layers"]
    for it in d["items"]:
        lt = layers[it["layer"] - 1]
        key = "W" if it["quantity"] == "W_new" else "b"
        new = lt[it["quantity"]]["exact"][it["row"] - 1][it["col"] - 1]
        old = lt[key]["exact"][it["row"] - 1][it["col"] - 1]
        if new != old:
            assert it["verdict"] != "correct", (path.stem, it)
    assert r.returncode == 1 or all(
        lt["W_new"]["exact"] == lt["W"]["exact"] and lt["b_new"]["exact"] == lt["b"]["exact"] for lt in layers)


def _blanks(question):
    return [(float(a), float(t)) for a, t in re.findall(r"\{1:NUMERICAL:=([^:]+):([^}]+)\}", question.find("questiontext/text").text)]


def _quiz_values(step, update_biases=True):
    """The quiz's order: z, a per layer, J, then delta, grad_W, grad_b from the
    output back, then W_new and b_new; with what each blank must refuse."""
    out = []
    layers = step["layers"]
    for lt in layers:
        for k in ("z", "a"):
            out += [(v, None) for r in lt[k]["value"] for v in r]
    out.append((step["loss"]["value"], None))
    for lt in reversed(layers):
        for k in ("delta", "grad_W", "grad_b"):
            out += [(v, "gradient") for r in lt[k]["value"] for v in r]
    known = {"layer", "activation", "W", "b", "z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new"}
    for lt in layers:
        # an optimizer's state entries (m_W, v_hat_b, ...) come just before the new value they lead to
        state = [k for k in lt if k not in known]
        for k in (k for k in state if k.endswith("_W")):
            out += [(v, "gradient") for r in lt[k]["value"] for v in r]
        out += [(v, ("old", o)) for rv, ro in zip(lt["W_new"]["value"], lt["W"]["value"]) for v, o in zip(rv, ro)]
        if update_biases:
            for k in (k for k in state if k.endswith("_b")):
                out += [(v, "gradient") for r in lt[k]["value"] for v in r]
            out += [(v, ("old", o)) for rv, ro in zip(lt["b_new"]["value"], lt["b"]["value"]) for v, o in zip(rv, ro)]
    return out


def test_no_moodle_blank_accepts_the_old_weight_zero_or_the_negated_gradient(tmp_path):
    out = tmp_path / "quiz.xml"
    assert run_cli("solve", *PROBLEMS, "-f", "moodle", "-o", out).returncode == 0
    questions = [q for q in ET.parse(out).getroot().findall("question") if q.get("type") == "cloze"]
    assert len(questions) == len(PROBLEMS)
    checked = 0
    for q, path in zip(questions, PROBLEMS):
        sol = json.loads(run_cli("solve", path, "-f", "json").stdout)
        import tomllib

        frozen = tomllib.loads(path.read_text()).get("update_biases", True) is False
        expected = [x for s in sol["steps"] for x in _quiz_values(s, not frozen)]
        blanks = _blanks(q)
        assert len(blanks) == len(expected), path.stem
        for (answer, tol), (v, refuse) in zip(blanks, expected):
            assert answer == pytest.approx(v, rel=1e-12, abs=1e-12)
            if refuse == "gradient" and v != 0:
                assert abs(0 - v) > tol and abs(-v - v) > tol, (path.stem, v, tol)
                checked += 1
            elif isinstance(refuse, tuple) and refuse[1] != v:
                assert abs(refuse[1] - v) > tol, (path.stem, v, refuse[1], tol)
                checked += 1
    assert checked > 50


def _cells(question):
    """Every cell of the quiz tables: ('blank', answer, tolerance) or ('given', text)."""
    text = question.find("questiontext/text").text
    out = []
    for cell in re.findall(r"<td>(.*?)</td>", text):
        m = re.fullmatch(r"\{1:NUMERICAL:=([^:]+):([^}]+)\}(?: \(\d+ decimals\))?", cell)
        out.append(("blank", float(m[1]), float(m[2])) if m else ("given", cell))
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "extremes").glob("*.toml")), ids=lambda p: p.stem)
def test_moodle_gives_what_no_quiz_number_can_ask(path, tmp_path):
    """A value below what a double holds (1e-300), past its range, with more
    digits than a double resolves at the blank's tolerance, or an update
    smaller than a double resolves next to the weight, cannot be a NUMERICAL
    blank: its answer would be 0, infinite, or the old weight.  The question
    states it instead."""
    out = tmp_path / "q.xml"
    r = run_cli("solve", path, "-f", "moodle", "-o", out)
    assert r.returncode == 0, r.stderr
    sol = json.loads(run_cli("solve", path, "-f", "json").stdout)
    cells = [c for q in ET.parse(out).getroot().findall("question") if q.get("type") == "cloze" for c in _cells(q)]
    frozen = sol["update_biases"] is False if "update_biases" in sol else False
    expected = [x for st in sol["steps"] for x in _quiz_values(st, not frozen)]
    assert len(cells) == len(expected)
    for cell, (v, refuse) in zip(cells, expected):
        if cell[0] == "given":
            assert re.search(r"\(given: (too small|too large|too many digits|the change is too small)", cell[1]), cell
            if "(given: too small for" in cell[1]:
                assert "10^{-" in cell[1], cell  # its digits, not 0
            continue
        _, answer, tol = cell
        assert tol > 0
        if v:
            assert answer != 0 and answer == pytest.approx(v, rel=1e-12)
        if isinstance(refuse, tuple) and refuse[1] != v:
            assert abs(refuse[1] - v) > tol


def test_moodle_tiny_values_are_given_with_their_digits(tmp_path):
    out = tmp_path / "q.xml"
    assert run_cli("solve", ROOT / "tests/extremes/refused-tiny-a.toml", "-f", "moodle", "-o", out).returncode == 0
    cells = _cells(next(q for q in ET.parse(out).getroot().findall("question") if q.get("type") == "cloze"))
    assert cells[0] == ("blank", -2100.0, 0.00501)  # z: an honest blank
    assert cells[1] == ("given", "\\( \\approx 9.585 \\times 10^{-913} \\) (given: too small for a quiz number)")
    # W_new = -2100 + 9.2e-1826: no double tells it from the old weight
    assert "(given: the change is too small for a quiz number to show)" in cells[-2][1]


def test_moodle_titles_cannot_become_blanks_or_categories(tmp_path):
    problem = tmp_path / "p.toml"
    problem.write_text('title = "Trick {1:SHORTANSWER:=yes} a/b ]]> end"\nlearning_rate = 0.1\n'
                       "[[layers]]\nweights = [[1]]\n[[examples]]\nx = 1\nt = 0\n")
    out = tmp_path / "q.xml"
    assert run_cli("solve", problem, "-f", "moodle", "-o", out).returncode == 0
    root = ET.parse(out).getroot()  # well formed despite the ']]>'
    cat = root.find("question/category/text").text
    assert cat.endswith("Trick {1:SHORTANSWER:=yes} a//b ]]> end")  # '/' doubled: one level
    text = root.findall("question")[1].find("questiontext/text").text
    assert "SHORTANSWER" not in re.sub(r"&#123;.*?&#125;", "", text)
    assert len(re.findall(r"\{\d*:[A-Z_]+:", text)) == len(re.findall(r"\{1:NUMERICAL:", text))


@pytest.mark.slow
def test_a_class_of_variants_is_one_category_of_one_question_each(tmp_path):
    out_dir = tmp_path / "class"
    r = run_cli("generate", "--layers", "2,3,2", "--count", "200", "--seed", "5", "--out", out_dir)
    assert r.returncode == 0, r.stderr
    quiz = tmp_path / "quiz.xml"
    assert run_cli("solve", *sorted(out_dir.glob("*.toml")), "-f", "moodle", "-o", quiz).returncode == 0
    assert quiz.stat().st_size < 2_000_000  # Moodle's default upload limit
    root = ET.parse(quiz).getroot()
    kinds = [q.get("type") for q in root.findall("question")]
    assert kinds.count("category") == 1 and kinds.count("cloze") == 200


# --------------------------------------------------------- rounded keys
def test_a_rounded_key_is_always_produced(tmp_path):
    out_dir = tmp_path / "sm"
    r = run_cli("generate", "--layers", "2,3,3", "--activation", "relu,softmax", "--loss", "cross_entropy",
                "--count", "60", "--seed", "3", "--out", out_dir)
    assert r.returncode == 0, r.stderr
    r = run_cli("solve", *sorted(out_dir.glob("*.toml")), "--round", "2", "-f", "md")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Rounded to 2 decimals at every step") == 60


@pytest.mark.slow
def test_generate_never_makes_an_update_the_asked_decimals_cannot_show(tmp_path):
    out_dir = tmp_path / "g"
    r = run_cli("generate", "--layers", "2,2,1", "--count", "40", "--seed", "2", "--decimals", "3", "--out", out_dir)
    assert r.returncode == 0, r.stderr
    for path in out_dir.glob("*.toml"):
        sol = json.loads(run_cli("solve", path, "-f", "json").stdout)
        for lt in sol["steps"][0]["layers"]:
            for k, old in (("W_new", "W"), ("b_new", "b")):
                for rn, ro in zip(lt[k]["value"], lt[old]["value"]):
                    for a, b in zip(rn, ro):
                        assert a == b or abs(a - b) >= 0.0005 - 1e-12, (path.name, a, b)
