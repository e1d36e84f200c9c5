"""A student's written values, kind-neutral: each entry as written, and
the precision the sheet was worked to.

A kind reads its own layout of an answers file (``kinds/net/answers.py``)
into an :class:`AnswerSheet`: a matrix of :class:`Given` (None where not
answered) per :class:`~stepsolver.trace.Key`.

**The written precision of an entry.**  A written value stands for the
interval of half a unit of its own last written place, counting at least 2
places (``-0.9`` is -0.90 +- 0.005, ``0.268941`` is +- 0.0000005): the digits a
student writes are the precision they claim, whatever their neighbours have.
A declared ``decimals = k`` reads every entry to k (the sheet says it was
worked to k).  The sheet's usual precision (the number of decimals written
most often, among entries of 2 or more) is what the marker rounds a careful
student's intermediates to.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

from .errors import InputError
from .tomlio import FloatText, describe, parse_number
from .trace import Key

UNANSWERED = ("?", "")


@dataclass(frozen=True)
class Given:
    """One answered entry: its exact value and how it was written."""

    q: object  # exact rational
    text: str  # as written, e.g. '-0.94', '76/3'
    fraction: bool  # written as a fraction: must match exactly
    places: int  # decimal places written (scientific notation counted)
    reading: int = -1  # decimal places it is read to (the sheet's precision); -1: places


@dataclass
class AnswerSheet:
    """What a student wrote: rows of Given|None per quantity."""

    entries: dict = field(default_factory=dict)  # Key -> list of rows of Given | None
    decimals: int | None = None  # declared: the sheet was worked to this many decimals
    usual: int | None = None  # the decimals written most often (ties: the larger), or the declared ones

    def get(self, key: Key):
        """Rows of Given|None for the quantity, or None when it is absent."""
        return self.entries.get(key)

    def givens(self):
        """Every answered quantity: (key, rows of Given|None)."""
        return self.entries.items()


_DEC_TEXT = re.compile(r"^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")


def parse_given(value, where: str) -> Given | None:
    """One entry: a number, a fraction, or '?' (None)."""
    if isinstance(value, str) and not isinstance(value, FloatText) and value.strip() in UNANSWERED:
        return None
    if isinstance(value, (list, dict)):
        raise InputError(f"expected a number or \"?\", got {describe(value)}", key=where)
    q = parse_number(value, where)
    text = str(value).strip() if not isinstance(value, bool) else str(value)
    if isinstance(value, FloatText):
        text = str(value).replace("_", "")
    fraction = "/" in text
    places = 0
    if not fraction:
        m = _DEC_TEXT.match(text)
        if m:
            frac_digits = len(m.group(2) or "")
            exp = int(m.group(3)) if m.group(3) else 0
            places = frac_digits - exp
    return Given(q=q, text=text, fraction=fraction, places=places)


def _shape_text(n: int, m: int) -> str:
    return f"{n}×{m}"


def parse_entries(value, where: str, n: int, m: int) -> list[list]:
    """A matrix of n rows and m columns of Given|None.  A flat list is a column
    when m == 1 (or a row when n == 1); a bare value is 1 x 1."""
    want = _shape_text(n, m)
    if not isinstance(value, list):
        if n == 1 and m == 1:
            return [[parse_given(value, where)]]
        raise InputError(f"expected {want}, got a single value", key=where)
    if all(not isinstance(v, (list, dict)) for v in value):  # flat
        if m == 1 and len(value) == n:
            return [[parse_given(v, f"{where}[{i}]")] for i, v in enumerate(value, 1)]
        if n == 1 and len(value) == m:
            return [[parse_given(v, f"{where}[{j}]") for j, v in enumerate(value, 1)]]
        raise InputError(f"expected {want}, got {len(value)} numbers", key=where)
    if not all(isinstance(r, list) for r in value):
        raise InputError(f"expected {want}: mixes numbers and rows", key=where)
    if len(value) != n or any(len(r) != m for r in value):
        widths = sorted({len(r) for r in value})
        got = f"{len(value)}×{widths[0]}" if len(widths) == 1 else f"{len(value)} rows of {'/'.join(map(str, widths))} numbers"
        raise InputError(f"expected {want}, got {got}", key=where)
    rows = []
    for i, r in enumerate(value, 1):
        row = []
        for j, v in enumerate(r, 1):
            if isinstance(v, (list, dict)):
                raise InputError(f"expected a number or \"?\", got {describe(v)}", key=f"{where}[{i}][{j}]")
            row.append(parse_given(v, f"{where}[{i}][{j}]"))
        rows.append(row)
    return rows


def read_precision(sheet: AnswerSheet) -> AnswerSheet:
    """Set every entry's reading precision and the sheet's usual precision
    (see the module docstring)."""
    counts = Counter(g.places for _, rows in sheet.givens() for r in rows for g in r
                     if g is not None and not g.fraction and g.places > 0)
    # the decimals written most often (ties: the more), among entries of at
    # least 2: trailing zeros left off (0.1 for 0.100, 0 for 0.000) do not count
    full = {p: n for p, n in counts.items() if p >= 2} or counts
    mode = max(full.items(), key=lambda kv: (kv[1], kv[0]))[0] if full else None
    sheet.usual = sheet.decimals if sheet.decimals is not None else mode

    def reading(g: Given) -> int:
        if g.fraction:
            return g.places
        return sheet.decimals if sheet.decimals is not None else g.places

    def read(rows):
        return [[None if g is None else replace(g, reading=reading(g)) for g in r] for r in rows]

    for key in list(sheet.entries):
        sheet.entries[key] = read(sheet.entries[key])
    return sheet
