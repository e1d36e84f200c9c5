"""Computation-graph exercises: published examples exactly, random graphs
against an independent reference, errors, every format, and check."""

from __future__ import annotations

import functools
import html
import json
import random
import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction as Fr

import mpmath
import pytest

import stepsolver
from conftest import GRAPH_PROBLEMS, ROOT, run_cli
from published import assert_published


def graph(nodes: str, inputs: str, constants: str = "", extra: str = "") -> str:
    return f'kind = "graph"\n[inputs]\n{inputs}\n[constants]\n{constants}\n[nodes]\n{nodes}\n{extra}'


# ------------------------------------------------------------------ published examples
def test_the_lecture_notes_regularised_unit():
    # notes 001, section 2.4: w-bar = z-bar x + R-bar w, b-bar = z-bar
    assert_published("graph_regularised_unit.toml", {
        "node.z.value": 0, "node.y.value": "1/2", "node.L.value": "1/8", "node.R.value": "1/2",
        "node.L_reg.value": "7/40",
        "node.L_reg.grad": 1, "node.R.grad": "1/10", "node.L.grad": 1, "node.y.grad": "-1/2",
        "node.z.grad": "-1/8", "node.w.grad": "-3/20", "node.b.grad": "-1/8",
        "node.w.new": "203/200", "node.b.new": "-159/80",
    })


def test_cs231n_sigmoid_neuron():
    # cs231n "Backprop, intuitions": w = [-0.20, -0.39, 0.20], x = [0.39, -0.59]
    assert_published("graph_sigmoid_neuron.toml", {
        "node.f.value": "0.73", "node.w0.grad": "-0.20", "node.x0.grad": "0.39", "node.w1.grad": "-0.39",
        "node.x1.grad": "-0.59", "node.w2.grad": "0.20",
    })


def test_colah_shared_variable_sums_its_paths():
    # colah, "Calculus on computational graphs": e = (a + b)(b + 1), de/db = 5
    assert_published("graph_shared_variable.toml", {
        "node.e.value": 6, "node.a.grad": 2, "node.b.grad": 5, "node.c.grad": 2, "node.d.grad": 3})


def test_affine_node_with_a_given_upstream_gradient():
    # W-bar = z-bar x^T, x-bar = W^T z-bar, b-bar = z-bar, with z-bar = [1, -2]
    assert_published("graph_affine_seed.toml", {
        "node.z.value": ["-1/2", 1],
        "node.W.grad": [[2, -1, 1], [-4, 2, -2]],
        "node.x.grad": [1, 0, -7],
        "node.b.grad": [1, -2],
        "node.W.new": [["4/5", "21/10", "-11/10"], ["2/5", "4/5", "16/5"]],
        "node.b.new": ["2/5", "-4/5"],
    })


