"""A graph's answers file, its blank sheet, and the codes of its slips.

    decimals = 2          # optional: the sheet was worked to 2 decimals
    [values]              # node values, by name
    z = 0
    [grads]               # v-bar, by name
    w = -0.15
    [new]                 # the updated parameters
    w = 1.015

Entries are read as for networks (``stepsolver/answers.py``); a vector is a
flat list, a matrix a list of rows; "?" is not answered.
"""

from __future__ import annotations

from ...answers import AnswerSheet, parse_entries, read_precision
from ...errors import InputError
from ...tomlio import check_keys, expect_table, parse_int
from ...trace import Key

TOP_KEYS = ("decimals", "values", "grads", "new")
TABLES = {"values": "value", "grads": "grad", "new": "new"}

#: the slips of a graph check names; their sentences are ``hint.graph.CODE``
#: in the language tables (stepsolver/lang/)
HINTS = ("missing_path", "local_at_wrong_point", "wrong_step_sign", "missing_learning_rate", "not_updated",
         "missing_local_derivative", "forgot_upstream")


def answers_from_dict(data: dict, trace) -> AnswerSheet:
    check_keys(data, TOP_KEYS, "")
    decimals = parse_int(data["decimals"], "decimals", low=0, high=30) if "decimals" in data else None
    s = trace.steps[0]
    p = trace.problem
    entries = {}
    for table, what in TABLES.items():
        if table not in data:
            continue
        raw = expect_table(data[table], table)
        for name, value in raw.items():
            where = f"{table}.{name}"
            if what == "value":
                have = s.values
                if name in have and p.by_name[name].role != "node":
                    raise InputError(f"{name} is given, not computed: answer it in [values] only for nodes", key=where)
            elif what == "grad":
                have = s.grads
            else:
                have = s.new
            if name not in have:
                known = ", ".join(k for k in have if what != "value" or p.by_name[k].role == "node")
                raise InputError(f"{name!r} has no {what} to answer (known: {known})", key=where)
            M = have[name]
            entries[Key(1, name, what)] = parse_entries(value, where, M.n, M.m)
    return read_precision(AnswerSheet(entries=entries, decimals=decimals))


def blank_view(trace) -> dict:
    """The asked quantities of the sheet, by table, with their shapes."""
    s = trace.steps[0]
    tables = {"value": [], "grad": [], "new": []}
    for q in trace.quantities(s):
        if q.asked:
            tables[q.key.name].append((q.key.where, q.shape))
    return {"title": trace.problem.name, "source": trace.problem.source, "steps": [{"index": 1}],
            "values": tables["value"], "grads": tables["grad"], "new": tables["new"]}


def blank_value(shape: tuple[int, int]) -> str:
    """TOML text of a '?' value of the given shape (a column as a flat list)."""
    n, m = shape
    if n == 1 and m == 1:
        return '"?"'
    if m == 1:
        return "[" + ", ".join(['"?"'] * n) + "]"
    row = "[" + ", ".join(['"?"'] * m) + "]"
    return "[" + ", ".join([row] * n) + "]"
