"""The prose of every output, one table per language.

Each language is a TOML file beside this module (``en.toml``, ``ko.toml``):
key -> sentence, with ``{name}`` placeholders for symbols, numbers and
other sentences.  A value may be a table ``{one = ..., other = ...}``: the
form is chosen by the ``count`` placeholder (languages without a plural
give only ``other``).  The ``--lang`` choices are the files present.

Engine code that must say something (a note on a trace, a slip named by
the marker) does not write English: it makes a :class:`Text`, a sentence
by key and placeholders.  A Text *is* its English string, so anything that
only reads it as text keeps working, and a renderer in another language
writes it again from the key (:meth:`Messages.text`).

This module imports nothing of stepsolver but errors: every layer may use it.
"""

from __future__ import annotations

import os
import string
import tomllib
from functools import lru_cache

from ..errors import InputError

HERE = os.path.dirname(__file__)
DEFAULT = "en"


def languages() -> list[str]:
    """The languages present: one TOML table each."""
    return sorted(f[:-5] for f in os.listdir(HERE) if f.endswith(".toml"))


def _flatten(table: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and not set(v) <= {"one", "other"}:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


@lru_cache(maxsize=None)
def _load(lang: str) -> dict:
    with open(os.path.join(HERE, f"{lang}.toml"), "rb") as fh:
        return _flatten(tomllib.load(fh))


class Messages:
    """The sentences of one language."""

    def __init__(self, lang: str):
        self.lang = lang
        self.table = _load(lang)
        self.english = self.table if lang == DEFAULT else _load(DEFAULT)

    def t(self, key: str, /, **params) -> str:
        """The sentence ``key`` with its placeholders filled in.  A parameter
        that is a :class:`Text` is written in this language too."""
        value = self.table.get(key)
        if value is None:
            value = self.english.get(key)
            if value is None:
                raise KeyError(f"no sentence {key!r} in the language tables")
        if isinstance(value, dict):
            n = params.get("count")
            value = value.get("one") if n == 1 and "one" in value else value["other"]
        if not params:
            return value
        return value.format_map({k: _Param(self.text(v)) for k, v in params.items()})

    __call__ = t

    def has(self, key: str) -> bool:
        return key in self.table or key in self.english

    def text(self, x):
        """A :class:`Text` in this language; any other value unchanged."""
        if isinstance(x, Text):
            return x if self.lang == DEFAULT and not x.params_have_text else self.t(x.key, **x.params)
        return x


class _Param:
    """A filled-in value; ``{name:clause}`` writes a sentence as a clause
    inside another (first letter small, no full stop)."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __format__(self, spec: str) -> str:
        if spec == "clause":
            s = str(self.v)
            return s[:1].lower() + s[1:].rstrip(".")
        return format(self.v, spec)


class Text(str):
    """A sentence by key: its value is the English sentence, ``key`` and
    ``params`` let another language write it again."""

    key: str
    params: dict

    def __new__(cls, key: str, /, **params):
        self = super().__new__(cls, english().t(key, **params))
        self.key = key
        self.params = params
        return self

    @property
    def params_have_text(self) -> bool:
        return any(isinstance(v, Text) for v in self.params.values())

    def __reduce__(self):
        return (_text, (self.key, self.params))


def _text(key, params):
    return Text(key, **params)


@lru_cache(maxsize=None)
def messages(lang: str | None = None) -> Messages:
    """The sentences of ``lang`` (default English); an unknown language is
    bad input naming the known ones."""
    lang = lang or DEFAULT
    if lang not in languages():
        raise InputError(f"unknown language {lang!r} (known: {', '.join(languages())})", key="--lang")
    return Messages(lang)


def english() -> Messages:
    return messages(DEFAULT)


def placeholders(value) -> set[str]:
    """The placeholder names of a sentence (or of each form of a plural)."""
    forms = value.values() if isinstance(value, dict) else [value]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


__all__ = ["Messages", "Text", "messages", "english", "languages", "placeholders", "DEFAULT"]
