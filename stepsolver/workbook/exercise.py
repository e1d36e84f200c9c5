"""One practice exercise, as plain functions of its source: the work the
practice server hands to its worker processes (``workbook/server.py``) and
``stepsolver.mark`` does in process.

An exercise is a :class:`Source` (an id, the problem's TOML text, its name
and the language of its prose): picklable, so a worker can solve it again
from the text, and a worker keeps the solved trace of the exercises it has
seen (``_trace``).  Every function returns plain data (dicts, str) for the
same reason.

The form is found, not guessed: the blank sheet (``check --blank``) is read
as data, every entry is numbered, and the numbered sheet is checked once;
each report item then names the entry it came from by its ``given`` text.
So the inputs of the page sit exactly where ``check`` reads them, for every
kind, and each carries the quantity's label and the entry's place in the
report's own words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import InputError, StepsolverError
from ..lang import messages
from ..render import RenderOptions, render, render_blank, render_report
from ..render.numbers import NumberStyle
from ..render.views import ReportView
from ..solution import check, solve, time_limit
from ..tomlio import FloatText, parse_toml_bytes

#: the fields of a JSON report item that say where it sits (the rest say what was found)
PLACE_FIELDS = ("step", "layer", "node", "quantity", "row", "col")


@dataclass(frozen=True)
class Source:
    """An exercise the server knows: ``id`` is the server's own name for it."""

    id: str
    text: str  # the problem file's TOML
    name: str  # the file it came from, or what made it ("variant of ...")
    lang: str = "en"


@lru_cache(maxsize=64)
def _trace(src: Source):
    from ..kinds import loads_problem

    problem = loads_problem(src.text, src.name)
    try:
        return solve(problem).trace
    except StepsolverError as exc:
        raise exc.located(src.name)


def _options(src: Source, **kw) -> RenderOptions:
    return RenderOptions(style=NumberStyle(digits=4), lang=src.lang, **kw)


def describe(src: Source) -> dict:
    """{"id", "title", "kind"}: what ``GET /api/exercises`` lists."""
    trace = _trace(src)
    return {"id": src.id, "title": trace.problem.name, "kind": trace.kind.name}


def blank(src: Source) -> dict:
    """The blank answers sheet as data: the structure of ``check --blank``,
    "?" for each entry."""
    text = render_blank(_trace(src), _options(src))
    return parse_toml_bytes(text.encode("utf-8"), "blank")


def _leaves(value, path=()):
    """(path, "?") for every entry of a blank sheet, in its order."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,))
    else:
        yield path, value


def _quantities(value, path=()):
    """(path, value) of each quantity of a blank sheet: a "?" or a list of
    them (a vector or a matrix), in the sheet's order."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _quantities(v, path + (k,))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):  # an array of tables: [[steps]], [[layers]]
            yield from _quantities(v, path + (i,))
    else:
        yield path, value


def _set(data, path, value):
    for p in path[:-1]:
        data = data[p]
    data[path[-1]] = value


def place(item: dict) -> str:
    """Where a JSON report item sits, as one string (the page matches inputs by it)."""
    return "|".join(f"{k}={json.dumps(item[k])}" for k in PLACE_FIELDS if k in item)


@lru_cache(maxsize=64)
def form(src: Source) -> dict:
    """The blank sheet as a form: the quantities in worked order, each with its
    label and shape, and each entry with its path in the answers, its place in
    a report and its label for a screen reader."""
    trace = _trace(src)
    tr = messages(src.lang)
    sheet = blank(src)
    numbered = json.loads(json.dumps(sheet))
    paths = [p for p, _ in _leaves(sheet)]
    for k, p in enumerate(paths, 1):
        _set(numbered, p, k)
    report = check(trace, trace.kind.read_answers(numbered, trace))
    view = ReportView(report, tr)
    where_key = getattr(trace.kind, "where_key", "layer")
    labels = {}
    for step in trace.steps:
        for q in trace.quantities(step):
            labels[q.key] = tr.text(q.label)
    several = len(trace.steps) > 1
    cells, key = {}, {}
    for it, row in zip(report.items, report.to_dict(tr)["items"]):
        key[place(row)] = _shown(row["expected"], row["expected_value"])
        k = int(it.given.text)
        label = labels.get(it.key, it.quantity)
        if several:
            label = tr("practice.step_label", step=it.step, label=label)
        cells[paths[k - 1]] = {"order": len(cells), "place": place(row), "label": view.where(it), "quantity": label,
                               "step": it.step, where_key: it.layer, "name": it.quantity}
    missing = [p for p in paths if p not in cells]
    if missing:  # every entry of the blank sheet must be one the marker reads
        raise InputError(f"the blank sheet's entry {'.'.join(map(str, missing[0]))} is not marked")
    groups = []
    for path, value in _quantities(sheet):
        if isinstance(value, list) and value and isinstance(value[0], list):
            shape, entries = [len(value), len(value[0])], [[path + (i, j) for j in range(len(r))] for i, r in enumerate(value)]
        elif isinstance(value, list):
            shape, entries = [len(value), 1], [[path + (i,)] for i in range(len(value))]
        else:
            shape, entries = [1, 1], [[path]]
        first = cells[entries[0][0]]
        groups.append({
            "path": list(path),
            "id": "-".join(map(str, path)),
            "label": first["quantity"],
            "shape": shape,
            "flat": isinstance(value, list) and not (value and isinstance(value[0], list)),
            "rows": [[{"path": list(p), "id": "e-" + "-".join(map(str, p)), "place": cells[p]["place"],
                       "label": cells[p]["label"]} for p in r] for r in entries],
        })
    groups.sort(key=lambda g: min(cells[tuple(c["path"])]["order"] for r in g["rows"] for c in r))  # worked order
    return {"id": src.id, "title": trace.problem.name, "kind": trace.kind.name, "groups": groups,
            "count": len(paths), "blank": sheet, "key": key}