@pytest.mark.parametrize("text, expected", [
    # cs231n: f = (x + y) z at x = -2, y = 5, z = -4
    (graph('q = "x + y"\nf = "q * z"', "x = -2\ny = 5\nz = -4"),
     {"node.f.value": -12, "node.x.grad": -4, "node.y.grad": -4, "node.z.grad": 3, "node.q.grad": -4}),
    # Andrew Ng: J = 3 (a + b c) at a = 5, b = 3, c = 2
    (graph('u = "b * c"\nv = "a + u"\nJ = "3 * v"', "a = 5\nb = 3\nc = 2"),
     {"node.J.value": 33, "node.a.grad": 3, "node.b.grad": 6, "node.c.grad": 9, "node.v.grad": 3}),
    # Saito, Deep Learning from Scratch: 2 apples at 100, tax 1.1
    (graph('apples = "apple * n"\nprice = "apples * tax"', "apple = 100\nn = 2\ntax = 1.1"),
     {"node.price.value": 220, "node.apple.grad": "2.2", "node.n.grad": 110, "node.tax.grad": 200}),
    # micrograd's README-style nudge: ascent moves the leaves up the gradient
    (graph('c = "a * b"\nd = "c + a**2"', "a = 2\nb = -3", extra='[update]\nlearning_rate = 0.01\ndirection = "ascent"'),
     {"node.d.value": -2, "node.a.grad": 1, "node.b.grad": 2, "node.a.new": "2.01", "node.b.new": "-2.98"}),
    # micrograd's README: g = 24.7041, dg/da = 138.8338, dg/db = 645.5773
    (graph('c = "a + b"\nd = "a * b + b**3"\nc2 = "c + c + 1"\nc3 = "c2 + 1 + c2 + (-a)"\n'
           'd2 = "d + d * 2 + relu(b + a)"\nd3 = "d2 + 3 * d2 + relu(b - a)"\ne = "c3 - d3"\nf = "e**2"\n'
           'g = "f / 2.0"\ng2 = "g + 10.0 / f"', "a = -4.0\nb = 2.0"),
     {"node.g2.value": "24.7041", "node.a.grad": "138.8338", "node.b.grad": "645.5773"}),
    # micrograd's lecture: a tanh neuron, o = 0.7071, x1-bar = -1.5, w1-bar = 1, x2-bar = 0.5, w2-bar = 0
    (graph('n = "x1*w1 + x2*w2 + b"\no = "tanh(n)"', "x1 = 2.0\nx2 = 0.0\nw1 = -3.0\nw2 = 1.0\nb = 6.8813735870195432"),
     {"node.o.value": "0.7071", "node.x1.grad": "-1.5000", "node.w1.grad": "1.0000", "node.x2.grad": "0.5000",
      "node.w2.grad": 0}),
    # cs231n staged computation: f = (x + sigma(y)) / (sigma(x) + (x + y)^2) at x = 3, y = -4
    (graph('sigy = "1 / (1 + exp(-y))"\nnum = "x + sigy"\nsigx = "1 / (1 + exp(-x))"\nxpy = "x + y"\n'
           'den = "sigx + xpy**2"\nf = "num / den"', "x = 3\ny = -4"),
     {"node.f.value": "1.5456", "node.x.grad": "2.0596", "node.y.grad": "1.5922"}),
    # logistic regression with BCE: y = sigma(0) = 1/2, L = ln 2, w-bar = (y - t) x
    (graph('y = "sigmoid(w * x + b)"\nL = "-(t * log(y) + (1 - t) * log(1 - y))"', "w = 0.5\nb = -1", "x = 2\nt = 1"),
     {"node.L.value": "0.693147", "node.w.grad": -1, "node.b.grad": "-1/2"}),
    # a max gate routes the gradient to the larger input; a tie to the first
    (graph('m = "max(x, y)"\nf = "2 * m"', "x = 3\ny = 3"), {"node.x.grad": 2, "node.y.grad": 0}),
    # relu at its kink has derivative 0; abs likewise
    (graph('r = "relu(x) + abs(x)"', "x = 0"), {"node.r.value": 0, "node.x.grad": 0}),
    # a vector through sum and an elementwise square, with a scalar broadcast
    (graph('d = "v - c"\nL = "sum(d**2) / 2"', "v = [1, 2, 3]", "c = 1"),
     {"node.L.value": "5/2", "node.v.grad": [0, 1, 2]}),
    # a transpose and a matrix product
    (graph('s = "T(u) @ A @ u"', "u = [1, 2]", "A = [[1, 2], [3, 4]]"),
     {"node.s.value": 27, "node.u.grad": [12, 21]}),  # (A + A^T) u
    (graph('s = "T(u) @ A @ u"', "u = [1, 2]", "A = [[2, 1], [1, 3]]"), {"node.u.grad": [8, 14]}),
])
def test_small_published_graphs(text, expected):
    assert_published(text, expected)


# ------------------------------------------------------------------ against an independent reference
OPS = ["+", "-", "*"]
FUNS = ["exp", "tanh", "sigmoid", "log1", "sqrt1", "sq"]


