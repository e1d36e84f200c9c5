"""Marking on real digits: every honest sheet right, whatever digits it is
written in.

An entry is read to its own written digits; honest readings (the compact and
the careful chain of the student's own values, the true value, the slip-free
sheet) come before slips; an update the written digits cannot show is
imprecise.  Published worked examples, every number as printed, come out all
correct; simulated students of each working style (tests/students.py) are
marked like a careful teacher.
"""

from __future__ import annotations

import pytest

import stepsolver
import students
from conftest import ROOT
from stepsolver import check
from stepsolver.kinds.graph.answers import answers_from_dict as graph_answers
from stepsolver.kinds.net.answers import answers_from_dict
from stepsolver.tomlio import parse_toml_bytes

CASES = ROOT / "tests" / "check_cases"


def mark(problem, answers: str):
    """{(layer or node, quantity, row, col): (verdict, slip code)} of a sheet."""
    if "\n" not in str(problem):
        problem = (ROOT / "problems" / problem) if not str(problem).startswith("/") else problem
        problem = open(problem, encoding="utf-8").read()
    trace = stepsolver.solve(stepsolver.loads_problem(problem, "p.toml")).trace
    read = graph_answers if trace.problem.__class__.__module__.endswith("graph.problem") else answers_from_dict
    report = check(trace, read(parse_toml_bytes(answers.encode(), "a.toml"), trace))
    return {(it.layer, it.quantity, it.row, it.col): (it.verdict, it.hint.code if it.hint else None)
            for it in report.items}


def verdicts(marks) -> set:
    return {v for v, _ in marks.values()}


# ------------------------------------------------------ published examples
def test_the_classic_walkthrough_as_printed_is_all_correct():
    """The widely used 2-2-2 tutorial, each number with the digits it was
    printed with (4 to 9 decimals): each is the true value rounded to its own
    digits, so each is correct (0.19956143 next to 0.149780716)."""
    sheet = """
loss = 0.298371109
[[layers]]
z = [0.3775, "?"]
a = [0.593269992, 0.596884378]
grad_W = [[0.000438568, "?"], ["?", "?"]]
W_new = [[0.149780716, 0.19956143], [0.24975114, 0.29950229]]
[[layers]]
z = [1.105905967, "?"]
a = [0.75136507, 0.772928465]
delta = [0.138498562, "?"]
grad_W = [[0.082167041, "?"], ["?", "?"]]
W_new = [[0.35891648, 0.408666186], [0.511301270, 0.561370121]]
"""
    m = mark("sigmoid_2_2_2.toml", sheet)
    assert len(m) == 18 and verdicts(m) == {"correct"}, [k for k, v in m.items() if v[0] != "correct"]


def test_a_calculator_sheet_with_each_quantitys_own_digits_is_all_correct():
    m = mark(CASES / "6-calculator-digits.problem.toml", (CASES / "6-calculator-digits.answers.toml").read_text())
    assert verdicts(m) == {"correct"}
    assert m[(2, "z", 1, 2)] == ("correct", None)  # -0.268941: 6 decimals among 7-decimal values


def test_intermediates_written_rounded_are_honest_working():
    m = mark(CASES / "7-careful-intermediates.problem.toml", (CASES / "7-careful-intermediates.answers.toml").read_text())
    # delta[1] = 0.42 x 0.99 = 0.4158 -> 0.42 (true 0.414): right, and no slip is named for it
    assert m[(1, "delta", 2, 1)] == ("correct", None)
    assert m[(1, "delta", 3, 1)] == ("correct", None)
    assert {v for k, v in m.items() if k[1] not in ("W_new", "b_new")} == {("correct", None)}
    # updates that two decimals cannot show earn nothing; the others are right
    imprecise = [k for k, v in m.items() if v[0] == "imprecise"]
    assert len(imprecise) == 6 and all(k[1] in ("W_new", "b_new") for k in imprecise)
    assert not [k for k, v in m.items() if v[0] in ("wrong", "carried")]


