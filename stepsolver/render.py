"""Rendering a solved trace: one Jinja environment, a registry of formats.

Layout lives only in ``templates/``; this module supplies the data and the
helpers templates call to print numbers and matrices (``f.mat(M)``,
``f.num(x)``, ``f.rel(...)``).  The environment uses StrictUndefined, so a
typo in a template -- built-in or a teacher's override passed with
``--templates DIR`` -- fails loudly, and LaTeX-friendly delimiters:

* ``((* ... *))`` statements, ``((( ... )))`` expressions, ``((= ... =))`` comments.

JSON is data, not layout: it is built here and serialised with ``json``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .errors import RenderError
from .exact import to_float
from .matrix import Mat
from .exports import csv_document, dumps, json_document, quiz_answer, quiz_tolerance
from .markup import (cdata, cloze_escape, html_escape, html_paragraphs, latex_escape, mathml, md_block, md_escape,
                     moodle_category, toml_comment)
from .notation import NotationInUse
from .trace import REPORTED
from .printing import DEFAULT_STYLE, NumberStyle, Shown, show


def builtin_templates() -> Path:
    """templates/ inside the installed package, or at the repository top."""
    here = Path(__file__).resolve().parent
    packaged = here / "templates"
    if packaged.is_dir():
        return packaged
    return here.parent / "templates"


def _bytecode_cache(sandboxed: bool = False):
    """Compiled templates kept between runs: compiling them is most of a cold
    start (about 0.3 s), loading them takes milliseconds.  The cache lives in
    $STEPSOLVER_CACHE_DIR or $XDG_CACHE_HOME/stepsolver (~/.cache/stepsolver),
    private to the user; where it cannot be written there is simply none.
    Entries are keyed by the template's source, and Jinja invalidates them
    across Python and Jinja versions."""
    import jinja2

    from . import __version__

    base = os.environ.get("STEPSOLVER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "stepsolver"
    )
    if os.environ.get("STEPSOLVER_CACHE_DIR", None) == "":
        return None
    path = os.path.join(base, f"templates-{__version__}" + ("-sandboxed" if sandboxed else ""))
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        if not os.access(path, os.W_OK):
            return None
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(path)


@lru_cache(maxsize=8)
def environment(user_dir: str | None = None):
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    loaders = []
    if user_dir:
        loaders.append(jinja2.FileSystemLoader(user_dir))
    loaders.append(jinja2.FileSystemLoader(str(builtin_templates())))
    # With --templates the environment is sandboxed: a teacher's override
    # (from a shared folder, so input too) can call our helpers but cannot
    # reach Python's internals.  The built-in templates are part of the
    # program and run without the sandbox's per-attribute checks.
    cls = SandboxedEnvironment if user_dir else jinja2.Environment
    env = cls(
        bytecode_cache=_bytecode_cache(sandboxed=bool(user_dir)),
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
        extensions=["jinja2.ext.do"],
    )
    env.globals["latex_escape"] = latex_escape
    env.globals["md_escape"] = md_escape
    env.filters["latex_escape"] = latex_escape
    env.filters["md_escape"] = md_escape
    env.filters["md_block"] = md_block
    env.filters["toml_comment"] = toml_comment
    env.filters["ucfirst"] = lambda t: str(t)[:1].upper() + str(t)[1:]
    from . import textmath

    env.filters["tsym"] = textmath.sym
    env.filters["tdisplay"] = textmath.display
    env.filters["indent_text"] = textmath.indent
    env.filters["wrap_text"] = textmath.wrap
    env.filters["plain_text"] = textmath.plain
    env.globals["text_table"] = textmath.table
    env.globals["point"] = lambda x, y: f"({float(x):.1f},{float(y):.1f})"
    env.globals["md_image"] = lambda alt, url: f"![{alt}]({url})"
    env.filters["mathml"] = mathml
    env.filters["html_escape"] = html_escape
    env.filters["html_paragraphs"] = html_paragraphs
    env.filters["cloze_escape"] = cloze_escape
    env.filters["moodle_category"] = moodle_category
    env.filters["cdata"] = cdata
    return env


# ------------------------------------------------------------- numbers
class Fmt:
    """Number and matrix printing for templates (LaTeX math)."""

    def __init__(self, style: NumberStyle = DEFAULT_STYLE):
        self.style = style
        self._cache: dict[int, Shown] = {}
        self._mcache: dict[int, bool] = {}
        self._tcache: dict[int, str] = {}
        self._keep: list = []  # keep cached objects alive so ids stay unique

    def shown(self, x) -> Shown:
        k = id(x)
        s = self._cache.get(k)
        if s is None:
            s = show(x, self.style)
            self._cache[k] = s
            self._keep.append(x)
        return s

    def num(self, x) -> str:
        """LaTeX of one value."""
        return self.shown(x).latex()

    def numt(self, x) -> str:
        """A value as an operand: parenthesised when negative."""
        s = self.shown(x)
        return f"\\left({s.latex()}\\right)" if s.negative else s.latex()

    def text(self, x) -> str:
        """Plain Unicode text of one value (tables, terminal)."""
        return self.shown(x).unicode()

    def plain(self, x) -> str:
        """ASCII text of one value, as a student would type it."""
        sh = self.shown(x)
        return sh.text if sh.kind != "sci" else sh.text

    def _mat_rounded(self, M: Mat) -> bool:
        k = id(M)
        r = self._mcache.get(k)
        if r is None:
            r = any(self.shown(x).rounded for x in M.entries())
            self._mcache[k] = r
            self._keep.append(M)
        return r

    def rounded(self, *items) -> bool:
        """Whether any of these values or matrices (or rows) prints rounded."""
        for it in items:
            if isinstance(it, Mat):
                if self._mat_rounded(it):
                    return True
            elif isinstance(it, (tuple, list)):
                if self.rounded(*it):
                    return True
            elif it is not None and not isinstance(it, (str, int)) and self.shown(it).rounded:
                return True
        return False

    def rel(self, *items) -> str:
        """'=' or '\\approx' for a line showing these values."""
        return r"\approx" if self.rounded(*items) else "="

    def mat(self, M: Mat) -> str:
        """bmatrix, one row per line, rows ending in \\\\ (cached per matrix)."""
        k = id(M)
        text = self._tcache.get(k)
        if text is None:
            rows = [" & ".join(self.num(x) for x in r) for r in M.rows]
            text = "\\begin{bmatrix}\n" + " \\\\\n".join(rows) + "\n\\end{bmatrix}"
            self._tcache[k] = text
            self._keep.append(M)
        return text


    # -- closed forms (--exact): an extra step before the decimal result ------
    def form(self, x) -> str | None:
        from .printing import closed_form_latex

        return closed_form_latex(x) if self.style.exact else None

    def has_forms(self, M: Mat) -> bool:
        """Whether --exact shows closed forms for this matrix."""
        return self.style.exact and any(self.form(x) is not None for x in M.entries())

    def mat_forms(self, M: Mat) -> str:
        """The matrix with closed forms where there are any."""
        rows = [" & ".join(self.form(x) or self.num(x) for x in r) for r in M.rows]
        return "\\begin{bmatrix}\n" + " \\\\\n".join(rows) + "\n\\end{bmatrix}"

    def form_eq(self, x) -> str:
        """'= closed form ' before a value's decimal, or '' (element level)."""
        t = self.form(x)
        return f"= {t} " if t else ""

    def fixed(self, x, places: int) -> str:
        """x to exactly ``places`` decimals (half away from zero), plain text."""
        from .engine import round_half_away
        from .exact import numer

        n = numer(round_half_away(x, places) * 10**places)  # an integer: the value in units of the last place
        sign = "-" if n < 0 else ""
        digits = str(abs(n)).rjust(places + 1, "0")
        return sign + (digits[:-places] + "." + digits[-places:] if places else digits)

    def same(self, x, y) -> bool:
        """Whether two values print the same (used to skip repeating a value)."""
        return self.shown(x).text == self.shown(y).text


