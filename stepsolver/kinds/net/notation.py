"""Symbol names: the one place that knows how a quantity is written.

A :class:`Notation` turns (quantity, layer, unit, example) into LaTeX;
templates never spell a symbol themselves.  Presets change the symbols, never
the computation:

* ``default``  z, a, delta with W^[l]; delta = dJ/dz includes the batch factor.
* ``ng``       Andrew Ng's Z, A, dZ, dW, db, dA: dZ = dL/dZ for each example
               (no batch factor), and the 1/m is written in dW and db.
* ``nielsen``  Nielsen's z^l, a^l, w^l, delta^l and cost C; like Ng, delta is
               per example and the 1/n enters the gradients.
* ``grosse``   Grosse's bar notation: v-bar = dJ/dv, layers in parentheses,
               hidden activations h, output y.
* ``netout``   the net/out naming of the well-known 2-2-2 tutorials: inputs
               i, net and out of hidden units h and output units o, weights
               numbered w_1, w_2, ... layer by layer, E_total.

Example indices appear only when an update has several examples.

Size: about 420 lines, the five presets side by side so that they are read
and compared symbol by symbol.
"""

from __future__ import annotations


class Notation:
    key = "default"
    title = "z, a, δ with W^[l]"
    #: whether the displayed delta includes the batch factor (False: the
    #: per-example gradient, with 1/m written in the weight gradients)
    batch_in_delta = True

    def __init__(self, sizes: list[int] | None = None):
        self.sizes = sizes or []

    @property
    def L_layers(self) -> int:
        return len(self.sizes) - 1

    def bind(self, problem) -> "Notation":
        return type(self)(problem.sizes)

    # --------------------------------------------------------- layer tags
    def sup(self, l) -> str:
        return f"^{{[{l}]}}"

    def _ex(self, j) -> str:
        return "" if j is None else f"({j})"

    # ---------------------------------------------------- matrix symbols
    def z(self, l) -> str:
        return "z" + self.sup(l)

    def a(self, l) -> str:
        return "a" + self.sup(l)

    def W(self, l) -> str:
        return "W" + self.sup(l)

    def b(self, l) -> str:
        return "b" + self.sup(l)

    def delta(self, l) -> str:
        return r"\delta" + self.sup(l)

    def delta_ex(self, l, i) -> str:
        """delta of layer l for example i (one column)."""
        return r"\delta" + f"^{{[{l}]({i})}}"

    def g(self, l) -> str:
        """The generic activation function of layer l (custom activations)."""
        return "g" + self.sup(l)

    def gprime_name(self, l) -> str:
        return "g'" + self.sup(l)

    def dW(self, l) -> str:
        return self.partial(self.J, self.W(l))

    def db(self, l) -> str:
        return self.partial(self.J, self.b(l))

    def dA(self, l) -> str:
        return self.partial(self.J, self.a(l))

    def dL_da(self, l) -> str:
        return self.partial(self.L, self.a(l))

    @staticmethod
    def partial(f: str, v: str) -> str:
        return f"\\frac{{\\partial {f}}}{{\\partial {v}}}"

    J = "J"
    L = "L"
    x = "x"
    t = "t"
    X = "X"
    T = "T"
    eta = r"\eta"
    lam = r"\lambda"
    m = "m"
    #: column headings of the forward table
    z_name = "z"
    a_name = "a"

    def L_ex(self, i) -> str:
        return f"{self.L}^{{({i})}}"

    # --------------------------------------------------- element symbols
    def _el(self, base: str, l, idx, j) -> str:
        return f"{base}^{{[{l}]{self._ex(j)}}}_{{{idx}}}"

    def z_e(self, l, i, j=None) -> str:
        return self._el("z", l, i, j)

    def a_e(self, l, i, j=None) -> str:
        return self._el("a", l, i, j)

    def w_e(self, l, i, k) -> str:
        return f"w^{{[{l}]}}_{{{_pair(i, k)}}}"

    def b_e(self, l, i) -> str:
        return f"b^{{[{l}]}}_{{{i}}}"

    def delta_e(self, l, i, j=None) -> str:
        return self._el(r"\delta", l, i, j)

    def dA_e(self, l, i, j=None) -> str:
        return self.partial(self.J, self.a_e(l, i, j))

    def dL_da_e(self, l, i, j=None) -> str:
        return self.partial(self.L, self.a_e(l, i, j))

    def dW_e(self, l, i, k) -> str:
        return self.partial(self.J, self.w_e(l, i, k))

    def db_e(self, l, i) -> str:
        return self.partial(self.J, self.b_e(l, i))

    def t_e(self, i, j=None) -> str:
        return f"t^{{{self._ex(j)}}}_{{{i}}}" if j is not None else f"t_{{{i}}}"