def _random_graph(rng: random.Random):
    """Random scalar graph text and a Python function of the leaves built
    from the same recipe in mpmath (independent of stepsolver)."""
    leaves = {f"v{i}": Fr(rng.randint(-20, 20), 10) for i in range(rng.randint(2, 4))}
    names = list(leaves)
    lines, recipe = [], []
    for k in range(rng.randint(2, 6)):
        a, b = rng.choice(names), rng.choice(names)
        kind = rng.random()
        if kind < 0.55:
            op = rng.choice(OPS)
            lines.append(f'n{k} = "{a} {op} {b}"')
            recipe.append((f"n{k}", "op", op, a, b))
        else:
            f = rng.choice(FUNS)
            text = {"exp": f"exp({a} / 4)", "tanh": f"tanh({a})", "sigmoid": f"sigmoid({a})",
                    "log1": f"log(1 + {a}**2)", "sqrt1": f"sqrt(2 + {a}**2)", "sq": f"{a}**2 / 2"}[f]
            lines.append(f'n{k} = "{text}"')
            recipe.append((f"n{k}", "fn", f, a, None))
        names.append(f"n{k}")
    inputs = "\n".join(f'{k} = "{v}"' for k, v in leaves.items())
    text = f'kind = "graph"\n[inputs]\n{inputs}\n[nodes]\n' + "\n".join(lines) + "\n"

    def run(vals: dict):
        env = dict(vals)
        for name, kind, op, a, b in recipe:
            x = env[a]
            if kind == "op":
                y = env[b]
                env[name] = x + y if op == "+" else x - y if op == "-" else x * y
            else:
                env[name] = {"exp": lambda: mpmath.exp(x / 4), "tanh": lambda: mpmath.tanh(x),
                             "sigmoid": lambda: 1 / (1 + mpmath.exp(-x)), "log1": lambda: mpmath.log(1 + x**2),
                             "sqrt1": lambda: mpmath.sqrt(2 + x**2), "sq": lambda: x**2 / 2}[op]()
        return env[recipe[-1][0]]

    return text, leaves, run


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_agree_with_an_independent_reference(seed):
    rng = random.Random(seed)
    text, leaves, run = _random_graph(rng)
    data = stepsolver.solve(stepsolver.loads_problem(text)).to_dict()
    got = {n["name"]: n for n in data["nodes"]}
    with mpmath.workdps(60):
        base = {k: mpmath.mpf(v.numerator) / v.denominator for k, v in leaves.items()}
        assert float(run(base)) == pytest.approx(got[data["output"]]["value"]["value"], rel=1e-12, abs=1e-300)
        for k in leaves:
            h = mpmath.mpf(10) ** -25
            up, dn = dict(base), dict(base)
            up[k] += h
            dn[k] -= h
            ref = (run(up) - run(dn)) / (2 * h)
            assert got[k]["grad"]["value"] == pytest.approx(float(ref), rel=1e-10, abs=1e-12), (text, k)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("nodes, inputs, message", [
    ('y = "x + q"', "x = 1", "unknown name 'q'"),
    ('y = "z + x"\nz = "x * 2"', "x = 1", "'z' is used before it is defined"),
    ('y = "y + x"', "x = 1", "y uses itself"),
    ('y = "W @ x"', "W = [[1, 2], [3, 4]]\nx = [1, 2, 3]", "shape mismatch"),
    ('y = "log(x - 1)"', "x = 1", "log of a non-positive value"),
    ('y = "__import__(x)"', "x = 1", "unknown function"),
    ('y = "x.real"', "x = 1", "not an expression"),
    ('y = "x; 1"', "x = 1", "not allowed"),
    ('y = "softmax(A)"', "A = [[1, 2], [3, 4]]", "needs its axis"),
    ('y = "batchnorm(A, g, g)"', "A = [[1, 2], [3, 4]]\ng = [1, 2, 3]", "one number per column"),
    ('y = "embedding(A, [0, 5])"', "A = [[1, 2], [3, 4]]", "index 5 is past the 2 rows"),
    ('y = "concat(A, b, axis=1)"', "A = [[1, 2], [3, 4]]\nb = [1, 2, 3]", "needs the same number of rows"),
    ('y = "dropout(A, A, p=0.5)"', "A = [[1, 2], [3, 4]]", "mask must hold only 0 and 1"),
    ('y = "sum(A, axis=2)"', "A = [[1, 2], [3, 4]]", "axis of sum must be 0"),
    ('y = "A + b"', "A = [[1, 2], [3, 4]]\nb = [1, 2, 3]", "shapes broadcast"),
    ('y = "x**(10**10)"', "x = 2", "too large"),
    ('y = "exp(exp(x))"', "x = 200", "too large"),
    ('y = "sqrt(x)"', "x = 0", "the derivative of sqrt at 0 is infinite"),
    ('y = "1 / x"', "x = 0", "division by zero"),
    ('y = "x ** 0.5"', "x = -1", "a fractional power of a negative number"),
])
def test_bad_graphs_are_refused_in_one_line(tmp_path, nodes, inputs, message):
    path = tmp_path / "bad.toml"
    path.write_text(graph(nodes, inputs))
    r = run_cli("solve", path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "bad.toml" in r.stderr and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------ every format
@pytest.mark.parametrize("path", GRAPH_PROBLEMS, ids=lambda p: p.stem)
@pytest.mark.parametrize("args", [["-f", "md"], ["-f", "latex"], ["-f", "html"], ["-f", "text"], ["-f", "json"],
                                  ["-f", "csv"], ["-f", "moodle"], ["--sheet", "both"], ["--sheet", "questions"],
                                  ["--round", "2"], ["--exact"], ["--notation", "partial"], ["--notation", "cs231n"],
                                  ["-f", "text", "--notation", "ng"]])
def test_every_graph_renders_in_every_format(path, args):
    r = run_cli("solve", path, *args)
    assert r.returncode == 0, r.stderr
    text = _plain(r.stdout)
    data = _json_of(path)
    given = [e for n in data["nodes"] if n["role"] != "node" for e in _flat(n["value"]["exact"])]
    assert all(_shown(e, text, 4) for e in given if "/" not in e), "a given value is missing"
    grads = [(n["name"], e, v) for n in data["nodes"] if n["grad"] is not None
             for e, v in zip(_flat(n["grad"]["exact"]), _flat(n["grad"]["value"]))]
    if "--sheet" in args and "questions" in args:
        assert "Backward pass" not in r.stdout  # no answers on the exercise sheet
        assert "#b3261e" not in r.stdout and "red!70!black] {\\scriptsize -" not in r.stdout  # nor in its picture
        return
    places = 2 if "--round" in args else 4
    missing = [(name, e) for name, e, v in grads if not _shown(e, text, places, v, exact_mode="--exact" in args)]
    assert not missing, f"gradients not printed: {missing[:5]}"


@functools.cache
def _json_of(path):
    return json.loads(run_cli("solve", path, "-f", "json").stdout)


def _flat(v):
    if isinstance(v, list):
        for x in v:
            yield from _flat(x)
    else:
        yield v


def _plain(out):
    """The text a reader sees: tags dropped (a cell boundary becomes a space), entities read,
    one minus sign."""
    out = re.sub(r"</?(mtd|mtr|td|tr|th|li|p|div|br)\b[^>]*>", " ", out)
    out = html.unescape(re.sub(r"<[^>]+>", "", out))
    return out.replace("\u2212", "-").replace("\\left(", "(").replace("\\right)", ")")


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\d])")


