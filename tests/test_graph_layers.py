"""The layers' functions of graph expressions (softmax over an axis, mean and
variance, batch and layer norm, dropout, embedding, concat, broadcasting)
against an independent reference: each function written again here from its
definition in mpmath at 60 digits, and every gradient taken by a central
difference of that reference (no backward rule is shared with the engine).
Then published examples with their printed numbers, and the slips `check`
names."""

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


# ------------------------------------------------------------------ the reference
def rows(M):
    return [list(r) for r in M]


def cols(M):
    return [list(c) for c in zip(*M)]


def from_cols(C):
    return [list(r) for r in zip(*C)]


def r_softmax(v):
    m = max(v)
    e = [MP.exp(x - m) for x in v]
    s = sum(e)
    return [x / s for x in e]


def r_log_softmax(v):
    m = max(v)
    lse = m + MP.log(sum(MP.exp(x - m) for x in v))
    return [x - lse for x in v]


def r_norm(v, eps):
    mu = sum(v) / len(v)
    var = sum((x - mu) ** 2 for x in v) / len(v)
    return [(x - mu) / MP.sqrt(var + eps) for x in v]


def along(M, axis, f):
    """f applied to each column (axis 0) or row (axis 1), the result in M's shape."""
    return from_cols([f(c) for c in cols(M)]) if axis == 0 else [f(r) for r in rows(M)]


def reduce_(M, axis, f):
    if axis is None:
        return [[f([x for r in M for x in r])]]
    return [[f(c) for c in cols(M)]] if axis == 0 else [[f(r)] for r in rows(M)]


def mean(v):
    return sum(v) / len(v)


def var(v):
    mu = mean(v)
    return sum((x - mu) ** 2 for x in v) / len(v)


def bcast(A, B, f):
    n, m = max(len(A), len(B)), max(len(A[0]), len(B[0]))
    return [[f(A[i if len(A) > 1 else 0][j if len(A[0]) > 1 else 0], B[i if len(B) > 1 else 0][j if len(B[0]) > 1 else 0])
             for j in range(m)] for i in range(n)]


# each case: (expression, the reference's forward of (env) -> matrix, the input shapes)
CASES = {
    "softmax rows": ("softmax(A, axis=1)", lambda e: along(e["A"], 1, r_softmax), {"A": (2, 3)}),
    "softmax cols": ("softmax(A, axis=0)", lambda e: along(e["A"], 0, r_softmax), {"A": (3, 2)}),
    "softmax vector": ("softmax(v)", lambda e: along(e["v"], 0, r_softmax), {"v": (3, 1)}),
    "log_softmax rows": ("log_softmax(A, axis=1)", lambda e: along(e["A"], 1, r_log_softmax), {"A": (2, 3)}),
    "mean axis 0": ("mean(A, axis=0)", lambda e: reduce_(e["A"], 0, mean), {"A": (3, 2)}),
    "mean all": ("mean(A)", lambda e: reduce_(e["A"], None, mean), {"A": (2, 3)}),
    "var axis 1": ("var(A, axis=1)", lambda e: reduce_(e["A"], 1, var), {"A": (2, 4)}),
    "var all": ("var(A)", lambda e: reduce_(e["A"], None, var), {"A": (3, 2)}),
    "sum axis 0": ("sum(A, axis=0)", lambda e: reduce_(e["A"], 0, sum), {"A": (3, 2)}),
    "batchnorm": ("batchnorm(A, g, b, eps=1/1000)",
                  lambda e: bcast(bcast(along(e["A"], 0, lambda c: r_norm(c, MP.mpf(1) / 1000)), e["g"],
                                        lambda x, y: x * y), e["b"], lambda x, y: x + y),
                  {"A": (3, 2), "g": (1, 2), "b": (1, 2)}),
    "layernorm": ("layernorm(A, g, b)",
                  lambda e: bcast(bcast(along(e["A"], 1, lambda r: r_norm(r, MP.mpf(1) / 100000)), e["g"],
                                        lambda x, y: x * y), e["b"], lambda x, y: x + y),
                  {"A": (2, 3), "g": (1, 3), "b": (1, 3)}),
    "dropout": ("dropout(A, M, p=0.25)", lambda e: bcast(e["A"], e["M"], lambda x, k: x * k / (1 - MP.mpf(1) / 4)),
                {"A": (2, 3), "M": "mask"}),
    "embedding": ("embedding(W, [2, 0, 2])", lambda e: [e["W"][2], e["W"][0], e["W"][2]], {"W": (3, 2)}),
    "concat rows": ("concat(A, B)", lambda e: e["A"] + e["B"], {"A": (1, 2), "B": (2, 2)}),
    "concat cols": ("concat(A, B, axis=1)", lambda e: [ra + rb for ra, rb in zip(e["A"], e["B"])], {"A": (2, 1), "B": (2, 2)}),
    "broadcast row": ("A * r + c", lambda e: bcast(bcast(e["A"], e["r"], lambda x, y: x * y), e["c"], lambda x, y: x + y),
                      {"A": (2, 3), "r": (1, 3), "c": (2, 1)}),
    "attention": ("softmax(A @ T(B) / sqrt(2), axis=1) @ B",
                  lambda e: _matmul(along(_scale(_matmul(e["A"], _t(e["B"])), 1 / MP.sqrt(2)), 1, r_softmax), e["B"]),
                  {"A": (2, 2), "B": (3, 2)}),
}