# ------------------------------------------------------------- options
@dataclass(frozen=True)
class RenderOptions:
    style: NumberStyle = DEFAULT_STYLE
    notation: str = "default"
    templates: str | None = None
    detail: str = "matrix"
    sheet: str = "answers"  # answers | questions | both
    flavor: str = "plain"
    figures: str = "auto"  # auto | inline | none (Markdown: files next to -o, else a data URI)
    #: Markdown written to a file: pictures go to '<prefix>-network-N.svg' beside it
    figure_prefix: str | None = None
    #: absolute tolerance of quiz answers (None: 1% of the value, at least 0.005)
    tolerance: object = None
    extra: dict = field(default_factory=dict)


def _context(traces, options: RenderOptions, files: dict | None = None) -> dict:
    from . import __version__

    nota = NotationInUse(options.notation)
    f = Fmt(options.style)
    env = environment(options.templates)
    return {
        "memo": {},  # blocks a template renders once and reuses (the conventions of like problems)
        "problems": [ProblemView(t, i, env=env, f=f, options=options, files=files, n=nota) for i, t in enumerate(traces, 1)],
        "answer": quiz_answer,
        "tolerance": lambda v: quiz_tolerance(v, options.tolerance),
        "single": len(traces) == 1,
        "f": f,
        "n": nota,
        "opts": options,
        "version": __version__,
    }


