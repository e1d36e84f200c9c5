"""Variants of a network exercise for a whole class: distinct, solvable problem
files with nice numbers, the same bytes for the same seed.

Each variant is drawn from value grids (weights, biases, inputs, targets)
with a seeded generator, solved exactly, and kept only when

* every rational value of its trace (z, a, g'(z), the losses, delta, the
  gradients, the updated weights) has at most 4 decimal places and magnitude
  at most 1000;
* no pre-activation sits exactly on a kink (relu at 0) unless allowed;
* sigmoid, tanh and softmax pre-activations stay where the function is not
  saturated (|z| <= 3 for sigmoid and softmax spreads, |z| <= 2 for tanh);
* it teaches something (a nonzero loss and some nonzero weight gradient);
* every update it makes shows at the decimals asked for (``--decimals``,
  default 4): no weight changes by less than half a unit there, so copying
  the old weights can never pass for the answer;
* it differs from every variant before it;

and finally it passes the NumPy cross-check like every solve.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ...errors import InputError, LimitError, SolveError, StepsolverError
from ...exact import Q, decimal_text, denom, is_rational, q_str, terminating_places, to_mpf
from ...lang import messages
from ...tomlio import parse_toml_bytes
from .engine import solve_exact
from .numeric import crosscheck
from .problem import problem_from_dict

SATURATION = {"sigmoid": 3, "tanh": 2, "softmax": 3}
MAX_PLACES = 4
MAX_MAGNITUDE = 1000


@dataclass
class Spec:
    sizes: list[int]
    activations: list[str]
    loss: str = "half_sse"
    learning_rate: object = Q(1, 10)
    examples: int = 1
    batch: str = "mean"
    update: str = "batch"
    steps: int = 1
    weights: tuple = (Q(-2), Q(2), Q(1))  # low, high, step
    inputs: tuple = (Q(-2), Q(2), Q(1))
    targets: tuple | None = None  # None: chosen to fit the output activation and loss
    allow_kinks: bool = False
    #: every nonzero update must show at this many decimals (no invisible updates)
    decimals: int = 4
    title: str | None = None  # None: "Backpropagation exercise" in ``lang``
    command: str = ""
    #: the language of the titles and descriptions (stepsolver/lang/)
    lang: str = "en"
    extra: dict = field(default_factory=dict)


def grid(low, high, step) -> list:
    if step <= 0:
        raise InputError("the step of a range must be greater than 0")
    if high < low:
        raise InputError(f"empty range {q_str(low)} to {q_str(high)}")
    n = int((high - low) / step)
    if n > 10_000:
        raise LimitError("a range has more than 10000 values; use a larger step")
    return [low + k * step for k in range(n + 1)]


def _target_grid(spec: Spec):
    out_act = spec.activations[-1]
    if spec.targets is not None:
        return grid(*spec.targets)
    if spec.loss == "binary_cross_entropy" or out_act == "sigmoid":
        return [Q(0), Q(1)]
    if out_act == "tanh":
        return [Q(-1), Q(-1, 2), Q(0), Q(1, 2), Q(1)]
    return grid(*spec.inputs)


def candidate(spec: Spec, rng: random.Random) -> dict:
    """One random problem (as the TOML data would read)."""
    wgrid = grid(*spec.weights)
    xgrid = grid(*spec.inputs)
    tgrid = _target_grid(spec)
    pick = lambda g: g[rng.randrange(len(g))]  # noqa: E731
    layers = []
    for l in range(1, len(spec.sizes)):
        W = [[pick(wgrid) for _ in range(spec.sizes[l - 1])] for _ in range(spec.sizes[l])]
        b = [pick(wgrid) for _ in range(spec.sizes[l])]
        layers.append({"weights": W, "bias": b, "activation": spec.activations[l - 1]})
    examples = []
    n_out = spec.sizes[-1]
    for _ in range(spec.examples):
        x = [pick(xgrid) for _ in range(spec.sizes[0])]
        if spec.loss == "cross_entropy":
            k = rng.randrange(n_out)
            t = [Q(1) if i == k else Q(0) for i in range(n_out)]
        else:
            t = [pick(tgrid) for _ in range(n_out)]
        examples.append({"x": x, "t": t})
    return {"layers": layers, "examples": examples}


def _nice_value(v) -> bool:
    if is_rational(v):
        if abs(v) > MAX_MAGNITUDE:
            return False
        places = terminating_places(denom(v))
        return places is not None and places <= MAX_PLACES
    return abs(to_mpf(v)) <= MAX_MAGNITUDE


def is_nice(trace, spec: Spec) -> bool:
    acts = spec.activations
    for step in trace.steps:
        if step.kinks and not spec.allow_kinks:
            return False
        values = [step.loss.total] + [e.value for e in step.loss.per_example]
        for l, lt in enumerate(step.layers):
            limit = SATURATION.get(acts[l])
            if limit is not None:
                zs = [to_mpf(z) for z in lt.z.entries()]
                if acts[l] == "softmax":
                    for j in range(lt.z.m):
                        col = [to_mpf(lt.z[i, j]) for i in range(lt.z.n)]
                        if max(col) - min(col) > 2 * limit:
                            return False
                elif any(abs(z) > limit for z in zs):
                    return False
            for M in (lt.z, lt.a, lt.gprime, lt.delta, lt.grad_W, lt.grad_b, lt.W_new, lt.b_new):
                if M is not None:
                    values.extend(M.entries())
        if not any(v for v in values):
            return False
        if not any(x for lt in step.layers for x in lt.grad_W.entries()):
            return False
        if not step.loss.total:
            return False
        if not _updates_visible(step, spec.decimals):
            return False
    return all(_nice_value(v) for v in values)


def _updates_visible(step, decimals: int) -> bool:
    """Whether every weight and bias the update changes changes by at least
    half a unit of the decimals asked for: a student's digits must be able
    to show the update (no variant where copying the old weights would pass)."""
    half = Q(1, 2 * 10**decimals)
    for lt in step.layers:
        for new, old in ((lt.W_new, lt.W), (lt.b_new, lt.b)):
            for x, y in zip(new.entries(), old.entries()):
                d = x - y
                if d and abs(d) < half:
                    return False
    return True


def problem_text(spec: Spec, data: dict, number: int, count: int) -> str:
    """The TOML file of one variant (deterministic text)."""
    sizes = "-".join(str(s) for s in spec.sizes)
    acts = spec.activations
    tr = messages(spec.lang)
    named = [tr.t(f"act.{a}") if tr.has(f"act.{a}") and a != "leaky_relu" else a for a in acts]
    act_desc = named[0] if len(set(acts)) == 1 else ", ".join(named)
    loss = tr.t(f"loss.{spec.loss}") if tr.has(f"loss.{spec.loss}") else spec.loss
    title = spec.title if spec.title is not None else tr.t("variant.net_title")
    lines = []
    if spec.command:
        lines.append(f"# {spec.command}")
    lines.append("# " + tr.t("variant.comment", number=number, count=count))
    lines.append(f'title = "{tr.t("variant.title", title=title, number=number)}"')
    description = tr.t("variant.description", sizes=sizes, activations=act_desc, loss=loss,
                       eta=decimal_text(spec.learning_rate))
    lines.append(f'description = "{description}"')
    lines.append(f"learning_rate = {decimal_text(spec.learning_rate)}")
    lines.append(f'loss = "{spec.loss}"')
    if spec.batch != "mean":
        lines.append(f'batch = "{spec.batch}"')
    if spec.update != "batch":
        lines.append(f'update = "{spec.update}"')
    if spec.steps != 1:
        lines.append(f"steps = {spec.steps}")
    for layer in data["layers"]:
        lines.append("")
        lines.append("[[layers]]")
        lines.append("weights = [" + ", ".join("[" + ", ".join(decimal_text(w) for w in r) + "]" for r in layer["weights"]) + "]")
        lines.append("bias = [" + ", ".join(decimal_text(v) for v in layer["bias"]) + "]")
        lines.append(f'activation = "{layer["activation"]}"')
    for ex in data["examples"]:
        lines.append("")
        lines.append("[[examples]]")
        lines.append("x = [" + ", ".join(decimal_text(v) for v in ex["x"]) + "]")
        lines.append("t = [" + ", ".join(decimal_text(v) for v in ex["t"]) + "]")
    return "\n".join(lines) + "\n"


def generate(spec: Spec, count: int, seed: int, max_tries: int = 50_000, progress=None) -> list[str]:
    """The TOML texts of ``count`` distinct variants for ``seed``."""
    if count < 1:
        raise InputError("--count must be at least 1")
    if count > 1000:
        raise LimitError("--count is above the limit of 1000")
    rng = random.Random(seed)
    seen: set[str] = set()
    texts: list[str] = []
    tries = 0
    while len(texts) < count:
        tries += 1
        if tries > max_tries:
            raise LimitError(
                f"found only {len(texts)} of {count} distinct variants with nice numbers in {max_tries} tries; "
                "widen the weight or input ranges, use a batch size of 1, 2, 4 or 5, or --allow-kinks"
            )
        data = candidate(spec, rng)
        body = problem_text(spec, data, 0, 0)
        key = body.split("learning_rate", 1)[1]
        if key in seen:
            continue
        try:
            problem = _load(body, "generated")
            trace = solve_exact(problem)
        except (SolveError, LimitError):
            continue
        if not is_nice(trace, spec):
            continue
        seen.add(key)
        number = len(texts) + 1
        text = problem_text(spec, data, number, count)
        crosscheck(solve_exact(_load(text, f"variant {number}")))  # the cross-check, as for every solve
        texts.append(text)
        if progress:
            progress(number, count)
    return texts



def _load(text: str, name: str):
    data = parse_toml_bytes(text.encode("utf-8"), name)
    try:
        return problem_from_dict(data, source=name)
    except StepsolverError as exc:
        raise exc.located(name)
