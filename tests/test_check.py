"""stepsolver check: follow-through marking and the catalogue of slips."""

import json
import math

import pytest

import stepsolver
from conftest import NET_PROBLEMS, ROOT, run_cli
from stepsolver.answers import parse_given
from stepsolver.kinds.net.answers import answers_from_dict
from stepsolver import check
from stepsolver.marking.rules import DefaultRule, SigFigsRule, ToleranceRule
from stepsolver.exact import Q
from stepsolver import loads_problem
from stepsolver.tomlio import FloatText

LINEAR = ROOT / "problems" / "linear_2_3_2.toml"
SIGMOID = ROOT / "problems" / "sigmoid_2_2_2.toml"


# ----------------------------------------------------------------- the rule
@pytest.mark.parametrize(
    "given, true, ok",
    [
        (FloatText("0.96"), Q(958, 1000), True),
        (39, Q(37), False),
        (8, Q(79, 10), False),
        (8, Q(7998, 1000), True),  # 8 counts as 8.00
        (FloatText("0.3"), Q(1, 3), False),  # too coarse: 2 places at least
        (FloatText("0.333"), Q(1, 3), True),
        ("76/3", Q(76, 3), True),
        ("76/3", Q(2533, 100), False),  # a fraction must be exact
        ("-0.44", Q(-11, 25), True),
        (FloatText("1.5e-3"), Q(151, 100000), True),  # 4 places: 0.0015 +- 0.00005
        (FloatText("1.5e-3"), Q(156, 100000), False),
    ],
)
def test_default_rule(given, true, ok):
    g = parse_given(given, "k")
    assert DefaultRule().matches(g, true) is ok


def test_tolerance_and_sig_fig_rules():
    g = parse_given(FloatText("0.59"), "k")
    assert ToleranceRule(Q(1, 100), Q(0)).matches(g, Q(5933, 10000))
    assert not ToleranceRule(Q(1, 1000), Q(0)).matches(g, Q(5933, 10000))
    assert SigFigsRule(2).matches(g, Q(5933, 10000))
    assert not SigFigsRule(3).matches(g, Q(5933, 10000))


# -------------------------------------------------- a simulated student
def sig(x):
    return 1 / (1 + math.exp(-x))


