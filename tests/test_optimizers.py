"""Optimizers (momentum, Nesterov, AdaGrad, RMSProp, Adam): every update
against the independent reference (tests/netref.py, its own rules written
from the issue), known answers in exact values, the JSON contract, bad
input, the grader on sheets an independent simulated student worked (with
the classic optimizer slips), the graph kind's [update.optimizer], and
class sets with --optimizer."""

from __future__ import annotations

import json
import random
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import mpmath
import pytest

import netref
import stepsolver
import stress
from conftest import ROOT, run_cli
from stepsolver import check
from stepsolver.kinds.net.answers import answers_from_dict
from stepsolver.tomlio import parse_toml_bytes

NAMES = ["momentum", "nesterov", "adagrad", "rmsprop", "adam"]

MAZUR = """title = "Mazur 2-2-2"
learning_rate = {eta}
loss = "half_sse"
activation = "sigmoid"
steps = {steps}
{extra}
[optimizer]
name = "{name}"
{settings}

[[layers]]
weights = [[0.15, 0.20], [0.25, 0.30]]
bias = [0.35, 0.35]

[[layers]]
weights = [[0.40, 0.45], [0.50, 0.55]]
bias = [0.60, 0.60]

[[examples]]
x = [0.05, 0.10]
t = [0.01, 0.99]
"""


def mazur(name, steps=3, eta="0.5", extra="", settings=""):
    return MAZUR.format(name=name, steps=steps, eta=eta, extra=extra, settings=settings)


def solve_text(text):
    return stepsolver.solve(stepsolver.loads_problem(text, "opt.toml"))


# ------------------------------------------------------------ the reference
@pytest.mark.parametrize("name", NAMES + ["sgd"])
@pytest.mark.parametrize("extra", ["", "update_biases = false", "l2 = 0.01"])
def test_mazur_three_steps_of_each_optimizer_equal_the_reference(name, extra):
    text = mazur(name, extra=extra)
    ref = netref.reference(text)
    assert ref["status"] == "ok"
    sol = solve_text(text)
    bad = stress.compare(sol.trace, ref)
    assert bad == []
    # the state is compared too: the reference reports it by the same names
    if name != "sgd":
        assert any(k not in stress_reported() for k in ref["steps"][2]["layers"][0])


def stress_reported():
    return {"z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new"}


@pytest.mark.parametrize("block", range(4))
def test_random_networks_with_optimizers_equal_the_reference(block):
    """Seeded random networks (batch and online, 1-3 steps, l2, frozen
    biases, random rules and hyper-parameters, epsilon inside the root):
    every loss, state entry and new parameter equals the reference."""
    outcomes = {}
    for k in range(block * 15, block * 15 + 15):
        rng = random.Random(4242 + k)
        text = stress.random_problem(rng, wide=False, max_depth=3, max_width=3, max_examples=3, optimizer=True)
        res = stress.run_one(text, render=("json",))
        outcomes[k] = res["outcome"], res.get("message", "")
    bad = {k: v for k, v in outcomes.items() if v[0] not in ("right", "refused_true")}
    assert bad == {}
    assert sum(1 for v in outcomes.values() if v[0] == "right") >= 13


def test_each_rule_with_each_option_equals_the_reference():
    for name in NAMES:
        for settings in ("", "epsilon_inside = true" if name in ("adagrad", "rmsprop", "adam") else "momentum = 0.5"):
            for extra in ('update = "online"\n[[examples]]\nx = [1, -1]\nt = [0.5, 0.2]', ""):
                text = mazur(name, steps=2, settings=settings).replace("[optimizer]", extra.split("[[examples]]")[0]
                                                                       + "[optimizer]")
                if "[[examples]]" in extra:
                    text += "\n[[examples]]" + extra.split("[[examples]]")[1] + "\n"
                ref = netref.reference(text)
                assert stress.compare(solve_text(text).trace, ref) == [], (name, settings, extra)


# ------------------------------------------------------------ known answers
ONE = """learning_rate = "1/10"
activation = "identity"
update_biases = false
steps = {steps}
[optimizer]
name = "{name}"
{settings}
[[layers]]
weights = [[1]]
[[examples]]
x = [1]
t = [0]
"""


