"""Class variants of a graph: the same nodes, new nice values for the leaves
named in ``vary`` (default: every input and constant).

Each candidate draws each varied entry from LO..HI in steps of S, is
solved exactly and cross-checked, and is kept when every rational value it
reports terminates within ``decimals`` places, no kink's convention is
needed (unless allowed), every updated value visibly moves at ``decimals``
places, and it differs from every variant kept before.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ...lang import messages
from ...errors import InputError, LimitError, SolveError, StepsolverError, TimeLimitError
from ...exact import Mat, decimal_text, denom, is_rational, terminating_places
from .. import kit
from . import engine, numeric
from .problem import GraphProblem


@dataclass(frozen=True)
class GraphSpec:
    problem: GraphProblem
    vary: tuple  # leaf names
    low: object
    high: object
    step: object
    decimals: int = 4
    allow_kinks: bool = False
    title: str | None = None  # None: "Computation graph exercise" in ``lang``
    command: str = ""
    lang: str = "en"


def _value_text(M: Mat) -> str:
    if M.shape == (1, 1):
        return decimal_text(M[0, 0])
    if M.m == 1:
        return "[" + ", ".join(decimal_text(x) for x in M.entries()) + "]"
    return "[" + ", ".join("[" + ", ".join(decimal_text(x) for x in r) + "]" for r in M.rows) + "]"


def problem_text(p: GraphProblem, title: str, command: str = "") -> str:
    lines = [f"# {command}"] if command else []
    lines += ['kind = "graph"', f'title = "{title}"']
    if p.leaky_slope is not None:
        lines.append(f"leaky_slope = {decimal_text(p.leaky_slope)}")
    rolled = p.rolled
    seq_entries = set()
    if rolled:
        seq_entries = {f"{name}{k}" for name in rolled["sequence"] for k in range(1, rolled["steps"] + 1)}
    for table, role in (("inputs", "input"), ("constants", "constant")):
        leaves = [n for n in p.nodes if n.role == role and n.name not in seq_entries]
        if leaves:
            lines.append(f"[{table}]")
            lines += [f"{n.name} = {_value_text(n.value)}" for n in leaves]
    if rolled:  # a recurrence is written back as the cell it was, its sequences with their new entries
        lines.append("[sequence]")
        for name in rolled["sequence"]:
            vals = [_value_text(p.by_name[f"{name}{k}"].value) for k in range(1, rolled["steps"] + 1)]
            lines.append(f"{name} = [{', '.join(vals)}]")
        lines.append("[recurrence]")
        lines += [f'{k} = "{v}"' for k, v in rolled["recurrence"].items()]
        lines.append("[nodes]")
        lines += [f'{k} = "{v}"' for k, v in rolled["nodes"].items()]
    else:
        lines.append("[nodes]")
        lines += [f'{n.name} = "{n.text}"' for n in p.inner]
    lines += ["[backward]", f'output = "{p.output}"', f"seed = {_value_text(p.seed)}"]
    if p.wrt:
        lines.append("wrt = [" + ", ".join(f'"{w}"' for w in p.wrt) + "]")
    if p.truncate:
        lines.append(f"truncate = {p.truncate}")
    if p.update is not None:
        lines += ["[update]", f"learning_rate = {decimal_text(p.update.learning_rate)}",
                  f'direction = "{p.update.direction}"', "params = [" + ", ".join(f'"{x}"' for x in p.update.params) + "]"]
        opt = p.update.optimizer
        if not opt.plain:
            lines += ["[update.optimizer]", f'name = "{opt.name}"']
            lines += [f"{k} = {decimal_text(v)}" for k, v in opt.params if k in opt.explicit]
            if opt.epsilon_inside:
                lines.append("epsilon_inside = true")
    if p.symbols:
        lines.append("[symbols]")
        lines += [f'{k} = "{v}"' for k, v in p.symbols.items()]
    if p.functions:
        lines.append("[functions]")
        lines += [f'{k} = "{f.text}"' for k, f in p.functions.items()]
    return "\n".join(lines) + "\n"


def _nice(trace, decimals: int, allow_kinks: bool) -> bool:
    s = trace.steps[0]
    if s.kinks and not allow_kinks:
        return False
    for d in (s.values, s.grads, s.new):
        for M in d.values():
            for x in M.entries():
                if is_rational(x):
                    places = terminating_places(denom(x))
                    if places is None or places > decimals:
                        return False
    scale = 10 ** decimals
    for name, M in s.new.items():
        for new, old in zip(M.entries(), s.values[name].entries()):
            if new != old and abs(new - old) * scale < 1:
                return False  # an update too small to see at these decimals
    return True


def generate(spec: GraphSpec, count: int, seed: int, max_tries: int = 50_000, progress=None) -> list[str]:
    import dataclasses

    p = spec.problem
    names = {n.name for n in p.leaves}
    for v in spec.vary:
        if v not in names:
            raise InputError(f"{v!r} is not an input or constant of the graph", key="--vary")
    grid = kit.grid(spec.low, spec.high, spec.step, key="--weight-range")
    rng = random.Random(seed)
    seen, texts = set(), []
    tries = 0
    while len(texts) < count:
        tries += 1
        if tries > max_tries:
            raise LimitError(f"found only {len(texts)} of {count} distinct variants in {max_tries} tries; widen "
                             "--weight-range, use a finer --weight-step, allow more --decimals or vary more values",
                             key="--count")
        nodes = []
        for n in p.nodes:
            if n.name in spec.vary:
                n = dataclasses.replace(n, value=Mat(tuple(rng.choice(grid) for _ in range(n.value.m))
                                                     for _ in range(n.value.n)))
            nodes.append(n)
        cand = dataclasses.replace(p, nodes=tuple(nodes), title=None)
        key = tuple(tuple(n.value.entries()) for n in nodes if n.name in spec.vary)
        if key in seen:
            continue
        seen.add(key)
        try:
            trace = engine.solve_exact(cand)
            numeric.crosscheck(trace)
        except (SolveError, LimitError, ZeroDivisionError):
            continue
        except TimeLimitError:
            raise
        except StepsolverError:
            continue
        if not _nice(trace, spec.decimals, spec.allow_kinks):
            continue
        tr = messages(spec.lang)
        title = spec.title if spec.title is not None else tr.t("variant.graph_title")
        texts.append(problem_text(cand, tr.t("variant.title", title=title, number=len(texts) + 1), spec.command))
        if progress is not None:
            progress(len(texts))
    return texts


def spec_from_options(options: dict, problem=None) -> GraphSpec:
    """What ``generate --from GRAPH.toml`` asks for, from its options (the
    command line's names: vary, weight_range, weight_step, decimals,
    allow_kinks, title, lang, count, seed, source) and the graph it varies."""
    import os
    import shlex

    from ...exact import Q
    from ...tomlio import parse_number

    if problem is None:
        raise InputError("give --from GRAPH.toml, the computation graph to make variants of", key="--from")

    def num(text, flag):
        return parse_number(str(text).strip(), flag)

    vary_text = options.get("vary")
    vary = tuple(v.strip() for v in vary_text.split(",")) if vary_text else tuple(n.name for n in problem.leaves)
    parts = str(options["weight_range"]).split(",")
    if len(parts) != 2:
        raise InputError(f"expected LO,HI, got {options['weight_range']!r}", key="--weight-range")
    low, high = num(parts[0], "--weight-range"), num(parts[1], "--weight-range")
    step = num(options["weight_step"], "--weight-step") if options.get("weight_step") else Q(1)
    title = problem.title or options.get("title")
    command = options.get("command") or (
        f"generated by: stepsolver generate --from {shlex.quote(os.path.basename(options['source']))} --vary {','.join(vary)} "
        f"--weight-range {shlex.quote(str(options['weight_range']))} --count {options['count']} --seed {options['seed']}")
    return GraphSpec(problem, vary, low, high, step, options.get("decimals", 4), options.get("allow_kinks", False),
                     None if title is None else title.replace('"', "'").replace("\\", "/"), command, options.get("lang", "en"))


def variant_like(problem, seed: int, lang: str = "en") -> str:
    """One fresh variant of a graph exercise (the practice page's "New
    variant"): every input and constant drawn again from -2..2, as
    ``generate --from`` does by default."""
    from ...exact import Q

    spec = GraphSpec(problem, tuple(n.name for n in problem.leaves), Q(-2), Q(2), Q(1), 4, False,
                     None if problem.title is None else problem.title.replace('"', "'").replace("\\", "/"), "", lang)
    return generate(spec, 1, seed, max_tries=2000)[0]