def _matmul(A, B):
    return [[sum(a * b for a, b in zip(r, c)) for c in zip(*B)] for r in A]


def _t(A):
    return [list(c) for c in zip(*A)]


def _scale(A, k):
    return [[x * k for x in r] for r in A]


def _random_inputs(rng, shapes):
    env = {}
    for name, shape in shapes.items():
        if shape == "mask":
            n, m = shapes["A"]
            env[name] = [[Fraction(rng.choice([0, 1, 1])) for _ in range(m)] for _ in range(n)]
        else:
            n, m = shape
            env[name] = [[Fraction(rng.randint(-12, 12), rng.choice([1, 2, 4])) for _ in range(m)] for _ in range(n)]
    return env


def _toml_matrix(M) -> str:
    return "[" + ", ".join("[" + ", ".join(f'"{x.numerator}/{x.denominator}"' for x in r) + "]" for r in M) + "]"


def _problem(expr_text, env, C, constants=("M",)):
    inputs = "\n".join(f"{k} = {_toml_matrix(v)}" for k, v in env.items() if k not in constants)
    consts = "\n".join(f"{k} = {_toml_matrix(v)}" for k, v in env.items() if k in constants)
    consts += f"\nC = {_toml_matrix(C)}"
    return (f'kind = "graph"\n[inputs]\n{inputs}\n[constants]\n{consts}\n'
            f'[nodes]\nY = "{expr_text}"\nL = "sum(Y * C)"\n')


def _mp(M):
    return [[MP.mpf(x.numerator) / x.denominator for x in r] for r in M]


def _loss(forward, env_mp, C):
    Y = forward(env_mp)
    return sum(y * MP.mpf(c.numerator) / c.denominator for ry, rc in zip(Y, C) for y, c in zip(ry, rc))


