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

import numpy as np

from ...errors import InputError, LimitError, SolveError, StepsolverError
from ...exact import Q, Uncertain, decimal_text, denom, is_rational, terminating_places, to_mpf
from ...lang import messages
from ...tomlio import parse_number, parse_toml_bytes
from .. import kit
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
    #: the lines of an [optimizer] table (None: plain gradient descent)
    optimizer: tuple | None = None
    extra: dict = field(default_factory=dict)


def grid(low, high, step) -> list:
    """The kit's grid (kinds/kit.py)."""
    return kit.grid(low, high, step)


def _target_grid(spec: Spec):
    out_act = spec.activations[-1]
    if spec.targets is not None:
        return grid(*spec.targets)
    if spec.loss == "binary_cross_entropy" or out_act == "sigmoid":
        return [Q(0), Q(1)]
    if out_act == "tanh":
        return [Q(-1), Q(-1, 2), Q(0), Q(1, 2), Q(1)]
    return grid(*spec.inputs)


def candidate(spec: Spec, rng: random.Random, screen: "Screen | None" = None) -> dict:
    """One random problem (as the TOML data would read).  With a ``screen``
    the layers are drawn unit by unit, and a unit whose pre-activation sits
    on a kink or where its function saturates, for some example, is drawn
    again (up to ``REDRAWS`` times): most candidates then pass, instead of a
    few percent of them."""
    wgrid = grid(*spec.weights)
    xgrid = grid(*spec.inputs)
    tgrid = _target_grid(spec)
    pick = lambda g: g[rng.randrange(len(g))]  # noqa: E731
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
    layers = []
    A = screen.inputs(examples) if screen is not None else None
    for l in range(1, len(spec.sizes)):
        n_in, n_units = spec.sizes[l - 1], spec.sizes[l]
        for _ in range(REDRAWS if screen is not None and screen.layer_screened(l - 1) else 1):
            W = [[pick(wgrid) for _ in range(n_in)] for _ in range(n_units)]
            b = [pick(wgrid) for _ in range(n_units)]
            if A is None or screen.layer_ok(l - 1, W, b, A):
                break
        if screen is not None and A is not None:
            A = screen.activate(l - 1, W, b, A)
        layers.append({"weights": W, "bias": b, "activation": spec.activations[l - 1]})
    return {"layers": layers, "examples": examples}


#: how many times a layer is drawn again when a pre-activation sits on a kink or saturates
REDRAWS = 200


