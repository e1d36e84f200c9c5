"""Variants of an exercise for a whole class, written as problem files.

The kind draws and screens the variants (``kinds/net/variants.py`` for a
network); this module writes them.
"""

from __future__ import annotations

import os

from . import limits
from .exact import decimal_text
from .kinds import DEFAULT, load_problem
from .kinds import get as _kind
from .kinds.net.variants import Spec, grid


def variant_spec(options: dict):
    """(the kind, what ``generate`` asks for) from its options: a problem file
    to vary (``source``: its kind reads the options), else a network of
    ``layers`` (the default kind)."""
    source = options.get("source")
    problem = load_problem(source) if source else None
    kind = problem.kind if problem is not None else _kind(DEFAULT)
    return kind, kind.variant_spec(options, problem)


def generate(spec, count: int, seed: int, max_tries: int = 50_000, progress=None, kind=DEFAULT) -> list[str]:
    """The TOML texts of ``count`` distinct variants for ``seed`` (``kind``: a
    Kind or its name)."""
    kind = _kind(kind) if isinstance(kind, str) else kind
    return kind.variants(spec, count, seed, max_tries=max_tries, progress=progress)


def write_variants(texts: list[str], out_dir: str, name: str) -> list[str]:
    """Write DIR/NAME-01.toml ... atomically; returns the paths."""
    from .output import write_output

    os.makedirs(out_dir, exist_ok=True)
    width = max(2, len(str(len(texts))))
    paths = []
    for k, text in enumerate(texts, 1):
        path = os.path.join(out_dir, f"{name}-{k:0{width}d}.toml")
        write_output(text, path)
        paths.append(path)
    return paths


__all__ = ["Spec", "generate", "variant_spec", "write_variants", "grid", "decimal_text", "limits"]
