"""Reading a student's answers file, and writing a blank one.

The answers file mirrors the JSON names of ``solve``; every key is optional:

* top level: ``loss`` (J of step 1) and ``[[layers]]`` (step 1), or
  ``[[steps]]`` tables each holding ``loss`` and ``[[steps.layers]]``;
  ``decimals = k`` says the sheet was worked to k decimals;
* in a layer: ``z``, ``a``, ``delta``, ``grad_W``, ``grad_b``, ``W_new``,
  ``b_new``; an empty ``[[layers]]`` table skips a layer.

Entries are numbers (TOML integers or floats, read as written) or strings
holding a number, a fraction ("76/3") or "?" (not answered).  A vector is
one column (one example); with m examples z, a and delta are rows x m.

**The written precision of a sheet.**  An entry is read to the decimals the
sheet was worked to, not to those of the entry alone: ``-0.9`` among
two-decimal values is -0.90.  That is the declared ``decimals``, or else the
larger of the most decimals written in the same quantity and the number of
decimals written most often on the sheet (ties: the larger).  An entry
written with more decimals keeps them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .errors import InputError, StepsolverError
from .tomlio import FloatText, check_keys, describe, expect_table_list, parse_number, read_toml

LAYER_KEYS = ("z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new")
STEP_KEYS = ("loss", "layers")
TOP_KEYS = ("loss", "layers", "steps", "decimals")
UNANSWERED = ("?", "")


@dataclass(frozen=True)
class Given:
    """One answered entry: its exact value and how it was written."""

    q: object  # exact rational
    text: str  # as written, e.g. '-0.94', '76/3'
    fraction: bool  # written as a fraction: must match exactly
    places: int  # decimal places written (scientific notation counted)
    reading: int = -1  # decimal places it is read to (the sheet's precision); -1: places


@dataclass
class LayerAnswers:
    values: dict = field(default_factory=dict)  # key -> list of rows of Given | None


@dataclass
class StepAnswers:
    loss: Given | None = None
    layers: list = field(default_factory=list)  # LayerAnswers per layer (may be shorter)

    def get(self, layer: int, key: str):
        """Rows of Given|None for layer (1-based) and key, or None if absent."""
        if layer - 1 >= len(self.layers):
            return None
        return self.layers[layer - 1].values.get(key)


@dataclass
class AnswerSheet:
    steps: list  # StepAnswers, index 0 = step 1
    decimals: int | None = None  # declared: the sheet was worked to this many decimals

    def givens(self):
        """Every answered entry: (step index from 0, layer or None, key, matrix of Given|None)."""
        for k, st in enumerate(self.steps):
            if st.loss is not None:
                yield k, None, "loss", [[st.loss]]
            for l, la in enumerate(st.layers, 1):
                for key, rows in la.values.items():
                    yield k, l, key, rows


_DEC_TEXT = re.compile(r"^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")


def parse_given(value, where: str) -> Given | None:
    """One entry: a number, a fraction, or '?' (None)."""
    if isinstance(value, str) and not isinstance(value, FloatText) and value.strip() in UNANSWERED:
        return None
    if isinstance(value, (list, dict)):
        raise InputError(f"expected a number or \"?\", got {describe(value)}", key=where)
    q = parse_number(value, where)
    text = str(value).strip() if not isinstance(value, bool) else str(value)
    if isinstance(value, FloatText):
        text = str(value).replace("_", "")
    fraction = "/" in text
    places = 0
    if not fraction:
        m = _DEC_TEXT.match(text)
        if m:
            frac_digits = len(m.group(2) or "")
            exp = int(m.group(3)) if m.group(3) else 0
            places = frac_digits - exp
    return Given(q=q, text=text, fraction=fraction, places=places)


def _shape_text(n: int, m: int) -> str:
    return f"{n}×{m}"


def parse_entries(value, where: str, n: int, m: int) -> list[list]:
    """A matrix of n rows and m columns of Given|None.  A flat list is a column
    when m == 1 (or a row when n == 1); a bare value is 1 x 1."""
    want = _shape_text(n, m)
    if not isinstance(value, list):
        if n == 1 and m == 1:
            return [[parse_given(value, where)]]
        raise InputError(f"expected {want}, got a single value", key=where)
    if all(not isinstance(v, (list, dict)) for v in value):  # flat
        if m == 1 and len(value) == n:
            return [[parse_given(v, f"{where}[{i}]")] for i, v in enumerate(value, 1)]
        if n == 1 and len(value) == m:
            return [[parse_given(v, f"{where}[{j}]") for j, v in enumerate(value, 1)]]
        raise InputError(f"expected {want}, got {len(value)} numbers", key=where)
    if not all(isinstance(r, list) for r in value):
        raise InputError(f"expected {want}: mixes numbers and rows", key=where)
    if len(value) != n or any(len(r) != m for r in value):
        widths = sorted({len(r) for r in value})
        got = f"{len(value)}×{widths[0]}" if len(widths) == 1 else f"{len(value)} rows of {'/'.join(map(str, widths))} numbers"
        raise InputError(f"expected {want}, got {got}", key=where)
    rows = []
    for i, r in enumerate(value, 1):
        row = []
        for j, v in enumerate(r, 1):
            if isinstance(v, (list, dict)):
                raise InputError(f"expected a number or \"?\", got {describe(v)}", key=f"{where}[{i}][{j}]")
            row.append(parse_given(v, f"{where}[{i}][{j}]"))
        rows.append(row)
    return rows


def shapes(problem, layer: int, m: int) -> dict[str, tuple[int, int]]:
    """Shape of each answerable quantity of a layer (1-based) with m examples."""
    L = problem.layers[layer - 1]
    n, k = L.units, L.inputs
    return {
        "z": (n, m),
        "a": (n, m),
        "delta": (n, m),
        "grad_W": (n, k),
        "grad_b": (n, 1),
        "W_new": (n, k),
        "b_new": (n, 1),
    }


def load_answers(path, trace) -> AnswerSheet:
    """Read and validate an answers file against a solved problem."""
    name = os.fspath(path)
    data = read_toml(path)
    try:
        return answers_from_dict(data, trace)
    except StepsolverError as exc:
        raise exc.located(name)


def answers_from_dict(data: dict, trace) -> AnswerSheet:
    problem = trace.problem
    check_keys(data, TOP_KEYS, "")
    n_steps = len(trace.steps)
    steps: list[StepAnswers] = []
    decimals = None
    if "decimals" in data:
        from .tomlio import parse_int

        decimals = parse_int(data["decimals"], "decimals", low=0, high=30)
    top_has_step = "loss" in data or "layers" in data
    if top_has_step:
        steps.append(_parse_step(data, "", trace.steps[0], problem))
    if "steps" in data:
        raw_steps = expect_table_list(data["steps"], "steps")
        if len(raw_steps) > n_steps:
            raise InputError(
                f"the problem has {n_steps} update step(s), the answers have {len(raw_steps)}", key="steps"
            )
        for s, raw in enumerate(raw_steps, 1):
            where = f"steps[{s}]"
            check_keys(raw, STEP_KEYS, where)
            parsed = _parse_step(raw, where, trace.steps[s - 1], problem)
            if s == 1 and top_has_step:
                if raw:
                    raise InputError(
                        "step 1 is answered twice: by top-level keys and by steps[1]; use one of them", key=where
                    )
                continue
            if s <= len(steps):
                steps[s - 1] = parsed
            else:
                steps.append(parsed)
    sheet = AnswerSheet(steps=steps, decimals=decimals)
    _read_precision(sheet)
    return sheet


def _read_precision(sheet: AnswerSheet) -> None:
    """Set every entry's reading precision (see the module docstring)."""
    from collections import Counter
    from dataclasses import replace

    counts = Counter(g.places for _, _, _, rows in sheet.givens() for r in rows for g in r
                     if g is not None and not g.fraction and g.places > 0)
    mode = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0] if counts else 0
    def read(rows):
        decimals = [g.places for r in rows for g in r if g is not None and not g.fraction]
        most = max(decimals, default=0)
        base = sheet.decimals if sheet.decimals is not None else max(most, mode)
        return [[None if g is None else replace(g, reading=g.places if g.fraction else max(g.places, base)) for g in r]
                for r in rows]

    for st in sheet.steps:
        if st.loss is not None:
            st.loss = read([[st.loss]])[0][0]
        for la in st.layers:
            for key in list(la.values):
                la.values[key] = read(la.values[key])