class Screen:
    """A float64 look at a candidate before the exact solve: the forward
    pass layer by layer (to draw a unit again where it sits on a kink or
    saturates), and the whole update (numeric.float_step, the cross-check's
    own arithmetic) to reject, without an exact solve, a candidate the exact
    test is sure to reject.  Every test leaves a margin far above float64's
    error, so a candidate the exact test would keep is never rejected here."""

    def __init__(self, spec: Spec, template):
        from ...functions.arrays import Float64

        self.spec = spec
        self.problem = template
        self.xp = Float64()
        self.acts = [layer.activation for layer in template.layers]
        self.mult = _nice_multiplier(spec)
        loss = template.loss.name
        self.rational = all(a.rational for a in self.acts) and loss in ("half_sse", "sse", "mse")

    # -- the forward pass, layer by layer --------------------------------
    def inputs(self, examples):
        return np.array([[float(v) for v in ex["x"]] for ex in examples], dtype=float).T

    def layer_screened(self, l: int) -> bool:
        name = self.spec.activations[l]
        return (getattr(self.acts[l], "piecewise", False) and not self.spec.allow_kinks) or name in SATURATION

    def _z(self, W, b, A):
        return np.array(W, dtype=float) @ A + np.array([float(v) for v in b], dtype=float)[:, None]

    def layer_ok(self, l: int, W, b, A) -> bool:
        Z = self._z([[float(w) for w in r] for r in W], b, A)
        act, name = self.acts[l], self.spec.activations[l]
        if getattr(act, "piecewise", False) and not self.spec.allow_kinks and np.any(np.abs(Z) < 1e-9):
            return False
        limit = SATURATION.get(name)
        if limit is not None:
            if name == "softmax":
                return bool(np.all(Z.max(axis=0) - Z.min(axis=0) <= 2 * limit + 1e-9))
            return bool(np.all(np.abs(Z) <= limit + 1e-9))
        return True

    def activate(self, l: int, W, b, A):
        Z = self._z([[float(w) for w in r] for r in W], b, A)
        act = self.acts[l]
        with self.xp.quiet():
            return act.np_column(Z, self.xp)[0] if act.vector else act.np_value(Z, self.xp)

    # -- the whole update ---------------------------------------------------
    def reject(self, data) -> str | None:
        """Why the exact test is sure to reject this candidate, or None."""
        from .numeric import float_step

        spec, xp = self.spec, self.xp
        params = [(np.array([[float(w) for w in r] for r in layer["weights"]], dtype=float),
                   np.array([[float(v)] for v in layer["bias"]], dtype=float)) for layer in data["layers"]]
        X = np.array([[float(v) for v in ex["x"]] for ex in data["examples"]], dtype=float).T
        T = np.array([[float(v) for v in ex["t"]] for ex in data["examples"]], dtype=float).T
        eta, l2 = float(spec.learning_rate), 0.0
        m = X.shape[1]
        batches = [[j] for j in range(m)] if spec.update == "online" else [list(range(m))]
        half = 0.5 * 10.0 ** -spec.decimals
        state, t = None, 0
        for _ in range(spec.steps):
            for cols in batches:
                t += 1
                Xb, Tb = X[:, cols], T[:, cols]
                A, zsigns = Xb, []
                for (W, b), act in zip(params, self.acts):
                    Z = W @ A + b
                    zsigns.append(np.sign(Z))
                    with xp.quiet():
                        A = act.np_column(Z, xp)[0] if act.vector else act.np_value(Z, xp)
                res, new = float_step(self.problem, params, Xb, Tb, zsigns, eta, l2, xp, state, t)
                state = res["state"]
                J = float(res["loss"][0, 0])
                if not np.isfinite(J):
                    return "not finite"
                if abs(J) < 1e-300:
                    return "zero loss"
                values = [J]
                if not any(np.any(np.abs(lr["grad_W"]) > 1e-12) for lr in res["layers"]):
                    return "no weight gradient"
                for (W, b), (Wn, bn), lr in zip(params, new, res["layers"]):
                    for d in (np.abs(Wn - W), np.abs(bn - b)):
                        if np.any((d > 1e-9 * half) & (d < half * (1 - 1e-6))):
                            return "update too small to show"
                    for key in ("z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new"):
                        values.append(np.asarray(lr[key], dtype=float))
                flat = np.concatenate([np.ravel(v) for v in values])
                if not np.all(np.isfinite(flat)):
                    return "not finite"
                if np.any(np.abs(flat) > MAX_MAGNITUDE * (1 + 1e-9)):
                    return f"a value above {MAX_MAGNITUDE}"
                if self.rational:
                    scaled = flat * self.mult * 10.0**MAX_PLACES
                    if np.any(np.abs(scaled - np.round(scaled)) > 1e-6 * np.maximum(1.0, np.abs(scaled))):
                        return f"more than {MAX_PLACES} decimals"
                params = new
        return None


def _nice_multiplier(spec: Spec) -> int:
    """A mean over m examples (and mse's mean over n outputs) divides by m:
    where m has a prime factor other than 2 and 5, a value is nice when m
    times it is (thirds of nice numbers with a batch of 3), since no hand
    calculation of that mean avoids them."""
    mult = 1
    for k in ([spec.examples] if spec.batch == "mean" and spec.update == "batch" else []) + \
             ([spec.sizes[-1]] if spec.loss == "mse" else []):
        while k % 2 == 0:
            k //= 2
        while k % 5 == 0:
            k //= 5
        mult *= k
    return mult


