"""Variants of an exercise for a whole class, written as problem files.

The kind draws and screens the variants (``kinds/net/variants.py`` for a
network); this module writes them.
"""

from __future__ import annotations

import os

from . import limits
from .exact import decimal_text
from .kinds import get as _kind
from .kinds.net.variants import Spec, grid


def generate(spec: Spec, count: int, seed: int, max_tries: int = 50_000, progress=None, kind: str = "net") -> list[str]:
    """The TOML texts of ``count`` distinct variants for ``seed``."""
    return _kind(kind).variants(spec, count, seed, max_tries=max_tries, progress=progress)


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


__all__ = ["Spec", "generate", "write_variants", "grid", "decimal_text", "limits"]
