"""Recurrences: a cell written once, unrolled through time into a graph.

A problem file may hold

    [sequence]     one entry per step (a number, a list: a column, or a matrix)
    [recurrence]   the cell: expressions evaluated at steps 1..T in this order;
                   a sequence name is this step's entry, ``prev(h)`` is h of
                   the step before (h0, a constant or an input, before step 1)
    [nodes]        after the recurrence: ``total(L)`` is L1 + ... + LT and
                   ``last(h)`` is hT

and :func:`unroll` rewrites it into the plain graph the kind already solves,
marks and renders: the sequence entries become constants x1, x2, ..., the
cell's nodes a1, h1, y1, L1, a2, ... in step order.  Backpropagation
through time is then the graph's own backward pass: the gradient reaching
h1 sums the paths through its own step and through the step after, and a
shared weight's gradient sums one term per step.

Names are rewritten token by token (the expression text is never executed
and its numbers keep the digits written); the rewritten text is read by the
graph's whitelist parser like any node.
"""

from __future__ import annotations

import io
import tokenize

from ...errors import InputError
from ...tomlio import describe, expect_table

#: the functions of unrolling: prev(h) in the cell, total(L) and last(h) after it
PREV, TOTAL, LAST = "prev", "total", "last"
MAX_STEPS = 64


def _tokens(text: str, key: str) -> list[tuple[int, str]]:
    try:
        return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        raise InputError(f"cannot read the expression {text!r}", key=key) from None


def _called(tokens, i) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1][1] == "("


def _argument(tokens, i, key, fn):
    """The single name inside fn( NAME ) starting at tokens[i] (fn); (name, next index)."""
    if not (i + 3 < len(tokens) and tokens[i + 2][0] == tokenize.NAME and tokens[i + 3][1] == ")"):
        raise InputError(f"{fn}(...) takes one name, such as {fn}(h)", key=key)
    return tokens[i + 2][1], i + 4


def _join(parts: list[str]) -> str:
    """Tokens as an expression again: a space around operators, none inside
    parentheses, none between a function and its "(", one after a comma."""
    out = ""
    for p in parts:
        if not out or out[-1] == "(" or p in (")", ","):
            out += p
        elif p == "(" and (out[-1].isalnum() or out[-1] == "_"):
            out += p
        else:
            out += " " + p
    return out


