"""The derivation as data, for every exercise kind.

A kind (``kinds/net``, ``kinds/graph``) fills a :class:`Trace` with its
own step records -- the network keeps its layer records, tests read
``trace.steps[0].layers[0].z`` -- and lists what it derived as
:class:`Quantity` records, each addressed by one :class:`Key`.  Everything
downstream of the solve reads the quantities, never a kind's records:

* CSV rows and the ``--round`` table (in record order);
* the cross-check loop, the quiz items, the blank answer sheet and the order
  ``check`` reports in (in worked order).

What a kind supplies to the rest of the program is declared by the kit's
``Kind`` base (kinds/kit.py); ``kinds.KINDS`` registers them.  Nothing here
computes or prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator

from .errors import LimitError, SolveError


@dataclass(frozen=True, order=True)
class Key:
    """The one address of a quantity: CSV rows, JSON paths, answer slots,
    check items and error texts all name a value by it.

    step   the update it belongs to, from 1 (0: not part of an update, such
           as the cost after the last one);
    where  the part of the exercise: a network's layer (from 1), None for a
           quantity of the whole step (the loss); a graph's node name later;
    name   the quantity: "z", "a", "delta", "grad_W", ..., "loss"."""

    step: int
    where: Any
    name: str

    def text(self, several_steps: bool = True) -> str:
        """'step 1, layer 2, z' (without the step when there is one)."""
        head = f"step {self.step}, " if several_steps and self.step else ""
        if self.where is None:
            return head + self.name
        where = f"layer {self.where}" if isinstance(self.where, int) else str(self.where)
        return f"{head}{where}, {self.name}"


@dataclass(frozen=True)
class Quantity:
    """One derived value (a matrix; a scalar is 1 x 1).

    rule      what produced it ("preactivation", "update", ...): the formula
              a template writes and ``check`` replays;
    operands  its inputs in textbook order, as (symbol name, value) pairs --
              the learning rate included, so the trace alone says what the
              update used;
    asked     whether an answer sheet, a quiz and ``check`` ask for it;
    record    its place in the kind's record (CSV and the ``--round`` table
              list quantities in this order; ``quantities()`` yields them in
              the order they are worked);
    label     how the ``--round`` table names it ("z, layer 1")."""

    key: Key
    value: Any
    rule: str
    operands: tuple = ()
    asked: bool = True
    record: int = 0
    label: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return (self.value.n, self.value.m)


def in_record_order(quantities) -> list:
    """Quantities of one step sorted by their place in the record (stable)."""
    return sorted(quantities, key=lambda q: q.record)


@dataclass(frozen=True)
class Trace:
    """A solved problem: its steps in order, and what was noted on the way.

    A kind subclasses it for its step records (and adds what else it
    derives); ``kind`` is bound when the kind is registered."""

    problem: object
    steps: tuple
    notes: tuple[str, ...] = field(default=(), kw_only=True)  # cross-check and solve remarks
    #: the same update worked by someone rounding every value to round_places decimals (--round N)
    rounded: "Trace | None" = field(default=None, kw_only=True)
    round_places: int | None = field(default=None, kw_only=True)
    #: bits of working precision the irrational values were certified at
    precision: int | None = field(default=None, kw_only=True)

    #: the Kind that solved it (set by kinds.register)
    kind: ClassVar[Any] = None

    def quantities(self, step) -> list:
        """The quantities of one step, in worked order (a kind's trace type
        supplies them)."""
        raise NotImplementedError


def worked_keys(trace: Trace) -> Iterator[Key]:
    """Every asked quantity's key, step by step, in worked order."""
    for step in trace.steps:
        for q in trace.quantities(step):
            if q.asked:
                yield q.key


def problem_name(title: str | None, source: str | None, fallback: str) -> str:
    """How a problem is named: its title, else its file's name, else ``fallback``."""
    if title:
        return title
    if source:
        return os.path.splitext(os.path.basename(source))[0]
    return fallback


class RoundedKeys:
    """For a kind's view (with ``trace`` and ``problem``): the key of a
    student who rounds every written value to N decimals, solved once per N
    by the kind (None where that rounded chain cannot be worked)."""

    def _rounded_key(self, places: int):
        cache = self.__dict__.setdefault("_keys", {})
        if places not in cache:
            try:
                cache[places] = self.trace.kind.solve_rounded(self.problem, places)
            except (SolveError, LimitError):
                cache[places] = None
        return cache[places]