def _nice_value(v, mult: int = 1) -> bool:
    if is_rational(v):
        if abs(v) > MAX_MAGNITUDE:
            return False
        places = terminating_places(denom(v * mult))
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
            for M in (lt.z, lt.a, lt.gprime, lt.delta, lt.grad_W, lt.grad_b, lt.W_new, lt.b_new,
                      *(lt.opt or {}).values()):
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
    mult = _nice_multiplier(spec)
    return all(_nice_value(v, mult) for v in values)


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
    if spec.optimizer:
        name = spec.optimizer[0].split('"')[1]
        description = tr.t("variant.with_optimizer", description=description, optimizer=tr.t(f"opt.name.{name}"))
    lines.append(f'description = "{description}"')
    lines.append(f"learning_rate = {decimal_text(spec.learning_rate)}")
    lines.append(f'loss = "{spec.loss}"')
    if spec.batch != "mean":
        lines.append(f'batch = "{spec.batch}"')
    if spec.update != "batch":
        lines.append(f'update = "{spec.update}"')
    if spec.steps != 1:
        lines.append(f"steps = {spec.steps}")
    if spec.optimizer:
        lines.append("")
        lines.append("[optimizer]")
        lines.extend(spec.optimizer)
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
    """The TOML texts of ``count`` distinct variants for ``seed``.

    Candidates are drawn unit by unit past kinks and saturation, screened in
    float64 (``Screen``), and only those that pass are solved exactly and
    tested (``is_nice``); the exact trace of a kept one is cross-checked and
    its file written from the same data, never parsed again.  When the
    constraints cannot give ``count`` variants, it says so early, with the
    numbers and the constraint that rejects most."""
    if count < 1:
        raise InputError("--count must be at least 1")
    if count > 1000:
        raise LimitError("--count is above the limit of 1000")
    _check_room(spec, count)
    rng = random.Random(seed)
    template = _load(problem_text(spec, candidate(spec, random.Random(seed)), 0, 0), "generated")
    screen = Screen(spec, template)
    reasons: dict[str, int] = {}
    seen: set[str] = set()
    texts: list[str] = []
    tries = 0

    def rejected(why: str):
        reasons[why] = reasons.get(why, 0) + 1

    while len(texts) < count:
        tries += 1
        if tries > max_tries or (tries >= 2000 and tries % 1000 == 0 and _hopeless(len(texts), count, tries, max_tries)):
            raise LimitError(_shortfall(len(texts), count, tries - 1, max_tries, reasons, spec))
        data = candidate(spec, rng, screen)
        body = problem_text(spec, data, 0, 0)
        key = body.split("learning_rate", 1)[1]
        if key in seen:
            rejected("the same as an earlier variant")
            continue
        why = screen.reject(data)
        if why:
            rejected(why)
            continue
        try:
            trace = solve_exact(_load(body, "generated"))
        except (SolveError, LimitError):
            rejected("cannot be solved")
            continue
        try:
            if not is_nice(trace, spec):
                rejected(_exact_reason(trace, spec))
                continue
        except Uncertain:  # a change too close to 0 to tell its size: not a variant to hand out
            rejected("update too small to show")
            continue
        seen.add(key)
        number = len(texts) + 1
        crosscheck(trace)  # the cross-check, as for every solve (the file differs only in its title)
        texts.append(problem_text(spec, data, number, count))
        if progress:
            progress(number, count)
    return texts


