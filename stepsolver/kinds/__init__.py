"""The exercise kinds, and loading a problem file of any of them.

``KINDS`` maps the value of a problem file's ``kind`` key to the module of
the kind (a folder under ``kinds/`` whose ``KIND`` object follows the
:class:`~stepsolver.kinds.kit.Kind` base); a file without ``kind`` is a
layered network.  A kind is imported when it is first used, so adding one is
one line here.  :func:`register` adds one at run time (a plug-in, a test).
"""

from __future__ import annotations

import importlib
import os

from ..errors import InputError, StepsolverError
from ..tomlio import choose, parse_toml_bytes, read_toml

#: kind name -> module holding its KIND
KINDS: dict[str, str] = {
    "net": "stepsolver.kinds.net",
    "graph": "stepsolver.kinds.graph",
}
DEFAULT = "net"

_loaded: dict[str, object] = {}


def register(name: str, module_or_kind) -> None:
    """Add a kind: the name of a module holding ``KIND``, or the object."""
    if isinstance(module_or_kind, str):
        KINDS[name] = module_or_kind
        _loaded.pop(name, None)
    else:
        KINDS[name] = f"<registered {name}>"
        _bind(module_or_kind)
        _loaded[name] = module_or_kind


def _bind(kind) -> None:
    kind.trace_type.kind = kind
    if getattr(kind, "problem_type", None) is not None:
        kind.problem_type.kind = kind


def get(name: str = DEFAULT):
    """The Kind object for a name (imported on first use)."""
    kind = _loaded.get(name)
    if kind is None:
        kind = importlib.import_module(KINDS[name]).KIND
        _bind(kind)
        _loaded[name] = kind
    return kind


def kind_of(data: dict):
    """The kind a problem's TOML data declares (``kind``; absent: "net")."""
    name = choose(data.get("kind", DEFAULT), "kind", {k: k for k in KINDS}, "exercise kind")
    return get(name)


def problem_from_data(data: dict, source: str | None = None):
    return kind_of(data).load(data, source)


def load_problem(path: str | os.PathLike):
    """Read, validate and build a problem from a TOML file."""
    name = os.fspath(path)
    data = read_toml(path)
    try:
        return problem_from_data(data, source=name)
    except StepsolverError as exc:
        raise exc.located(name)


def loads_problem(text: str, name: str = "<string>"):
    """Build a problem from TOML text."""
    data = parse_toml_bytes(text.encode("utf-8"), name)
    try:
        return problem_from_data(data, source=name)
    except StepsolverError as exc:
        raise exc.located(name)


__all__ = ["KINDS", "DEFAULT", "register", "get", "kind_of", "load_problem", "loads_problem", "InputError"]
