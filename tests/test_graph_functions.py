"""Graph nodes apply every activation a network accepts, and a file's own
functions of one variable, from the one function library
(stepsolver/functions/activations.py)."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest

import stepsolver
from conftest import run_cli
from stepsolver.exact import to_mpf
from stepsolver.functions import activations

MP = mpmath.MPContext()
MP.dps = 50

GRAPH = """kind = "graph"
title = "Activations in a graph"
leaky_slope = 0.1
[inputs]
w = 0.5
b = -1
[constants]
x = 2
t = 1
[functions]
g = "x**3/3 - x"
[nodes]
z = "w * x + b"
s = "softplus(z)"
l = "leaky_relu(z - 1)"
q = "square(s)"
u = "g(s)"
y = "identity(q + l + u)"
L = "(y - t)**2 / 2"
[update]
learning_rate = 0.1
"""


def solve(text):
    return stepsolver.solve(stepsolver.loads_problem(text, "g.toml"))


def value(trace, name, what="values"):
    return to_mpf(getattr(trace.steps[0], what)[name][0, 0])


def test_softplus_leaky_relu_square_identity_and_an_own_function_against_a_reference():
    tr = solve(GRAPH).trace
    # the reference, by hand in 50 digits: z = 0.5*2 - 1 = 0
    z = MP.mpf(0)
    s = MP.log(1 + MP.exp(z))
    ll = MP.mpf("0.1") * (z - 1)  # leaky_relu below 0, slope 0.1
    q = s * s
    u = s ** 3 / 3 - s
    y = q + ll + u
    L = (y - 1) ** 2 / 2
    for name, ref in dict(z=z, s=s, l=ll, q=q, u=u, y=y, L=L).items():
        assert abs(value(tr, name) - ref) < MP.mpf(10) ** -30, name
    yb = y - 1
    sb = yb * (2 * s) + yb * (s * s - 1)
    zb = sb * (1 / (1 + MP.exp(-z))) + yb * MP.mpf("0.1")
    for name, ref in dict(y=yb, s=sb, z=zb, w=zb * 2, b=zb).items():
        assert abs(value(tr, name, "grads") - ref) < MP.mpf(10) ** -30, name
    assert abs(value(tr, "w", "new") - (MP.mpf("0.5") - MP.mpf("0.1") * zb * 2)) < MP.mpf(10) ** -30


@pytest.mark.parametrize("name", [n for n in activations.ELEMENTWISE] + ["x**3/3 - x"])
def test_a_graph_node_gives_what_a_network_unit_gives(name):
    """One unit a = g(w x + b) with the half squared error, as a network and as
    a graph: the same exact value, derivative and gradients, for every
    elementwise activation and a custom one."""
    net = stepsolver.solve(stepsolver.loads_problem(
        f'learning_rate = 0.1\nloss = "half_sse"\n[[layers]]\nweights = [[0.7]]\nbias = [-0.2]\n'
        f'activation = "{name}"\n[[examples]]\nx = [1.5]\nt = [0.25]\n', "net.toml")).trace
    fn = "g" if "x" in name else name
    extra = f'[functions]\ng = "{name}"\n' if "x" in name else ""
    graph = solve(f'kind = "graph"\n[inputs]\nw = 0.7\nb = -0.2\n[constants]\nx = 1.5\nt = 0.25\n{extra}'
                  f'[nodes]\nz = "w * x + b"\na = "{fn}(z)"\nL = "(a - t)**2 / 2"\n').trace
    lt = net.steps[0].layers[0]
    st = graph.steps[0]
    assert st.values["a"][0, 0] == lt.a[0, 0] or abs(to_mpf(st.values["a"][0, 0]) - to_mpf(lt.a[0, 0])) < 1e-40
    assert abs(to_mpf(st.grads["z"][0, 0]) - to_mpf(lt.delta[0, 0])) < 1e-40
    assert abs(to_mpf(st.grads["w"][0, 0]) - to_mpf(lt.grad_W[0, 0])) < 1e-40


def test_every_format_renders_and_states_the_functions():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "g.toml"
        path.write_text(GRAPH)
        for fmt in ("md", "latex", "html", "json", "csv", "moodle", "text"):
            r = run_cli("solve", path, "-f", fmt)
            assert r.returncode == 0, (fmt, r.stderr)
        md = run_cli("solve", path).stdout
        assert r"\operatorname{softplus}\left(z\right)" in md and r"\operatorname{leaky\_relu}" in md
        assert "g(x) = \\frac{x^{3}}{3} - x" in md and "g'(x) = x^{2} - 1" in md
        text = run_cli("solve", path, "-f", "text").stdout
        assert "leaky_relu′(0) = 0.1" in text and "g(x) = x³/3 − x" in text
        ko = run_cli("solve", path, "-f", "text", "--lang", "ko").stdout
        assert "이 파일에서 정의한 함수" in ko
        # check on the student's own values, and a class set that keeps the functions
        sheet = Path(d) / "a.toml"
        sheet.write_text("[values]\ns = 0.6931\nu = -0.5821\n[grads]\ns = -1.0416\nz = -0.6409\n")
        r = run_cli("check", path, sheet, "-f", "json")
        assert r.returncode == 0, r.stdout
        out = Path(d) / "v"
        assert run_cli("generate", "--from", path, "--vary", "w,b", "--count", "3", "--seed", "2", "--out", out).returncode == 0
        for f in sorted(out.glob("*.toml")):
            assert '[functions]\ng = "x**3/3 - x"' in f.read_text() and "leaky_slope = 0.1" in f.read_text()
            assert run_cli("solve", f, "-f", "json").returncode == 0


@pytest.mark.parametrize("extra, nodes, message", [
    ("", 'y = "softmaxx(x)"', "unknown function 'softmaxx'"),
    ('[functions]\nexp = "x"\n', 'y = "exp(x)"', "'exp' is a built-in function"),
    ('[functions]\ng = "exp(y)"\n', 'y = "g(x)"', "functions.g"),
    ("", 'y = "softplus(x, x)"', "softplus takes 1 argument"),
])
def test_bad_functions_are_refused_naming_the_key(tmp_path, extra, nodes, message):
    path = tmp_path / "bad.toml"
    path.write_text(f'kind = "graph"\n[inputs]\nx = 1\n{extra}[nodes]\n{nodes}\n')
    r = run_cli("solve", path)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