def _pair(i, k) -> str:
    return f"{i}{k}" if isinstance(i, int) and isinstance(k, int) and i < 10 and k < 10 else f"{i},{k}"


class Ng(Notation):
    key = "ng"
    title = "Andrew Ng: Z, A, dZ, dW, db, dA with 1/m in dW and db"
    batch_in_delta = False
    J = "J"
    L = r"\mathcal{L}"
    x = "X"
    t = "Y"
    X = "X"
    T = "Y"
    eta = r"\alpha"
    m = "m"

    def z(self, l):
        return "Z" + self.sup(l)

    def a(self, l):
        return "A" + self.sup(l)

    def delta(self, l):
        return "dZ" + self.sup(l)

    def delta_ex(self, l, i):
        return f"dz^{{[{l}]({i})}}"

    def dW(self, l):
        return "dW" + self.sup(l)

    def db(self, l):
        return "db" + self.sup(l)

    def dA(self, l):
        return "dA" + self.sup(l)

    def dL_da(self, l):
        return "dA" + self.sup(l)

    def w_e(self, l, i, k):
        return f"W^{{[{l}]}}_{{{_pair(i, k)}}}"

    def delta_e(self, l, i, j=None):
        return self._el("dz", l, i, j)

    def dA_e(self, l, i, j=None):
        return self._el("da", l, i, j)

    def dL_da_e(self, l, i, j=None):
        return self._el("da", l, i, j)

    def dW_e(self, l, i, k):
        return f"dW^{{[{l}]}}_{{{_pair(i, k)}}}"

    def db_e(self, l, i):
        return f"db^{{[{l}]}}_{{{i}}}"

    def t_e(self, i, j=None):
        return f"y^{{{self._ex(j)}}}_{{{i}}}" if j is not None else f"y_{{{i}}}"


class Nielsen(Notation):
    key = "nielsen"
    title = "Nielsen: z^l, a^l, w^l, δ^l and the cost C"
    batch_in_delta = False
    J = "C"
    L = "C_{x}"
    x = "x"
    t = "y"
    X = "X"
    T = "Y"
    m = "n"

    def sup(self, l):
        return f"^{{{l}}}"

    def W(self, l):
        return "w" + self.sup(l)

    def delta_ex(self, l, i):
        return f"\\delta^{{{l},({i})}}"

    def L_ex(self, i):
        return f"C_{{x^{{({i})}}}}"

    def dL_da(self, l):
        return r"\nabla_{a} C_{x}"

    def _el(self, base, l, idx, j):
        return f"{base}^{{{l}{',(' + str(j) + ')' if j is not None else ''}}}_{{{idx}}}"

    def w_e(self, l, i, k):
        return f"w^{{{l}}}_{{{_pair(i, k)}}}"

    def b_e(self, l, i):
        return f"b^{{{l}}}_{{{i}}}"

    def dL_da_e(self, l, i, j=None):
        return self.partial("C_{x}", self.a_e(l, i, j))

    def t_e(self, i, j=None):
        return f"y^{{{self._ex(j)}}}_{{{i}}}" if j is not None else f"y_{{{i}}}"


class Grosse(Notation):
    key = "grosse"
    title = "Grosse: bar notation, v̄ = ∂J/∂v"
    a_name = "h, y"
    J = r"\mathcal{J}"
    L = r"\mathcal{L}"
    x = "x"
    t = "t"
    eta = r"\alpha"
    m = "N"

    def sup(self, l):
        return f"^{{({l})}}"

    def _ex(self, j):
        return "" if j is None else f"[{j}]"

    def a(self, l):
        if l == 0:
            return "x"
        if self.sizes and l == self.L_layers:
            return "y"
        return "h" + self.sup(l)

    def delta(self, l):
        return f"\\overline{{{self.z(l)}}}"

    def delta_ex(self, l, i):
        return f"\\overline{{z^{{({l})[{i}]}}}}"

    def dW(self, l):
        return f"\\overline{{{self.W(l)}}}"

    def db(self, l):
        return f"\\overline{{{self.b(l)}}}"

    def dA(self, l):
        return f"\\overline{{{self.a(l)}}}"

    def _el(self, base, l, idx, j):
        return f"{base}^{{({l}){self._ex(j)}}}_{{{idx}}}"

    def z_e(self, l, i, j=None):
        return self._el("z", l, i, j)

    def a_e(self, l, i, j=None):
        if l == 0:
            return f"x^{{{self._ex(j)}}}_{{{i}}}" if j is not None else f"x_{{{i}}}"
        if self.sizes and l == self.L_layers:
            return f"y^{{{self._ex(j)}}}_{{{i}}}" if j is not None else f"y_{{{i}}}"
        return self._el("h", l, i, j)

    def w_e(self, l, i, k):
        return f"w^{{({l})}}_{{{_pair(i, k)}}}"

    def b_e(self, l, i):
        return f"b^{{({l})}}_{{{i}}}"

    def delta_e(self, l, i, j=None):
        return f"\\overline{{{self.z_e(l, i, j)}}}"

    def dA_e(self, l, i, j=None):
        return f"\\overline{{{self.a_e(l, i, j)}}}"

    def dW_e(self, l, i, k):
        return f"\\overline{{{self.w_e(l, i, k)}}}"

    def db_e(self, l, i):
        return f"\\overline{{{self.b_e(l, i)}}}"

    def t_e(self, i, j=None):
        return f"t^{{{self._ex(j)}}}_{{{i}}}" if j is not None else f"t_{{{i}}}"


