"""The layered network: the first exercise kind.

Its folder holds everything that knows a network: reading the problem
(problem.py), the exact steps (engine.py) and their rules (rules.py), the
NumPy cross-check (numeric.py), the trace records and their quantities
(trace.py), symbols (notation.py), the picture's geometry (figure.py), the
answers file (answers.py), the replay for ``check`` (replay.py), class
variants (variants.py), the JSON contract (contract.py) and what templates
see (view.py).  Its templates are under ``templates/net/``.  It is built on
the kit (kinds/kit.py): the members it does not name forward to those
modules by convention.
"""

from __future__ import annotations

from ..kit import Kind
from .problem import Problem
from .trace import NetTrace


class NetKind(Kind):
    name = "net"
    trace_type = NetTrace
    problem_type = Problem
    templates = "net"
    where_key = "layer"
    package = __name__
    tikz = False  # its picture is drawn in LaTeX's picture mode


KIND = NetKind()
NetTrace.kind = KIND
Problem.kind = KIND
