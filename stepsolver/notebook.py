"""Marking in notebooks and autograders: ``stepsolver.mark`` and
``stepsolver.practice``.

``mark(problem, answers)`` is ``check`` as a function: the same marker, the
same rule, the same report (``.to_dict()`` is ``check --format json``), with
a score from 0 to 1 that gives no marks for work not done (an entry earns its
mark when it is correct or carried; blank, wrong and imprecise ones earn
none, over every entry the blank sheet asks for -- the Gradescope export's
count).  In Jupyter it shows itself as the HTML report.

``practice(problem)`` is the practice page's form as ipywidgets (the
optional extra ``stepsolver[notebook]``).
"""

from __future__ import annotations

import os

from .errors import InputError


def _problem_and_trace(problem):
    from .kinds import load_problem, loads_problem
    from .solution import Solution, solve

    if isinstance(problem, Solution):
        return problem.problem, problem.trace
    if isinstance(problem, (str, os.PathLike)):
        text = os.fspath(problem)
        problem = loads_problem(text) if "\n" in text or "=" in text else load_problem(text)
    if getattr(problem, "kind", None) is None:
        raise InputError("expected a problem file, its TOML text, a Problem or a Solution", key="problem")
    return problem, solve(problem).trace


def _sheet(answers, trace):
    from .solution import load_answers

    if isinstance(answers, (str, os.PathLike)):
        return load_answers(answers, trace)
    if not isinstance(answers, dict):
        raise InputError("expected a dict of the answers file's structure, or an answers file", key="answers")
    from .errors import StepsolverError

    try:
        return trace.kind.read_answers(answers, trace)
    except StepsolverError as exc:
        raise exc.located("answers")


def asked_entries(trace) -> int:
    """Every entry the blank sheet asks for, over all steps."""
    return sum(q.value.n * q.value.m for step in trace.steps for q in trace.quantities(step) if q.asked)


class Marked:
    """A marked sheet: the check report with a score.

    report   the Report (items, counts, ok) the command's report is drawn from
    points   entries that earn their mark (correct or carried)
    score    points / every asked entry, from 0 to 1
    counts   correct, wrong, carried, imprecise, and blank (not answered)
    total    every asked entry
    ok       nothing wrong, carried or imprecise among what was answered
    """

    def __init__(self, report, lang: str = "en"):
        self.report = report
        self.lang = lang
        self.total = asked_entries(report.trace)
        c = dict(report.counts)
        c["blank"] = self.total - len(report.items)
        self.counts = c
        self.points = c["correct"] + c["carried"]
        self.score = self.points / self.total if self.total else 0.0
        self.ok = report.ok

    @property
    def items(self):
        return self.report.items

    def to_dict(self) -> dict:
        """The report as ``check --format json`` writes it."""
        from .lang import messages

        return self.report.to_dict(messages(self.lang))

    def render(self, fmt: str = "md") -> str:
        """The report as ``check --format FMT`` writes it (md, text, html, json, gradescope)."""
        from .render import RenderOptions, render_report

        return render_report(self.report, fmt, RenderOptions(lang=self.lang))

    def _repr_html_(self) -> str:
        import re

        page = self.render("html")
        body = re.search(r"<body[^>]*>(.*)</body>", page, re.S)
        return body.group(1) if body else page

    def _repr_markdown_(self) -> str:
        return self.render("md")

    def __repr__(self) -> str:
        c = self.counts
        return (f"<Marked {self.points} of {self.total} (score {self.score:.3f}): {c['correct']} correct, "
                f"{c['carried']} carried, {c['wrong']} wrong, {c['imprecise']} imprecise, {c['blank']} blank>")


def mark(problem, answers, *, rule=None, lang: str = "en") -> Marked:
    """Mark a hand calculation: ``problem`` a problem file, its TOML text, a
    Problem or a Solution; ``answers`` a dict of the answers file's structure
    (``{"layers": [{"z": [0.96, ...]}, ...]}``; write numbers as strings,
    "0.50", to keep trailing zeros) or an answers file."""
    from .lang import messages
    from .solution import check

    messages(lang)  # an unknown language is refused before any work
    _, trace = _problem_and_trace(problem)
    return Marked(check(trace, _sheet(answers, trace), rule), lang)


def practice(problem, *, lang: str = "en"):
    """The practice form in a notebook (ipywidgets): one box per entry,
    grouped by quantity in worked order; Check writes the verdicts and the
    report below.  Returns the widget."""
    try:
        import ipywidgets as w
    except ModuleNotFoundError:
        raise InputError("the notebook form needs ipywidgets: pip install 'stepsolver[notebook]'") from None
    from .lang import messages
    from .workbook.exercise import Source, form

    if isinstance(problem, (str, os.PathLike)) and os.path.exists(os.fspath(problem)):
        with open(problem, encoding="utf-8") as fh:
            text, name = fh.read(), os.fspath(problem)
    elif isinstance(problem, str):
        text, name = problem, "<notebook>"
    else:
        raise InputError("expected a problem file or its TOML text", key="problem")
    tr = messages(lang)
    src = Source("notebook", text, name, lang)
    f = form(src)
    boxes = {}
    rows = []
    for g in f["groups"]:
        grid = []
        for r in g["rows"]:
            line = []
            for c in r:
                box = w.Text(placeholder="?", description="", layout=w.Layout(width="8em"),
                             tooltip=c["label"])
                boxes[c["place"]] = (box, c)
                line.append(box)
            grid.append(w.HBox(line))
        rows.append(w.VBox([w.HTML(f"<b>{g['label']}</b>")] + grid))
    out = w.HTML()
    button = w.Button(description=tr("practice.check"), button_style="primary")

    def on_check(_):
        import copy

        answers = copy.deepcopy(f["blank"])
        for box, c in boxes.values():
            value = box.value.strip().replace("\u2212", "-")
            target = answers
            for p in c["path"][:-1]:
                target = target[p]
            target[c["path"][-1]] = value or "?"
        try:
            marked = mark(text, answers, lang=lang)
        except Exception as exc:  # shown in the notebook, one line
            out.value = f"<p>{tr('practice.failed', error=getattr(exc, 'message', str(exc)))}</p>"
            return
        from .workbook.exercise import place

        verdicts = {place(item): item["verdict"] for item in marked.to_dict()["items"]}
        for key, (box, _c) in boxes.items():
            box.description = {"correct": "✓", "wrong": "✗", "carried": "↪", "imprecise": "…"}.get(verdicts.get(key), "")
        out.value = marked._repr_html_()

    button.on_click(on_check)
    return w.VBox(rows + [button, out])


__all__ = ["mark", "practice", "Marked", "asked_entries"]
