"""Reading a computation-graph problem (``kind = "graph"``).

    [inputs]     leaves that get gradients (and may be updated)
    [constants]  given values (no gradients unless listed in backward.wrt)
    [nodes]      forward order; each an expression of names defined above it
    [backward]   output (default: the last node), seed (default 1), wrt
    [update]     learning_rate, direction (descent | ascent), params, and an
                 optional [update.optimizer] table as in network problems (one
                 update, t = 1; ascent applies the rule to the negated gradient)
    [symbols]    display forms of names, in the restricted syntax of names
    [functions]  the file's own functions of one variable, g = "x**3/3 - x",
                 applied in nodes as g(z) (as a network's custom activation)
    leaky_slope  the slope of leaky_relu below 0 (default 0.01)

A value is a number as in the network format (TOML floats read as written,
quoted fractions), a list (a column vector) or a list of lists (a matrix).
Every error names the key and the problem: an unknown name, a name used
before it is defined, a shape mismatch, a name defined twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ... import limits
from ...errors import InputError, LimitError
from ...exact import ONE, Mat
from ...functions import activations, optimizers
from ...trace import problem_name
from ...tomlio import (FloatText, check_keys, choose, describe, expect_table, nearest, parse_matrix, parse_number,
                       parse_string, parse_vector)
from . import expr

TOP_KEYS = ("kind", "title", "description", "inputs", "constants", "nodes", "backward", "update", "symbols",
            "functions", "leaky_slope")
BACKWARD_KEYS = ("output", "seed", "wrt", "truncate")
UPDATE_KEYS = ("learning_rate", "direction", "params", "optimizer")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")
MAX_NODES = 200
SYMBOL = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}(\^\(?[A-Za-z0-9]{1,8}\)?)?")


@dataclass(frozen=True)
class Node:
    name: str
    role: str  # input | constant | node
    value: Mat | None = None  # a leaf's given value
    text: str | None = None  # a node's expression as written
    tree: object = None
    parents: tuple = ()
    shape: tuple = (1, 1)


@dataclass(frozen=True)
class Update:
    learning_rate: object
    direction: str  # descent | ascent
    params: tuple
    #: the update rule ([update.optimizer]; plain descent or ascent by default)
    optimizer: optimizers.Optimizer = optimizers.SGD


@dataclass(frozen=True)
class GraphProblem:
    nodes: tuple  # every name in forward order: leaves first, as written
    output: str
    seed: Mat
    wrt: tuple
    update: Update | None
    symbols: dict = field(default_factory=dict)
    title: str | None = None
    description: str | None = None
    source: str | None = None
    #: the file's own functions of one variable ([functions]), name -> Activation
    functions: dict = field(default_factory=dict)
    #: leaky_relu's slope where the file sets one
    leaky_slope: object = None
    #: a recurrence unrolled (recurrence.py): (steps, the cell's names), or None
    recurrence: tuple | None = None
    #: the recurrence as the file wrote it (its cell, sequence names, nodes after it), or None
    rolled: dict | None = field(default=None, compare=False)
    #: truncated BPTT: the block length k ([backward] truncate), or None
    truncate: int | None = None
    #: the edges (child, parent) the backward pass does not follow (truncated BPTT)
    held: frozenset = frozenset()
    kind = None  # bound by kinds.register

    @property
    def name(self) -> str:
        return problem_name(self.title, self.source, "Graph")

    @property
    def by_name(self) -> dict:
        return {n.name: n for n in self.nodes}

    @property
    def leaves(self) -> list:
        return [n for n in self.nodes if n.role != "node"]

    @property
    def inner(self) -> list:
        return [n for n in self.nodes if n.role == "node"]

    def gets_grad(self, name: str) -> bool:
        n = self.by_name[name]
        return n.role != "constant" or name in self.wrt


def parse_value(value, key: str) -> Mat:
    """A number, a list (a column) or a list of lists (a matrix)."""
    if isinstance(value, list):
        if value and all(isinstance(r, list) for r in value):
            return Mat(parse_matrix(value, key))
        return Mat.column(parse_vector(value, key))
    if isinstance(value, dict):
        raise InputError(f"expected a number, a list or a list of lists, got {describe(value)}", key=key)
    return Mat([[parse_number(value, key)]])


def _name(name: str, key: str) -> str:
    if not NAME.fullmatch(name):
        raise InputError(f"{name!r} is not a name: a letter, then letters, digits or _ (at most 31)", key=key)
    return name  # a value may be named like a function (a target T): only a name that is called is one


def graph_from_dict(data: dict, source: str | None = None) -> GraphProblem:
    from .recurrence import unroll

    check_keys(data, TOP_KEYS + ("sequence", "recurrence"), "")
    rolled = None
    if "recurrence" in data:  # the file's own form, kept to write variants in it
        rolled = {"recurrence": dict(expect_table(data["recurrence"], "recurrence")),
                  "sequence": tuple(expect_table(data.get("sequence", {}), "sequence")),
                  "nodes": dict(expect_table(data.get("nodes", {}), "nodes"))}
    data = unroll(data)  # a recurrence becomes the plain graph of its steps
    cell = tuple(rolled["recurrence"]) if rolled else ()
    steps = None
    if cell:
        steps = max(int(k[len(cell[0]):]) for k in data["nodes"] if k.startswith(cell[0]) and k[len(cell[0]):].isdigit())
        rolled["steps"] = steps
    title = parse_string(data["title"], "title") if "title" in data else None
    description = parse_string(data["description"], "description") if "description" in data else None
    nodes: list[Node] = []
    seen: dict[str, str] = {}

    slope = parse_number(data["leaky_slope"], "leaky_slope") if "leaky_slope" in data else None
    custom = expect_table(data.get("functions", {}), "functions")
    for fname in custom:
        if not NAME.fullmatch(fname):
            raise InputError(f"{fname!r} is not a name: a letter, then letters, digits or _ (at most 31)",
                             key=f"functions.{fname}")
        if fname in expr.FUNCTIONS:
            raise InputError(f"{fname!r} is a built-in function; give yours another name", key=f"functions.{fname}")
    functions = activations.elementwise({"leaky_slope": slope} if slope is not None else {}, custom)

    def define(name, key):
        _name(name, key)
        if name in seen:
            raise InputError(f"{name!r} is defined twice (first at {seen[name]})", key=key)
        seen[name] = key

    # an unrolled node's faults are the cell's: recurrence.h (step 2), not nodes.h2; a sequence entry's
    # are the sequence's
    where = {}
    if rolled:
        where = {f"{c}{k}": f"recurrence.{c} (step {k})" for c in cell for k in range(1, steps + 1)}
        for seq in rolled["sequence"]:
            for k in range(1, steps + 1):
                where[f"{seq}{k}"] = f"sequence.{seq}[{k}]"
    for table, role in (("inputs", "input"), ("constants", "constant")):
        for name, value in expect_table(data.get(table, {}), table).items():
            key = where.get(name, f"{table}.{name}")
            define(name, key)
            M = parse_value(value, key)
            if M.n * M.m > limits.MAX_PARAMETERS:
                raise LimitError(f"{M.n}x{M.m} values, more than stepsolver's limit", key=key)
            nodes.append(Node(name, role, value=M, shape=M.shape))
    if "nodes" not in data:
        raise InputError("a graph needs a [nodes] table: each node an expression of the names above it", key="nodes")
    raw = expect_table(data["nodes"], "nodes")
    if not raw:
        raise InputError("the [nodes] table is empty", key="nodes")
    if len(raw) + len(nodes) > MAX_NODES:
        raise LimitError(f"{len(raw) + len(nodes)} nodes, stepsolver's limit is {MAX_NODES}", key="nodes")
    shapes = {n.name: n.shape for n in nodes}
    for name, text in raw.items():
        key = where.get(name, f"nodes.{name}")
        define(name, key)
        if isinstance(text, (int, FloatText)) and not isinstance(text, bool):
            text = str(text)
        tree = expr.parse(text, key, functions)
        used = expr.names(tree)
        for u in used:
            if u == name:
                raise InputError(f"{name} uses itself (a cycle)", key=key)
            if u not in shapes:
                if u in raw:
                    raise InputError(f"{u!r} is used before it is defined (nodes are in forward order)", key=key)
                near = nearest(u, list(shapes))
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise InputError(f"unknown name {u!r}{hint}", key=key)
        shape = expr.shape_of(tree, shapes, key)
        shapes[name] = shape
        nodes.append(Node(name, "node", text=text, tree=tree, parents=tuple(used), shape=shape))

    names = [n.name for n in nodes]
    inner = [n.name for n in nodes if n.role == "node"]
    back = expect_table(data.get("backward", {}), "backward")
    check_keys(back, BACKWARD_KEYS, "backward")
    output = inner[-1]
    if "output" in back:
        output = parse_string(back["output"], "backward.output")
        if output not in inner:
            raise InputError(f"{output!r} is not a node (the output is one of: {', '.join(inner)})", key="backward.output")
    out_shape = shapes[output]
    if "seed" in back:
        seed = parse_value(back["seed"], "backward.seed")
        if seed.shape == (1, 1) and out_shape != (1, 1):
            seed = Mat.fill(out_shape[0], out_shape[1], seed[0, 0])
        if seed.shape != out_shape:
            raise InputError(f"the seed is {seed.n}x{seed.m}, the output {output} is {out_shape[0]}x{out_shape[1]}",
                             key="backward.seed")
    else:
        seed = Mat.fill(out_shape[0], out_shape[1], ONE)
    wrt = []
    if "wrt" in back:
        if not isinstance(back["wrt"], list):
            raise InputError(f"expected a list of names, got {describe(back['wrt'])}", key="backward.wrt")
        for i, w in enumerate(back["wrt"], 1):
            w = parse_string(w, f"backward.wrt[{i}]")
            if w not in names or seen[w].split(".")[0] != "constants":
                raise InputError(f"{w!r} is not a constant", key=f"backward.wrt[{i}]")
            wrt.append(w)

    truncate, held = None, frozenset()
    if "truncate" in back:
        from .recurrence import held_edges

        t = back["truncate"]
        if not cell:
            raise InputError("truncate belongs to a recurrence (truncated backpropagation through time)",
                             key="backward.truncate")
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise InputError(f"expected a whole number of steps, 1 or more, got {describe(t)}", key="backward.truncate")
        truncate = t
        held = held_edges(rolled["recurrence"], steps, t)

    update = None
    if "update" in data:
        up = expect_table(data["update"], "update")
        check_keys(up, UPDATE_KEYS, "update")
        if "learning_rate" not in up:
            raise InputError("the update needs a learning_rate", key="update.learning_rate")
        eta = parse_number(up["learning_rate"], "update.learning_rate")
        direction = choose(up.get("direction", "descent"), "update.direction",
                           {"descent": "descent", "ascent": "ascent"}, "direction")
        inputs = [n.name for n in nodes if n.role == "input"]
        if "params" in up:
            if not isinstance(up["params"], list):
                raise InputError(f"expected a list of names, got {describe(up['params'])}", key="update.params")
            params = []
            for i, p in enumerate(up["params"], 1):
                p = parse_string(p, f"update.params[{i}]")
                if p not in names or (p not in inputs and p not in wrt):
                    raise InputError(f"{p!r} is not an input (only inputs and wrt constants are updated)",
                                     key=f"update.params[{i}]")
                params.append(p)
        else:
            params = inputs
        opt = optimizers.read(up["optimizer"], "update.optimizer") if "optimizer" in up else optimizers.SGD
        update = Update(eta, direction, tuple(params), opt)

    symbols = {}
    for name, form in expect_table(data.get("symbols", {}), "symbols").items():
        key = f"symbols.{name}"
        if name not in names:
            raise InputError(f"{name!r} is not a name of this graph", key=key)
        form = parse_string(form, key)
        if not SYMBOL.fullmatch(form):
            raise InputError(f"{form!r}: a display form is a name with an optional ^(superscript), such as W^(1)",
                             key=key)
        symbols[name] = form
    own = {k: v for k, v in functions.items() if k in custom}
    return GraphProblem(tuple(nodes), output, seed, tuple(wrt), update, symbols, title, description, source,
                        functions=own, leaky_slope=slope, recurrence=(steps, cell) if cell else None, rolled=rolled,
                        truncate=truncate, held=held)


#: the kit's name for reading a problem of this kind
from_dict = graph_from_dict
