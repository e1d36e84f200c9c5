"""Convolution and pooling in computation graphs: seven exercises against an
independent reference (im2col matrices in exact Fractions, reverse mode
written out per exercise, apart from stepsolver's window loops), through the
graph kind's JSON contract; the conventions (ties, overlaps, the flipped
kernel); shapes that do not fit; check's slips; class sets."""

from __future__ import annotations

import json
import math
from fractions import Fraction as F

import pytest

from conftest import ROOT, run_cli


# ------------------------------------------------------------ the reference
def fr(rows):
    return [[F(x) for x in r] for r in rows]


def pad(X, p):
    n, m = len(X), len(X[0])
    return [[X[i - p][j - p] if p <= i < n + p and p <= j < m + p else F(0) for j in range(m + 2 * p)]
            for i in range(n + 2 * p)]


def im2col(Xp, f, g, s):
    """One row per output position (row-major), one column per kernel entry."""
    n, m = len(Xp), len(Xp[0])
    oh, ow = (n - f) // s + 1, (m - g) // s + 1
    rows = [[Xp[s * i + a][s * j + b] for a in range(f) for b in range(g)] for i in range(oh) for j in range(ow)]
    return rows, (oh, ow)


def conv(X, K, s=1, p=0, flip=False):
    if flip:
        K = [list(reversed(r)) for r in reversed(K)]
    f, g = len(K), len(K[0])
    cols, (oh, ow) = im2col(pad(X, p), f, g, s)
    k = [x for r in K for x in r]
    flat = [sum(c * w for c, w in zip(row, k)) for row in cols]
    return [flat[i * ow:(i + 1) * ow] for i in range(oh)]


def conv_back(X, K, G, s=1, p=0, flip=False):
    """(dX, dK) by im2col: dK = cols^T g, dcols = g k^T folded back (col2im)."""
    Kf = [list(reversed(r)) for r in reversed(K)] if flip else K
    f, g = len(Kf), len(Kf[0])
    Xp = pad(X, p)
    cols, (oh, ow) = im2col(Xp, f, g, s)
    gflat = [x for r in G for x in r]
    dk = [sum(cols[r][c] * gflat[r] for r in range(len(cols))) for c in range(f * g)]
    dK = [dk[a * g:(a + 1) * g] for a in range(f)]
    if flip:
        dK = [list(reversed(r)) for r in reversed(dK)]
    dXp = [[F(0)] * len(Xp[0]) for _ in Xp]
    k = [x for r in Kf for x in r]
    for pos, gv in enumerate(gflat):
        i, j = divmod(pos, ow)
        for c, w in enumerate(k):
            a, b = divmod(c, g)
            dXp[s * i + a][s * j + b] += gv * w
    n, m = len(X), len(X[0])
    dX = [row[p:p + m] for row in dXp[p:p + n]]
    return dX, dK


def pool(X, size, s, kind):
    cols, (oh, ow) = im2col(X, size, size, s)
    flat = [max(c) if kind == "max" else sum(c) / (size * size) for c in cols]
    return [flat[i * ow:(i + 1) * ow] for i in range(oh)]


def pool_back(X, G, size, s, kind):
    cols, (oh, ow) = im2col(X, size, size, s)
    dX = [[F(0)] * len(X[0]) for _ in X]
    for pos, c in enumerate(cols):
        i, j = divmod(pos, ow)
        gv = G[i][j]
        if kind == "max":
            k = c.index(max(c))  # the first maximum, row-major in the window
            a, b = divmod(k, size)
            dX[s * i + a][s * j + b] += gv
        else:
            for k in range(size * size):
                a, b = divmod(k, size)
                dX[s * i + a][s * j + b] += gv / (size * size)
    return dX


def ew(A, B, f):
    return [[f(a, b) for a, b in zip(ra, rb)] for ra, rb in zip(A, B)]


def total(A):
    return sum(x for r in A for x in r)


