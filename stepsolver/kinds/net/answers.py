"""A network's answers file, and its blank sheet.

The answers file mirrors the JSON names of ``solve``; every key is optional:

* top level: ``loss`` (J of step 1) and ``[[layers]]`` (step 1), or
  ``[[steps]]`` tables each holding ``loss`` and ``[[steps.layers]]``;
  ``decimals = k`` says the sheet was worked to k decimals;
* in a layer: ``z``, ``a``, ``delta``, ``grad_W``, ``grad_b``, ``W_new``,
  ``b_new``; an empty ``[[layers]]`` table skips a layer.

Entries are numbers (TOML integers or floats, read as written) or strings
holding a number, a fraction ("76/3") or "?" (not answered).  A vector is
one column (one example); with m examples z, a and delta are rows x m.
How entries are read (the sheet's precision) is kind-neutral:
``stepsolver/answers.py``.
"""

from __future__ import annotations

from ...errors import InputError
from ...tomlio import check_keys, expect_table_list, parse_int
from ...trace import Key
from ...answers import AnswerSheet, parse_entries, read_precision

LAYER_KEYS = ("z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new")
STEP_KEYS = ("loss", "layers")
TOP_KEYS = ("loss", "layers", "steps", "decimals")


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


def answers_from_dict(data: dict, trace) -> AnswerSheet:
    problem = trace.problem
    check_keys(data, TOP_KEYS, "")
    n_steps = len(trace.steps)
    steps: list[dict] = []
    decimals = None
    if "decimals" in data:
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
    entries = {}
    for k, parsed in enumerate(steps, 1):
        for (where, name), rows in parsed.items():
            entries[Key(k, where, name)] = rows
    return read_precision(AnswerSheet(entries=entries, decimals=decimals))


def _parse_step(raw: dict, where: str, step, problem) -> dict:
    """{(layer or None, name): rows} of one step's answers."""
    prefix = f"{where}." if where else ""
    out = {}
    if "loss" in raw:
        out[(None, "loss")] = [[parse_entries(raw["loss"], f"{prefix}loss", 1, 1)[0][0]]]
    if "layers" in raw:
        layers = expect_table_list(raw["layers"], f"{prefix}layers")
        L = len(problem.layers)
        if len(layers) > L:
            raise InputError(f"the network has {L} layer(s), the answers have {len(layers)}", key=f"{prefix}layers")
        for l, table in enumerate(layers, 1):
            lw = f"{prefix}layers[{l}]"
            check_keys(table, LAYER_KEYS, lw)
            sh = shapes(problem, l, step.m)
            for key, value in table.items():
                n, m = sh[key]
                out[(l, key)] = parse_entries(value, f"{lw}.{key}", n, m)
    return out


# ------------------------------------------------------------ blank sheet
def blank_view(trace) -> dict:
    """What the blank-sheet template needs: per step, per layer, the fields
    asked for (the quantities a sheet asks, in record order), with shapes."""
    problem = trace.problem
    steps = []
    for s in trace.steps:
        asked = {(q.key.where, q.key.name): q.shape for q in trace.quantities(s) if q.asked}
        layers = []
        for l, layer in enumerate(problem.layers, 1):
            layers.append(
                {
                    "index": l,
                    "units": layer.units,
                    "activation": layer.activation.describe(),
                    "fields": [(k, asked[(l, k)]) for k in LAYER_KEYS if (l, k) in asked],
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