def _shown(exact, text, places, value=None, exact_mode=False):
    """Whether a value appears as this format writes it: a number in the text that rounds to it
    at `places` (half away from zero or half even: either is a faithful rounding) or, with
    --exact, its exact fraction. `exact` is None for an irrational value."""
    f = Fr(exact) if exact is not None else None
    x = Decimal(f.numerator) / Decimal(f.denominator) if f is not None else Decimal(repr(value))
    q = Decimal(1).scaleb(-places)
    want = {x.quantize(q, ROUND_HALF_UP), x.quantize(q, ROUND_HALF_EVEN)}
    for token in _NUMBER.findall(text):
        t = Decimal(token)
        if t.quantize(q, ROUND_HALF_UP) in want and (t == x or -t.as_tuple().exponent >= min(places, 1)
                                                     or t in want):
            return True
    if x and abs(x) < Decimal("0.1"):  # small values: four significant digits, or a mantissa times a power of ten
        e = x.adjusted()
        sig = x.quantize(Decimal(1).scaleb(e - places + 1), ROUND_HALF_UP)
        mant = sig.scaleb(-e)
        for token in _NUMBER.findall(text):
            if Decimal(token) in (sig, mant, mant.normalize()) and "." in token:
                return True
    if f is not None and exact_mode and f.denominator != 1:
        frac = f"\\frac{{{abs(f.numerator)}}}{{{f.denominator}}}"
        return frac in text
    return False