class ProblemView:
    """What a template sees of one solved problem."""

    def __init__(self, trace, number: int, env=None, f=None, options=None, files=None, n=None):
        self.trace = trace
        self.number = number
        self.problem = trace.problem
        self.steps = trace.steps
        self.notes = trace.notes
        self._env, self._f, self._options, self._files, self._n = env, f, options, files, n
        self._figs: dict = {}

    # -- the network picture -------------------------------------------------
    def figure_for(self, values: bool = True):
        key = bool(values)
        if key not in self._figs:
            from .figure import layout

            self._figs[key] = layout(self.trace, values=key)
        return self._figs[key]

    def _draw(self, name: str, values: bool) -> str:
        return self._env.get_template(name).render(fig=self.figure_for(values), f=self._f).strip()

    def figure_svg_for(self, values: bool = True) -> str:
        return self._draw("figures/network.svg.j2", values)

    def figure_tikz_for(self, values: bool = True) -> str:
        return self._draw("figures/network.tikz.j2", values)

    def figure_link_for(self, values: bool = True) -> str:
        """Markdown image target: a file beside the output, or a data URI."""
        import base64

        svg = self.figure_svg_for(values) + "\n"
        if self._files is not None and self._options.figure_prefix and self._options.figures != "inline":
            name = f"{self._options.figure_prefix}-network-{self.number}{'' if values else '-blank'}.svg"
            self._files[name] = svg
            return name
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")

    @property
    def title(self) -> str:
        return self.problem.name

    @property
    def sizes(self) -> list[int]:
        return self.problem.sizes

    @property
    def L(self) -> int:
        return len(self.problem.layers)

    @property
    def m_total(self) -> int:
        return len(self.problem.examples)

    def quiz_items(self, step) -> list:
        """The quantities a quiz asks for in one update, in the order they
        are worked: z and a per layer, J, then delta and the gradients from
        the output back, then the updated parameters.  Each carries its
        blanks: (answer, tolerance, decimals to ask for or None)."""
        from types import SimpleNamespace

        from .exports import blank_tolerance, quiz_answer

        n = self._n
        items = []
        custom = self._options.tolerance if self._options is not None else None

        def rounded_at(name, layer, i, j):
            def get(d):
                key = self._rounded_key(d)
                if key is None:
                    return None
                st = key.steps[step.index - 1]
                if name == "loss":
                    return st.loss.total
                M = getattr(st.layers[layer - 1], name)
                return None if M is None else M[i, j]
            return get

        def add(label, symbol, M, name, layer=None, old=None, gradient=False):
            rows = []
            for i, r in enumerate(M.rows):
                row = []
                for j, v in enumerate(r):
                    if custom is not None:
                        tol, dec = to_float(custom), None
                    else:
                        bound = None
                        if old is not None and v != old[i, j]:
                            bound = abs(to_float(v - old[i, j]))
                        elif gradient and v:
                            bound = abs(to_float(v))
                        tol, dec = blank_tolerance(v, bound, rounded_at(name, layer, i, j))
                    row.append(SimpleNamespace(answer=quiz_answer(v), tolerance=repr(tol), decimals=dec))
                rows.append(row)
            items.append(SimpleNamespace(label=label, symbol=symbol, matrix=M, values=[list(r) for r in M.rows],
                                         scalar=M.n == 1 and M.m == 1, blanks=rows))

        for lt in step.layers:
            add(f"z, layer {lt.index}", n.z(lt.index), lt.z, "z", lt.index)
            add(f"a, layer {lt.index}", n.a(lt.index), lt.a, "a", lt.index)
        add("J", n.J, Mat([[step.loss.total]]), "loss")
        for lt in reversed(step.layers):
            add(f"delta, layer {lt.index}", n.delta(lt.index), lt.delta if n.batch_in_delta else lt.dz_ex,
                "delta" if n.batch_in_delta else "dz_ex", lt.index, gradient=True)
            add(f"dJ/dW, layer {lt.index}", n.dW(lt.index), lt.grad_W, "grad_W", lt.index, gradient=True)
            add(f"dJ/db, layer {lt.index}", n.db(lt.index), lt.grad_b, "grad_b", lt.index, gradient=True)
        for lt in step.layers:
            add(f"updated W, layer {lt.index}", n.W(lt.index) + r"_{\text{new}}", lt.W_new, "W_new", lt.index, old=lt.W)
            if self.problem.update_biases:
                add(f"updated b, layer {lt.index}", n.b(lt.index) + r"_{\text{new}}", lt.b_new, "b_new", lt.index, old=lt.b)
        return items

    def _rounded_key(self, places: int):
        """The key of a student working to ``places`` decimals (cached)."""
        cache = self.__dict__.setdefault("_keys", {})
        if places not in cache:
            from .engine import solve_rounded
            from .errors import LimitError, SolveError

            try:
                cache[places] = solve_rounded(self.problem, places)
            except (SolveError, LimitError):
                cache[places] = None
        return cache[places]

    @property
    def exercise(self) -> str:
        """The exercise a variant belongs to: its title without '(variant N)'."""
        import re

        return re.sub(r"\s*\(variant \d+\)\s*$", "", self.title) or self.title

    @property
    def rounded_rows(self) -> list:
        """(step, rows) of the --round table: quantity, entry, exact value and
        the rounded working to N decimals, and whether they differ."""
        if self.trace.rounded is None:
            return []
        N = self.trace.round_places
        f = self._f
        out = []
        for s_exact, s_round in zip(self.trace.steps, self.trace.rounded.steps):
            rows = []
            e, r = s_exact.loss.total, s_round.loss.total
            rows.append(("J", "", f.fixed(e, N), f.fixed(r, N), f.fixed(e, N) != f.fixed(r, N)))
            for le, lr in zip(s_exact.layers, s_round.layers):
                for name in REPORTED:
                    Me, Mr = getattr(le, name), getattr(lr, name)
                    for i in range(Me.n):
                        for j in range(Me.m):
                            ev, rv = f.fixed(Me[i, j], N), f.fixed(Mr[i, j], N)
                            rows.append((f"{name}, layer {le.index}", f"({i + 1}, {j + 1})", ev, rv, ev != rv))
            out.append((s_exact.index, rows))
        return out

    @property
    def conventions_key(self) -> tuple:
        """What the conventions list depends on: like problems share it."""
        p = self.problem
        return (p.loss.name, p.batch, bool(p.l2), p.update_biases, p.update, len(p.layers),
                tuple(l.activation.convention for l in p.layers))

    @property
    def conventions(self) -> list[str]:
        """Kink conventions of the activations this network uses."""
        seen = []
        for layer in self.problem.layers:
            c = layer.activation.convention
            if c and c not in seen:
                seen.append(c)
        return [c[0].upper() + c[1:] + "." for c in seen]

    @property
    def kink_notes(self) -> list[str]:
        out = []
        for step in self.steps:
            for l, i, j in step.kinks:
                act = self.problem.layers[l - 1].activation
                where = f"unit {i} of layer {l}"
                if step.m > 1:
                    where += f", example {step.examples[j - 1]}"
                if len(self.steps) > 1:
                    where += f", step {step.index}"
                rule = act.convention.split(":")[0]
                out.append(f"z = 0 exactly at {where}, so the convention {rule} applies there.")
        return out


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

        env = environment(options.templates)
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


