"""Computation graphs: the second exercise kind (``kind = "graph"``).

Named nodes, each an expression of the names above it; forward values, the
local derivative of every edge, and v-bar = sum over children c of
c-bar . dc/dv in reverse order (lecture notes 001, section 2.4).  Its
templates are under ``templates/graph/``.
"""

from __future__ import annotations

from . import answers, contract, engine, numeric, replay, view
from .problem import GraphProblem, graph_from_dict
from .trace import GraphTrace, quantities


class GraphKind:
    name = "graph"
    trace_type = GraphTrace
    problem_type = GraphProblem
    templates = "graph"
    where_key = "node"  # check's JSON names an item's node

    def load(self, data: dict, source: str | None = None) -> GraphProblem:
        return graph_from_dict(data, source)

    def solve(self, problem):
        return engine.solve_exact(problem)

    def solve_rounded(self, problem, places: int):
        return engine.solve_rounded(problem, places)

    def crosscheck(self, trace) -> list[str]:
        return numeric.crosscheck(trace)

    def quantities(self, trace, step) -> list:
        return quantities(trace, step)

    def read_answers(self, data: dict, trace):
        return answers.answers_from_dict(data, trace)

    def replay(self, marker, trace, sheet) -> None:
        replay.replay(marker, trace, sheet)

    def blank(self, trace) -> dict:
        return answers.blank_view(trace)

    blank_value = staticmethod(answers.blank_value)

    def to_dict(self, trace) -> dict:
        return contract.to_dict(trace)

    def view(self, trace, number: int, services):
        return view.GraphView(trace, number, services)

    def report_view(self, report, tr):
        return view.ReportParts(report, tr)

    def variants(self, spec, count: int, seed: int, **options) -> list[str]:
        from . import variants

        return variants.generate(spec, count, seed, **options)


KIND = GraphKind()
GraphTrace.kind = KIND
GraphProblem.kind = KIND