def _check_room(spec: Spec, count: int) -> None:
    """Refuse at once when the grids hold fewer distinct problems than asked for."""
    wn, xn = len(grid(*spec.weights)), len(grid(*spec.inputs))
    tn = 0 if spec.loss == "cross_entropy" else len(_target_grid(spec))
    n_params = sum(spec.sizes[l - 1] * spec.sizes[l] + spec.sizes[l] for l in range(1, len(spec.sizes)))
    per_example = xn ** spec.sizes[0] * (spec.sizes[-1] if spec.loss == "cross_entropy" else tn ** spec.sizes[-1])
    import math

    room = n_params * math.log(wn) + spec.examples * math.log(max(per_example, 1))
    if room < math.log(count):
        raise LimitError(
            f"the ranges hold only about {round(math.exp(room))} distinct problems and {count} were asked for: "
            f"widen --weight-range or --input-range or use a smaller --weight-step")


def _hopeless(found: int, count: int, tries: int, max_tries: int) -> bool:
    """Whether, at the rate so far, the remaining variants need more tries than are left."""
    if found == 0:  # none in the first tries: the constraints rule (nearly) every draw out
        return tries >= min(max_tries // 5, 2000)
    return tries / found * (count - found) > 1.5 * (max_tries - tries)


def _shortfall(found: int, count: int, tries: int, max_tries: int, reasons: dict, spec: Spec) -> str:
    top = sorted(reasons.items(), key=lambda kv: -kv[1])[:3]
    why = ", ".join(f"{k} ({100 * v / max(tries, 1):.0f} %)" for k, v in top)
    relax = {
        "on a kink": "add --allow-kinks or use another --input-range",
        "saturated": "narrow --weight-range or --input-range, or use a smaller --weight-step",
        f"more than {MAX_PLACES} decimals": "use --batch-size 1, 2, 4 or 5, or a learning rate like 0.1 or 0.5",
        "update too small to show": "use a larger --learning-rate or lower --decimals",
        "the same as an earlier variant": "widen --weight-range or --input-range",
    }
    hint = next((relax[k] for k, _ in top if k in relax), "widen the weight or input ranges")
    return (f"found only {found} of {count} distinct variants with nice numbers in {tries} tries "
            f"(at most {max_tries}); rejected most often: {why}; to get more, {hint}")


def _exact_reason(trace, spec: Spec) -> str:
    """The exact test's reason, named as the screen names its own."""
    for step in trace.steps:
        if step.kinks and not spec.allow_kinks:
            return "on a kink"
        if not _updates_visible(step, spec.decimals):
            return "update too small to show"
    for step in trace.steps:
        for l, lt in enumerate(step.layers):
            limit = SATURATION.get(spec.activations[l])
            if limit is not None and spec.activations[l] != "softmax" and any(abs(to_mpf(z)) > limit for z in lt.z.entries()):
                return "saturated"
    return f"more than {MAX_PLACES} decimals"


def _load(text: str, name: str):
    data = parse_toml_bytes(text.encode("utf-8"), name)
    try:
        return problem_from_dict(data, source=name)
    except StepsolverError as exc:
        raise exc.located(name)


def spec_from_options(options: dict, problem=None) -> Spec:
    """What ``generate --layers ...`` asks for, from its options (a dict of the
    command line's names: layers, activation, loss, learning_rate,
    batch_size, batch, update, steps, weight_range, weight_step, input_range,
    input_step, target_range, target_step, allow_kinks, decimals, title,
    command, lang, optimizer)."""
    if problem is not None:
        raise InputError("is not a computation graph (kind = \"graph\"); use --layers for networks",
                         file=options.get("source"))

    def num(text, flag):
        return parse_number(str(text).strip(), flag)

    def rng(text, flag):
        parts = [p for p in str(text).split(",")]
        if len(parts) != 2:
            raise InputError(f"expected LO,HI, got {text!r}", key=flag)
        return num(parts[0], flag), num(parts[1], flag)

    layers = options["layers"]
    sizes = []
    for part in layers.split(","):
        if not part.strip().isdigit() or not 1 <= int(part) <= 16:
            raise InputError(f"expected unit counts from 1 to 16 separated by commas, got {layers!r}", key="--layers")
        sizes.append(int(part))
    if len(sizes) < 2 or len(sizes) > 9:
        raise InputError("give the input size and 1 to 8 layers, e.g. 2,3,2", key="--layers")
    activation = options["activation"]
    acts = [a.strip() for a in activation.split(",")] if "," in activation else [activation] * (len(sizes) - 1)
    if len(acts) != len(sizes) - 1:
        raise InputError(f"expected 1 or {len(sizes) - 1} activations, got {len(acts)}", key="--activation")
    transcendental = any(a in ("sigmoid", "tanh", "softmax", "softplus") for a in acts)
    wstep = num(options["weight_step"], "--weight-step") if options.get("weight_step") else (Q(1, 2) if transcendental else Q(1))
    if not 1 <= options["batch_size"] <= 16:
        raise InputError("must be from 1 to 16", key="--batch-size")
    target_range = options.get("target_range")
    return Spec(
        sizes=sizes,
        activations=acts,
        loss=options["loss"],
        learning_rate=num(options["learning_rate"], "--learning-rate"),
        examples=options["batch_size"],
        batch=options["batch"],
        update=options["update"],
        steps=options["steps"],
        weights=(*rng(options["weight_range"], "--weight-range"), wstep),
        inputs=(*rng(options["input_range"], "--input-range"), num(options["input_step"], "--input-step")),
        targets=(*rng(target_range, "--target-range"), num(options["target_step"], "--target-step")) if target_range else None,
        allow_kinks=options["allow_kinks"],
        decimals=options["decimals"],
        title=options.get("title"),
        command=options.get("command") or "",
        lang=options.get("lang", "en"),
        optimizer=options.get("optimizer"),
    )


def variant_like(problem, seed: int, lang: str = "en") -> str:
    """One fresh variant of a network exercise (the practice page's "New
    variant"): its sizes, activations, loss, learning rate, batch, update,
    steps and optimizer, with weights, inputs and targets drawn as ``generate``
    draws them.  What the variant loop cannot draw again is refused by name."""
    from ...functions import activations

    acts = [layer.activation.name for layer in problem.layers]
    for a in acts:
        if a not in activations.REGISTRY:
            raise InputError(f"a new variant cannot draw for the custom activation {a!r}", key="activation")
    opt = problem.optimizer
    lines = None
    if not opt.plain:
        lines = [f'name = "{opt.name}"']
        for k, v in opt.params:
            if k in opt.explicit:
                text = decimal_text(v) if is_rational(v) and terminating_places(denom(v)) is not None else f'"{v}"'
                lines.append(f"{k} = {text}")
        if opt.epsilon_inside:
            lines.append("epsilon_inside = true")
        lines = tuple(lines)
    spec = Spec(sizes=problem.sizes, activations=acts, loss=problem.loss.name, learning_rate=problem.learning_rate,
                examples=len(problem.examples), batch=problem.batch, update=problem.update, steps=problem.steps,
                weights=(Q(-2), Q(2), Q(1, 2) if any(a in ("sigmoid", "tanh", "softmax", "softplus") for a in acts)
                         else Q(1)),
                title=problem.title, lang=lang, optimizer=lines)
    text = generate(spec, 1, seed, max_tries=2000)[0]
    # the conventions the variant loop does not draw are kept as they were
    kept = []
    if problem.l2:
        kept.append(f"l2 = {_toml_number(problem.l2)}")
    if not problem.update_biases:
        kept.append("update_biases = false")
    if "leaky_slope" in problem.explicit:
        kept.append(f"leaky_slope = {_toml_number(problem.leaky_slope)}")
    if kept:
        head, sep, tail = text.partition("\nloss = ")
        line, nl, rest = tail.partition("\n")
        text = head + sep + line + nl + "\n".join(kept) + "\n" + rest
    return text


def _toml_number(v) -> str:
    return decimal_text(v) if is_rational(v) and terminating_places(denom(v)) is not None else f'"{v}"'