# ------------------------------------------------------------ check reports
@dataclass(frozen=True)
class _StepItems:
    index: int
    items: list


class ReportView:
    """What the check report templates see."""

    MARKS = {"correct": "✓", "wrong": "✗", "carried": "↪", "imprecise": "…"}

    def __init__(self, report):
        self.report = report
        self.trace = report.trace
        self.problem = report.trace.problem
        self.items = report.items
        self.counts = report.counts
        self.first_wrong = report.first_wrong
        self.rule = report.rule.describe()
        self.title = self.problem.name
        self.L = len(self.problem.layers)
        self.l2 = bool(self.problem.l2)
        self.several_steps = len(self.trace.steps) > 1
        by_step: dict[int, list] = {}
        for it in self.items:
            by_step.setdefault(it.step, []).append(it)
        self.steps = [_StepItems(k, v) for k, v in sorted(by_step.items())]
        self.mean = self.problem.batch == "mean"

    def rule_of(self, it) -> str:
        """The output rule of the item's step (chain, softmax_ce, ...)."""
        return self.trace.steps[it.step - 1].output_rule

    def mark(self, it) -> str:
        return self.MARKS[it.verdict]

    def entry(self, it) -> str:
        """Where an entry sits, in words: 'unit 2', 'unit 2, example 3', '(1, 2)'."""
        if it.quantity == "loss":
            return ""
        if it.quantity in ("grad_W", "W_new"):
            return f"({it.row}, {it.col})"
        if it.quantity in ("grad_b", "b_new"):
            return f"unit {it.row}"
        step = self.trace.steps[it.step - 1]
        if step.m == 1:
            return f"unit {it.row}"
        return f"unit {it.row}, example {step.examples[it.col - 1]}"

    def where(self, it) -> str:
        """'step 1, layer 1, z, unit 2' or 'step 1, J'."""
        head = f"step {it.step}, " if self.several_steps else ""
        if it.quantity == "loss":
            return head + "the cost J"
        e = self.entry(it)
        return f"{head}layer {it.layer}, {it.quantity}" + (f", {e}" if e else "")

    def note(self, it) -> str:
        if it.verdict == "carried":
            return "follows from your earlier answers"
        if it.verdict == "imprecise":
            return f"write at least {it.decimals_needed} decimals to show this update (no mark)"
        if it.verdict == "wrong" and it.hint:
            return f"{it.hint.code}: {it.hint.text}"
        return ""

    @staticmethod
    def table(header: list, rows: list) -> str:
        from .textmath import table

        return table(header, rows)


def render_report(report, fmt: str, options: RenderOptions | None = None) -> str:
    """A check report as md, text or json."""
    import jinja2

    options = options or RenderOptions()
    if fmt == "json":
        return dumps(report.to_dict()) + "\n"
    names = {"md": "check/report.md.j2", "text": "check/report.txt.j2"}
    if fmt not in names:
        raise RenderError(f"unknown report format {fmt!r} (known: md, text, json)")
    env = environment(options.templates)
    try:
        tpl = env.get_template(names[fmt])
        ctx = _context([report.trace], options)
        ctx["r"] = ReportView(report)
        return tidy(tpl.render(**ctx))
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {names[fmt]}: {exc}") from None


def render_blank(trace, options: RenderOptions | None = None) -> str:
    """An empty answers sheet for a solved problem."""
    import jinja2

    from .answers import blank_value, blank_view

    options = options or RenderOptions()
    env = environment(options.templates)
    view = blank_view(trace)
    view["several"] = len(view["steps"]) > 1
    try:
        return tidy(env.get_template("check/blank.toml.j2").render(b=view, blank=blank_value))
    except jinja2.TemplateError as exc:
        raise RenderError(f"template check/blank.toml.j2: {exc}") from None
