"""What templates see: one solved problem (``p``) and one check report
(``r``).

Each wraps the view its kind supplies (``trace.kind.view``,
``trace.kind.report_view``) and adds what every kind shares: the quiz
blanks with their tolerances, the --round table, the exercise a variant
belongs to, and the marks of a report.  Anything else a template asks for
is the kind's (``p.L``, ``p.figure_link_for``, ``r.entry``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace

from ..export.quiz import blanks
from ..trace import in_record_order
from . import textmath


class ProblemView:
    """One solved problem as templates see it."""

    def __init__(self, trace, number: int, services):
        self.trace = trace
        self.number = number
        self.problem = trace.problem
        self.steps = trace.steps
        self.notes = trace.notes
        self._services = services
        self._kind_view = trace.kind.view(trace, number, services)
        #: the notation, bound to this problem before anything is rendered
        self.n = self._kind_view.n

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._kind_view, name)

    @property
    def title(self) -> str:
        return self.problem.name

    @property
    def exercise(self) -> str:
        """The exercise a variant belongs to: its title without '(variant N)'."""
        return re.sub(r"\s*\((?:variant|변형) \d+\)\s*$", "", self.title) or self.title

    def template(self, name: str) -> str:
        """The kind's template of that name: 'net/solution.j2'."""
        return f"{self.trace.kind.templates}/{name}"

    def quiz_items(self, step) -> list:
        """The quantities a quiz asks for in one update, in the order they
        are worked, each with its blanks: (answer, tolerance, decimals to
        ask for or None).  The tolerances accept honest 2-decimal working
        where that is possible and refuse the old weight, 0 and the negated
        gradient (export/quiz.py)."""
        custom = self._services.options.tolerance
        return [
            SimpleNamespace(label=q.label, symbol=q.symbol, matrix=q.matrix, values=[list(r) for r in q.matrix.rows],
                            key=getattr(q, "key", None), old=getattr(q, "old", None),
                            scalar=q.matrix.n == 1 and q.matrix.m == 1, blanks=blanks(q, custom))
            for q in self._kind_view.quiz_quantities(step)
        ]

    @property
    def rounded_rows(self) -> list:
        """(step, rows) of the --round table: quantity, entry, exact value and
        the rounded working to N decimals, and whether they differ."""
        if self.trace.rounded is None:
            return []
        N = self.trace.round_places
        f = self._services.f
        out = []
        for s_exact, s_round in zip(self.trace.steps, self.trace.rounded.steps):
            rounded = {q.key: q.value for q in self.trace.rounded.quantities(s_round)}
            rows = []
            for q in in_record_order(self.trace.quantities(s_exact)):
                Me, Mr = q.value, rounded[q.key]
                scalar = q.key.where is None
                for i in range(Me.n):
                    for j in range(Me.m):
                        ev, rv = f.fixed(Me[i, j], N), f.fixed(Mr[i, j], N)
                        rows.append((self._services.tr.text(q.label), "" if scalar else f"({i + 1}, {j + 1})", ev, rv, ev != rv))
            out.append((s_exact.index, rows))
        return out


@dataclass(frozen=True)
class _StepItems:
    index: int
    items: list


class ReportView:
    """What the check report templates see."""

    MARKS = {"correct": "✓", "wrong": "✗", "carried": "↪", "imprecise": "…"}

    def __init__(self, report, tr):
        self.report = report
        self.tr = tr
        self.trace = report.trace
        self.problem = report.trace.problem
        self.items = report.items
        self.counts = report.counts
        self.first_wrong = report.first_wrong
        self.rule = tr.text(report.rule.describe())
        self.title = self.problem.name
        self.several_steps = len(self.trace.steps) > 1
        self._kind_view = self.trace.kind.report_view(report, tr)
        by_step: dict[int, list] = {}
        for it in self.items:
            by_step.setdefault(it.step, []).append(it)
        self.steps = [_StepItems(k, v) for k, v in sorted(by_step.items())]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._kind_view, name)

    def template(self, name: str) -> str:
        """The kind's template of that name: 'net/formulas.j2'."""
        return f"{self.trace.kind.templates}/{name}"

    def mark(self, it) -> str:
        return self.MARKS[it.verdict]

    def note(self, it) -> str:
        if it.verdict == "carried":
            return self.tr("check.note_carried")
        if it.verdict == "imprecise":
            return self.tr("check.note_imprecise", count=it.decimals_needed)
        if it.verdict == "wrong" and it.hint:
            return self.tr("check.note_hint", code=it.hint.code, text=it.hint.text)
        return ""

    @staticmethod
    def table(header: list, rows: list) -> str:
        return textmath.table(header, rows)