RNN = """kind = "graph"
[inputs]
Wx = 0.5
Wh = 0.1
Wy = 2
[constants]
h0 = 0
x1 = 1
x2 = 2
t1 = 1
t2 = 2
[nodes]
a1 = "Wx * x1 + Wh * h0"
h1 = "tanh(a1)"
y1 = "Wy * h1"
L1 = "(y1 - t1)**2 / 2"
a2 = "Wx * x2 + Wh * h1"
h2 = "tanh(a2)"
y2 = "Wy * h2"
L2 = "(y2 - t2)**2 / 2"
J = "L1 + L2"
"""


def test_a_walkthrough_with_an_arithmetic_slip_carries_from_the_value_as_written():
    """An RNN worked on a calculator whose tanh(1.0462) slipped to 0.77915
    (it is 0.78033): y2 is written 1.558 among four-decimal values, so it
    stands for 1.558 +- 0.0005, and L2 = 0.09755 computed from the student's
    own y2 is carried, not wrong; a slip after it is still caught."""
    sheet = """
[values]
a1 = 0.5
h1 = 0.4621
y1 = 0.9242
L1 = 0.0029
a2 = 1.0462
h2 = 0.77915
y2 = 1.558
L2 = 0.09755
J = 0.1004
[grads]
L2 = 1
y2 = -0.4420
h2 = -0.8840
a2 = -0.3473
"""
    m = mark(RNN, sheet)
    assert m[("h2", "value", 1, 1)][0] == "wrong"
    assert [m[(n, "value", 1, 1)][0] for n in ("y2", "L2", "J")] == ["carried"] * 3
    assert [m[(n, "grad", 1, 1)][0] for n in ("y2", "h2", "a2")] == ["carried"] * 3
    assert [m[(n, "value", 1, 1)][0] for n in ("a1", "h1", "y1", "L1", "a2")] == ["correct"] * 5
    # a2-bar = -0.8840 (1 - 0.77915^2) = -0.3473: -0.3476 is not what their own values give
    m = mark(RNN, sheet.replace("a2 = -0.3473", "a2 = -0.3476"))
    assert m[("a2", "grad", 1, 1)][0] == "wrong"


# ------------------------------------------------------------- precision
ONE_UNIT = """learning_rate = {eta}
[[layers]]
weights = [[{w}]]
bias = [0]
[[examples]]
x = 1
t = {t}
"""


@pytest.mark.parametrize("written, verdict", [
    ("0.2", "imprecise"),    # one decimal cannot show the update of 0.009 from 0.18 (both round to 0.2): no mark
    ("0.19", "correct"),     # two decimals can
    ("0.18", "wrong"),       # the old weight where two decimals would show the update
    ("0.189", "correct"),
    ("0.3", "wrong"),        # neither value
])
def test_an_update_the_digits_cannot_show_is_imprecise(written, verdict):
    # z = a = 0.18, dJ/dz = a - t = -0.09, dJ/dW = -0.09: W_new = 0.18 + 0.1 * 0.09 = 0.189
    m = mark(ONE_UNIT.format(eta="0.1", w="0.18", t="0.27"), f"[[layers]]\nW_new = [[{written}]]\n")
    assert m[(1, "W_new", 1, 1)][0] == verdict


def test_each_entry_is_read_to_its_own_digits():
    # the true z is 1.0001: "1" stands for 1.00 +- 0.005 (right); "1.000" for 1.000 +- 0.0005 (right);
    # "1.0000" for 1.0000 +- 0.00005 (wrong), whatever the digits of the other entries
    problem = ONE_UNIT.format(eta="0.1", w="1.0001", t="0")
    for written, verdict in (("1", "correct"), ("1.000", "correct"), ("1.0000", "wrong"), ("1.0001", "correct")):
        m = mark(problem, f"[[layers]]\nz = [{written}]\na = [0.1234567]\n")
        assert m[(1, "z", 1, 1)][0] == verdict, written