@pytest.mark.parametrize("path", GRAPH_PROBLEMS, ids=lambda p: p.stem)
def test_the_exercise_sheet_picture_gives_away_nothing(path):
    """The picture on an exercise sheet labels only the edges of given values:
    no computed value, no gradient (the worked solution's picture has both)."""
    data = _json_of(path)
    computed = {n["name"] for n in data["nodes"] if n["role"] == "node"}
    html_q = run_cli("solve", path, "-f", "html", "--sheet", "questions").stdout
    svg = html_q[html_q.index("<svg"):html_q.index("</svg>")]
    assert "#b3261e" not in svg
    labels = re.findall(r'fill="#1a4d8f">([^<]*)<', svg)
    leaves = [n for n in data["nodes"] if n["role"] != "node"]

    def rows(value):  # the lines a value takes in its node: a number, a small matrix's rows, or a shape
        v = value["value"]
        if not isinstance(v, list):
            return 1
        return len(v) if len(v) <= 3 and len(v[0]) <= 3 and len(v) * len(v[0]) <= 6 else 1

    # only the given values are written (one line per row), in the leaves' boxes
    assert len(labels) == sum(rows(n["value"]) for n in leaves)
    assert not any(n["name"] in computed for n in leaves) and len(leaves) > 0
    full = run_cli("solve", path, "-f", "html").stdout
    assert full.count("#b3261e") > 0


def test_a_value_may_be_named_like_a_function(tmp_path):
    """A name that is called is the function; one that is not is a value (a target T, a node sum)."""
    path = tmp_path / "t.toml"
    path.write_text('kind = "graph"\n[inputs]\nK = [[1, 2], [3, 4]]\n[constants]\nT = [[1, 0], [0, 1]]\n'
                    '[nodes]\nsum = "T(K) - T"\nmean = "sum(sum * sum) / 2"\n')
    data = json.loads(run_cli("solve", path, "-f", "json").stdout)
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["sum"]["value"]["exact"] == [["0", "3"], ["2", "3"]]
    assert nodes["mean"]["value"]["exact"] == "11"
    assert nodes["K"]["grad"]["exact"] == [["0", "2"], ["3", "3"]]


