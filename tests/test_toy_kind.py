"""A second exercise kind moves in without touching the house: the toy kind
of tests/toy_kind (one linear neuron) is registered at run time and goes
through solve in every text format, JSON, CSV, the blank sheet and check --
with stepsolver's own files unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from fractions import Fraction as Fr

import pytest

from stepsolver import cli, kinds
from toy_kind import KIND

PROBLEM = """kind = "toy"
title = "One linear neuron"
w = 2
b = 0.5
x = 3
t = 1
learning_rate = 0.1
"""
# y = 6.5, L = 15.125, dL/dw = 16.5, dL/db = 5.5, w' = 0.35, b' = -0.05
TRUE = {"y": "13/2", "loss": "121/8", "grad_w": "33/2", "grad_b": "11/2", "w_new": "7/20", "b_new": "-1/20"}


@pytest.fixture
def toy(tmp_path):
    saved = dict(kinds.KINDS)
    kinds.register("toy", KIND)
    path = tmp_path / "toy.toml"
    path.write_text(PROBLEM, encoding="utf-8")
    yield path
    kinds.KINDS.clear()
    kinds.KINDS.update(saved)
    kinds._loaded.pop("toy", None)


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_toy_solves_exactly_in_json(toy, capsys):
    code, out, err = run(capsys, "solve", "-f", "json", toy)
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["kind"] == "toy"
    assert {k: Fr(v["exact"]) for k, v in data["steps"][0].items()} == {k: Fr(v) for k, v in TRUE.items()}


@pytest.mark.parametrize("fmt", ["md", "text", "html", "latex"])
def test_the_toy_renders_in_every_text_format(toy, capsys, fmt):
    code, out, err = run(capsys, "solve", "-f", fmt, "--sheet", "both", toy)
    assert (code, err) == (0, "")
    assert "One linear neuron" in out
    # the updated w and b, as each format writes numbers
    w, b = ("<mn>0.35</mn>", "<mo>&#x02212;</mo><mn>0.05</mn>") if fmt == "html" else ("0.35", "-0.05")
    assert w in out and b in out.replace("−", "-")


def test_the_toy_csv_lists_its_quantities_in_order(toy, capsys):
    code, out, _ = run(capsys, "solve", "-f", "csv", toy)
    rows = [r.split(",") for r in out.strip().splitlines()[1:]]
    assert code == 0
    assert [r[5] for r in rows] == list(TRUE)
    assert [Fr(r[8]) for r in rows] == [Fr(v) for v in TRUE.values()]


def test_the_toy_is_checked_like_any_kind(toy, capsys, tmp_path):
    code, blank, _ = run(capsys, "check", "--blank", toy)
    assert code == 0 and 'w_new = "?"' in blank
    answers = tmp_path / "a.toml"
    # y right, grad_w slipped (forgot x), w_new follows from the slip, b_new old value
    answers.write_text('y = 6.5\nloss = 15.13\ngrad_w = 5.5\ngrad_b = 5.5\nw_new = 1.45\nb_new = 0.5\n')
    code, out, _ = run(capsys, "check", "-f", "json", toy, answers)
    verdicts = {it["quantity"]: it["verdict"] for it in json.loads(out)["items"]}
    assert verdicts == {"y": "correct", "loss": "correct", "grad_w": "wrong", "grad_b": "correct",
                        "w_new": "carried", "b_new": "wrong"}
    hints = {it["quantity"]: it["hint"]["code"] for it in json.loads(out)["items"] if it["hint"]}
    assert hints == {"grad_w": "forgot_input", "b_new": "not_updated"}
    assert code == 1
    code, md, _ = run(capsys, "check", "-f", "md", toy, answers)
    assert "`grad_w`" in md and "(y - t)\\,x" in md and "the input x was left out" in md
    code, text, _ = run(capsys, "check", "-f", "text", toy, answers)
    assert "w − η ∂L/∂w" in text and "θ ← θ − η ∂L/∂θ changes it" in text


def test_the_toy_leaves_the_network_alone(toy, capsys):
    code, out, _ = run(capsys, "solve", "-f", "json", "problems/linear_2_3_2.toml")
    assert code == 0 and json.loads(out)["steps"][0]["loss"]["exact"] == "109"


def test_the_toy_through_the_library_api(toy):
    import stepsolver

    sol = stepsolver.solve(stepsolver.load_problem(toy))
    assert repr(sol) == "<Solution of 'One linear neuron': 1 step(s)>"
    assert sol.to_dict()["steps"][0]["w_new"]["exact"] == "7/20"
    assert "One linear neuron" in sol.render("md")


# ------------------------------------------------------------- moved in-tree
@pytest.mark.slow
def test_a_kind_moved_in_tree_touches_its_folders_and_one_registry_line(tmp_path):
    """The toy kind copied into a copy of the package as kinds/toy/ with its
    templates as templates/toy/: the one other change is its line in
    kinds.KINDS.  The copy solves, renders and checks a toy problem in a
    subprocess, and keeps the house's import rules."""
    import shutil
    import subprocess
    import sys

    from conftest import ROOT

    copy = tmp_path / "tree"
    shutil.copytree(ROOT / "stepsolver", copy / "stepsolver", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", copy / "templates", ignore=shutil.ignore_patterns("__pycache__"))
    before = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    # the kind's folder, its templates, and one registry line
    toy = Path(__file__).parent / "toy_kind"
    (copy / "stepsolver" / "kinds" / "toy").mkdir()
    text = (toy / "__init__.py").read_text(encoding="utf-8")
    text = text.replace('template_dir = Path(__file__).parent / "templates"', "template_dir = None  # in-tree: templates/toy/")
    (copy / "stepsolver" / "kinds" / "toy" / "__init__.py").write_text(text, encoding="utf-8")
    shutil.copytree(toy / "templates" / "toy", copy / "templates" / "toy")
    registry = copy / "stepsolver" / "kinds" / "__init__.py"
    source = registry.read_text(encoding="utf-8")
    line = '    "graph": "stepsolver.kinds.graph",\n'
    assert source.count(line) == 1
    registry.write_text(source.replace(line, line + '    "toy": "stepsolver.kinds.toy",\n'), encoding="utf-8")

    after = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    changed = sorted(str(p) for p in after if before.get(p) != after[p])
    assert all(c.startswith(("stepsolver/kinds/toy/", "templates/toy/")) or c == "stepsolver/kinds/__init__.py"
               for c in changed), changed
    import difflib

    diff = [d for d in difflib.unified_diff(before[Path("stepsolver/kinds/__init__.py")].decode().splitlines(),
                                            after[Path("stepsolver/kinds/__init__.py")].decode().splitlines(), lineterm="", n=0)
            if d.startswith(("+", "-")) and not d.startswith(("+++", "---"))]
    assert diff == ['+    "toy": "stepsolver.kinds.toy",']

    problem = tmp_path / "toy.toml"
    problem.write_text(PROBLEM, encoding="utf-8")
    answers = tmp_path / "a.toml"
    answers.write_text("y = 6.5\nloss = 15.125\ngrad_w = 16.5\n", encoding="utf-8")
    env = {"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"}
    for args in (["solve", problem], ["solve", problem, "-f", "json"], ["solve", problem, "-f", "text"],
                 ["check", problem, answers, "-f", "json"]):
        r = subprocess.run([sys.executable, "-c", "import sys; from stepsolver.cli import main; sys.exit(main(sys.argv[1:]))",
                            *map(str, args)], capture_output=True, text=True, cwd=tmp_path, env=env)
        assert r.returncode == 0, (args, r.stderr)
        if args[-1] == "json" and args[0] == "solve":
            assert json.loads(r.stdout)[0]["steps"][0]["w_new"]["exact"] == TRUE["w_new"] if r.stdout.startswith("[") \
                else json.loads(r.stdout)["steps"][0]["w_new"]["exact"] == TRUE["w_new"]
    import test_layers

    g = test_layers.graph(copy / "stepsolver")
    assert "stepsolver.kinds.toy" in g and test_layers.violations(g) == []
