"""Computation graphs: the second exercise kind (``kind = "graph"``).

Named nodes, each an expression of the names above it; forward values, the
local derivative of every edge, and v-bar = sum over children c of
c-bar . dc/dv in reverse order (lecture notes 001, section 2.4).  Its
templates are under ``templates/graph/``.  It is built on the kit
(kinds/kit.py): the members it does not name forward to its modules by
convention.
"""

from __future__ import annotations

from ..kit import Kind
from .problem import GraphProblem
from .trace import GraphTrace


class GraphKind(Kind):
    name = "graph"
    trace_type = GraphTrace
    problem_type = GraphProblem
    templates = "graph"
    where_key = "node"  # check's JSON names an item's node
    package = __name__


KIND = GraphKind()
GraphTrace.kind = KIND
GraphProblem.kind = KIND