def test_the_json_contract_of_a_graph():
    data = json.loads(run_cli("solve", ROOT / "problems" / "graph_affine_seed.toml", "-f", "json").stdout)
    assert data["kind"] == "graph" and data["output"] == "z"
    nodes = {n["name"]: n for n in data["nodes"]}
    assert [n["name"] for n in data["nodes"]] == ["W", "x", "b", "z"]
    assert nodes["W"]["expr"] is None and nodes["W"]["role"] == "input" and nodes["W"]["parents"] == []
    assert nodes["z"]["expr"] == "W @ x + b" and nodes["z"]["parents"] == ["W", "x", "b"]
    assert nodes["x"]["value"] == {"exact": [["2"], ["-1"], ["1"]], "value": [[2.0], [-1.0], [1.0]]}
    assert nodes["b"]["grad"]["exact"] == [["1"], ["-2"]]
    # local: the Jacobian dz/db is the 2x2 identity; dz/dx is W
    assert nodes["z"]["local"]["b"]["exact"] == [["1", "0"], ["0", "1"]]
    assert nodes["z"]["local"]["x"]["exact"] == [["1", "2", "-1"], ["0", "1", "3"]]
    assert data["update"]["new"]["b"]["exact"] == [["2/5"], ["-4/5"]]
    reg = json.loads(run_cli("solve", ROOT / "problems" / "graph_regularised_unit.toml", "-f", "json").stdout)
    L_reg = next(n for n in reg["nodes"] if n["name"] == "L_reg")
    assert L_reg["value"] == {"exact": "7/40", "value": 0.175}
    assert next(n for n in reg["nodes"] if n["name"] == "x")["grad"] is None  # a constant


def test_the_derivation_reads_like_the_notes():
    md = run_cli("solve", ROOT / "problems" / "graph_regularised_unit.toml").stdout
    assert r"\bar{w} = \bar{z} \cdot \frac{\partial z}{\partial w} + \bar{R} \cdot \frac{\partial R}{\partial w}" in md
    assert r"= \bar{z} \cdot x + \bar{R} \cdot w" in md
    assert r"\frac{\partial y}{\partial z} = y \cdot \left(1 - y\right)" in md
    text = run_cli("solve", ROOT / "problems" / "graph_regularised_unit.toml", "-f", "text").stdout
    assert "Backward pass" in text and "w̄" in text.replace("\u0304", "\u0304")


# ------------------------------------------------------------------ check
def test_a_slip_in_a_graph_is_named_and_what_follows_carried(tmp_path):
    sheet = tmp_path / "a.toml"
    # z-bar without sigma'(z): wrong; b-bar, w-bar and the update follow from it
    sheet.write_text("[values]\nz = 0\ny = 0.5\nL = 0.125\nR = 0.5\nL_reg = 0.175\n"
                     "[grads]\nR = 0.1\nL = 1\ny = -0.5\nz = -0.5\nb = -0.5\nw = -0.9\n"
                     "[new]\nw = 1.09\nb = -1.95\n")
    r = run_cli("check", "-f", "json", ROOT / "problems" / "graph_regularised_unit.toml", sheet)
    assert r.returncode == 1
    items = {(it["node"], it["quantity"]): it for it in json.loads(r.stdout)["items"]}
    assert items[("z", "grad")]["verdict"] == "wrong"
    assert items[("z", "grad")]["hint"]["code"] == "missing_local_derivative"
    assert {k: items[k]["verdict"] for k in [("b", "grad"), ("w", "grad"), ("w", "new"), ("b", "new")]} == \
        {("b", "grad"): "carried", ("w", "grad"): "carried", ("w", "new"): "carried", ("b", "new"): "carried"}
    assert all(items[k]["verdict"] == "correct" for k in items if k[1] == "value")
    assert set(items[("z", "grad")]) >= {"node", "quantity", "row", "col", "verdict", "hint"}


def test_a_path_left_out_is_named(tmp_path):
    sheet = tmp_path / "a.toml"
    sheet.write_text("[values]\nc = 3\nd = 2\ne = 6\n[grads]\nc = 2\nd = 3\nb = 2\na = 2\n")
    r = run_cli("check", "-f", "json", ROOT / "problems" / "graph_shared_variable.toml", sheet)
    items = {(it["node"], it["quantity"]): it for it in json.loads(r.stdout)["items"]}
    assert items[("b", "grad")]["verdict"] == "wrong"
    assert items[("b", "grad")]["hint"]["code"] == "missing_path"
    assert items[("a", "grad")]["verdict"] == "correct"


