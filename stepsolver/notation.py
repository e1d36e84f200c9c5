"""Symbol names: the one place that knows how a quantity is written.

A :class:`Notation` turns (quantity, layer) into LaTeX; templates never
spell a symbol themselves.  Presets change the symbols, never the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Notation:
    key: str = "default"
    title: str = "z, a, δ with W^[l] (default)"

    # --- layer quantities ---------------------------------------------------
    def sup(self, l: int) -> str:
        return f"^{{[{l}]}}"

    def z(self, l: int) -> str:
        return "z" + self.sup(l)

    def a(self, l: int) -> str:
        return "a" + self.sup(l)

    def W(self, l: int) -> str:
        return "W" + self.sup(l)

    def b(self, l: int) -> str:
        return "b" + self.sup(l)

    def delta(self, l: int) -> str:
        return r"\delta" + self.sup(l)

    def delta_ex(self, l, i) -> str:
        """delta of layer l for example i (one column)."""
        return r"\delta" + f"^{{[{l}]({i})}}"

    def gprime(self, l: int) -> str:
        return f"g'{self.sup(l)}\\left({self.z(l)}\\right)"

    def dW(self, l: int) -> str:
        return f"\\frac{{\\partial {self.J}}}{{\\partial {self.W(l)}}}"

    def db(self, l: int) -> str:
        return f"\\frac{{\\partial {self.J}}}{{\\partial {self.b(l)}}}"

    def dA(self, l: int) -> str:
        return f"\\frac{{\\partial {self.J}}}{{\\partial {self.a(l)}}}"

    def dL_da(self, l: int) -> str:
        return f"\\frac{{\\partial {self.L}}}{{\\partial {self.a(l)}}}"

    def entry(self, sym: str, i: int, j: int | None = None) -> str:
        """An entry of a quantity: z^{[1]}_{2}, W^{[2]}_{13}."""
        idx = f"{i}" if j is None else f"{i}{j}" if i < 10 and j < 10 else f"{i},{j}"
        return f"{sym}_{{{idx}}}"

    # --- scalars ------------------------------------------------------------
    J = "J"
    L = "L"
    x = "x"
    t = "t"
    eta = r"\eta"
    lam = r"\lambda"
    m = "m"

    def L_ex(self, i: int) -> str:
        return f"L^{{({i})}}"

    def new(self, sym: str) -> str:
        """How an updated parameter is named on the left of an update."""
        return sym


PRESETS: dict[str, Notation] = {"default": Notation()}


def get(key: str) -> Notation:
    return PRESETS[key]