@pytest.mark.parametrize("case", list(CASES))
def test_each_layer_function_against_the_reference(case, tmp_path):
    expr_text, forward, shapes = CASES[case]
    rng = random.Random(hash(case) % 10_000)
    for trial in range(3):
        env = _random_inputs(rng, shapes)
        env_mp = {k: _mp(v) for k, v in env.items()}
        Y_ref = forward(env_mp)
        C = [[Fraction(rng.randint(-5, 5), 2) for _ in r] for r in Y_ref]
        path = tmp_path / f"{trial}.toml"
        path.write_text(_problem(expr_text, env, C))
        trace = stepsolver.solve(stepsolver.load_problem(path)).trace
        s = trace.steps[0]
        Y = s.values["Y"]
        assert Y.shape == (len(Y_ref), len(Y_ref[0]))
        for i, r in enumerate(Y_ref):
            for j, y in enumerate(r):
                got = stepsolver.exact.to_mpf(Y[i, j])
                assert abs(got - y) <= MP.mpf(10) ** -25 * max(1, abs(y)), (case, i, j, got, y)
        # every input's gradient: a central difference of the reference at 60 digits
        h = MP.mpf(10) ** -25
        for name, M in env.items():
            if name == "M":
                continue
            G = s.grads[name]
            for i in range(len(M)):
                for j in range(len(M[0])):
                    up = {k: [row[:] for row in v] for k, v in env_mp.items()}
                    dn = {k: [row[:] for row in v] for k, v in env_mp.items()}
                    up[name][i][j] += h
                    dn[name][i][j] -= h
                    fd = (_loss(forward, up, C) - _loss(forward, dn, C)) / (2 * h)
                    got = stepsolver.exact.to_mpf(G[i, j])
                    assert abs(got - fd) <= MP.mpf(10) ** -20 * max(1, abs(fd)), (case, name, i, j, got, fd)


# ------------------------------------------------------------------ published examples
def _json(path) -> dict:
    data = json.loads(run_cli("solve", path, "-f", "json").stdout)
    return {n["name"]: n for n in data["nodes"]}


def test_pytorch_layer_norm_of_1_2_3_4():
    nodes = _json(ROOT / "problems" / "graph_layernorm.toml")
    got = nodes["y"]["value"]["value"][0]
    # torch.nn.functional.layer_norm(torch.tensor([1., 2., 3., 4.]), (4,)) -> (x - 2.5) / sqrt(1.25 + 1e-5)
    want = [(x - 2.5) / (1.25 + 1e-5) ** 0.5 for x in (1, 2, 3, 4)]
    assert got == pytest.approx(want, abs=1e-12)
    assert [round(x, 4) for x in got] == [-1.3416, -0.4472, 0.4472, 1.3416]