def _parse_step(raw: dict, where: str, step, problem) -> StepAnswers:
    prefix = f"{where}." if where else ""
    out = StepAnswers()
    if "loss" in raw:
        out.loss = parse_entries(raw["loss"], f"{prefix}loss", 1, 1)[0][0]
    if "layers" in raw:
        layers = expect_table_list(raw["layers"], f"{prefix}layers")
        L = len(problem.layers)
        if len(layers) > L:
            raise InputError(f"the network has {L} layer(s), the answers have {len(layers)}", key=f"{prefix}layers")
        for l, table in enumerate(layers, 1):
            lw = f"{prefix}layers[{l}]"
            check_keys(table, LAYER_KEYS, lw)
            sh = shapes(problem, l, step.m)
            la = LayerAnswers()
            for key, value in table.items():
                n, m = sh[key]
                la.values[key] = parse_entries(value, f"{lw}.{key}", n, m)
            out.layers.append(la)
    return out


# ------------------------------------------------------------ blank sheet
def blank_view(trace) -> dict:
    """What the blank-sheet template needs: per step, per layer, the shapes."""
    problem = trace.problem
    steps = []
    for s in trace.steps:
        layers = []
        for l, layer in enumerate(problem.layers, 1):
            sh = shapes(problem, l, s.m)
            keys = [k for k in LAYER_KEYS if problem.update_biases or k != "b_new"]
            layers.append(
                {
                    "index": l,
                    "units": layer.units,
                    "activation": layer.activation.describe(),
                    "fields": [(k, sh[k]) for k in keys],
                }
            )
        steps.append({"index": s.index, "examples": s.examples, "m": s.m, "layers": layers})
    return {"title": problem.name, "steps": steps, "source": problem.source}


def blank_value(shape: tuple[int, int], vector_if_column: bool = True) -> str:
    """TOML text of a '?' matrix of the given shape."""
    n, m = shape
    if n == 1 and m == 1:
        return '"?"'
    if m == 1 and vector_if_column:
        return "[" + ", ".join(['"?"'] * n) + "]"
    row = "[" + ", ".join(['"?"'] * m) + "]"
    return "[" + ", ".join([row] * n) + "]"
