"""The JSON output is a contract: its shape, and exact strings SymPy reads."""

import json

import pytest
import sympy

from conftest import NET_PROBLEMS as PROBLEMS, ROOT, run_cli

LAYER_KEYS = {"layer", "activation", "W", "b", "z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new"}


def check_matrix(M, rows, cols):
    assert set(M) == {"exact", "value"}
    assert len(M["exact"]) == rows and len(M["value"]) == rows
    for er, vr in zip(M["exact"], M["value"]):
        assert len(er) == cols and len(vr) == cols
        for e, v in zip(er, vr):
            assert e is None or isinstance(e, str)
            assert v is None or isinstance(v, float)
            if e is not None and v is not None:
                # the exact text is something SymPy reads, and it is the value
                parsed = sympy.sympify(e, rational=True)
                assert float(parsed.evalf(30)) == pytest.approx(v, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_json_shape_for_every_example(path):
    r = run_cli("solve", path, "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert isinstance(d["title"], str)
    assert d["steps"]
    for s in d["steps"]:
        assert {"examples", "loss", "input", "layers"} <= set(s)
        assert all(isinstance(k, int) and k >= 1 for k in s["examples"])
        m = len(s["examples"])
        assert set(s["loss"]) == {"exact", "value"}
        n_prev = len(s["input"]["exact"])
        check_matrix(s["input"], n_prev, m)
        for i, lt in enumerate(s["layers"], 1):
            assert LAYER_KEYS <= set(lt)
            assert lt["layer"] == i
            n = len(lt["W"]["exact"])
            check_matrix(lt["W"], n, n_prev)
            check_matrix(lt["W_new"], n, n_prev)
            check_matrix(lt["grad_W"], n, n_prev)
            for key in ("b", "grad_b", "b_new"):
                check_matrix(lt[key], n, 1)
            for key in ("z", "a", "delta"):
                check_matrix(lt[key], n, m)
            n_prev = n


def test_rational_values_are_always_exact():
    r = run_cli("solve", ROOT / "problems" / "linear_2_3_2.toml", "--format", "json")
    d = json.loads(r.stdout)
    s = d["steps"][0]
    assert s["loss"] == {"exact": "109", "value": 109.0}
    l2 = s["layers"][1]
    assert l2["W_new"]["exact"] == [["1", "24/25", "-313/100"], ["2", "-11/25", "307/100"]]
    assert l2["W_new"]["value"][1][1] == -0.44
    assert l2["b_new"]["exact"] == [["187/100"], ["107/100"]]
    assert l2["activation"] == "identity"


def test_closed_forms_of_first_layer_sigmoids():
    r = run_cli("solve", ROOT / "problems" / "sigmoid_2_2_2.toml", "--format", "json")
    d = json.loads(r.stdout)
    a1 = d["steps"][0]["layers"][0]["a"]["exact"]
    assert a1 == [["1/(1 + exp(-151/400))"], ["1/(1 + exp(-157/400))"]]
    # deeper values would be nested exponentials: no closed form is given
    assert d["steps"][0]["layers"][1]["a"]["exact"] == [[None], [None]]


def test_several_files_give_a_list():
    files = [ROOT / "problems" / "linear_2_3_2.toml", ROOT / "problems" / "relu_kink.toml"]
    r = run_cli("solve", *files, "--format", "json")
    d = json.loads(r.stdout)
    assert isinstance(d, list) and len(d) == 2
    assert d[0]["title"] == "Two-layer linear network"


def test_online_updates_give_one_step_per_example_per_pass():
    r = run_cli("solve", ROOT / "problems" / "online_bce.toml", "--format", "json")
    d = json.loads(r.stdout)
    assert [s["examples"] for s in d["steps"]] == [[1], [2], [1], [2]]
    # each step starts from the weights the step before left
    for before, after in zip(d["steps"], d["steps"][1:]):
        assert after["layers"][0]["W"] == before["layers"][0]["W_new"]