def unroll(data: dict) -> dict:
    """The problem data with [sequence] and [recurrence] unrolled into
    constants and nodes (the data unchanged without a recurrence)."""
    if "recurrence" not in data and "sequence" not in data:
        for text_key, text in expect_table(data.get("nodes", {}), "nodes").items():
            if isinstance(text, str) and _uses_call(text, (PREV, TOTAL, LAST)):
                raise InputError("prev(), total() and last() belong to a recurrence: give [sequence] and "
                                 "[recurrence] tables", key=f"nodes.{text_key}")
        return data
    if "recurrence" not in data:
        raise InputError("a [sequence] needs a [recurrence]: the cell evaluated at each step", key="sequence")
    cell = expect_table(data["recurrence"], "recurrence")
    if not cell:
        raise InputError("the [recurrence] table is empty", key="recurrence")
    seq = expect_table(data.get("sequence", {}), "sequence")
    lengths = {}
    for name, value in seq.items():
        if not isinstance(value, list) or not value:
            raise InputError(f"expected a list with one entry per step, got {describe(value)}", key=f"sequence.{name}")
        lengths[name] = len(value)
    if len(set(lengths.values())) > 1:
        first = next(iter(lengths))
        odd = next(n for n, k in lengths.items() if k != lengths[first])
        raise InputError(f"sequences of unequal length: {first} has {lengths[first]} steps, {odd} has "
                         f"{lengths[odd]}", key=f"sequence.{odd}")
    T = next(iter(lengths.values())) if lengths else None
    if T is None:
        raise InputError("a recurrence needs a [sequence] (its length is the number of steps)", key="sequence")
    if T > MAX_STEPS:
        raise InputError(f"{T} steps, the limit is {MAX_STEPS}", key="sequence")
    given = set(expect_table(data.get("inputs", {}), "inputs")) | set(expect_table(data.get("constants", {}), "constants"))
    rec_names = list(cell)
    for name in rec_names:
        if name in seq:
            raise InputError(f"{name!r} is both a sequence and a recurrence name", key=f"recurrence.{name}")

    # the sequence entries: constants x1 ... xT
    constants = dict(expect_table(data.get("constants", {}), "constants"))
    for name, value in seq.items():
        for k, v in enumerate(value, 1):
            constants[f"{name}{k}"] = v

    nodes: dict = {}
    for k in range(1, T + 1):
        defined: set = set()
        for name in rec_names:
            key = f"recurrence.{name}"
            text = cell[name]
            if isinstance(text, (int, float)) and not isinstance(text, bool):
                text = str(text)
            if not isinstance(text, str):
                raise InputError("an expression must be a string, such as \"tanh(a)\"", key=key)
            tokens = _tokens(text, key)
            out, i = [], 0
            while i < len(tokens):
                typ, s = tokens[i]
                if typ == tokenize.NAME and s == PREV and _called(tokens, i):
                    r, i = _argument(tokens, i, key, PREV)
                    if r not in rec_names:
                        raise InputError(f"prev({r}): {r!r} is not a recurrence name (one of: {', '.join(rec_names)})",
                                         key=key)
                    if k == 1 and f"{r}0" not in given:
                        raise InputError(f"prev({r}) at step 1 needs the initial state {r}0 in [constants] or [inputs]",
                                         key=key)
                    out.append(f"{r}{k - 1}")
                    continue
                if typ == tokenize.NAME and s in (TOTAL, LAST) and _called(tokens, i):
                    raise InputError(f"{s}() belongs to the [nodes] after the recurrence", key=key)
                if typ == tokenize.NAME and not _called(tokens, i):
                    if s in seq:
                        s = f"{s}{k}"
                    elif s in rec_names:
                        if s not in defined:
                            raise InputError(f"{s!r} is used before it is defined in the step (the recurrence is "
                                             f"evaluated in its order; prev({s}) is {s} of the step before)", key=key)
                        s = f"{s}{k}"
                out.append(s)
                i += 1
            nodes[f"{name}{k}"] = _join(out)
            defined.add(name)

    for name, text in expect_table(data.get("nodes", {}), "nodes").items():
        key = f"nodes.{name}"
        if isinstance(text, str):
            tokens = _tokens(text, key)
            out, i = [], 0
            while i < len(tokens):
                typ, s = tokens[i]
                if typ == tokenize.NAME and s in (TOTAL, LAST) and _called(tokens, i):
                    r, i = _argument(tokens, i, key, s)
                    if r not in rec_names:
                        raise InputError(f"{s}({r}): {r!r} is not a recurrence name (one of: {', '.join(rec_names)})",
                                         key=key)
                    out.append("(" + " + ".join(f"{r}{j}" for j in range(1, T + 1)) + ")" if s == TOTAL else f"{r}{T}")
                    continue
                if typ == tokenize.NAME and s == PREV and _called(tokens, i):
                    raise InputError("prev() belongs to the [recurrence]: after it, use last(h) or total(L)", key=key)
                if typ == tokenize.NAME and not _called(tokens, i) and s in rec_names:
                    raise InputError(f"{s!r} is a recurrence name: after the recurrence write last({s}) for its last "
                                     f"step or total({s}) for the sum over the steps", key=key)
                out.append(s)
                i += 1
            text = _join(out)
        nodes[name] = text

    out = {k: v for k, v in data.items() if k not in ("sequence", "recurrence", "nodes", "constants")}
    out["constants"] = constants
    out["nodes"] = nodes
    return out


def prev_edges(cell: dict, steps: int) -> list[tuple[str, str, int]]:
    """(child, parent, step) of every edge prev() makes: the node of the cell
    at ``step`` reading the recurrence name of the step before (steps 2..T;
    at step 1 prev() reads the initial state)."""
    out = []
    for k in range(2, steps + 1):
        for name, text in cell.items():
            tokens = _tokens(str(text), f"recurrence.{name}")
            for i, (typ, s) in enumerate(tokens):
                if typ == tokenize.NAME and s == PREV and _called(tokens, i) and i + 2 < len(tokens):
                    out.append((f"{name}{k}", f"{tokens[i + 2][1]}{k - 1}", k))
    return list(dict.fromkeys(out))


def held_edges(cell: dict, steps: int, truncate: int | None) -> frozenset:
    """The edges truncated BPTT does not follow backward: with ``truncate = k``
    the steps are worked in blocks of k (1..k, k+1..2k, ...) and the state
    carried into a block is held constant there, so no gradient flows from a
    block into the one before (PyTorch's detach every k steps)."""
    if not truncate:
        return frozenset()
    return frozenset((c, v) for c, v, k in prev_edges(cell, steps) if (k - 1) % truncate == 0)


def _uses_call(text: str, names) -> bool:
    try:
        tokens = [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False
    return any(typ == tokenize.NAME and s in names and i + 1 < len(tokens) and tokens[i + 1][1] == "("
               for i, (typ, s) in enumerate(tokens))


__all__ = ["unroll", "prev_edges", "held_edges", "PREV", "TOTAL", "LAST"]