@pytest.mark.parametrize("path", GRAPH_PROBLEMS, ids=lambda p: p.stem)
@pytest.mark.parametrize("places", [2, 4])
def test_a_student_who_rounds_and_carries_forward_is_right(path, places, tmp_path):
    """Fill the blank sheet with the key of someone rounding every written
    value to 2 or 4 decimals: every entry correct.  Copying the old values
    as the new ones is never correct."""
    import re
    import tomllib

    blank = run_cli("check", "--blank", path).stdout
    trace = stepsolver.solve(stepsolver.load_problem(path), round_places=places).trace
    rounded = trace.rounded.steps[0]
    tables = {"values": rounded.values, "grads": rounded.grads, "new": rounded.new}

    def text(M):
        from stepsolver.exact import exact_decimal, numer, denom

        cells = [[exact_decimal(numer(x), denom(x), places) for x in r] for r in M.rows]
        if M.shape == (1, 1):
            return cells[0][0]
        if M.m == 1:
            return "[" + ", ".join(c[0] for c in cells) + "]"
        return "[" + ", ".join("[" + ", ".join(r) + "]" for r in cells) + "]"

    out, table = [], None
    for line in blank.splitlines():
        m = re.match(r"^\[(\w+)\]", line)
        if m:
            table = m.group(1)
        k = re.match(r"^(\w+) = ", line)
        if k and table in tables:
            line = f"{k.group(1)} = {text(tables[table][k.group(1)])}"
        out.append(line)
    sheet = tmp_path / "s.toml"
    sheet.write_text("\n".join(out) + "\n")
    tomllib.loads(sheet.read_text())
    r = run_cli("check", "-f", "json", path, sheet)
    report = json.loads(r.stdout)
    assert report["counts"]["wrong"] == 0 and report["counts"]["carried"] == 0, [
        it for it in report["items"] if it["verdict"] != "correct"]
    assert r.returncode == 0
    p = stepsolver.load_problem(path)
    if p.update is not None:
        copied = tmp_path / "c.toml"
        lines = ["[new]"]
        for name in p.update.params:
            lines.append(f"{name} = {text(trace.steps[0].values[name])}")
        copied.write_text("\n".join(lines) + "\n")
        report = json.loads(run_cli("check", "-f", "json", path, copied).stdout)
        assert report["counts"]["correct"] == 0


def test_the_network_format_is_unchanged_by_the_graph_kind():
    data = json.loads(run_cli("solve", ROOT / "problems" / "linear_2_3_2.toml", "-f", "json").stdout)
    assert "kind" not in data and data["steps"][0]["loss"]["exact"] == "109"


# ------------------------------------------------------------------ class sets
def test_generate_makes_distinct_nice_variants_of_a_graph(tmp_path):
    out = tmp_path / "class"
    r = run_cli("generate", "--from", ROOT / "problems" / "graph_regularised_unit.toml", "--vary", "w,b,x",
                "--weight-range=-2,2", "--count", "12", "--seed", "3", "--out", out)
    assert r.returncode == 0, r.stderr
    files = sorted(out.glob("*.toml"))
    assert len(files) == 12
    seen = set()
    for f in files:
        data = json.loads(run_cli("solve", f, "-f", "json").stdout)
        leaves = tuple(n["value"]["exact"] for n in data["nodes"] if n["name"] in ("w", "b", "x"))
        assert leaves not in seen
        seen.add(leaves)
        assert all(n["expr"] == e for n, e in zip(
            [n for n in data["nodes"] if n["role"] == "node"],
            ["w * x + b", "sigmoid(z)", "(y - t)**2 / 2", "w**2 / 2", "L + lam * R"]))
    again = tmp_path / "again"
    run_cli("generate", "--from", ROOT / "problems" / "graph_regularised_unit.toml", "--vary", "w,b,x",
            "--weight-range=-2,2", "--count", "12", "--seed", "3", "--out", again)
    assert [f.read_text() for f in files] == [f.read_text() for f in sorted(again.glob("*.toml"))]
    quiz = tmp_path / "quiz.xml"
    assert run_cli("solve", *files, "-f", "moodle", "-o", quiz).returncode == 0
    import xml.etree.ElementTree as ET

    questions = [q for q in ET.parse(quiz).getroot().findall("question") if q.get("type") == "cloze"]
    assert len(questions) == 12