class NetOut(Notation):
    key = "netout"
    title = "net/out naming of the 2-2-2 tutorials"
    z_name = r"\mathrm{net}"
    a_name = r"\mathrm{out}"
    J = r"E_{\mathrm{total}}"
    L = "E"
    x = "i"
    t = r"\mathrm{target}"
    X = "I"
    T = r"\mathrm{target}"

    def _unit(self, l) -> str:
        """h, h^{(2)}, o: the letter of a layer's units."""
        if self.sizes and l == self.L_layers:
            return "o"
        hidden = self.L_layers - 1 if self.sizes else 1
        return "h" if hidden <= 1 else f"h^{{({l})}}"

    def z(self, l):
        return f"\\mathrm{{net}}_{{{self._unit(l)}}}"

    def a(self, l):
        if l == 0:
            return "i"
        return f"\\mathrm{{out}}_{{{self._unit(l)}}}"

    def delta(self, l):
        return f"\\delta_{{{self._unit(l)}}}"

    def delta_ex(self, l, i):
        return f"\\delta_{{{self._unit(l)}}}^{{({i})}}"

    def L_ex(self, i):
        return f"E^{{({i})}}"

    def dL_da(self, l):
        return self.partial("E", self.a(l))

    def _uel(self, l, i):
        u = self._unit(l)
        return f"{u}_{{{i}}}" if "^" not in u else f"h^{{({l})}}_{{{i}}}"

    def z_e(self, l, i, j=None):
        return f"\\mathrm{{net}}_{{{self._uel(l, i)}}}" + (f"^{{({j})}}" if j is not None else "")

    def a_e(self, l, i, j=None):
        if l == 0:
            return f"i_{{{i}}}" + (f"^{{({j})}}" if j is not None else "")
        return f"\\mathrm{{out}}_{{{self._uel(l, i)}}}" + (f"^{{({j})}}" if j is not None else "")

    def weight_number(self, l, i, k) -> int:
        n = 0
        for layer in range(1, l):
            n += self.sizes[layer] * self.sizes[layer - 1]
        return n + (i - 1) * self.sizes[l - 1] + k

    def w_e(self, l, i, k):
        if self.sizes and isinstance(i, int) and isinstance(k, int):
            return f"w_{{{self.weight_number(l, i, k)}}}"
        return f"w^{{[{l}]}}_{{{_pair(i, k)}}}"

    def b_e(self, l, i):
        return f"b_{{{self._uel(l, i)}}}"

    def delta_e(self, l, i, j=None):
        return f"\\delta_{{{self._uel(l, i)}}}" + (f"^{{({j})}}" if j is not None else "")

    def dL_da_e(self, l, i, j=None):
        return self.partial("E", self.a_e(l, i, j))

    def t_e(self, i, j=None):
        return f"\\mathrm{{target}}_{{o_{{{i}}}}}" + (f"^{{({j})}}" if j is not None else "")


PRESETS: dict[str, type[Notation]] = {
    "default": Notation,
    "ng": Ng,
    "nielsen": Nielsen,
    "grosse": Grosse,
    "netout": NetOut,
}


def get(key: str, problem=None) -> Notation:
    n = PRESETS[key]()
    return n.bind(problem) if problem is not None else n


def choose(key: str):
    """The preset class for ``key`` (RenderError naming the known ones)."""
    if key not in PRESETS:
        from ...errors import RenderError

        raise RenderError(f"unknown notation {key!r} (known: {', '.join(PRESETS)})")
    return PRESETS[key]
