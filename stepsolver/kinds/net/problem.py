"""Reading and validating a problem file (format v1) into a :class:`Problem`.

Validation happens here, once: every fault raises :class:`InputError` naming
the file and the TOML key path (``layers[2].bias``; array indices count from
1, like layers and examples in the output).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import limits
from ...errors import InputError, LimitError
from ...exact import ONE, Q, ZERO, Mat, q_str
from ...functions import activations, losses, optimizers
from ...functions.activations import Activation
from ...trace import problem_name
from ...tomlio import (
    FloatText,
    check_keys,
    describe,
    choose,
    expect_table_list,
    parse_bool,
    parse_int,
    parse_matrix,
    parse_number,
    parse_string,
    parse_vector,
)

TOP_KEYS = (
    "kind",
    "title",
    "description",
    "learning_rate",
    "loss",
    "activation",
    "batch",
    "update",
    "steps",
    "l2",
    "update_biases",
    "leaky_slope",
    "optimizer",
    "layers",
    "examples",
)
LAYER_KEYS = ("weights", "bias", "activation")
EXAMPLE_KEYS = ("x", "t")


@dataclass(frozen=True)
class Layer:
    W: Mat  # n_l x n_(l-1)
    b: Mat  # n_l x 1
    activation: Activation

    @property
    def units(self) -> int:
        return self.W.n

    @property
    def inputs(self) -> int:
        return self.W.m


@dataclass(frozen=True)
class Example:
    x: Mat  # n_0 x 1
    t: Mat  # n_L x 1


@dataclass(frozen=True)
class Problem:
    layers: tuple[Layer, ...]
    examples: tuple[Example, ...]
    learning_rate: object
    loss: losses.Loss
    batch: str = "mean"  # mean | sum
    update: str = "batch"  # batch | online
    steps: int = 1
    l2: object = ZERO
    update_biases: bool = True
    leaky_slope: object = Q(1, 100)
    optimizer: optimizers.Optimizer = optimizers.SGD
    title: str | None = None
    description: str | None = None
    source: str | None = None  # the file it came from, as given
    #: which keys the file set explicitly (for stating conventions)
    explicit: frozenset = field(default_factory=frozenset)

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].inputs] + [l.units for l in self.layers]

    @property
    def X(self) -> Mat:
        return Mat.from_columns([e.x for e in self.examples])

    @property
    def T(self) -> Mat:
        return Mat.from_columns([e.t for e in self.examples])


    @property
    def name(self) -> str:
        return problem_name(self.title, self.source, "Problem")


def problem_from_dict(data: dict, source: str | None = None) -> Problem:
    check_keys(data, TOP_KEYS, "")
    explicit = frozenset(data)

    title = _opt_text(data, "title")
    description = _opt_text(data, "description")

    if "learning_rate" not in data:
        raise InputError("missing required key (the step size, e.g. learning_rate = 0.1)", key="learning_rate")
    eta = parse_number(data["learning_rate"], "learning_rate")
    if eta <= 0:
        raise InputError(f"must be greater than 0, got {_qs(eta)}", key="learning_rate")

    loss = choose(data.get("loss", "half_sse"), "loss", losses.REGISTRY, "loss")
    batch = choose(data.get("batch", "mean"), "batch", {"mean": "mean", "sum": "sum"}, "batch rule")
    update = choose(data.get("update", "batch"), "update", {"batch": "batch", "online": "online"}, "update rule")
    steps = parse_int(data.get("steps", 1), "steps", low=1, high=limits.MAX_STEPS)
    l2 = parse_number(data["l2"], "l2") if "l2" in data else ZERO
    if l2 < 0:
        raise InputError(f"must be 0 or more, got {_qs(l2)}", key="l2")
    update_biases = parse_bool(data["update_biases"], "update_biases") if "update_biases" in data else True
    optimizer = optimizers.read(data["optimizer"], "optimizer") if "optimizer" in data else optimizers.SGD
    slope = parse_number(data["leaky_slope"], "leaky_slope") if "leaky_slope" in data else Q(1, 100)
    options = {"leaky_slope": slope}

    default_act_spec = data.get("activation", "identity")
    default_act = activations.resolve(_act_text(default_act_spec, "activation"), "activation", **options)

    if "layers" not in data:
        raise InputError("missing: the network needs at least one [[layers]] table with weights", key="layers")
    raw_layers = expect_table_list(data["layers"], "layers")
    if not raw_layers:
        raise InputError("needs at least one [[layers]] table", key="layers")
    if len(raw_layers) > limits.MAX_LAYERS:
        raise LimitError(f"{len(raw_layers)} layers, the limit is {limits.MAX_LAYERS}", key="layers")

    if "examples" not in data:
        raise InputError("missing: give at least one [[examples]] table with x and t", key="examples")
    raw_examples = expect_table_list(data["examples"], "examples")
    if not raw_examples:
        raise InputError("needs at least one [[examples]] table", key="examples")
    if len(raw_examples) > limits.MAX_EXAMPLES:
        raise LimitError(f"{len(raw_examples)} examples, the limit is {limits.MAX_EXAMPLES}", key="examples")

    # the input width, as a hint for a layer-1 weight list written flat
    x_hint = None
    first_x = raw_examples[0].get("x") if isinstance(raw_examples[0], dict) else None
    if isinstance(first_x, list):
        x_hint = len(first_x)
    elif first_x is not None and not isinstance(first_x, (dict, bool)):
        x_hint = 1

    layers: list[Layer] = []
    prev_units: int | None = None
    total_params = 0
    for i, raw in enumerate(raw_layers, 1):
        where = f"layers[{i}]"
        check_keys(raw, LAYER_KEYS, where)
        if "weights" not in raw:
            raise InputError("missing (a list of rows, one per unit)", key=f"{where}.weights")
        expected_cols = prev_units if prev_units is not None else x_hint
        rows = parse_weights(raw["weights"], f"{where}.weights", expected_cols)
        n_units, n_in = len(rows), len(rows[0])
        if prev_units is not None and n_in != prev_units:
            raise InputError(
                f"expected {prev_units} columns (layer {i - 1} has {prev_units} units), got {n_in}",
                key=f"{where}.weights",
            )
        if n_units > limits.MAX_UNITS or n_in > limits.MAX_UNITS:
            raise LimitError(
                f"{n_units} units x {n_in} inputs, the limit is {limits.MAX_UNITS} per layer", key=f"{where}.weights"
            )
        if "bias" in raw:
            bias = parse_vector(raw["bias"], f"{where}.bias", n_units, why=" (one per unit)")
        else:
            bias = [ZERO] * n_units
        if "activation" in raw:
            act = activations.resolve(_act_text(raw["activation"], f"{where}.activation"), f"{where}.activation", **options)
            act_key = f"{where}.activation"
        else:
            act, act_key = default_act, "activation"
        if act.vector and i != len(raw_layers):
            raise InputError(
                f"{act.name} is only allowed on the output layer (here it would apply to hidden layer {i})",
                key=act_key,
            )
        total_params += n_units * n_in + n_units
        layers.append(Layer(W=Mat(rows), b=Mat.column(bias), activation=act))
        prev_units = n_units
    if total_params > limits.MAX_PARAMETERS:
        raise LimitError(
            f"the network has {total_params} weights and biases, the limit is {limits.MAX_PARAMETERS}", key="layers"
        )

    n_in, n_out = layers[0].inputs, layers[-1].units
    examples: list[Example] = []
    for j, raw in enumerate(raw_examples, 1):
        where = f"examples[{j}]"
        check_keys(raw, EXAMPLE_KEYS, where)
        for k in EXAMPLE_KEYS:
            if k not in raw:
                what = "the input" if k == "x" else "the target"
                raise InputError(f"missing ({what})", key=f"{where}.{k}")
        x = parse_vector(raw["x"], f"{where}.x", n_in, why=f" (layer 1 weights have {n_in} column{'s' if n_in != 1 else ''})")
        t = parse_vector(raw["t"], f"{where}.t", n_out, why=f" (the output layer has {n_out} unit{'s' if n_out != 1 else ''})")
        examples.append(Example(x=Mat.column(x), t=Mat.column(t)))

    out_act = layers[-1].activation
    if loss.requires_output and out_act.name != loss.requires_output:
        raise InputError(
            f"{loss.name} needs a {loss.requires_output} output layer (the output layer is {out_act.describe()}); "
            "use binary_cross_entropy for sigmoid outputs",
            key="loss",
        )

    updates = steps * (len(examples) if update == "online" else 1)
    if updates > limits.MAX_UPDATES:
        raise LimitError(
            f"{updates} updates ({steps} passes x {len(examples)} examples), the limit is {limits.MAX_UPDATES}",
            key="steps",
        )
    work = 3 * updates * sum(l.units * l.inputs for l in layers) * (len(examples) if update == "batch" else 1)
    rational = all(l.activation.rational for l in layers) and loss.name in ("half_sse", "sse", "mse") and not optimizer.rooted
    limit = limits.MAX_WORK if rational else limits.MAX_WORK_IRRATIONAL
    if work > limit:
        kind = "exact rational" if rational else "certified irrational"
        raise LimitError(
            f"too large for an exact solve within seconds (about {work:.2g} {kind} multiply-adds, the limit is "
            f"{limit:.2g}); use fewer examples, units, layers or steps",
            key="steps" if steps > 1 else "examples" if len(examples) > 1 else "layers",
        )

    return Problem(
        layers=tuple(layers),
        examples=tuple(examples),
        learning_rate=eta,
        loss=loss,
        batch=batch,
        update=update,
        steps=steps,
        l2=l2,
        update_biases=update_biases,
        leaky_slope=slope,
        optimizer=optimizer,
        title=title,
        description=description,
        source=source,
        explicit=explicit,
    )


def parse_weights(value, where: str, expected_cols: int | None) -> list[list]:
    """Weights: rows of numbers.  A flat list is one unit's row -- or, when the
    layer has a single input, one weight per unit."""
    if isinstance(value, list) and value and all(not isinstance(v, (list, dict)) for v in value):
        if expected_cols == 1 and len(value) != 1:
            return [[v] for v in parse_vector(value, where)]
    return parse_matrix(value, where)


def _opt_text(data: dict, key: str) -> str | None:
    if key not in data:
        return None
    text = parse_string(data[key], key)
    if len(text) > 20_000:
        raise LimitError(f"{key} is {len(text)} characters long, the limit is 20000", key=key)
    return text


def _act_text(value, where: str) -> str:
    if not isinstance(value, str) or isinstance(value, FloatText):
        raise InputError(
            f"expected an activation name in quotes (e.g. \"sigmoid\") or an expression in x, got {describe(value)}",
            key=where,
        )
    return value


def _qs(q) -> str:
    return q_str(q)


__all__ = ["Problem", "Layer", "Example", "problem_from_dict", "ONE"]


#: the kit's name for reading a problem of this kind
from_dict = problem_from_dict