def test_generate_refuses_a_name_that_is_not_a_leaf(tmp_path):
    r = run_cli("generate", "--from", ROOT / "problems" / "graph_shared_variable.toml", "--vary", "q",
                "--count", "2", "--out", tmp_path / "x")
    assert r.returncode == 2 and "--vary" in r.stderr and "'q'" in r.stderr


def test_the_graph_quiz_refuses_the_old_value_and_zero(tmp_path):
    import re
    import xml.etree.ElementTree as ET

    quiz = tmp_path / "q.xml"
    assert run_cli("solve", ROOT / "problems" / "graph_regularised_unit.toml", "-f", "moodle", "-o", quiz).returncode == 0
    q = [q for q in ET.parse(quiz).getroot().findall("question") if q.get("type") == "cloze"][0]
    blanks = [(float(a), float(t)) for a, t in re.findall(r"\{1:NUMERICAL:=([^:]+):([^}]+)\}",
                                                          q.find("questiontext/text").text)]
    # 5 values, 6 gradients (the output's is the seed), 2 updates
    assert len(blanks) == 13
    (w_new, tw), (b_new, tb) = blanks[-2:]
    assert (w_new, b_new) == (1.015, -1.9875)
    assert abs(w_new - 1) > tw and abs(b_new + 2) > tb  # the old w and b are refused
    for answer, tol in blanks[5:11]:
        assert abs(answer) > tol  # 0 is refused for every nonzero gradient


def test_a_published_walkthrough_with_an_arithmetic_slip(tmp_path):
    """An RNN worked by hand whose h2 is an arithmetic slip: h2 wrong, what
    is computed from it carried -- h1-bar with tanh' = 1 - h2^2 from their own h2
    (2 . 0.5 . (1 - 0.09) = 0.91)."""
    problem = tmp_path / "rnn.toml"
    problem.write_text(graph('h1 = "tanh(w * h0 + u * x1)"\nh2 = "tanh(w * h1 + u * x2)"\ny = "v * h2"',
                             "w = 0.5\nu = 1\nv = 2", "h0 = 0\nx1 = 1\nx2 = -1"))
    sheet = tmp_path / "a.toml"
    sheet.write_text("[values]\nh1 = 0.7616\nh2 = -0.3\ny = -0.6\n[grads]\nh2 = 2\nv = -0.3\nh1 = 0.91\n")
    items = {(it["node"], it["quantity"]): it["verdict"]
             for it in json.loads(run_cli("check", "-f", "json", problem, sheet).stdout)["items"]}
    assert items == {("h1", "value"): "correct", ("h2", "value"): "wrong", ("y", "value"): "carried",
                     ("h2", "grad"): "correct", ("v", "grad"): "carried", ("h1", "grad"): "carried"}


def test_detail_element_writes_each_entry_of_a_vector_node():
    md = run_cli("solve", "--detail", "element", ROOT / "problems" / "graph_affine_seed.toml").stdout
    assert r"z_{1} = 1 \cdot 2 + 2 \cdot \left(-1\right) + \left(-1\right) \cdot 1 + 0.5 = -0.5" in md
    assert r"z_{2} = 0 \cdot 2 + 1 \cdot \left(-1\right) + 3 \cdot 1 + \left(-1\right) = 1" in md