def _shown(exact: str, value: float) -> str:
    """A true value as the page reveals it: exact when short, else to 6 significant digits."""
    if len(exact) <= 12 and re.fullmatch(r"-?\d+(\.\d+)?(/\d+)?", exact):
        return exact  # a rational, written short
    return "≈ " + f"{value:.6g}"


def read_answers(src: Source, answers):
    """The sheet of an answers dict (the answers file's structure, numbers as
    written), refused in one line naming the key."""
    trace = _trace(src)
    if not isinstance(answers, dict):
        raise InputError("expected an object: the answers file's structure", key="answers")
    try:
        return trace, trace.kind.read_answers(answers, trace)
    except StepsolverError as exc:
        raise exc.located("answers")


def check_report(src: Source, answers, seconds: int | None = None):
    """The check report of an answers dict (a Report)."""
    with time_limit(seconds, src.name):
        trace, sheet = read_answers(src, answers)
        return check(trace, sheet)


def check_json(src: Source, answers, seconds: int | None = None) -> str:
    """The report as ``check --format json`` writes it, for an answers dict."""
    return render_report(check_report(src, answers, seconds), "json", _options(src))


def loads_json(body: bytes | str):
    """Request JSON with every number kept as written (0.50 stays 0.50: its
    digits are its precision); NaN and Infinity refused."""

    def constant(name):
        raise InputError(f"{name} is not a number")

    try:
        return json.loads(body, parse_float=FloatText, parse_constant=constant)
    except InputError:
        raise
    except RecursionError:
        raise InputError("nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        msg = str(exc).split(":")[0] if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise InputError(f"not JSON: {msg}"[:200]) from None


_BODY = re.compile(r"<main>(.*)</main>", re.S)
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


@lru_cache(maxsize=64)
def question_html(src: Source) -> dict:
    """{"style", "body"}: the exercise sheet (given values, conventions, the
    picture) as the HTML format writes it, without answers."""
    page = render([_trace(src)], "html", _options(src, sheet="questions", figures="inline"))
    return {"style": _STYLE.search(page).group(1), "body": _BODY.search(page).group(1)}


@lru_cache(maxsize=64)
def _worked(src: Source) -> list[tuple[str, str]]:
    """The worked solution in the HTML format, cut at its headings:
    (heading, html) for each section."""
    page = render([_trace(src)], "html", _options(src, figures="inline"))
    body = _BODY.search(page).group(1)
    parts = re.split(r"(?=<h[23][ >])", body)
    return [(re.sub(r"<[^>]+>", "", m.group(0)) if (m := re.match(r"<h[23][^>]*>.*?</h[23]>", p, re.S)) else "", p)
            for p in parts]


def step_html(src: Source, group: int) -> dict:
    """The worked derivation of one quantity of the form: the section of the
    worked solution that computes it (the forward pass for a value, the
    backward pass for a gradient, the update for a new value), narrowed to
    its layer where the section has one block per layer."""
    f = form(src)
    if not 0 <= group < len(f["groups"]):
        raise InputError(f"no quantity {group} (the form has {len(f['groups'])})", key="group")
    trace = _trace(src)
    tr = messages(src.lang)
    g = f["groups"][group]
    cell = g["rows"][0][0]
    fields = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in cell["place"].split("|"))}
    return {"label": g["label"], "html": trace.kind.step_section(_worked(src), fields, tr, len(trace.steps) > 1)}


def variant(src: Source, seed: int, new_id: str) -> Source:
    """A fresh exercise of the same shape with nice numbers (the generate
    machinery of its kind)."""
    trace = _trace(src)
    text = trace.kind.variant_like(trace.problem, seed, src.lang)
    new = Source(new_id, text, f"variant {new_id}", src.lang)
    _trace(new)
    return new


__all__ = ["Source", "describe", "blank", "form", "check_json", "check_report", "read_answers", "loads_json",
           "question_html", "step_html", "variant", "place", "PLACE_FIELDS"]