def test_a_batch_mean_and_variance_are_exact_fractions(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('kind = "graph"\n[inputs]\nX = [[1, 2], [3, 6], [5, 1]]\n'
                    '[nodes]\nmu = "mean(X, axis=0)"\ns2 = "var(X, axis=0)"\nL = "sum(mu) + sum(s2)"\n')
    nodes = _json(path)
    assert nodes["mu"]["value"]["exact"] == [["3", "3"]]
    assert nodes["s2"]["value"]["exact"] == [["8/3", "14/3"]]  # biased: divided by N = 3


def test_batchnorm_is_written_as_a_teacher_writes_it():
    md = run_cli("solve", ROOT / "problems" / "graph_batchnorm.toml").stdout
    forward = md.split("## Backward pass")[0]
    assert r"\mu = \frac{1}{3} \textstyle\sum_{i} X" in forward
    assert r"\sigma^{2} = \frac{1}{3}" in forward and "\\frac{8}{3} & \\frac{14}{3}" in forward
    assert r"\hat{x} = \frac{X - \mu}{\sqrt{\sigma^{2} + \epsilon}}" in forward
    assert r"\frac{\gamma}{3 \sqrt{\sigma^{2} + \epsilon}}" in md  # the compact rule, in the backward pass
    nodes = _json(ROOT / "problems" / "graph_batchnorm.toml")
    Y = nodes["Y"]["value"]["value"]  # gamma = 1 in the first column: x-hat itself, which sums to 0
    assert sum(r[0] for r in Y) == pytest.approx(0, abs=1e-12)
    assert nodes["beta"]["grad"]["value"][0] == pytest.approx([-2, -0.5], abs=1e-15)  # beta-bar = sum_i Y-bar


def test_an_embeddings_repeated_token_adds_up():
    nodes = _json(ROOT / "problems" / "graph_embedding.toml")
    # E = rows 1, 0, 1, 2 of W; Y = E * M / (1 - 1/2); L = sum(Y^2)/2, so E-bar = 2 M * Y
    E_bar = nodes["E"]["grad"]["exact"]
    W_bar = nodes["W"]["grad"]["exact"]
    row1 = [str(Fraction(E_bar[0][k]) + Fraction(E_bar[2][k])) for k in range(2)]
    assert W_bar[1] == row1 and W_bar[0] == E_bar[1] and W_bar[2] == E_bar[3]


def test_a_convolution_that_does_not_tile_covers_what_pytorch_covers():
    nodes = _json(ROOT / "problems" / "graph_conv_not_tiling.toml")
    assert nodes["Y"]["value"]["exact"] == [["1", "3"], ["3", "1"]]  # floor((5 - 2)/2) + 1 = 2
    X_bar = nodes["X"]["grad"]["exact"]
    assert X_bar[4] == ["0"] * 5 and [r[4] for r in X_bar] == ["0"] * 5  # the last row and column: not covered
    text = " ".join(run_cli("solve", ROOT / "problems" / "graph_conv_not_tiling.toml", "-f", "text").stdout.split())
    assert "not covered" in text and "the last 1 row(s) and 1 column(s) of X" in text


def test_attention_weights_rows_sum_to_one():
    nodes = _json(ROOT / "problems" / "graph_attention.toml")
    S = nodes["S"]["value"]["value"]
    assert [sum(r) for r in S] == pytest.approx([1, 1], abs=1e-15)
    assert S[0][0] == pytest.approx(1 / (1 + mpmath.exp(-1 / mpmath.sqrt(2))), abs=1e-15)


@pytest.mark.parametrize("path, node, slip", [
    ("graph_batchnorm", "Y", "eps_left_out"), ("graph_batchnorm", "Y", "unbiased_variance"),
    ("graph_layernorm", "y", "unbiased_variance"), ("graph_embedding", "Y", "dropout_unscaled"),
    ("graph_attention", "S", "softmax_wrong_axis"), ("graph_attention", "Z", "scale_left_out"),
])
def test_check_names_the_classic_slips(tmp_path, path, node, slip):
    from stepsolver.exact import to_float
    from stepsolver.kinds.graph.expr import Evaluator

    problem = ROOT / "problems" / f"{path}.toml"
    trace = stepsolver.solve(stepsolver.load_problem(problem)).trace
    s, n = trace.steps[0], trace.problem.by_name[node]
    M = Evaluator("slip", slip=slip).value(n.tree, {v: s.values[v] for v in n.parents})
    cells = [[f"{to_float(x):.6f}" for x in r] for r in M.rows]
    sheet = tmp_path / "a.toml"
    sheet.write_text(f"[values]\n{node} = {json.dumps(cells)}\n")
    report = json.loads(run_cli("check", problem, sheet, "-f", "json").stdout)
    wrong = [it for it in report["items"] if it["verdict"] == "wrong"]
    assert wrong and all(it["hint"] and it["hint"]["code"] == slip for it in wrong), report["items"][:3]


def test_the_picture_marks_what_no_window_covers():
    html = run_cli("solve", ROOT / "problems" / "graph_conv_not_tiling.toml", "-f", "html").stdout
    assert html.count('stroke-dasharray="3,2"') == 9  # the last row and column of the 5x5 input
    html = run_cli("solve", ROOT / "problems" / "graph_conv_padded_strided.toml", "-f", "html").stdout
    assert "stroke-dasharray" not in html  # windows that tile: nothing uncovered


@pytest.mark.parametrize("name", ["graph_batchnorm", "graph_attention", "graph_embedding"])
def test_generate_varies_the_layer_exercises(tmp_path, name):
    out = tmp_path / "v"
    r = run_cli("generate", "--from", ROOT / "problems" / f"{name}.toml", "--count", "2", "--seed", "5", "--out", out)
    assert r.returncode == 0, r.stderr
    texts = sorted(p.read_text() for p in out.glob("*.toml"))
    assert len(texts) == 2 and texts[0] != texts[1]
    for p in out.glob("*.toml"):
        assert run_cli("solve", p, "-f", "json").returncode == 0
