"""Recurrences ([sequence] and [recurrence], unrolled through time): random
RNN, LSTM and GRU cells (scalar and hidden size 2, 1 to 4 steps) against a
reference that unrolls the cell itself in mpmath at 60 digits and takes every
shared weight's gradient by a central difference; the unrolled file against
the same graph written out by hand; the refusals; follow-through across steps
in check."""

from __future__ import annotations

import json
import random
from fractions import Fraction

import mpmath
import pytest

import stepsolver
from conftest import ROOT, run_cli

MP = mpmath.MPContext()
MP.dps = 60


def sig(x):
    return 1 / (1 + MP.exp(-x))


def mv(W, v):
    return [sum(w * x for w, x in zip(r, v)) for r in W]


def ew(f, *vs):
    return [f(*xs) for xs in zip(*vs)]


# ------------------------------------------------------------------ the cells: TOML and the reference
def rnn(n):
    shapes = {"Wx": (n, 1), "Wh": (n, n), "Wy": (1, n)}
    cell = {"a": "Wx @ x + Wh @ prev(h)", "h": "tanh(a)", "y": "Wy @ h", "L": "(y - t)**2 / 2"}

    def step(P, x, t, state):
        h = ew(MP.tanh, ew(lambda a, b: a + b, mv(P["Wx"], [x]), mv(P["Wh"], state["h"])))
        y = mv(P["Wy"], h)[0]
        return {"h": h}, (y - t) ** 2 / 2

    return shapes, cell, step, ("h",)


def lstm(n):
    m = n + 1
    shapes = {"Wf": (n, m), "Wi": (n, m), "Wo": (n, m), "Wg": (n, m), "Wy": (1, n)}
    cell = {"v": "concat(prev(h), x)", "f": "sigmoid(Wf @ v)", "i": "sigmoid(Wi @ v)", "o": "sigmoid(Wo @ v)",
            "g": "tanh(Wg @ v)", "c": "f * prev(c) + i * g", "h": "o * tanh(c)", "y": "Wy @ h", "L": "(y - t)**2 / 2"}

    def step(P, x, t, state):
        v = state["h"] + [x]
        f, i, o = (ew(sig, mv(P[k], v)) for k in ("Wf", "Wi", "Wo"))
        g = ew(MP.tanh, mv(P["Wg"], v))
        c = ew(lambda f_, c_, i_, g_: f_ * c_ + i_ * g_, f, state["c"], i, g)
        h = ew(lambda o_, c_: o_ * MP.tanh(c_), o, c)
        y = mv(P["Wy"], h)[0]
        return {"h": h, "c": c}, (y - t) ** 2 / 2

    return shapes, cell, step, ("h", "c")


def gru(n):
    shapes = {"Wr": (n, 1), "Ur": (n, n), "Wz": (n, 1), "Uz": (n, n), "Wn": (n, 1), "Un": (n, n), "Wy": (1, n)}
    cell = {"r": "sigmoid(Wr @ x + Ur @ prev(h))", "z": "sigmoid(Wz @ x + Uz @ prev(h))",
            "n": "tanh(Wn @ x + r * (Un @ prev(h)))", "h": "(1 - z) * n + z * prev(h)", "y": "Wy @ h",
            "L": "(y - t)**2 / 2"}

    def step(P, x, t, state):
        hp = state["h"]
        r = ew(sig, ew(lambda a, b: a + b, mv(P["Wr"], [x]), mv(P["Ur"], hp)))
        z = ew(sig, ew(lambda a, b: a + b, mv(P["Wz"], [x]), mv(P["Uz"], hp)))
        nn = ew(lambda a, r_, b: MP.tanh(a + r_ * b), mv(P["Wn"], [x]), r, mv(P["Un"], hp))
        h = ew(lambda z_, n_, p_: (1 - z_) * n_ + z_ * p_, z, nn, hp)
        y = mv(P["Wy"], h)[0]
        return {"h": h}, (y - t) ** 2 / 2

    return shapes, cell, step, ("h",)


CELLS = {"rnn": rnn, "lstm": lstm, "gru": gru}


def _text(q: Fraction) -> str:
    return f'"{q.numerator}/{q.denominator}"' if q.denominator != 1 else str(q.numerator)


def _matrix(M) -> str:
    return "[" + ", ".join("[" + ", ".join(_text(x) for x in r) + "]" for r in M) + "]"


