"""A small immutable matrix of exact scalars (rationals or :class:`Irr`).

Rows are tuples; every operation returns a new matrix.  Entries keep their
own kind, so a matrix may hold exact rationals next to irrational values and
each stays as exact as it can be.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from .numbers import ZERO


class Mat:
    __slots__ = ("rows", "n", "m")

    def __init__(self, rows: Iterable[Iterable]):
        rows = tuple(rows)
        self.rows = rows if all(type(r) is tuple for r in rows) else tuple(tuple(r) for r in rows)
        self.n = len(self.rows)
        self.m = len(self.rows[0]) if self.rows else 0

    # -- construction ----------------------------------------------------
    @classmethod
    def column(cls, values: Iterable) -> "Mat":
        return cls((v,) for v in values)

    @classmethod
    def from_columns(cls, cols: list["Mat"]) -> "Mat":
        n = cols[0].n
        return cls(tuple(c.rows[i][0] for c in cols) for i in range(n))

    @classmethod
    def fill(cls, n: int, m: int, value=ZERO) -> "Mat":
        return cls((value,) * m for _ in range(n))

    # -- access ----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.m)

    def __getitem__(self, ij):
        i, j = ij
        return self.rows[i][j]

    def entries(self) -> Iterator:
        for r in self.rows:
            yield from r

    def col(self, j: int) -> "Mat":
        return Mat((r[j],) for r in self.rows)

    def cols(self) -> list["Mat"]:
        return [self.col(j) for j in range(self.m)]

    @property
    def T(self) -> "Mat":
        return Mat(zip(*self.rows)) if self.n else Mat(())


    # -- arithmetic ------------------------------------------------------
    def __matmul__(self, other: "Mat") -> "Mat":
        if self.m != other.n:
            raise ValueError(f"shape mismatch {self.shape} @ {other.shape}")
        cols = list(zip(*other.rows))
        return Mat(tuple(_dot(r, c) for c in cols) for r in self.rows)

    def _zip(self, other: "Mat", f: Callable) -> "Mat":
        if self.shape != other.shape:
            raise ValueError(f"shape mismatch {self.shape} vs {other.shape}")
        return Mat(tuple(f(a, b) for a, b in zip(ra, rb)) for ra, rb in zip(self.rows, other.rows))

    def __add__(self, other: "Mat") -> "Mat":
        return self._zip(other, lambda a, b: a + b)

    def __sub__(self, other: "Mat") -> "Mat":
        return self._zip(other, lambda a, b: a - b)

    def hadamard(self, other: "Mat") -> "Mat":
        return self._zip(other, lambda a, b: a * b)

    def scale(self, c) -> "Mat":
        return Mat(tuple(c * x for x in r) for r in self.rows)

    def __neg__(self) -> "Mat":
        return Mat(tuple(-x for x in r) for r in self.rows)

    def map(self, f: Callable) -> "Mat":
        return Mat(tuple(f(x) for x in r) for r in self.rows)

    def add_column(self, b: "Mat") -> "Mat":
        """Add the n x 1 column ``b`` to every column (the bias broadcast)."""
        if b.shape != (self.n, 1):
            raise ValueError(f"bias shape {b.shape} does not fit {self.shape}")
        return Mat(tuple(x + bi for x in r) for r, (bi,) in zip(self.rows, b.rows))

    def row_sums(self) -> "Mat":
        return Mat((_sum(r),) for r in self.rows)


    def __eq__(self, other) -> bool:
        if not isinstance(other, Mat) or other.shape != self.shape:
            return False
        return all(a == b for a, b in zip(self.entries(), other.entries()))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Mat({[list(r) for r in self.rows]!r})"


def _sum(values: Iterable):
    total = ZERO
    for v in values:
        total = total + v
    return total


def _dot(r, c):
    total = ZERO
    for a, b in zip(r, c):
        total = total + a * b
    return total