def student_sigmoid(slip=None, places=4):
    """The 2-2-2 sigmoid network worked by hand in floats, rounding every
    value to `places` decimals; `slip` = (quantity, layer, unit, delta) adds
    delta to one entry, as an arithmetic slip."""
    r = lambda v: round(v, places)  # noqa: E731
    W1, b1 = [[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35]
    W2, b2 = [[0.40, 0.45], [0.50, 0.55]], [0.60, 0.60]
    x, t, eta = [0.05, 0.10], [0.01, 0.99], 0.5

    def slipped(q, l, vals):
        if slip and slip[0] == q and slip[1] == l:
            vals = list(vals)
            vals[slip[2] - 1] = r(vals[slip[2] - 1] + slip[3])
        return vals

    z1 = slipped("z", 1, [r(sum(W1[i][k] * x[k] for k in range(2)) + b1[i]) for i in range(2)])
    a1 = slipped("a", 1, [r(sig(v)) for v in z1])
    z2 = slipped("z", 2, [r(sum(W2[i][k] * a1[k] for k in range(2)) + b2[i]) for i in range(2)])
    a2 = slipped("a", 2, [r(sig(v)) for v in z2])
    loss = r(0.5 * sum((a2[i] - t[i]) ** 2 for i in range(2)))
    d2 = slipped("delta", 2, [r((a2[i] - t[i]) * sig(z2[i]) * (1 - sig(z2[i]))) for i in range(2)])
    d1 = slipped("delta", 1, [r(sum(W2[k][i] * d2[k] for k in range(2)) * sig(z1[i]) * (1 - sig(z1[i]))) for i in range(2)])
    gW2 = [[r(d2[i] * a1[k]) for k in range(2)] for i in range(2)]
    gW1 = [[r(d1[i] * x[k]) for k in range(2)] for i in range(2)]
    W2n = [[r(W2[i][k] - eta * gW2[i][k]) for k in range(2)] for i in range(2)]
    W1n = [[r(W1[i][k] - eta * gW1[i][k]) for k in range(2)] for i in range(2)]
    return {
        "loss": loss,
        "layers": [
            {"z": z1, "a": a1, "delta": d1, "grad_W": gW1, "grad_b": d1, "W_new": W1n},
            {"z": z2, "a": a2, "delta": d2, "grad_W": gW2, "grad_b": d2, "W_new": W2n},
        ],
    }


def as_answers(d):
    """Floats -> the FloatText TOML gives, so the written places count."""
    def conv(v):
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return FloatText(repr(v)) if isinstance(v, float) else v
    return conv(d)


def mark(problem_path, answers_dict, rule=None):
    trace = stepsolver.solve(stepsolver.load_problem(problem_path)).trace
    sheet = answers_from_dict(as_answers(answers_dict), trace)
    report = check(trace, sheet, rule)
    return {(it.step, it.layer, it.quantity, it.row, it.col): it for it in report.items}, report


def test_a_sheet_worked_right_with_rounding_is_all_correct():
    items, report = mark(SIGMOID, student_sigmoid())
    assert report.ok, [(k, i.verdict, i.given.text) for k, i in items.items() if i.verdict != "correct"]
    assert report.counts["correct"] == len(items) > 30


def test_a_forward_slip_is_wrong_its_consequences_carried_the_rest_correct():
    items, report = mark(SIGMOID, student_sigmoid(slip=("z", 1, 1, 0.1)))
    wrong = [k for k, it in items.items() if it.verdict == "wrong"]
    assert wrong == [(1, 1, "z", 1, 1)]
    # computed from the slip: a1[1], all of z2, a2, the loss, the deltas, gradients, updates
    carried = {k for k, it in items.items() if it.verdict == "carried"}
    assert (1, 1, "a", 1, 1) in carried
    assert {(1, 2, "z", 1, 1), (1, 2, "z", 2, 1), (1, None, "loss", 1, 1)} <= carried
    assert (1, 2, "W_new", 1, 1) in carried
    # independent of it: the other unit's forward values
    assert items[(1, 1, "z", 2, 1)].verdict == "correct"
    assert items[(1, 1, "a", 2, 1)].verdict == "correct"
    # ... and the input-weight gradients of the unit without the slip only
    # depend on delta1[2], which depends on delta2 -> carried; but gW1 row 1
    # depends on delta1[1] (carried) too: nothing in that chain is "wrong"
    assert report.first_wrong.quantity == "z" and report.first_wrong.layer == 1
    assert not report.ok


# ------------------------------------------------------- the slip catalogue
def hint_of(items, key, expect=None):
    it = items[key]
    assert it.verdict == "wrong", (key, it.verdict, it.given.text)
    assert it.hint is not None, (key, it.given.text)
    if expect is not None and expect in it.hint.also:
        return expect  # named as giving the same number as the first
    return it.hint.code


def test_sigmoid_missing_activation_derivative_at_the_output():
    s = student_sigmoid()
    a2, t = s["layers"][1]["a"], [0.01, 0.99]
    s["layers"][1]["delta"] = [round(a2[i] - t[i], 4) for i in range(2)]
    items, _ = mark(SIGMOID, s)
    assert hint_of(items, (1, 2, "delta", 1, 1)) == "missing_activation_derivative"


def test_sigmoid_missing_activation_derivative_in_a_hidden_layer():
    s = student_sigmoid()
    d2 = s["layers"][1]["delta"]
    W2 = [[0.40, 0.45], [0.50, 0.55]]
    s["layers"][0]["delta"] = [round(sum(W2[k][i] * d2[k] for k in range(2)), 4) for i in range(2)]
    items, _ = mark(SIGMOID, s)
    assert hint_of(items, (1, 1, "delta", 1, 1)) == "missing_activation_derivative"


def test_sigmoid_derivative_at_a():
    s = student_sigmoid()
    a2, t = s["layers"][1]["a"], [0.01, 0.99]
    s["layers"][1]["delta"] = [round((a2[i] - t[i]) * sig(a2[i]) * (1 - sig(a2[i])), 4) for i in range(2)]
    items, _ = mark(SIGMOID, s)
    assert hint_of(items, (1, 2, "delta", 1, 1)) == "derivative_at_a"


def test_sigmoid_missing_transpose():
    s = student_sigmoid()
    d2, z1 = s["layers"][1]["delta"], s["layers"][0]["z"]
    W2 = [[0.40, 0.45], [0.50, 0.55]]
    s["layers"][0]["delta"] = [
        round(sum(W2[i][k] * d2[k] for k in range(2)) * sig(z1[i]) * (1 - sig(z1[i])), 6) for i in range(2)
    ]
    items, _ = mark(SIGMOID, s)
    assert hint_of(items, (1, 1, "delta", 1, 1)) == "missing_transpose"


def test_sigmoid_used_updated_weights():
    s = student_sigmoid()
    d2, z1 = s["layers"][1]["delta"], s["layers"][0]["z"]
    W2n = s["layers"][1]["W_new"]
    s["layers"][0]["delta"] = [
        round(sum(W2n[k][i] * d2[k] for k in range(2)) * sig(z1[i]) * (1 - sig(z1[i])), 6) for i in range(2)
    ]
    items, _ = mark(SIGMOID, s)
    assert hint_of(items, (1, 1, "delta", 1, 1)) == "used_updated_weights"


def test_sigmoid_loss_factor():
    s = student_sigmoid()
    a2, t = s["layers"][1]["a"], [0.01, 0.99]
    s["loss"] = round(sum((a2[i] - t[i]) ** 2 for i in range(2)), 4)  # forgot the 1/2
    items, _ = mark(SIGMOID, s)
    assert hint_of(items, (1, None, "loss", 1, 1)) == "loss_factor"


LINEAR_SHEET = {
    "loss": 109,
    "layers": [
        {"z": [0, 8, 1], "a": [0, 8, 1], "delta": [-1, 33, -60], "grad_W": [[-1, -1], [33, 33], [-60, -60]],
         "grad_b": [-1, 33, -60], "W_new": [[1.01, -1.99], [1.67, 3.67], [-2.4, 1.6]], "b_new": [1.01, 1.67, 3.6]},
        {"z": [15, -4], "a": [15, -4], "delta": [13, -7], "grad_W": [[0, 104, 13], [0, -56, -7]],
         "grad_b": [13, -7], "W_new": [[1, 0.96, -3.13], [2, -0.44, 3.07]], "b_new": [1.87, 1.07]},
    ],
}


def linear_sheet(changes=None):
    d = json.loads(json.dumps(LINEAR_SHEET))
    for (l, key), value in (changes or {}).items():
        d["layers"][l - 1][key] = value
    return d


def test_linear_sheet_all_correct():
    items, report = mark(LINEAR, linear_sheet())
    # 1 loss + layer 1 (3 z, 3 a, 3 delta, 6 grad_W, 3 grad_b, 6 W_new, 3 b_new)
    #        + layer 2 (2 z, 2 a, 2 delta, 6 grad_W, 2 grad_b, 6 W_new, 2 b_new)
    assert report.ok and report.counts["correct"] == len(items) == 1 + 27 + 22


def test_linear_wrong_update_sign():
    items, _ = mark(LINEAR, linear_sheet({(2, "W_new"): [[1, 2 + 1.04, -3 + 0.13], [2, -1 - 0.56, 3 - 0.07]]}))
    assert hint_of(items, (1, 2, "W_new", 1, 2)) == "wrong_update_sign"
    assert items[(1, 2, "W_new", 1, 1)].verdict == "correct"  # the gradient there is 0


def test_linear_missing_learning_rate():
    items, _ = mark(LINEAR, linear_sheet({(1, "b_new"): [1 + 1, 2 - 33, 3 + 60]}))
    assert hint_of(items, (1, 1, "b_new", 2, 1)) == "missing_learning_rate"


def test_linear_used_updated_weights_and_its_consequences():
    # delta1 through the updated W2 = [[1, .96, -3.13], [2, -.44, 3.07]]: (1*13 + 2*-7, ...)
    d1 = [13 * 1 + -7 * 2, 13 * 0.96 + -7 * -0.44, 13 * -3.13 + -7 * 3.07]
    d1 = [round(v, 4) for v in d1]
    sheet = linear_sheet({(1, "delta"): d1, (1, "grad_W"): [[v, v] for v in d1], (1, "grad_b"): d1})
    items, report = mark(LINEAR, sheet)
    assert hint_of(items, (1, 1, "delta", 2, 1)) == "used_updated_weights"
    assert items[(1, 1, "delta", 1, 1)].verdict == "correct"  # W2 column 1 did not change
    assert items[(1, 1, "grad_W", 2, 1)].verdict == "carried"
    assert items[(1, 1, "grad_b", 2, 1)].verdict == "carried"
    # the student kept the true W_new of layer 1: it is simply correct
    assert items[(1, 1, "W_new", 2, 1)].verdict == "correct"


BATCH = """
learning_rate = 0.5
batch = "mean"
activation = "sigmoid"
[[layers]]
weights = [[1, -1], [0.5, 0.5]]
bias = [0, 0]
[[layers]]
weights = [[1, 1]]
bias = [0]
activation = "identity"
[[examples]]
x = [1, 0]
t = 1
[[examples]]
x = [0, 1]
t = 0
"""


def batch_mark(answers):
    trace = stepsolver.solve(loads_problem(BATCH)).trace
    report = check(trace, answers_from_dict(as_answers(answers), trace))
    return {(it.step, it.layer, it.quantity, it.row, it.col): it for it in report.items}, trace


def test_batch_missing_batch_factor_in_delta():
    trace = stepsolver.solve(loads_problem(BATCH)).trace
    d2 = [float(x) for x in trace.steps[0].layers[1].delta.entries()]
    items, _ = batch_mark({"layers": [{}, {"delta": [[round(2 * d2[0], 6), round(2 * d2[1], 6)]]}]})
    assert hint_of(items, (1, 2, "delta", 1, 1)) == "missing_batch_factor"


def test_batch_missing_batch_factor_in_the_loss():
    trace = stepsolver.solve(loads_problem(BATCH)).trace
    items, _ = batch_mark({"loss": round(2 * float(trace.steps[0].loss.total), 6)})
    # with m = 2 and the 1/2 of half_sse, both slips give this number: both are named
    assert hint_of(items, (1, None, "loss", 1, 1), "missing_batch_factor") == "missing_batch_factor"
    assert set((items[(1, None, "loss", 1, 1)].hint.code,) + items[(1, None, "loss", 1, 1)].hint.also) == {
        "missing_batch_factor", "loss_factor"}


def test_batch_bias_not_summed_and_missing_factor_in_the_weight_gradient():
    trace = stepsolver.solve(loads_problem(BATCH)).trace
    lt = trace.steps[0].layers[1]
    d2 = [float(x) for x in lt.delta.entries()]
    gW = [float(x) for x in lt.grad_W.entries()]
    items, _ = batch_mark({"layers": [{}, {"grad_b": round(d2[1], 6), "grad_W": [[round(2 * v, 6) for v in gW]]}]})
    assert hint_of(items, (1, 2, "grad_b", 1, 1)) == "bias_not_summed"
    assert hint_of(items, (1, 2, "grad_W", 1, 1)) == "missing_batch_factor"


def test_batch_forward_slip_in_one_example_carries_only_that_column():
    trace = stepsolver.solve(loads_problem(BATCH)).trace
    z1 = trace.steps[0].layers[0].z
    z = [[float(z1[i, j]) for j in range(2)] for i in range(2)]
    z[0][1] += 0.5  # slip in unit 1, example 2
    a = [[round(sig(v), 4) for v in row] for row in z]
    items, _ = batch_mark({"layers": [{"z": z, "a": a}]})
    assert items[(1, 1, "z", 1, 2)].verdict == "wrong"
    assert items[(1, 1, "a", 1, 2)].verdict == "carried"
    assert items[(1, 1, "a", 1, 1)].verdict == "correct"


# --------------------------------------------------------------- the command
def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_exit_codes_and_json_report(tmp_path):
    good = write(tmp_path, "good.toml", "loss = 109\n[[layers]]\nz = [0, 8, 1]\n[[layers]]\ndelta = [13, -7]\n")
    r = run_cli("check", LINEAR, good, "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["ok"] is True and d["counts"] == {"correct": 6, "wrong": 0, "carried": 0, "imprecise": 0}
    bad = write(tmp_path, "bad.toml", '[[layers]]\n[[layers]]\nW_new = [[1, 0.96, -3.13], [2, "-0.94", 3.07]]\n')
    r = run_cli("check", LINEAR, bad, "--format", "json")
    assert r.returncode == 1
    d = json.loads(r.stdout)
    assert d["ok"] is False and "rule" in d
    item = [it for it in d["items"] if it["verdict"] == "wrong"][0]
    assert item == {
        "step": 1, "layer": 2, "quantity": "W_new", "row": 2, "col": 2, "given": "-0.94",
        "expected": "-11/25", "expected_value": -0.44, "verdict": "wrong", "hint": None, "allowance": 0.005,
    }


def test_loss_item_has_no_layer(tmp_path):
    a = write(tmp_path, "a.toml", "loss = 110\n")
    d = json.loads(run_cli("check", LINEAR, a, "-f", "json").stdout)
    assert d["items"][0]["layer"] is None and d["items"][0]["quantity"] == "loss"


def test_shape_errors_name_the_key(tmp_path):
    a = write(tmp_path, "a.toml", "[[layers]]\n[[layers]]\nz = [1, 2, 3]\n")
    r = run_cli("check", LINEAR, a)
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: {a}: layers[2].z: expected 2×1, got 3 numbers"


def test_unknown_answer_key_and_too_many_layers(tmp_path):
    a = write(tmp_path, "a.toml", "[[layers]]\ndelta_W = [1]\n")
    r = run_cli("check", LINEAR, a)
    assert r.returncode == 2 and "layers[1].delta_W" in r.stderr and "did you mean" in r.stderr
    a = write(tmp_path, "b.toml", "[[layers]]\n[[layers]]\n[[layers]]\n")
    r = run_cli("check", LINEAR, a)
    assert r.returncode == 2 and "has 2 layer" in r.stderr


def test_blank_sheet_round_trip(tmp_path):
    r = run_cli("check", SIGMOID, "--blank")
    assert r.returncode == 0, r.stderr
    assert '"?"' in r.stdout and "b_new" not in r.stdout  # biases are fixed in this problem
    blank = write(tmp_path, "blank.toml", r.stdout)
    r2 = run_cli("check", SIGMOID, blank, "-f", "json")
    assert r2.returncode == 0, r2.stderr
    assert json.loads(r2.stdout)["counts"] == {"correct": 0, "wrong": 0, "carried": 0, "imprecise": 0}


def test_blank_sheet_filled_with_the_solution_is_all_correct(tmp_path):
    import tomllib

    for path in NET_PROBLEMS:  # graphs: tests/test_graph.py fills their blank sheets
        blank = run_cli("check", path, "--blank").stdout
        data = tomllib.loads(blank)
        sol = json.loads(run_cli("solve", path, "-f", "json").stdout)

        def fill(table, step):
            table["loss"] = repr(step["loss"]["value"])
            for lt, tl in zip(step["layers"], table.get("layers", [])):
                for key in list(tl):
                    tl[key] = [[e if e is not None and "(" not in e else repr(v) for e, v in zip(er, vr)]
                               for er, vr in zip(lt[key]["exact"], lt[key]["value"])]

        if "steps" in data:
            for table, step in zip(data["steps"], sol["steps"]):
                fill(table, step)
        else:
            fill(data, sol["steps"][0])
        lines = []

        def emit(table, prefix):
            lines.append(f"loss = {json.dumps(table['loss'])}")
            for tl in table.get("layers", []):
                lines.append(f"[[{prefix}layers]]")
                for k, v in tl.items():
                    lines.append(f"{k} = {json.dumps(v)}")

        if "steps" in data:
            for table in data["steps"]:
                lines.append("[[steps]]")
                emit(table, "steps.")
        else:
            emit(data, "")
        filled = write(tmp_path, f"{path.stem}.answers.toml", "\n".join(lines) + "\n")
        r = run_cli("check", path, filled, "-f", "json")
        d = json.loads(r.stdout)
        assert r.returncode == 0 and d["ok"], (path.stem, [i for i in d["items"] if i["verdict"] != "correct"][:3])
        assert d["counts"]["correct"] > 5


def test_answers_file_is_not_modified(tmp_path):
    a = write(tmp_path, "a.toml", "loss = 110\n")
    before = a.read_bytes()
    run_cli("check", LINEAR, a, "-f", "md")
    assert a.read_bytes() == before


def test_report_states_the_rule(tmp_path):
    a = write(tmp_path, "a.toml", "loss = 109.4\n")
    r = run_cli("check", LINEAR, a, "--rtol", "0.01")
    assert r.returncode == 0 and "--rtol 1/100" in r.stdout
    r = run_cli("check", LINEAR, a)
    assert r.returncode == 1 and "half a unit" in r.stdout
    r = run_cli("check", LINEAR, a, "--sig-figs", "3", "--atol", "1")
    assert r.returncode == 2


def test_a_slip_in_one_update_carries_into_the_next_step(tmp_path):
    # online_bce: step 1 (example 1) gives W = [0.75, 0.25], b = 0.25
    # the student slips in W_new[1][2]; step 2 (x = [-1, 1]) z from their weights
    answers = write(
        tmp_path,
        "a.toml",
        """
[[steps]]
[[steps.layers]]
z = 0
a = 0.5
W_new = [[0.75, 0.35]]
b_new = 0.25
[[steps]]
[[steps.layers]]
z = -0.15
""",
    )
    r = run_cli("check", ROOT / "problems" / "online_bce.toml", answers, "-f", "json")
    d = json.loads(r.stdout)
    verdicts = {(i["step"], i["quantity"], i["col"]): i["verdict"] for i in d["items"]}
    assert verdicts[(1, "W_new", 1)] == "correct"
    assert verdicts[(1, "W_new", 2)] == "wrong"
    # their z in step 2: -0.75 + 0.35 + 0.25 = -0.15 (the true z is -0.25)
    assert verdicts[(2, "z", 1)] == "carried"
    assert r.returncode == 1


def test_top_level_and_steps_1_together_is_an_error(tmp_path):
    a = write(tmp_path, "a.toml", "loss = 1\n[[steps]]\nloss = 1\n")
    r = run_cli("check", ROOT / "problems" / "online_bce.toml", a)
    assert r.returncode == 2 and "steps[1]" in r.stderr and "twice" in r.stderr


def test_linear_missing_transpose(tmp_path):
    problem = write(
        tmp_path,
        "p.toml",
        """
learning_rate = 0.1
[[layers]]
weights = [[1, 0], [0, 1]]
[[layers]]
weights = [[1, 2], [3, 4]]
[[examples]]
x = [1, 2]
t = [0, 0]
""",
    )
    # a1 = (1, 2), z2 = (5, 11) = delta2; W2^T delta2 = (38, 54) but W2 delta2 = (27, 59)
    answers = write(tmp_path, "a.toml", "[[layers]]\ndelta = [27, 59]\n[[layers]]\ndelta = [5, 11]\n")
    d = json.loads(run_cli("check", problem, answers, "-f", "json").stdout)
    wrong = [i for i in d["items"] if i["verdict"] == "wrong"]
    assert [i["hint"]["code"] for i in wrong] == ["missing_transpose", "missing_transpose"]


def test_batch_wrong_update_sign():
    trace = stepsolver.solve(loads_problem(BATCH)).trace
    lt = trace.steps[0].layers[0]
    W = [[float(x) for x in r] for r in lt.W.rows]
    g = [[float(x) for x in r] for r in lt.grad_W.rows]
    plus = [[round(W[i][k] + 0.5 * g[i][k], 6) for k in range(2)] for i in range(2)]
    items, _ = batch_mark({"layers": [{"W_new": plus}]})
    assert hint_of(items, (1, 1, "W_new", 1, 1)) == "wrong_update_sign"
