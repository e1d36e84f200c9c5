"""The house stays standing: read every import of the package (module level
and inside functions, relative ones resolved) and fail on an import cycle or
an import in a forbidden direction.

Floors, top to bottom (a module may import its own floor's package and any
floor below, never one above):

    __main__
    cli
    API: stepsolver/__init__ over notebook (mark, practice) over roster (a class)
         over workbook/ (the practice page, its API and workers) over solution, generate
    render/ | kinds/          (neither imports the other)
    marking/ | export/ | functions/
    answers                   (a student's written values, kind-neutral)
    trace, tomlio, output (writing files, the progress line)
    exact/
    lang/                     (the sentences of every language; engine code names them by key)
    errors, limits, version

and besides: a kind imports no render/, export/ or marking/ (they reach it
only through the trace, and it reaches the marking only through the marker
it is handed); render/, export/ and marking/ import no kind; one kind never
imports another; the kit (kinds/kit.py) every kind is built on imports no kind.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "stepsolver"

FLOORS = {
    "__main__": 9, "cli": 8,
    "__init__": 7.5, "notebook": 7.3, "roster": 7.2, "workbook": 7.1, "solution": 7, "generate": 7,
    "render": 6, "kinds": 6,
    "marking": 5, "export": 5, "functions": 5,
    "answers": 4,
    "trace": 3, "tomlio": 3, "output": 3,
    "exact": 2,
    "lang": 1.5,
    "errors": 1, "limits": 1, "version": 1,
}
# (importer's room, imported room): forbidden although the floors allow it
FORBIDDEN = {("kinds", "render"), ("kinds", "export"), ("kinds", "marking"),
             ("render", "kinds"), ("export", "kinds"), ("marking", "kinds")}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports (``from pkg import sub`` counts
    as importing ``pkg.sub`` when that is a module)."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "stepsolver")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "stepsolver":
                continue
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            if len(subs) < len(node.names):
                found.add(target)
            found.update(subs)
    found.discard(name)
    return {m for m in found if m in known}


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    mods = modules(root)
    return {m: imports_of(m, p, set(mods)) for m, p in mods.items()}


def room(module: str) -> str:
    """The floor plan's name for a module: its first part under the package
    (``stepsolver`` itself is ``__init__``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def kind_of(module: str) -> str | None:
    """The kind a module belongs to (kinds/<name>/...); the kit
    (kinds/kit.py) is below every kind and is none of them."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "kinds" and parts[2] != "kit" else None


def violations(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for m, targets in sorted(g.items()):
        for t in sorted(targets):
            a, b = room(m), room(t)
            if a not in FLOORS or b not in FLOORS:
                bad.append(f"{m} -> {t}: a room the floor plan does not know ({a if a not in FLOORS else b})")
                continue
            if (a, b) in FORBIDDEN:
                bad.append(f"{m} -> {t}: {a}/ must not import {b}/")
            elif a != b and FLOORS[b] >= FLOORS[a]:
                bad.append(f"{m} -> {t}: upward or sideways ({a} is on floor {FLOORS[a]}, {b} on {FLOORS[b]})")
            elif kind_of(m) and kind_of(t) and kind_of(m) != kind_of(t):
                bad.append(f"{m} -> {t}: one kind imports another")
            elif m == "stepsolver.kinds.kit" and kind_of(t):
                bad.append(f"{m} -> {t}: the kit is below every kind")
    return bad


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_the_scan_sees_the_package():
    g = graph()
    assert len(g) >= 40
    # a module-level, a relative, a function-local and a from-package import
    assert "stepsolver.exact.numbers" in g["stepsolver.functions.activations"] | g["stepsolver.exact"]
    assert "stepsolver.errors" in g["stepsolver.kinds.net.notation"]  # imported inside a function
    assert "stepsolver.marking.marker" in g["stepsolver.solution"]  # likewise
    assert "stepsolver.limits" in g["stepsolver.tomlio"]  # ``from . import limits``
    assert "stepsolver.kinds" in g["stepsolver.generate"]


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_no_forbidden_direction():
    assert violations(graph()) == []


def test_every_module_has_a_floor():
    assert sorted({room(m) for m in modules()} - set(FLOORS)) == []


@pytest.mark.parametrize("edges, expect", [
    ({"stepsolver.exact.numbers": {"stepsolver.render.numbers"}}, "upward"),
    ({"stepsolver.kinds.net.answers": {"stepsolver.marking.rules"}}, "kinds/ must not import marking/"),
    ({"stepsolver.render.views": {"stepsolver.kinds.net.view"}}, "render/ must not import kinds/"),
    ({"stepsolver.kinds.graph.engine": {"stepsolver.kinds.net.rules"}}, "one kind imports another"),
    ({"stepsolver.trace": {"stepsolver.tomlio"}}, "sideways"),
    ({"stepsolver.marking.marker": {"stepsolver.solution"}}, "upward"),
])
def test_the_rules_can_fail(edges, expect):
    assert any(expect in v for v in violations(edges))


def test_a_cycle_is_found():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]


def test_no_subpackage_shadows_the_api():
    """Importing a subpackage sets it as an attribute of the package: one
    named like an API function (``check``) would replace the function."""
    import importlib

    import stepsolver

    api = {name: getattr(stepsolver, name) for name in stepsolver.__all__}
    for m in modules():
        if not m.endswith("__main__"):  # running it is the command line
            importlib.import_module(m)
    for name, value in api.items():
        assert getattr(stepsolver, name) is value, f"stepsolver.{name} was replaced by a module"