def _w(sol, step):
    d = json.loads(sol.render("json"))
    return d["steps"][step - 1]["layers"][0]["W_new"]["exact"][0][0]


@pytest.mark.parametrize("name, settings, steps, expected", [
    # w = 1, g = w: v = 1, w = 9/10; then v = 1/2 + 9/10, w = 9/10 - 14/100
    ("momentum", "momentum = 0.5", 2, ["9/10", "19/25"]),
    # w = 1 - (1 + 1/2)/10; then g = 17/20, v = 1/2 + 17/20, w = 17/20 - (17/20 + 27/40)/10
    ("nesterov", "momentum = 0.5", 2, ["17/20", "279/400"]),
    # m_hat = g, v_hat = g^2: w = 1 - (1/10) 1/(1 + 10^-8)
    ("adam", "", 1, ["90000001/100000001"]),
    # G = 1: w = 1 - (1/10) 1/(1 + 10^-10) (PyTorch's AdaGrad epsilon)
    ("adagrad", "", 1, ["9000000001/10000000001"]),
    # s = (1 - 0.99) 1 = 1/100: w = 1 - (1/10)(1/(1/10 + 10^-8))
    ("rmsprop", "", 1, ["1/10000001"]),
])
def test_known_answers_in_exact_values(name, settings, steps, expected):
    sol = solve_text(ONE.format(name=name, settings=settings, steps=steps))
    assert [_w(sol, k) for k in range(1, steps + 1)] == expected


def test_epsilon_inside_the_root_is_goodfellows_form():
    sol = solve_text(ONE.format(name="rmsprop", settings="epsilon = 0.01\nepsilon_inside = true", steps=1))
    d = json.loads(sol.render("json"))
    got = d["steps"][0]["layers"][0]["W_new"]["value"][0][0]
    with mpmath.workdps(40):
        want = 1 - mpmath.mpf(1) / 10 / mpmath.sqrt(mpmath.mpf(1) / 100 + mpmath.mpf(1) / 100)
    assert got == pytest.approx(float(want), rel=1e-15)
    text = solve_text(ONE.format(name="rmsprop", settings="epsilon = 0.01\nepsilon_inside = true", steps=1)).render("text")
    assert "√(s_(W[1]) + ε)" in text


def test_adam_bias_correction_uses_the_update_count_of_online_steps():
    text = mazur("adam", steps=2, eta="0.01", extra='update = "online"').replace(
        "[[examples]]\nx = [0.05, 0.10]", "[[examples]]\nx = [0.5, -0.5]\nt = [0.2, 0.8]\n\n[[examples]]\nx = [0.05, 0.10]")
    sol = solve_text(text)
    assert len(sol.trace.steps) == 4
    s4 = sol.trace.steps[3].layers[0]
    beta1 = Fraction(9, 10)
    m, m_hat = s4.opt["m_W"], s4.opt["m_hat_W"]
    for x, y in zip(m.entries(), m_hat.entries()):
        assert float(y) == pytest.approx(float(x) / float(1 - beta1**4), rel=1e-12)


# ------------------------------------------------------------ JSON and state
@pytest.mark.parametrize("name, keys", [
    ("momentum", ["velocity_W", "velocity_b"]), ("nesterov", ["velocity_W", "velocity_b"]),
    ("adagrad", ["G_W", "G_b"]), ("rmsprop", ["s_W", "s_b"]),
    ("adam", ["m_W", "v_W", "m_hat_W", "v_hat_W", "m_b", "v_b", "m_hat_b", "v_hat_b"]),
])
def test_the_json_carries_the_optimizer_and_its_state(name, keys):
    d = json.loads(solve_text(mazur(name, steps=2)).render("json"))
    assert d["optimizer"]["name"] == name
    for s in d["steps"]:
        for lt in s["layers"]:
            assert [k for k in lt if k not in stress_reported() | {"layer", "activation", "W", "b"}] == keys
            for k in keys:
                assert set(lt[k]) == {"exact", "value"}
    frozen = json.loads(solve_text(mazur(name, steps=1, extra="update_biases = false")).render("json"))
    assert not any(k.endswith("_b") for k in frozen["steps"][0]["layers"][0] if k not in ("grad_b", "b_new"))