def _file(P, cell, states, n, xs, ts, truncate=None) -> str:
    lines = ['kind = "graph"', "[inputs]"] + [f"{k} = {_matrix(v)}" for k, v in P.items()]
    lines += ["[constants]"] + [f"{s}0 = [{', '.join(['0'] * n)}]" for s in states]
    lines += ["[sequence]", f"x = [{', '.join(map(_text, xs))}]", f"t = [{', '.join(map(_text, ts))}]", "[recurrence]"]
    lines += [f'{k} = "{v}"' for k, v in cell.items()]
    lines += ["[nodes]", 'J = "total(L)"', "[backward]", 'output = "J"']
    lines += [f"truncate = {truncate}"] if truncate else []
    return "\n".join(lines) + "\n"


def _reference_loss(step, P, xs, ts, states, n, held=None, truncate=None):
    """J = L1 + ... + LT; with ``held`` (the states entering each step in the
    unperturbed run) and ``truncate`` = k, the state entering steps k+1,
    2k+1, ... is the unperturbed one: a perturbation does not cross a block's
    start (truncated BPTT as detach every k steps).  Returns (J, the states
    entering each step)."""
    state = {s: [MP.mpf(0)] * n for s in states}
    total = MP.mpf(0)
    entering = []
    for k, (x, t) in enumerate(zip(xs, ts), 1):
        if held is not None and truncate and k > 1 and (k - 1) % truncate == 0:
            state = held[k - 1]
        entering.append(state)
        state, L = step(P, MP.mpf(x.numerator) / x.denominator, MP.mpf(t.numerator) / t.denominator, state)
        total += L
    return total, entering


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("n", [1, 2])
def test_random_cells_against_a_reference_that_unrolls_them(tmp_path, kind, n):
    rng = random.Random(f"{kind}-{n}")
    for trial in range(3):
        shapes, cell, step, states = CELLS[kind](n)
        P = {k: [[Fraction(rng.randint(-4, 4), 4) for _ in range(c)] for _ in range(r)] for k, (r, c) in shapes.items()}
        # the third trial truncates backpropagation through time
        truncate = rng.randint(1, 2) if trial == 2 else None
        T = rng.randint(3 if truncate else 1, 4)
        xs = [Fraction(rng.randint(-4, 4), 2) for _ in range(T)]
        ts = [Fraction(rng.randint(-2, 2), 2) for _ in range(T)]
        path = tmp_path / f"{kind}{n}{trial}.toml"
        path.write_text(_file(P, cell, states, n, xs, ts, truncate))
        trace = stepsolver.solve(stepsolver.load_problem(path)).trace
        s = trace.steps[0]
        Pm = {k: [[MP.mpf(x.numerator) / x.denominator for x in r] for r in v] for k, v in P.items()}
        J, entering = _reference_loss(step, Pm, xs, ts, states, n)
        assert abs(stepsolver.exact.to_mpf(s.values["J"][0, 0]) - J) < MP.mpf(10) ** -25
        assert {f"L{k}" for k in range(1, T + 1)} <= set(s.values) and f"L{T + 1}" not in s.values
        h = MP.mpf(10) ** -25
        for name, M in Pm.items():
            for i in range(len(M)):
                for j in range(len(M[0])):
                    up = {k: [r[:] for r in v] for k, v in Pm.items()}
                    dn = {k: [r[:] for r in v] for k, v in Pm.items()}
                    up[name][i][j] += h
                    dn[name][i][j] -= h
                    fd = (_reference_loss(step, up, xs, ts, states, n, entering, truncate)[0]
                          - _reference_loss(step, dn, xs, ts, states, n, entering, truncate)[0]) / (2 * h)
                    got = stepsolver.exact.to_mpf(s.grads[name][i, j])
                    assert abs(got - fd) < MP.mpf(10) ** -20 * max(1, abs(fd)), (kind, n, name, i, j, got, fd)


def test_the_unrolled_file_is_the_graph_written_by_hand(tmp_path):
    hand = tmp_path / "hand.toml"
    hand.write_text('kind = "graph"\n[inputs]\nWx = 0.5\nWh = 0.1\nWy = 2\n[constants]\nh0 = 0\nx1 = 1\nx2 = 2\n'
                    't1 = 1\nt2 = 2\n[nodes]\na1 = "Wx*x1 + Wh*h0"\nh1 = "tanh(a1)"\ny1 = "Wy*h1"\n'
                    'L1 = "(y1 - t1)**2 / 2"\na2 = "Wx*x2 + Wh*h1"\nh2 = "tanh(a2)"\ny2 = "Wy*h2"\n'
                    'L2 = "(y2 - t2)**2 / 2"\nJ = "L1 + L2"\n[update]\nlearning_rate = 0.1\n')

    def digest(path):
        data = json.loads(run_cli("solve", path, "-f", "json").stdout)
        nodes = {n["name"]: (n["value"], n["grad"]) for n in data["nodes"]}
        return nodes, data["update"]

    rolled, rolled_update = digest(ROOT / "problems" / "graph_rnn.toml")
    by_hand, hand_update = digest(hand)
    assert set(rolled) == set(by_hand) and rolled_update == hand_update
    for name in rolled:
        assert rolled[name] == by_hand[name], name
    # the published walkthrough's slip: tanh(1.04621) is 0.78033, not 0.7790
    assert round(rolled["h2"][0]["value"], 5) == 0.78033


