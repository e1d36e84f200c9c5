"""A graph's answers file, its blank sheet, and the codes of its slips.

    decimals = 2          # optional: the sheet was worked to 2 decimals
    [values]              # node values, by name
    z = 0
    [grads]               # v-bar, by name
    w = -0.15
    [new]                 # the updated parameters
    w = 1.015
    [m]                   # with an optimizer: each state entry by parameter
    w = 0.015             # ([velocity], [G], [s], [m], [v], [m_hat], [v_hat];
                          #  [v] for the velocity of momentum, as for networks)

Entries are read as for networks (``stepsolver/answers.py``); a vector is a
flat list, a matrix a list of rows; "?" is not answered.
"""

from __future__ import annotations

from ...functions import optimizers
from ...answers import AnswerSheet, parse_entries, read_precision
from ...errors import InputError
from ...tomlio import check_keys, expect_table, parse_int
from ...trace import Key

TOP_KEYS = ("decimals", "values", "grads", "new")
TABLES = {"values": "value", "grads": "grad", "new": "new"}
#: an optimizer's state, one table per state entry by parameter name
STATE_TABLES = ("velocity", "G", "s", "m", "v", "m_hat", "v_hat")
#: other names students write for a state table (as for networks)
ALIASES = optimizers.ANSWER_ALIASES

#: the slips of a graph check names; their sentences are ``hint.graph.CODE``
#: in the language tables (stepsolver/lang/)
HINTS = ("missing_path", "local_at_wrong_point", "wrong_update_sign", "missing_learning_rate", "not_updated",
         "missing_local_derivative", "forgot_upstream", "kernel_flipped", "pool_everywhere", "overlap_overwritten")


def _state_tables(p) -> dict:
    """{table name in the answers file: state entry} for the problem's optimizer."""
    opt = p.update.optimizer if p.update is not None else None
    if opt is None or opt.plain:
        return {}
    out = {k: k for k in opt.shown}
    for alias, name in ALIASES.get(opt.name, {}).items():
        if name in out and alias not in out:
            out[alias] = name
    return out


def answers_from_dict(data: dict, trace) -> AnswerSheet:
    s = trace.steps[0]
    p = trace.problem
    states = _state_tables(p)
    for key in data:
        if key in STATE_TABLES and key not in states and key not in TOP_KEYS:
            opt = p.update.optimizer if p.update is not None else None
            why = ("the graph has no [update]" if opt is None else "the update is plain gradient descent" if opt.plain
                   else f"{opt.name} keeps no {key} (its state: {', '.join(opt.shown)})")
            raise InputError(f"no optimizer state to answer: {why}", key=key)
    check_keys(data, TOP_KEYS + tuple(states), "")
    decimals = parse_int(data["decimals"], "decimals", low=0, high=30) if "decimals" in data else None
    entries = {}
    for table, name in states.items():
        if table not in data:
            continue
        raw = expect_table(data[table], table)
        for param, value in raw.items():
            where = f"{table}.{param}"
            if param not in s.opt:
                raise InputError(f"{param!r} is not updated (updated: {', '.join(s.opt)})", key=where)
            if Key(1, param, name) in entries:
                raise InputError(f"the {name} of {param} is answered twice (as [{table}] and by another name)", key=where)
            M = s.opt[param][name]
            entries[Key(1, param, name)] = parse_entries(value, where, M.n, M.m)
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
    state: dict = {}
    for q in trace.quantities(s):
        if q.asked:
            if q.key.name in tables:
                tables[q.key.name].append((q.key.where, q.shape))
            else:
                state.setdefault(q.key.name, []).append((q.key.where, q.shape))
    return {"title": trace.problem.name, "source": trace.problem.source, "steps": [{"index": 1}],
            "values": tables["value"], "grads": tables["grad"], "new": tables["new"], "state": list(state.items())}
