"""A network's answers file, and its blank sheet.

The answers file mirrors the JSON names of ``solve``; every key is optional:

* top level: ``loss`` (J of step 1) and ``[[layers]]`` (step 1), or
  ``[[steps]]`` tables each holding ``loss`` and ``[[steps.layers]]``;
  ``decimals = k`` says the sheet was worked to k decimals;
* in a layer: ``z``, ``a``, ``delta``, ``grad_W``, ``grad_b``, ``W_new``,
  ``b_new``; an empty ``[[layers]]`` table skips a layer;
* with an optimizer, its state as in the JSON: ``velocity_W``, ``G_W``,
  ``s_W``, ``m_W``, ``v_W``, ``m_hat_W``, ``v_hat_W`` (and ``_b``), or the
  other names students write (``v_W`` for the velocity, ``s_W``/``r_W`` for
  AdaGrad's G, ``v_W``/``r_W`` for RMSProp's s; see ALIASES).

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
from ...functions import optimizers
from ...answers import AnswerSheet, parse_entries, read_precision

LAYER_KEYS = ("z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new")
STEP_KEYS = ("loss", "layers")
TOP_KEYS = ("loss", "layers", "steps", "decimals")


#: other names students write for an optimizer's state (answers files only)
ALIASES = optimizers.ANSWER_ALIASES


def state_keys(problem) -> tuple[str, ...]:
    """The optimizer's state entries an answers file may give, in worked order."""
    opt = problem.optimizer
    params = ("W", "b") if problem.update_biases else ("W",)
    return tuple(name for p in params for name in opt.quantity_names(p))


def shapes(problem, layer: int, m: int) -> dict[str, tuple[int, int]]:
    """Shape of each answerable quantity of a layer (1-based) with m examples."""
    L = problem.layers[layer - 1]
    n, k = L.units, L.inputs
    out = {
        "z": (n, m),
        "a": (n, m),
        "delta": (n, m),
        "grad_W": (n, k),
        "grad_b": (n, 1),
        "W_new": (n, k),
        "b_new": (n, 1),
    }
    for name in state_keys(problem):
        out[name] = (n, k) if name.endswith("_W") else (n, 1)
    return out


def _canonical(problem, key: str, where: str) -> str:
    """An answers-file key as the quantity it names (aliases of the state
    resolved); refuses a state entry the problem's optimizer does not keep."""
    if key in LAYER_KEYS or key in state_keys(problem):
        return key
    opt = problem.optimizer
    stem, _, param = key.rpartition("_")
    alias = ALIASES.get(opt.name, {}).get(stem)
    if alias and param in ("W", "b") and f"{alias}_{param}" in state_keys(problem):
        return f"{alias}_{param}"
    known = [s for names in ALIASES.values() for s in names] + ["velocity", "G", "s", "m", "v", "m_hat", "v_hat"]
    if param in ("W", "b") and stem in known:
        if opt.plain:
            raise InputError("the problem's update is plain gradient descent, which keeps no state; add an "
                             "[optimizer] table to the problem to answer its state", key=where)
        if param == "b" and not problem.update_biases:
            raise InputError("the biases are not updated (update_biases = false), so they keep no state", key=where)
        raise InputError(f"{opt.name} keeps no {stem} (its state: {', '.join(state_keys(problem))})", key=where)
    check_keys({key: None}, LAYER_KEYS + state_keys(problem), where.rpartition(".")[0])
    return key


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
            sh = shapes(problem, l, step.m)
            for key, value in table.items():
                name = _canonical(problem, key, f"{lw}.{key}")
                if (l, name) in out:
                    raise InputError(f"{name} is answered twice in this layer (as {key} and by another name)",
                                     key=f"{lw}.{key}")
                n, m = sh[name]
                out[(l, name)] = parse_entries(value, f"{lw}.{key}", n, m)
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
                    "fields": [(k, asked[(l, k)]) for k in _sheet_order(problem) if (l, k) in asked],
                }
            )
        steps.append({"index": s.index, "examples": s.examples, "m": s.m, "layers": layers})
    return {"title": problem.name, "steps": steps, "source": problem.source}


def _sheet_order(problem) -> tuple[str, ...]:
    """The keys of a layer in the order it is worked: the state entries of W
    just before W_new, those of b just before b_new."""
    names = state_keys(problem)
    W_state = tuple(k for k in names if k.endswith("_W"))
    b_state = tuple(k for k in names if k.endswith("_b"))
    return ("z", "a", "delta", "grad_W", "grad_b") + W_state + ("W_new",) + b_state + ("b_new",)
