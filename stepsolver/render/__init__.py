"""Rendering a solved trace: a registry of formats over one Jinja environment.

Layout lives only in ``templates/``; this package supplies the data
(views.py: what a template sees of a problem, ``p``, and of a check report,
``r``) and the helpers templates call to print numbers and matrices
(numbers.py: ``f.mat(M)``, ``f.num(x)``, ``f.rel(...)``).  The environment
is environment.py's.  JSON and CSV are data, not layout: export/ builds them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

from ..errors import RenderError
from ..export.data import csv_document, dumps, json_document
from ..export.quiz import quiz_answer, quiz_tolerance
from ..lang import messages
from ..version import __version__
from .environment import builtin_templates, environment, kind_template_dirs  # noqa: F401 - part of the interface
from .numbers import DEFAULT_STYLE, Fmt, NumberStyle  # noqa: F401
from .markup import has_hangul
from .views import ProblemView, ReportView


# ------------------------------------------------------------- options
@dataclass(frozen=True)
class RenderOptions:
    style: NumberStyle = DEFAULT_STYLE
    notation: str = "default"
    templates: str | None = None
    detail: str = "matrix"
    sheet: str = "answers"  # answers | questions | both
    flavor: str = "plain"
    #: the language of the prose (stepsolver/lang/*.toml)
    lang: str = "en"
    figures: str = "auto"  # auto | inline | none (Markdown: files next to -o, else a data URI)
    #: Markdown written to a file: pictures go to '<prefix>-network-N.svg' beside it
    figure_prefix: str | None = None
    #: absolute tolerance of quiz answers (None: 1% of the value, at least 0.005)
    tolerance: object = None
    extra: dict = field(default_factory=dict)


def _context(traces, options: RenderOptions, files: dict | None = None) -> dict:
    f = Fmt(options.style)
    env = _environment(options, traces)
    tr = messages(options.lang)
    services = SimpleNamespace(env=env, f=f, options=options, files=files, tr=tr)
    problems = [ProblemView(t, i, services) for i, t in enumerate(traces, 1)]
    return {
        "memo": {},  # blocks a template renders once and reuses (the conventions of like problems)
        "problems": problems,
        "answer": quiz_answer,
        "tolerance": lambda v: quiz_tolerance(v, options.tolerance),
        "single": len(traces) == 1,
        "f": f,
        # the notation of the first problem; each problem's own is p.n
        "n": problems[0].n if problems else None,
        "opts": options,
        "version": __version__,
        "tr": tr,
        # TikZ only for a kind whose picture needs it (a network draws in picture mode, much faster)
        "tikz": any(getattr(t.kind, "tikz", True) for t in traces),
        "lang": tr.lang,
        # user text in Hangul or CJK: the LaTeX preamble loads kotex (only then:
        # kotex shifts a few math spacings)
        "hangul": tr.lang == "ko" or any(has_hangul(p.title) or has_hangul(getattr(p.problem, "description", None))
                                         for p in problems),
    }


def _environment(options: RenderOptions, traces):
    return environment(options.templates, kind_template_dirs(traces))


def render(traces: list, fmt: str, options: RenderOptions | None = None) -> str:
    return render_with_files(traces, fmt, options)[0]


def render_with_files(traces: list, fmt: str, options: RenderOptions | None = None) -> tuple[str, dict]:
    """The document, and the extra files it refers to ({name: text}: the
    network pictures of a Markdown document written with -o)."""
    options = options or RenderOptions()
    if fmt not in FORMATS:
        raise RenderError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    files: dict = {}
    return FORMATS[fmt](traces, options, files), files


def _template(name: str):
    def run(traces, options: RenderOptions, files: dict | None = None) -> str:
        import jinja2

        env = _environment(options, traces)
        try:
            tpl = env.get_template(name)
            return tidy(tpl.render(**_context(traces, options, files)))
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"template {exc.name!r} not found") from None
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"template {exc.filename or exc.name}: line {exc.lineno}: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise RenderError(f"template {name}: {exc.message}") from None
        except jinja2.sandbox.SecurityError as exc:
            raise RenderError(f"template {name}: not allowed ({exc})") from None

    return run


_BLANKS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def tidy(text: str) -> str:
    """At most one blank line in a row, none at the start, one newline at the end."""
    return _BLANKS.sub("\n\n", text).strip("\n") + "\n"


FORMATS: dict[str, Callable] = {
    "md": _template("md/document.md.j2"),
    "latex": _template("latex/document.tex.j2"),
    "text": _template("text/document.txt.j2"),
    "html": _template("html/document.html.j2"),
    "moodle": _template("moodle/quiz.xml.j2"),
    "csv": csv_document,
    "json": json_document,
}


def render_qti(traces: list, options: RenderOptions | None = None) -> bytes:
    """A QTI 1.2 zip for Canvas: every variant of an exercise in one question
    group that picks one per student (templates/qti/, export/qti.py)."""
    import jinja2

    from ..export.qti import package, quiz_data

    options = options or RenderOptions()
    env = _environment(options, traces)
    ctx = _context(traces, options)
    ctx["quiz"] = quiz = quiz_data(ctx["problems"], ctx["tr"])
    try:
        assessment = tidy(env.get_template("qti/assessment.xml.j2").render(**ctx))
        manifest = tidy(env.get_template("qti/manifest.xml.j2").render(**ctx))
    except jinja2.TemplateError as exc:
        raise RenderError(f"template qti: {exc}") from None
    return package(quiz, assessment, manifest)


def quiz_entries(p, tr, formulas: tuple | None = None) -> list:
    """The quiz items of one problem (a ProblemView) step by step, each with
    its trace key's number in worked order and, per entry, the variable that
    holds it and -- from ``formulas`` (marking/formulas.py) -- the formula
    it is worked from, or None: what the platforms with follow-through
    marking (Numbas) write."""
    index, F = formulas if formulas is not None else ({}, {})
    values = {}
    for s in p.steps:
        for q in p.trace.quantities(s):
            values.setdefault(q.key, q.value)
    out = []
    several = len(p.steps) > 1
    for s in p.steps:
        for n, item in enumerate(p.quiz_items(s)):
            k = index.get(item.key)
            rows = F.get(item.key) if k is not None else None
            if rows is not None and values.get(item.key) != item.matrix:
                rows = None  # the quiz asks another form of it (delta without the batch factor)
            cells = []
            for i, row in enumerate(item.blanks):
                cells.append([SimpleNamespace(var=f"v{k}_{i + 1}_{j + 1}" if k is not None else None,
                                              formula=rows[i][j] if rows is not None else None,
                                              value=item.matrix[i, j], blank=b,
                                              old=(item.old[i, j] if item.old is not None and item.old[i, j] != item.matrix[i, j] else None))
                              for j, b in enumerate(row)])
            heading = None
            if n == 0 and several:
                heading = tr.t("quiz.update_heading", index=s.index,
                               examples=tr.t("net.examples", count=len(s.examples),
                                             list=", ".join(str(x) for x in s.examples)))
            out.append(SimpleNamespace(step=s, first=n == 0 and several, heading=heading, item=item, key=item.key,
                                       number=k, cells=cells))
    return out


def render_numbas(traces: list, options: RenderOptions | None = None) -> str:
    """A Numbas exam with adaptive marking (export/numbas.py): one question
    group per exercise, one question per variant."""
    import jinja2

    from ..exact import to_float
    from ..export import numbas
    from ..marking.formulas import formulas

    options = options or RenderOptions()
    env = _environment(options, traces)
    ctx = _context(traces, options)
    tr = ctx["tr"]
    groups: dict = {}
    try:
        statement_tpl = env.get_template("numbas/statement.html.j2")
        prompt_tpl = env.get_template("numbas/prompt.html.j2")
        for p in ctx["problems"]:
            parts = []
            for e in quiz_entries(p, tr, formulas(p.trace)):
                gaps, gap_of = [], []
                for row in e.cells:
                    gap_row = []
                    for c in row:
                        if c.blank.given or c.var is None:
                            gap_row.append(None)
                            continue
                        gap_row.append(len(gaps))
                        gaps.append(SimpleNamespace(var=c.var, formula=c.formula, tolerance=c.blank.tolerance,
                                                    decimals=c.blank.decimals, old=c.old,
                                                    old_float=None if c.old is None else to_float(c.old)))
                    gap_of.append(gap_row)
                prompt = tidy(prompt_tpl.render(**{**ctx, "p": p, "n": p.n, "q": e.item, "gaps": gap_of,
                                                   "heading": e.heading}))
                entries = [(c.var, c.value) for row in e.cells for c in row if c.var is not None]
                parts.append(SimpleNamespace(prompt=prompt, gaps=gaps, entries=entries))
            statement = tidy(statement_tpl.render(**{**ctx, "p": p, "n": p.n}))
            groups.setdefault(p.exercise, []).append(numbas.question(p.title, statement, parts, tr))
    except jinja2.TemplateError as exc:
        raise RenderError(f"template numbas: {exc}") from None
    title = traces[0].problem.name if len(groups) == 1 and len(traces) == 1 else (
        next(iter(groups)) if len(groups) == 1 else tr.t("doc.worked_solutions"))
    return numbas.exam(title, list(groups.items()))


def render_prairielearn(traces: list, options: RenderOptions | None = None) -> dict:
    """PrairieLearn question folders, {path under the course: text}: one
    ``questions/<qid>/`` per exercise (variants of one shape) with info.json,
    question.html and server.py (templates/prairielearn/, export/prairielearn.py)."""
    import jinja2

    from ..export import prairielearn
    from ..marking.formulas import formulas

    options = options or RenderOptions()
    env = _environment(options, traces)
    ctx = _context(traces, options)
    tr = ctx["tr"]
    html_options = RenderOptions(style=options.style, notation=options.notation, templates=options.templates,
                                 detail=options.detail, lang=options.lang, figures="inline")
    groups: dict = {}
    try:
        for p, trace in zip(ctx["problems"], traces):
            entries = quiz_entries(p, tr, formulas(trace))
            signature = (p.exercise, tuple((e.item.symbol, tuple(tuple(c.blank.given for c in r) for r in e.cells))
                                           for e in entries))
            # the kind's quiz statement (question.html gives PrairieLearn's own instructions)
            statement = tidy(env.get_template(p.template("quiz_statement.xml.j2")).render(**{**ctx, "p": p, "n": p.n}))
            page = render([trace], "html", html_options)
            solution = page[page.index("<main>") + 6: page.index("</main>")].strip()
            groups.setdefault(signature, []).append(SimpleNamespace(p=p, entries=entries, statement=statement,
                                                                   solution=solution))
        question_tpl = env.get_template("prairielearn/question.html.j2")
        server_tpl = env.get_template("prairielearn/server.py.j2")
        files: dict = {}
        for qid, variants in prairielearn.question_ids(groups):
            first = variants[0]
            data = [prairielearn.variant(v, tr, ctx["f"]) for v in variants]
            question = tidy(question_tpl.render(**{**ctx, "p": first.p, "n": first.p.n, "qs": first.entries}))
            server = tidy(server_tpl.render(**{**ctx, "blob": prairielearn.pack(data)}))
            info = prairielearn.info(qid, first.p, tr)
            files[f"questions/{qid}/info.json"] = info
            files[f"questions/{qid}/question.html"] = question
            files[f"questions/{qid}/server.py"] = server
    except jinja2.TemplateError as exc:
        raise RenderError(f"template prairielearn: {exc}") from None
    return files


def render_report(report, fmt: str, options: RenderOptions | None = None) -> str:
    """A check report as md, text or json."""
    import jinja2

    options = options or RenderOptions()
    if fmt == "json":
        return dumps(report.to_dict(messages(options.lang))) + "\n"
    if fmt == "gradescope":
        from .gradescope import results

        return dumps(results(report, messages(options.lang))) + "\n"
    names = {"md": "check/report.md.j2", "text": "check/report.txt.j2", "html": "check/report.html.j2"}
    if fmt not in names:
        raise RenderError(f"unknown report format {fmt!r} (known: md, text, html, json, gradescope)")
    env = _environment(options, [report.trace])
    try:
        tpl = env.get_template(names[fmt])
        ctx = _context([report.trace], options)
        ctx["r"] = ReportView(report, ctx["tr"])
        return tidy(tpl.render(**ctx))
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {names[fmt]}: {exc}") from None


def render_blank(trace, options: RenderOptions | None = None) -> str:
    """An empty answers sheet for a solved problem."""
    import jinja2

    options = options or RenderOptions()
    env = _environment(options, [trace])
    view = trace.kind.blank(trace)
    name = f"{trace.kind.templates}/blank.toml.j2"
    view["several"] = len(view["steps"]) > 1
    try:
        return tidy(env.get_template(name).render(b=view, blank=trace.kind.blank_value, tr=messages(options.lang)))
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {name}: {exc}") from None