@pytest.mark.parametrize("recurrence, nodes, extra, message", [
    ('a = "Wx*x + Wh*h"\nh = "tanh(a)"', 'J = "total(h)"', "", "'h' is used before it is defined in the step"),
    ('a = "Wx*x + Wh*prev(g)"\nh = "tanh(a)"', 'J = "total(h)"', "", "'g' is not a recurrence name"),
    ('a = "Wx*x + Wh*prev(h)"\nh = "tanh(a)"', 'J = "total(h)"', "no h0", "needs the initial state h0"),
    ('a = "Wx*x + Wh*prev(h)"\nh = "tanh(a)"', 'J = "h + 1"', "", "write last(h) for its last step"),
    ('a = "Wx*x + Wh*prev(h)"\nh = "tanh(a)"', 'J = "prev(h)"', "", "prev() belongs to the [recurrence]"),
    ('a = "Wx*x + Wh*prev(h)"\nh = "tanh(a)"', 'J = "total(h)"', "t = [1]", "sequences of unequal length"),
])
def test_a_bad_recurrence_is_one_line_naming_the_key(tmp_path, recurrence, nodes, extra, message):
    consts = "" if extra == "no h0" else "h0 = 0\n"
    seq = "x = [1, 2]\n" + (extra + "\n" if extra.startswith("t =") else "")
    path = tmp_path / "bad.toml"
    path.write_text(f'kind = "graph"\n[inputs]\nWx = 1\nWh = 1\n[constants]\n{consts}[sequence]\n{seq}'
                    f"[recurrence]\n{recurrence}\n[nodes]\n{nodes}\n")
    r = run_cli("solve", path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert "bad.toml" in r.stderr


def test_prev_outside_a_recurrence_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('kind = "graph"\n[inputs]\nx = 1\n[nodes]\ny = "prev(x) + 1"\n')
    r = run_cli("solve", path)
    assert r.returncode == 2 and "belong to a recurrence" in r.stderr and "nodes.y" in r.stderr


def test_a_slip_at_one_step_carries_into_every_later_step(tmp_path):
    # the walkthrough's tanh(1.04621) = 0.7790, then right working from it
    h2 = 0.7790
    y2 = 2 * h2
    L2 = (y2 - 2) ** 2 / 2
    sheet = tmp_path / "a.toml"
    sheet.write_text(f"[values]\na1 = 0.5\nh1 = 0.46212\ny1 = 0.92423\nL1 = 0.00287\na2 = 1.04621\n"
                     f"h2 = {h2:.4f}\ny2 = {y2:.4f}\nL2 = {L2:.5f}\nJ = {0.00287 + L2:.5f}\n")
    report = json.loads(run_cli("check", ROOT / "problems" / "graph_rnn.toml", sheet, "-f", "json").stdout)
    verdict = {it["node"]: it["verdict"] for it in report["items"]}
    assert verdict["h2"] == "wrong"
    assert verdict["y2"] == "carried" and verdict["L2"] == "carried" and verdict["J"] == "carried"
    assert all(verdict[k] == "correct" for k in ("a1", "h1", "y1", "L1", "a2"))


def test_generate_varies_weights_and_sequences_and_keeps_the_cell(tmp_path):
    out = tmp_path / "v"
    r = run_cli("generate", "--from", ROOT / "problems" / "graph_rnn.toml", "--count", "2", "--seed", "4", "--out", out)
    assert r.returncode == 0, r.stderr
    for p in sorted(out.glob("*.toml")):
        text = p.read_text()
        assert "[recurrence]" in text and 'a = "Wx*x + Wh*prev(h)"' in text and "[sequence]" in text
        assert "a1 =" not in text  # written as the cell, not unrolled
        data = json.loads(run_cli("solve", p, "-f", "json").stdout)
        assert [n["name"] for n in data["nodes"] if n["expr"]][:4] == ["a1", "h1", "y1", "L1"]


@pytest.mark.parametrize("entry, slip", [("h1", "next_step_left_out"), ("Wx", "last_step_only"),
                                         ("a2", "derivative_wrong_step")])
def test_check_names_the_slips_of_bptt(tmp_path, entry, slip):
    """h1-bar without the path through a2, and Wx-bar from step 2 alone, written to 6 decimals."""
    trace = stepsolver.solve(stepsolver.load_problem(ROOT / "problems" / "graph_rnn.toml")).trace
    s = trace.steps[0]
    to = stepsolver.exact.to_float
    if entry == "h1":
        value = to(s.grads["y1"][0, 0]) * 2  # y1 = Wy h1: only its own step
    elif entry == "Wx":
        value = to(s.grads["a2"][0, 0]) * 2  # a2 = Wx x2 + Wh h1 with x2 = 2: the last step only
    else:
        value = to(s.grads["h2"][0, 0]) * (1 - to(s.values["h1"][0, 0]) ** 2)  # tanh' at h1, not h2
    sheet = tmp_path / "a.toml"
    sheet.write_text(f"[grads]\n{entry} = {value:.6f}\n")
    report = json.loads(run_cli("check", ROOT / "problems" / "graph_rnn.toml", sheet, "-f", "json").stdout)
    (item,) = report["items"]
    assert item["verdict"] == "wrong" and item["hint"]["code"] == slip, item


@pytest.mark.parametrize("extra, key, message", [
    ("truncate = 0", "backward.truncate", "1 or more"),
    ('truncate = "2"', "backward.truncate", "whole number of steps"),
    ("truncate = 1.5", "backward.truncate", "whole number of steps"),
])
def test_a_bad_truncation_is_refused_naming_the_key(tmp_path, extra, key, message):
    from stepsolver.errors import InputError

    text = (ROOT / "problems" / "graph_rnn.toml").read_text().replace('output = "J"', f'output = "J"\n{extra}')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        stepsolver.load_problem(path)
    assert message in str(info.value) and key in str(info.value)


def test_truncation_belongs_to_a_recurrence(tmp_path):
    from stepsolver.errors import InputError

    path = tmp_path / "bad.toml"
    path.write_text('kind = "graph"\n[inputs]\nx = 1\n[nodes]\ny = "x * x"\n[backward]\ntruncate = 2\n')
    with pytest.raises(InputError) as info:
        stepsolver.load_problem(path)
    assert "belongs to a recurrence" in str(info.value) and "backward.truncate" in str(info.value)


def test_truncated_bptt_holds_the_state_carried_into_each_block(tmp_path):
    """Four steps in blocks of 2: h2-bar has no term through a3, h1-bar and h3-bar keep the
    path through the step after, and the conventions name the edge not followed."""
    text = (ROOT / "problems" / "graph_rnn.toml").read_text()
    text = text.replace("x = [1, 2]", "x = [1, 2, -1, 0.5]").replace("t = [1, 2]", "t = [1, 2, 0, 1]")
    path = tmp_path / "t.toml"
    path.write_text(text.replace('output = "J"', 'output = "J"\ntruncate = 2'))
    full_path = tmp_path / "f.toml"
    full_path.write_text(text)
    cut = stepsolver.solve(stepsolver.load_problem(path))
    full = stepsolver.solve(stepsolver.load_problem(full_path))
    c, f = cut.trace.steps[0], full.trace.steps[0]
    assert ("a3", "h2") not in c.contrib and ("a3", "h2") in f.contrib and ("a2", "h1") in c.contrib
    assert c.grads["h2"] == c.contrib[("y2", "h2")]
    assert c.grads["h3"] == f.grads["h3"] and c.grads["h4"] == f.grads["h4"]  # the last block is whole
    assert c.values == f.values
    text_out = cut.render("text")
    assert "k = 2" in text_out and "h2 → a3" in text_out


def test_a_fault_in_the_cell_names_the_cell_and_the_step(tmp_path):
    """A shape that does not chain at one step is the cell's fault, not an unrolled node's."""
    from stepsolver.errors import InputError

    path = tmp_path / "bad.toml"
    path.write_text('kind = "graph"\n[inputs]\nWx = [[1, 2], [3, 4]]\nWh = 0.1\n[constants]\nh0 = 0\n'
                    '[sequence]\nx = [[1, 2, 3], [1, 2, 3]]\n[recurrence]\na = "Wx @ x + Wh*prev(h)"\n'
                    'h = "tanh(a)"\n[nodes]\nJ = "total(h)"\n')
    with pytest.raises(InputError) as info:
        stepsolver.load_problem(path)
    assert "recurrence.a (step 1)" in str(info.value) and "nodes.a1" not in str(info.value)
    path.write_text((ROOT / "problems" / "graph_rnn.toml").read_text().replace("x = [1, 2]", 'x = [1, "q"]'))
    with pytest.raises(InputError) as info:
        stepsolver.load_problem(path)
    assert "sequence.x[2]" in str(info.value)
