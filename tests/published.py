"""One line per published example: ``assert_published(problem, {key: value})``.

``problem`` is a file under problems/ (or any path), the text of a problem
file, or a loaded Problem.  Each key addresses one quantity of the solved
trace, as :class:`stepsolver.trace.Key` does:

    "loss"                    J of step 1
    "step2.loss"              J of step 2
    "layer2.delta"            delta of layer 2, step 1
    "step1.layer1.W_new[2,1]" one entry, 1-based (row, column)
    "node.w.grad"             a graph node (kinds beyond the network)
    Key(1, 2, "delta")        the key itself

Each value is what the source prints:

* an int, a Fraction or a fraction string ("76/3") -- held exactly;
* a decimal string ("0.593269992", "1.43e-955") -- the figure as published:
  the exact value must round to it at the decimals (or significant digits)
  written, halves away from zero; ``units=1`` allows one unit in the last
  place for sources that carried rounded intermediates;
* a list (a column) or a list of lists (a matrix) of those, entry by entry.

A failure names the key, the entry, the published figure and the true value.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import mpmath

import stepsolver
from stepsolver.exact import is_rational, q_str, to_mpf
from stepsolver.trace import Key

ROOT = Path(__file__).resolve().parent.parent
_KEY = re.compile(r"^(?:step(\d+)\.)?(?:(layer)(\d+)\.|node\.([^.\[]+)\.)?([A-Za-z_][\w]*)(?:\[(\d+),(\d+)\])?$")
_DECIMAL = re.compile(r"^[+-]?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")


def parse_key(text) -> tuple[Key, tuple[int, int] | None]:
    if isinstance(text, Key):
        return text, None
    m = _KEY.match(text)
    if not m:
        raise ValueError(f"not a quantity address: {text!r}")
    step, layer, index, node, name, i, j = m.groups()
    where = int(index) if layer else node
    return Key(int(step or 1), where, name), ((int(i), int(j)) if i else None)


def _solve(problem):
    if isinstance(problem, (str, Path)) and "\n" not in str(problem):
        path = Path(problem)
        if not path.is_absolute() and not path.exists():
            path = ROOT / "problems" / path
        problem = stepsolver.load_problem(path)
    elif isinstance(problem, str):
        problem = stepsolver.loads_problem(problem, "published.toml")
    return stepsolver.solve(problem).trace


def quantities_by_key(trace) -> dict[Key, object]:
    return {q.key: q.value for step in trace.steps for q in trace.quantities(step)}


def _agrees(true, published, units: int) -> str | None:
    """None when ``true`` matches the published figure, else why not."""
    if isinstance(published, (int, Fraction)) or (isinstance(published, str) and "/" in published):
        want = Fraction(published)
        if not is_rational(true):
            return f"is irrational ({mpmath.nstr(to_mpf(true), 20)}), published exactly as {want}"
        got = Fraction(q_str(true))
        return None if got == want else f"is {got}, published {want}"
    if isinstance(published, float):
        raise TypeError(f"write the published figure {published!r} as a string: a float has lost its digits")
    m = _DECIMAL.match(str(published).strip())
    if not m:
        raise ValueError(f"not a published figure: {published!r}")
    whole, frac, exp = m.groups()
    frac = frac or ""
    p = Fraction(str(published))
    x = to_mpf(true)
    if exp is None:
        unit = Fraction(1, 10 ** len(frac))
    else:  # significant digits: the last written digit's place
        lead = int(exp) - len(frac)
        unit = Fraction(10) ** lead
    allowed = (Fraction(1, 2) + units) * unit
    err = abs(mpmath.mpf(p.numerator) / p.denominator - x)
    if err <= mpmath.mpf(allowed.numerator) / allowed.denominator:
        return None
    return f"is {mpmath.nstr(x, 20)}, which does not round to the published {published}"


def assert_published(problem, expected: dict, units: int = 0):
    trace = _solve(problem)
    found = quantities_by_key(trace)
    failures = []
    for text, published in expected.items():
        key, entry = parse_key(text)
        if key not in found:
            known = ", ".join(sorted({k.text() for k in found}))
            raise AssertionError(f"{text}: no such quantity (known: {known})")
        value = found[key]
        if entry is not None:
            cells = [((entry[0] - 1, entry[1] - 1), published)]
        elif isinstance(published, list):
            rows = [r if isinstance(r, list) else [r] for r in published]
            if (len(rows), len(rows[0])) != (value.n, value.m):
                failures.append(f"{text}: shape {value.n}x{value.m}, published {len(rows)}x{len(rows[0])}")
                continue
            cells = [((i, j), v) for i, r in enumerate(rows) for j, v in enumerate(r)]
        else:
            if (value.n, value.m) != (1, 1):
                failures.append(f"{text}: a {value.n}x{value.m} matrix, published as one number")
                continue
            cells = [((0, 0), published)]
        for (i, j), want in cells:
            why = _agrees(value[i, j], want, units)
            if why:
                failures.append(f"{text}[{i + 1},{j + 1}] {why}")
    assert not failures, "\n".join(failures)
