"""The layered network: the first exercise kind.

Its folder holds everything that knows a network: reading the problem
(problem.py), the exact steps (engine.py) and their rules (rules.py), the
NumPy cross-check (numeric.py), the trace records and their quantities
(trace.py), symbols (notation.py), the picture's geometry (figure.py), the
answers file (answers.py), the replay for ``check`` (replay.py), class
variants (variants.py), the JSON contract (contract.py) and what templates
see (view.py).  Its templates are under ``templates/net/``.
"""

from __future__ import annotations

from . import answers, contract, engine, numeric, replay, variants, view
from .problem import Problem, problem_from_dict
from .trace import NetTrace, quantities


class NetKind:
    name = "net"
    trace_type = NetTrace
    problem_type = Problem
    templates = "net"

    def load(self, data: dict, source: str | None = None) -> Problem:
        return problem_from_dict(data, source=source)

    def solve(self, problem: Problem) -> NetTrace:
        return engine.solve_exact(problem)

    def solve_rounded(self, problem: Problem, places: int) -> NetTrace:
        return engine.solve_rounded(problem, places)

    def crosscheck(self, trace: NetTrace) -> list[str]:
        return numeric.crosscheck(trace)

    def quantities(self, trace: NetTrace, step) -> list:
        return quantities(trace, step)

    def read_answers(self, data: dict, trace: NetTrace):
        return answers.answers_from_dict(data, trace)

    def replay(self, marker, trace: NetTrace, sheet) -> None:
        replay.replay(marker, trace, sheet)

    def blank(self, trace: NetTrace) -> dict:
        return answers.blank_view(trace)

    blank_value = staticmethod(answers.blank_value)

    def to_dict(self, trace: NetTrace) -> dict:
        return contract.to_dict(trace)

    def view(self, trace: NetTrace, number: int, services) -> view.ProblemView:
        return view.ProblemView(trace, number, services)

    def report_view(self, report, tr) -> view.ReportParts:
        return view.ReportParts(report, tr)

    def variants(self, spec, count: int, seed: int, **options) -> list[str]:
        return variants.generate(spec, count, seed, **options)


KIND = NetKind()
NetTrace.kind = KIND
Problem.kind = KIND
