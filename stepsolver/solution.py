"""Solving, and the result of a solve: the trace, plus rendering to every
format.  The kind of the problem does the work; this is the API layer."""

from __future__ import annotations

import dataclasses

from .errors import LimitError, SolveError
from .lang import Text
from .trace import Trace


def _kind_of(problem):
    kind = getattr(problem, "kind", None)
    if kind is None:
        from .kinds import get

        kind = get()
    return kind


def solve_exact(problem) -> Trace:
    """The exact trace, without the cross-check."""
    return _kind_of(problem).solve(problem)


def solve(problem, *, crosscheck: bool = True, round_places: int | None = None) -> "Solution":
    """Solve exactly and (by default) cross-check with NumPy; with
    ``round_places`` also work the key a student rounding to that many
    decimals gets.  Returns a :class:`Solution`."""
    kind = _kind_of(problem)
    trace = kind.solve(problem)
    if crosscheck:
        notes = kind.crosscheck(trace)
        if notes:
            trace = dataclasses.replace(trace, notes=trace.notes + tuple(notes))
    if round_places is not None:
        # the rounded key is a companion of the solution: whatever its rounded
        # chain runs into, the exact key is still produced (with a note)
        try:
            rounded = kind.solve_rounded(problem, round_places)
        except (SolveError, LimitError) as exc:
            rounded = None
            trace = dataclasses.replace(trace, notes=trace.notes + (
                Text("note.rounded_key", places=round_places, reason=exc.message),))
        trace = dataclasses.replace(trace, rounded=rounded, round_places=round_places if rounded is not None else None)
    return Solution(trace)


class Solution:
    """A solved problem.  ``render(fmt)`` gives Markdown ("md"), a LaTeX
    document ("latex") or JSON ("json"); ``to_dict()`` the JSON data."""

    def __init__(self, trace: Trace):
        self.trace = trace

    @property
    def problem(self):
        return self.trace.problem

    @property
    def steps(self):
        return self.trace.steps

    def render(self, fmt: str = "md", *, digits: int = 4, exact: bool = False, **options) -> str:
        """Render as "md", "latex", "html", "text", "json", "moodle" or "csv".
        Options as on the command line: digits, exact, detail ("matrix" or
        "element"), notation ("default", "ng", "nielsen", "grosse",
        "netout"), sheet ("answers", "questions", "both"), flavor ("plain"
        or "github"), figures ("auto", "inline", "none"), templates (a
        directory of overrides)."""
        from .render import RenderOptions, render
        from .render.numbers import NumberStyle

        return render([self.trace], fmt, RenderOptions(style=NumberStyle(digits=digits, exact=exact), **options))

    def to_dict(self) -> dict:
        return self.trace.kind.to_dict(self.trace)

    def _repr_markdown_(self) -> str:
        return self.render("md")

    def __repr__(self) -> str:
        loss = getattr(getattr(self.steps[0], "loss", None), "total", None) if self.steps else None
        tail = "" if loss is None else f", J = {loss}"
        return f"<Solution of {self.problem.name!r}: {len(self.steps)} step(s){tail}>"


def check(trace, sheet, rule=None):
    """Mark a student's sheet (see :func:`load_answers`) against a solved trace."""
    from .marking.marker import check as _check

    return _check(trace, sheet, rule)


def load_answers(path, trace):
    """Read and validate a student's answers file against a solved problem."""
    import os

    from .errors import StepsolverError
    from .tomlio import read_toml

    name = os.fspath(path)
    data = read_toml(path)
    try:
        return trace.kind.read_answers(data, trace)
    except StepsolverError as exc:
        raise exc.located(name)


def loads_answers(text: str, trace, name: str = "<string>"):
    """Read a student's answers from TOML text."""
    from .errors import StepsolverError
    from .tomlio import parse_toml_bytes

    data = parse_toml_bytes(text.encode("utf-8"), name)
    try:
        return trace.kind.read_answers(data, trace)
    except StepsolverError as exc:
        raise exc.located(name)


class time_limit:
    """Stop a problem that runs past its time budget with a clear error
    (SIGALRM, where the platform has it): nothing may just hang."""

    def __init__(self, seconds: int | None, what: str):
        from . import limits

        self.seconds = limits.TIME_LIMIT if seconds is None else seconds
        self.what = what
        self.active = False

    def _expired(self, signum, frame):
        from .errors import TimeLimitError

        raise TimeLimitError(
            f"took longer than {self.seconds} s (--time-limit); the problem is too large for an exact "
            "solve: use fewer examples, units or steps",
            file=self.what,
        )

    def __enter__(self):
        import signal

        import threading

        # signals reach the main thread only: elsewhere (a server's thread) the caller bounds the time
        if self.seconds and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGALRM, self._expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.active = True
        return self

    def __exit__(self, *exc):
        if self.active:
            import signal

            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False
