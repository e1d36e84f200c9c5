"""The result of a solve: the trace, plus rendering to every format."""

from __future__ import annotations

from .trace import Trace


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
        from .printing import NumberStyle
        from .render import RenderOptions, render

        return render([self.trace], fmt, RenderOptions(style=NumberStyle(digits=digits, exact=exact), **options))

    def to_dict(self) -> dict:
        from .exports import trace_to_dict

        return trace_to_dict(self.trace)

    def _repr_markdown_(self) -> str:
        return self.render("md")

    def __repr__(self) -> str:
        return f"<Solution of {self.problem.name!r}: {len(self.steps)} step(s), J = {self.steps[0].loss.total}>"