def test_plain_descent_says_so_in_the_json():
    d = json.loads(run_cli("solve", ROOT / "problems" / "linear_2_3_2.toml", "-f", "json").stdout)
    assert d["optimizer"] == {"name": "sgd"}


def test_defaults_are_pytorchs_and_are_stated():
    d = json.loads(solve_text(mazur("adam", steps=1)).render("json"))
    assert {k: d["optimizer"][k]["exact"] for k in ("beta1", "beta2", "epsilon")} == \
        {"beta1": "9/10", "beta2": "999/1000", "epsilon": "1/100000000"}
    d = json.loads(solve_text(mazur("rmsprop", steps=1)).render("json"))
    assert d["optimizer"]["rho"]["exact"] == "99/100"
    d = json.loads(solve_text(mazur("adagrad", steps=1)).render("json"))
    assert d["optimizer"]["epsilon"]["exact"] == "1/10000000000"
    md = solve_text(mazur("adam", steps=1)).render("md")
    assert "the defaults" in md and "PyTorch" in md


def test_momentum_on_a_rational_problem_stays_exact():
    base = (ROOT / "problems" / "linear_2_3_2.toml").read_text()
    head, _, layers = base.partition("[[layers]]")
    text = head + "steps = 2\n\n[optimizer]\nname = \"nesterov\"\nmomentum = 0.9\n\n[[layers]]" + layers
    d = json.loads(solve_text(text).render("json"))
    for s in d["steps"]:
        for lt in s["layers"]:
            for k in ("W_new", "velocity_W", "velocity_b"):
                assert all(e is not None and "." not in e for r in lt[k]["exact"] for e in r), k


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize("settings, key, words", [
    ('name = "adamw"', "optimizer.name", "did you mean 'adam'"),
    ('name = "adam"\nmomentum = 0.9', "optimizer.momentum", "adam has no momentum"),
    ('name = "adam"\nbeta1 = 1', "optimizer.beta1", "below 1"),
    ('name = "rmsprop"\nepsilon = -1e-8', "optimizer.epsilon", "0 or more"),
    ('name = "momentum"\nepsilon_inside = true', "optimizer.epsilon_inside", "momentum has no epsilon_inside"),
    ('name = "adam"\nbeta2 = "x"', "optimizer.beta2", ""),
])
def test_bad_optimizer_tables_are_one_line_naming_the_key(tmp_path, settings, key, words):
    text = mazur("X", steps=1).replace('name = "X"', settings)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    r = run_cli("solve", path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert key in r.stderr and str(path) in r.stderr and words in r.stderr


def test_a_division_by_zero_names_the_step_layer_and_the_cure(tmp_path):
    text = ONE.format(name="adagrad", settings="epsilon = 0", steps=1).replace("x = [1]\nt = [0]", "x = [0]\nt = [0]")
    path = tmp_path / "zero.toml"
    path.write_text(text)
    r = run_cli("solve", path)
    assert r.returncode == 2
    assert "step 1, layer 1, W_new" in r.stderr and "epsilon above 0" in r.stderr


def test_state_answers_for_plain_descent_are_refused(tmp_path):
    ans = tmp_path / "a.toml"
    ans.write_text("[[layers]]\nvelocity_W = [[1, 2], [3, 4]]\n")
    r = run_cli("check", ROOT / "problems" / "sigmoid_2_2_2.toml", ans)
    assert r.returncode == 2 and "layers[1].velocity_W" in r.stderr and "plain gradient descent" in r.stderr
    prob = tmp_path / "m.toml"
    prob.write_text(mazur("adam", steps=1))
    ans.write_text("[[layers]]\nvelocity_W = [[1, 2], [3, 4]]\n")
    r = run_cli("check", prob, ans)
    assert r.returncode == 2 and "adam keeps no velocity" in r.stderr


# ------------------------------------------------ an independent student
def _dec(x) -> Decimal:
    if isinstance(x, Fraction):
        return Decimal(x.numerator) / Decimal(x.denominator)
    return Decimal(mpmath.nstr(x, 60, min_fixed=-1000, max_fixed=1000))


def _round(x, k) -> Fraction:
    return Fraction(_dec(x).quantize(Decimal(1).scaleb(-k), rounding=ROUND_HALF_UP))


def _round_sig(x, k) -> Fraction:
    d = _dec(x)
    if d == 0:
        return Fraction(0)
    e = d.adjusted() - (k - 1)
    return Fraction(d.quantize(Decimal(1).scaleb(e), rounding=ROUND_HALF_UP))


def _sig(z):
    with mpmath.workdps(60):
        return 1 / (1 + mpmath.exp(-mpmath.mpf(z.numerator) / z.denominator))


HYPER = {"momentum": {"mu": Fraction(9, 10)}, "nesterov": {"mu": Fraction(9, 10)},
         "adagrad": {"eps": Fraction(1, 10**10)}, "rmsprop": {"rho": Fraction(99, 100), "eps": Fraction(1, 10**8)},
         "adam": {"b1": Fraction(9, 10), "b2": Fraction(999, 1000), "eps": Fraction(1, 10**8)}}


def student(name, k, steps, hyper, slip=None, slip_at=(1, 2, "W")):
    """Mazur's network worked by hand: every value written to k decimals
    (the optimizer's state to k significant digits) and carried forward,
    sigma' = a(1 - a) from the rounded a, one slip at (step, layer, param)."""
    W = [[[Fraction(15, 100), Fraction(20, 100)], [Fraction(25, 100), Fraction(30, 100)]],
         [[Fraction(40, 100), Fraction(45, 100)], [Fraction(50, 100), Fraction(55, 100)]]]
    b = [[Fraction(35, 100)] * 2, [Fraction(60, 100)] * 2]
    x, t = [Fraction(5, 100), Fraction(10, 100)], [Fraction(1, 100), Fraction(99, 100)]
    eta = Fraction(1, 2) if name in ("momentum", "nesterov") else Fraction(1, 100)
    state = {}
    sheet, slipped = [], set()
    for step in range(1, steps + 1):
        A, zs, as_ = x, [], []
        for l in range(2):
            z = [_round(sum(W[l][i][j] * A[j] for j in range(2)) + b[l][i], k) for i in range(2)]
            a = [_round(_sig(v), k) for v in z]
            zs.append(z)
            as_.append(a)
            A = a
        loss = _round(sum((as_[1][i] - t[i]) ** 2 for i in range(2)) / 2, k)
        d2 = [_round((as_[1][i] - t[i]) * as_[1][i] * (1 - as_[1][i]), k) for i in range(2)]
        d1 = [_round(sum(W[1][r][i] * d2[r] for r in range(2)) * as_[0][i] * (1 - as_[0][i]), k) for i in range(2)]
        deltas = [d1, d2]
        layers = []
        for l in range(2):
            Ap = x if l == 0 else as_[0]
            gW = [[_round(deltas[l][i] * Ap[j], k) for j in range(2)] for i in range(2)]
            gb = [deltas[l][i] for i in range(2)]
            rec = {"z": zs[l], "a": as_[l], "delta": deltas[l], "grad_W": gW, "grad_b": gb}
            for param, theta, g in (("W", W[l], gW), ("b", [[v] for v in b[l]], [[v] for v in gb])):
                here = slip if (step, l + 1, param) == slip_at else None
                new, entries = _student_update(name, theta, g, state.get((l, param)), step, eta, hyper, k, here)
                state[(l, param)] = entries
                for key, M in entries.items():
                    rec[f"{key}_{param}"] = M if param == "W" else [r[0] for r in M]
                rec[f"{param}_new"] = new if param == "W" else [r[0] for r in new]
                if here:
                    slipped.add((step, l + 1, param))
            layers.append(rec)
        sheet.append({"loss": loss, "layers": layers})
        W = [layers[l]["W_new"] for l in range(2)]
        b = [layers[l]["b_new"] for l in range(2)]
    return sheet, slipped


def _student_update(name, theta, g, prev, t, eta, h, k, slip):
    n, m = len(theta), len(theta[0])
    sig = lambda v: _round_sig(v, k)  # noqa: E731
    out, new = {}, [[None] * m for _ in range(n)]
    with mpmath.workdps(60):
        def root(s):
            e = h["eps"]
            inside = slip == "epsilon_placement"
            return mpmath.sqrt(_mpf(s + e)) if inside else mpmath.sqrt(_mpf(s)) + _mpf(e)

        for i in range(n):
            for j in range(m):
                gi = g[i][j]
                if name in ("momentum", "nesterov"):
                    v0 = prev["velocity"][i][j] if prev else 0
                    v = h["mu"] * v0 + gi
                    if slip == "velocity_sign":
                        v = h["mu"] * v0 - gi
                    elif slip == "cs231n_velocity":
                        v = h["mu"] * v0 - eta * gi
                    v = sig(v)
                    out.setdefault("velocity", [[None] * m for _ in range(n)])[i][j] = v
                    step = v if name == "momentum" else gi + h["mu"] * v
                    new[i][j] = _round(theta[i][j] - eta * step, k)
                elif name in ("adagrad", "rmsprop"):
                    key = "G" if name == "adagrad" else "s"
                    s0 = prev[key][i][j] if prev else 0
                    sq = gi if slip == "gradient_not_squared" else gi * gi
                    s = s0 + sq if name == "adagrad" else h["rho"] * s0 + (1 - h["rho"]) * sq
                    s = sig(s)
                    out.setdefault(key, [[None] * m for _ in range(n)])[i][j] = s
                    new[i][j] = _round(_mpf(theta[i][j]) - _mpf(eta * gi) / root(s), k)
                else:
                    m0 = prev["m"][i][j] if prev else 0
                    v0 = prev["v"][i][j] if prev else 0
                    b1, b2 = h["b1"], h["b2"]
                    mm = ((1 - b1) * m0 + b1 * gi) if slip == "beta_swapped" else (b1 * m0 + (1 - b1) * gi)
                    vv = b2 * v0 + (1 - b2) * (gi if slip == "gradient_not_squared" else gi * gi)
                    mm, vv = sig(mm), sig(vv)
                    power = 1 if slip == "bias_correction_power" else t
                    mh = mm if slip == "bias_correction_left_out" else sig(mm / (1 - b1**power))
                    vh = sig(vv / (1 - b2**t))
                    for key, val in (("m", mm), ("v", vv), ("m_hat", mh), ("v_hat", vh)):
                        out.setdefault(key, [[None] * m for _ in range(n)])[i][j] = val
                    new[i][j] = _round(_mpf(theta[i][j]) - _mpf(eta * mh) / root(vh), k)
    return new, out


def _mpf(q):
    return mpmath.mpf(q.numerator) / q.denominator if isinstance(q, Fraction) else mpmath.mpf(q)


def _text(v: Fraction) -> str:
    d = _dec(v).normalize()
    return '"' + format(d, "f") + '"' if d != 0 else "0"


def _sheet_toml(sheet, k) -> str:
    lines = [f"decimals = {k}"]
    for s in sheet:
        lines += ["[[steps]]", f"loss = {_text(s['loss'])}"]
        for lt in s["layers"]:
            lines.append("[[steps.layers]]")
            for key, M in lt.items():
                if isinstance(M[0], list):
                    lines.append(f"{key} = [" + ", ".join("[" + ", ".join(_text(v) for v in r) + "]" for r in M) + "]")
                else:
                    lines.append(f"{key} = [" + ", ".join(_text(v) for v in M) + "]")
    return "\n".join(lines) + "\n"


def _mark(name, sheet, k, settings=""):
    eta = "0.5" if name in ("momentum", "nesterov") else "0.01"
    trace = solve_text(mazur(name, steps=len(sheet), eta=eta, settings=settings)).trace
    answers = answers_from_dict(parse_toml_bytes(_sheet_toml(sheet, k).encode(), "answers.toml"), trace)
    return check(trace, answers)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("k", [4, 6])
def test_a_student_who_rounds_and_carries_forward_is_right(name, k):
    sheet, _ = student(name, k, 2, HYPER[name])
    report = _mark(name, sheet, k)
    verdicts = {it.verdict for it in report.items}
    wrong = [(it.step, it.layer, it.quantity, it.row, it.col, it.given.text, it.verdict) for it in report.items
             if it.verdict not in ("correct", "imprecise")]
    assert wrong == [] and "correct" in verdicts
    assert len(report.items) > 60


SLIPS = [
    ("adam", "bias_correction_left_out", (1, 2, "W"), "m_hat_W", ""),
    ("adam", "beta_swapped", (1, 2, "W"), "m_W", ""),
    ("adam", "gradient_not_squared", (1, 1, "W"), "v_W", ""),
    ("adam", "bias_correction_power", (2, 2, "W"), "m_hat_W", ""),
    ("rmsprop", "gradient_not_squared", (1, 1, "W"), "s_W", ""),
    ("adagrad", "gradient_not_squared", (1, 1, "W"), "G_W", ""),
    ("rmsprop", "epsilon_placement", (1, 2, "W"), "W_new", "epsilon = 0.01"),
    ("adam", "epsilon_placement", (1, 2, "b"), "b_new", "epsilon = 0.01"),
    ("momentum", "velocity_sign", (1, 2, "W"), "velocity_W", ""),
    ("nesterov", "cs231n_velocity", (2, 1, "W"), "velocity_W", ""),
]


@pytest.mark.parametrize("name, slip, where, quantity, settings", SLIPS, ids=[f"{s[0]}-{s[1]}" for s in SLIPS])
def test_the_classic_optimizer_slips_are_named(name, slip, where, quantity, settings):
    hyper = dict(HYPER[name])
    if settings:
        hyper["eps"] = Fraction(1, 100)
    sheet, _ = student(name, 4, 2, hyper, slip, where)
    report = _mark(name, sheet, 4, settings)
    step, layer, _ = where
    hit = [it for it in report.items if (it.step, it.layer, it.quantity) == (step, layer, quantity)]
    assert hit
    assert all(it.verdict == "wrong" for it in hit), [(it.given.text, it.verdict) for it in hit]
    codes = {c for it in hit for c in ((it.hint.code,) + tuple(it.hint.also) if it.hint else ())}
    assert slip in codes
    # what was worked before the slip is right
    order = [it for it in report.items]
    first = order.index(hit[0])
    assert all(it.verdict in ("correct", "imprecise") for it in order[:first])
    # nothing after it is wrong unless the slip repeats there: the rest is right or follows from it
    assert not [it for it in order[first:] if it.verdict == "wrong" and it.quantity != quantity]


def test_copying_the_old_weights_earns_nothing_with_an_optimizer():
    sheet, _ = student("adam", 4, 1, HYPER["adam"])
    for lt in sheet[0]["layers"]:
        lt.pop("W_new")
    old = [[[Fraction(15, 100), Fraction(20, 100)], [Fraction(25, 100), Fraction(30, 100)]],
           [[Fraction(40, 100), Fraction(45, 100)], [Fraction(50, 100), Fraction(55, 100)]]]
    for l, lt in enumerate(sheet[0]["layers"]):
        lt["W_new"] = old[l]
    report = _mark("adam", sheet, 4)
    copied = [it for it in report.items if it.quantity == "W_new"]
    assert copied and all(it.verdict == "wrong" for it in copied)


def test_the_rounded_key_of_adam_is_a_key_not_noise():
    sol = stepsolver.solve(stepsolver.load_problem(ROOT / "problems" / "mazur_adam.toml"), round_places=4)
    key = sol.trace.kind.solve_rounded(sol.trace.problem, 4)
    for lt, lr in zip(sol.trace.steps[0].layers, key.steps[0].layers):
        for x, y in zip(lt.W_new.entries(), lr.W_new.entries()):
            assert abs(float(x) - float(y)) < 2e-4


# ------------------------------------------------------------ graphs
def _graph(path, name, direction="descent", settings=""):
    text = (ROOT / "problems" / path).read_text()
    if direction == "ascent":
        text = text.replace("[update]\n", '[update]\ndirection = "ascent"\n')
    return text + f'[update.optimizer]\nname = "{name}"\n{settings}\n'


def _rule(name, theta, g, h):
    """One update from zero state by the issue's rules (t = 1), in mpmath."""
    with mpmath.workdps(50):
        theta, g = _mpf(theta), _mpf(g)
        if name == "momentum":
            return theta - h["eta"] * g
        if name == "nesterov":
            return theta - h["eta"] * (g + h["mu"] * g)
        if name == "adagrad":
            return theta - h["eta"] * g / (mpmath.sqrt(g * g) + h["eps"])
        if name == "rmsprop":
            return theta - h["eta"] * g / (mpmath.sqrt((1 - h["rho"]) * g * g) + h["eps"])
        mh, vh = g, g * g
        return theta - h["eta"] * mh / (mpmath.sqrt(vh) + h["eps"])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("path", ["graph_affine_seed.toml", "graph_regularised_unit.toml"])
@pytest.mark.parametrize("direction", ["descent", "ascent"])
def test_graph_updates_with_an_optimizer_follow_the_rule(name, path, direction):
    sol = solve_text(_graph(path, name, direction))
    d = json.loads(sol.render("json"))
    eta = Fraction(d["update"]["learning_rate"]["exact"])
    h = {k: _mpf(v) for k, v in HYPER[name].items()}
    h["eta"] = _mpf(eta)
    assert d["optimizer"]["name"] == name and d["update"]["state"]
    nodes = {n["name"]: n for n in d["nodes"]}
    for p, new in d["update"]["new"].items():
        def entries(v):
            return [x for r in v["value"] for x in r] if isinstance(v["value"], list) else [v["value"]]
        old, grad, got = entries(nodes[p]["value"]), entries(nodes[p]["grad"]), entries(new)
        sign = 1 if direction == "descent" else -1
        for o, g, y in zip(old, grad, got):
            assert y == pytest.approx(float(_rule(name, o, sign * g, h)), rel=1e-13, abs=1e-15)
    for fmt in ("md", "text", "html", "latex", "moodle", "csv"):
        assert sol.render(fmt)


def test_graph_check_names_an_optimizer_slip(tmp_path):
    prob = tmp_path / "g.toml"
    prob.write_text(_graph("graph_regularised_unit.toml", "adam"))
    ans = tmp_path / "a.toml"
    ans.write_text("[m]\nw = -0.015\n[m_hat]\nw = -0.015\n[new]\nw = 1.1\n")
    r = run_cli("check", prob, ans, "-f", "json")
    d = json.loads(r.stdout)
    items = {(it["node"] if "node" in it else it.get("layer"), it["quantity"]): it for it in d["items"]}
    wrong = [it for it in d["items"] if it["verdict"] == "wrong"]
    assert len(wrong) == 1 and wrong[0]["hint"]["code"] == "bias_correction_left_out"
    assert items


def test_graph_state_answers_need_an_optimizer(tmp_path):
    ans = tmp_path / "a.toml"
    ans.write_text("[m]\nw = 1\n")
    r = run_cli("check", ROOT / "problems" / "graph_regularised_unit.toml", ans)
    assert r.returncode == 2 and "plain gradient descent" in r.stderr


# ------------------------------------------------------------ class sets
def test_generate_with_an_optimizer_carries_it_into_files_keys_and_exports(tmp_path):
    out = tmp_path / "set"
    r = run_cli("generate", "--layers", "2,2,1", "--activation", "sigmoid", "--optimizer", "adam,beta1=0.8",
                "--count", "12", "--seed", "5", "--out", out, timeout=300)
    assert r.returncode == 0, r.stderr
    files = sorted(out.glob("*.toml"))
    assert len(files) == 12
    for f in files:
        text = f.read_text()
        assert '[optimizer]\nname = "adam"\nbeta1 = 0.8' in text and "Update: Adam." in text
    d = json.loads(run_cli("solve", files[0], "-f", "json").stdout)
    assert d["optimizer"]["beta1"]["exact"] == "4/5" and "m_hat_W" in d["steps"][0]["layers"][0]
    xml = run_cli("solve", *files, "-f", "moodle").stdout
    assert xml.count("m_hat_W, layer 1") >= 12 or xml.count("hat{m}") >= 12
    again = tmp_path / "again"
    run_cli("generate", "--layers", "2,2,1", "--activation", "sigmoid", "--optimizer", "adam,beta1=0.8",
            "--count", "12", "--seed", "5", "--out", again, timeout=300)
    assert [f.read_text() for f in files] == [f.read_text() for f in sorted(again.glob("*.toml"))]


@pytest.mark.parametrize("value, words", [("adamm", "did you mean 'adam'"), ("adam,rho=0.3", "adam has no rho"),
                                          ("momentum,momentum=2", "below 1"), ("adam,beta1", "KEY=VALUE")])
def test_generate_refuses_a_bad_optimizer_option(tmp_path, value, words):
    r = run_cli("generate", "--layers", "2,1", "--optimizer", value, "--count", "2", "--out", tmp_path / "x")
    assert r.returncode == 2 and "--optimizer" in r.stderr and words in r.stderr