# ------------------------------------------------------------ stepsolver's answers
def solve(path_or_text, tmp_path=None):
    if tmp_path is not None:
        p = tmp_path / "g.toml"
        p.write_text(path_or_text)
        path_or_text = p
    r = run_cli("solve", path_or_text, "-f", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    nodes = {n["name"]: n for n in d["nodes"]}
    return d, nodes


def exact(v):
    e = v["exact"]
    if isinstance(e, list):
        return [[F(x) for x in r] for r in e]
    return F(e)


def test_the_d2l_example_gives_its_published_values():
    _, n = solve(ROOT / "problems" / "graph_conv_d2l.toml")
    assert exact(n["Y"]["value"]) == fr([[19, 25], [37, 43]])
    X, K = fr([[0, 1, 2], [3, 4, 5], [6, 7, 8]]), fr([[0, 1], [2, 3]])
    _, dK = conv_back(X, K, fr([[1, 1], [1, 1]]))
    assert exact(n["K"]["grad"]) == dK == fr([[8, 12], [20, 24]])


def test_the_exam_exercise_conv_relu_maxpool_squared_error():
    d, n = solve(ROOT / "problems" / "graph_conv_relu_maxpool.toml")
    X, K, T = fr([[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 2], [1, 0, 1, 1]]), fr([[1, 0], [-1, 2]]), fr([[1, 2], [0, 1]])
    Z = conv(X, K)
    A = [[max(z, F(0)) for z in r] for r in Z]
    P = pool(A, 2, 1, "max")
    L = total(ew(P, T, lambda a, b: (a - b) ** 2)) / 2
    assert exact(n["Z"]["value"]) == Z and exact(n["A"]["value"]) == A and exact(n["P"]["value"]) == P
    assert exact(n["L"]["value"]) == L
    dP = ew(P, T, lambda a, b: a - b)
    dA = pool_back(A, dP, 2, 1, "max")
    dZ = ew(dA, Z, lambda g, z: g if z > 0 else F(0))
    _, dK = conv_back(X, K, dZ)
    assert exact(n["P"]["grad"]) == dP and exact(n["A"]["grad"]) == dA and exact(n["Z"]["grad"]) == dZ
    assert exact(n["K"]["grad"]) == dK and exact(n["b"]["grad"]) == total(dZ)
    eta = F(1, 10)
    assert exact(d["update"]["new"]["K"]) == ew(K, dK, lambda k, g: k - eta * g)
    assert exact(d["update"]["new"]["b"]) == 0 - eta * total(dZ)


def test_a_padded_strided_convolution():
    d, n = solve(ROOT / "problems" / "graph_conv_padded_strided.toml")
    X = fr([[1, 0, 2, 1, 0], [0, 1, 1, 2, 1], [2, 1, 0, 1, 1], [1, 0, 1, 0, 2], [0, 2, 1, 1, 0]])
    K = fr([[1, -1, 0], [2, 0, 1], [0, 1, -2]])
    Y = conv(X, K, s=2, p=1)
    assert exact(n["Y"]["value"]) == Y and len(Y) == 3 == len(Y[0])
    dX, dK = conv_back(X, K, Y, s=2, p=1)  # L = sum(Y*Y)/2: Y-bar = Y
    assert exact(n["X"]["grad"]) == dX and exact(n["K"]["grad"]) == dK
    assert exact(d["update"]["new"]["K"]) == ew(K, dK, lambda k, g: k - F(1, 100) * g)
    assert "X" not in d["update"]["new"]


FLIP = """kind = "graph"
title = "A flipped kernel with average pooling and an update"
[inputs]
X = [[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 2], [1, 0, 1, 1]]
K = [[1, 2], [0, -1]]
[nodes]
Y = "convolve2d(X, K, pad=1)"
P = "avgpool(Y, 2, stride=1)"
L = "sum(P * P) / 8"
[update]
learning_rate = 0.05
"""


def test_a_flipped_kernel_with_average_pooling_and_an_update(tmp_path):
    d, n = solve(FLIP, tmp_path)
    X, K = fr([[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 2], [1, 0, 1, 1]]), fr([[1, 2], [0, -1]])
    Y = conv(X, K, p=1, flip=True)
    P = pool(Y, 2, 1, "avg")
    assert exact(n["Y"]["value"]) == Y and exact(n["P"]["value"]) == P
    dP = [[x / 4 for x in r] for r in P]
    dY = pool_back(Y, dP, 2, 1, "avg")
    dX, dK = conv_back(X, K, dY, p=1, flip=True)
    assert exact(n["Y"]["grad"]) == dY and exact(n["X"]["grad"]) == dX and exact(n["K"]["grad"]) == dK
    assert exact(d["update"]["new"]["X"]) == ew(X, dX, lambda x, g: x - F(1, 20) * g)
    text = " ".join(run_cli("solve", tmp_path / "g.toml", "-f", "text").stdout.split())
    assert "180 degrees" in text and "divided by the number of entries" in text


TIES = """kind = "graph"
title = "Ties in max pooling"
[inputs]
A = [[1, 3, 3, 0], [3, 2, 1, 3], [0, 1, 2, 2], [1, 1, 2, 2]]
[nodes]
P = "maxpool(A, 2)"
L = "sum(P * [[1, 2], [3, 4]])"
"""


def test_ties_in_max_pooling_send_the_gradient_to_the_first_maximum(tmp_path):
    text = TIES.replace('L = "sum(P * [[1, 2], [3, 4]])"', 'L = "sum(P * W)"').replace(
        "[nodes]", "[constants]\nW = [[1, 2], [3, 4]]\n[nodes]")
    d, n = solve(text, tmp_path)
    A = fr([[1, 3, 3, 0], [3, 2, 1, 3], [0, 1, 2, 2], [1, 1, 2, 2]])
    assert exact(n["P"]["value"]) == pool(A, 2, 2, "max") == fr([[3, 3], [1, 2]])
    dA = pool_back(A, fr([[1, 2], [3, 4]]), 2, 2, "max")
    assert exact(n["A"]["grad"]) == dA
    assert dA[0][1] == 1 and dA[1][0] == 0 and dA[0][2] == 2 and dA[1][3] == 0 and dA[2][2] == 4
    out = " ".join(run_cli("solve", tmp_path / "g.toml", "-f", "text").stdout.split())
    assert "first maximum in row-major order" in out and "At node P, maxpool" in out


SIGMOID = """kind = "graph"
title = "A sigmoid unit on a convolution"
[inputs]
K = [[0.5, -1], [0.25, 0.5]]
b = -0.5
[constants]
X = [[1, 0, 2], [0, 1, 1], [1, 2, 0]]
t = 1
[nodes]
C = "conv2d(X, K)"
z = "sum(C) + b"
y = "sigmoid(z)"
L = "(y - t)**2 / 2"
[update]
learning_rate = 0.5
"""


def test_a_sigmoid_unit_on_a_convolution(tmp_path):
    d, n = solve(SIGMOID, tmp_path)
    X, K = fr([[1, 0, 2], [0, 1, 1], [1, 2, 0]]), fr([["1/2", -1], ["1/4", "1/2"]])
    C = conv(X, K)
    z = total(C) - F(1, 2)
    assert exact(n["C"]["value"]) == C and exact(n["z"]["value"]) == z
    y = 1 / (1 + math.exp(-float(z)))
    dz = (y - 1) * y * (1 - y)
    _, dK = conv_back(X, K, [[F(1)] * 2] * 2)
    assert n["y"]["value"]["value"] == pytest.approx(y, rel=1e-14)
    for r, rr in zip(n["K"]["grad"]["value"], dK):
        for a, b in zip(r, rr):
            assert a == pytest.approx(dz * float(b), rel=1e-12)
    for r, kk, gg in zip(d["update"]["new"]["K"]["value"], K, dK):
        for a, k, g in zip(r, kk, gg):
            assert a == pytest.approx(float(k) - 0.5 * dz * float(g), rel=1e-12)


def test_elementwise_broadcasting_and_the_matrix_product(tmp_path):
    text = """kind = "graph"
[inputs]
V = [[1, -2], [0, 3]]
[constants]
P = [[2, 1], [1, 2]]
T = [[1, 0], [0, 1]]
[nodes]
A = "V * P + 1"
B = "A @ P"
L = "sum((B - T)**2)"
""".replace("T = [[1, 0], [0, 1]]", "Tg = [[1, 0], [0, 1]]").replace("(B - T)", "(B - Tg)")
    _, n = solve(text, tmp_path)
    V, P, T = fr([[1, -2], [0, 3]]), fr([[2, 1], [1, 2]]), fr([[1, 0], [0, 1]])
    A = ew(V, P, lambda v, p: v * p + 1)
    B = [[sum(A[i][k] * P[k][j] for k in range(2)) for j in range(2)] for i in range(2)]
    dB = ew(B, T, lambda b, t: 2 * (b - t))
    dA = [[sum(dB[i][k] * P[j][k] for k in range(2)) for j in range(2)] for i in range(2)]
    assert exact(n["B"]["value"]) == B and exact(n["V"]["grad"]) == ew(dA, P, lambda g, p: g * p)


# ------------------------------------------------------------ shapes and settings
@pytest.mark.parametrize("expr, words", [
    ("conv2d(K, X)", "does not fit in the 2x2 input"),
    ("conv2d(X, K, stride=0)", "from 1 to 16"),
    ("conv2d(X, K, step=1)", "no setting 'step'"),
    ("maxpool(X)", "needs a window size"),
    ("conv2d(X, K, stride=1.5)", "whole number"),
])
def test_a_shape_or_setting_that_does_not_fit_is_one_line_naming_the_node(tmp_path, expr, words):
    p = tmp_path / "bad.toml"
    p.write_text(f'kind = "graph"\n[inputs]\nK = [[1, 0], [0, 1]]\n[constants]\nX = [[1, 2, 0], [0, 1, 3], [2, 1, 0]]\n'
                 f'[nodes]\nY = "{expr}"\nL = "sum(Y)"\n')
    r = run_cli("solve", p)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "nodes.Y" in r.stderr and words in r.stderr


@pytest.mark.parametrize("expr, value", [("conv2d(X, K, stride=2)", "2"), ("maxpool(X, 2)", "2"),
                                         ("avgpool(X, 2, stride=2)", "1")])
def test_windows_that_do_not_tile_are_floored_as_pytorch_does(tmp_path, expr, value):
    """floor((3 - 2)/2) + 1 = 1: one window, the last row and column of the 3x3 input not covered."""
    p = tmp_path / "t.toml"
    p.write_text(f'kind = "graph"\n[inputs]\nK = [[1, 0], [0, 1]]\nX = [[1, 2, 0], [0, 1, 3], [2, 1, 0]]\n'
                 f'[nodes]\nY = "{expr}"\nL = "sum(Y)"\n')
    data = json.loads(run_cli("solve", p, "-f", "json").stdout)
    n = {x["name"]: x for x in data["nodes"]}
    assert n["Y"]["value"]["exact"] == value
    assert n["X"]["grad"]["exact"][2] == ["0", "0", "0"] and [r[2] for r in n["X"]["grad"]["exact"]] == ["0"] * 3
    text = " ".join(run_cli("solve", p, "-f", "text").stdout.split())
    assert "the last 1 row(s) and 1 column(s) of X" in text


# ------------------------------------------------------------ the derivation
def test_the_derivation_writes_windows_masks_and_each_sum():
    md = run_cli("solve", ROOT / "problems" / "graph_conv_relu_maxpool.toml", "-f", "md", "--detail", "element").stdout
    assert "X \\star K + b" in md and "M_{A} =" in md
    assert "\\operatorname{unpool}^{\\max}" in md
    # Z_11 written as its window sum, and K-bar_11 as its sum over the windows
    assert "Z_{11} = 1 \\cdot 1 + 0 \\cdot 2 + \\left(-1\\right) \\cdot 0 + 2 \\cdot 1" in md
    assert "{\\bar{K}}_{11} &= 0 \\cdot 1 + 11 \\cdot 2" in md
    txt = run_cli("solve", ROOT / "problems" / "graph_conv_padded_strided.toml", "-f", "text").stdout
    assert "= pad₁(X) ⋆ dil₂(Y\u0304)" in txt and "= crop₁(dil₂(Y\u0304) ∗_(full) K)" in txt
    assert "overlap" in txt.lower()


# ------------------------------------------------------------ check and generate
def test_check_names_the_classic_convolution_slips(tmp_path):
    a = tmp_path / "a.toml"
    a.write_text("[values]\nY = [[5, 11], [23, 29]]\n")  # the kernel turned by 180 degrees
    d = json.loads(run_cli("check", ROOT / "problems" / "graph_conv_d2l.toml", a, "-f", "json").stdout)
    assert {it["hint"]["code"] for it in d["items"] if it["verdict"] == "wrong"} == {"kernel_flipped"}
    a.write_text("[grads]\nP = [[6, 5], [3, 6]]\nA = [[6, 11, 5], [9, 20, 11], [3, 9, 6]]\n")
    d = json.loads(run_cli("check", ROOT / "problems" / "graph_conv_relu_maxpool.toml", a, "-f", "json").stdout)
    codes = {it["hint"]["code"] for it in d["items"] if it["verdict"] == "wrong" and it.get("hint")}
    assert codes == {"pool_everywhere"}


def test_class_sets_of_convolution_exercises(tmp_path):
    out = tmp_path / "set"
    r = run_cli("generate", "--from", ROOT / "problems" / "graph_conv_relu_maxpool.toml", "--count", "8", "--seed", "3",
                "--out", out, timeout=300)
    assert r.returncode == 0, r.stderr
    files = sorted(out.glob("*.toml"))
    assert len(files) == 8
    for f in files:
        assert 'P = "maxpool(A, 2, stride=1)"' in f.read_text()
        d = json.loads(run_cli("solve", f, "-f", "json").stdout)
        nodes = {n["name"]: n for n in d["nodes"]}
        assert all(float(x).is_integer() for r in nodes["K"]["value"]["value"] for x in r)
