"""Plain-text mathematics for the terminal format: no LaTeX reaches the reader.

* :func:`sym` turns the LaTeX our notation presets and registries emit (a
  small, known vocabulary: fractions, partials, sub- and superscripts, Greek
  letters, bars) into Unicode: ``\\frac{\\partial J}{\\partial W^{[1]}}`` ->
  ``∂J/∂W[1]``, ``w^{[1]}_{21}`` -> ``w[1]₂₁``.
* :class:`Block` lays out an equation of matrices side by side, each matrix
  with ⎡ ⎢ ⎣ brackets and right-aligned columns, text centred between them.
"""

from __future__ import annotations

import re

_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
_SUP = dict(zip("0123456789+-=()inTabcdefghjklmoprstuvwxyzN", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵀᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴺ"))

_WORDS = {
    r"\partial": "∂",
    r"\delta": "δ",
    r"\eta": "η",
    r"\alpha": "α",
    r"\lambda": "λ",
    r"\nabla": "∇",
    r"\sigma": "σ",
    r"\odot": "⊙",
    r"\oslash": "⊘",
    r"\star": "⋆",
    r"\ast": "∗",
    r"\top": "ᵀ",
    r"\cdot": "·",
    r"\leftarrow": "←",
    r"\approx": "≈",
    r"\sum": "Σ",
    r"\to": "→",
    r"\le": "≤",
    r"\ln": " ln ",
    r"\tanh": "tanh",
    r"\max": "max",
    r"\times": "×",
    r"\quad": "  ",
    r"\textstyle": "",
    r"\bigl": "",
    r"\bigr": "",
    r"\left": "",
    r"\right": "",
    r"\lVert": "‖",
    r"\rVert": "‖",
    r"\,": " ",
    r"\exp": "exp",
    r"\min": "min",
    r"\ge": "≥",
    r"\beta": "β",
    r"\gamma": "γ",
    r"\epsilon": "ε",
    r"\theta": "θ",
    r"\mu": "μ",
    r"\rho": "ρ",
    r"\tau": "τ",
    r"\phi": "φ",
    r"\omega": "ω",
    r"\pi": "π",
}
_CAL = {"J": "𝒥", "L": "ℒ", "E": "ℰ"}


def _group(s: str, i: int) -> tuple[str, int]:
    """The braced group (or single character) at s[i]: (content, next index)."""
    if i < len(s) and s[i] == "{":
        depth = 0
        for j in range(i, len(s)):
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                depth -= 1
                if depth == 0:
                    return s[i + 1 : j], j + 1
        return s[i + 1 :], len(s)
    if i < len(s) and s[i] == "\\":
        m = re.match(r"\\[A-Za-z]+", s[i:])
        if m:
            return m.group(0), i + len(m.group(0))
    return (s[i], i + 1) if i < len(s) else ("", i)


def _script(text: str, table: dict, mark: str) -> str:
    if text.startswith("[") or text.startswith("("):
        return text  # layer tags stay as written: z[1], W(2)
    done = set(table.values())
    if text and all(ch in table or ch in done for ch in text):
        return "".join(table.get(ch, ch) for ch in text)
    return mark + (text if len(text) == 1 else f"({text})")


def _wrap(t: str) -> str:
    return f"({t})" if re.search(r"[\s+\-−·]", t.strip()) else t


def sym(tex: str) -> str:
    """Unicode text of a LaTeX fragment from stepsolver's own vocabulary."""
    return _clean(_convert(str(tex)))


def _convert(s: str) -> str:
    out = []
    i = 0
    while i < len(s):
        ch = s[i]
        if s.startswith(r"\frac", i):
            num, j = _group(s, i + 5)
            den, j = _group(s, j)
            n, d = _convert(num), _convert(den)
            if n.startswith("∂") and d.startswith("∂"):
                out.append(f"{n}/{d} ")
            else:
                out.append(f"{_wrap(n)}/{_wrap(d)} ")
            i = j
        elif s.startswith(r"\bar{", i) or s.startswith(r"\hat{", i):
            body, j = _group(s, i + 4)
            b = _convert(body)
            out.append(b[:1] + ("\u0304" if s[i + 1] == "b" else "\u0302") + b[1:])
            i = j
        elif s.startswith(r"\begin{bmatrix}", i) and r"\end{bmatrix}" in s[i:]:
            # a matrix inside a line of text: its rows on one line, [1 2; 0 1]
            j = s.index(r"\end{bmatrix}", i)
            rows = [r for r in s[i + len(r"\begin{bmatrix}"):j].split(r"\\")]
            cells = ["  ".join(_convert(c).strip() for c in r.split("&")) for r in rows]
            out.append("[" + "; ".join(c for c in cells if c) + "]")
            i = j + len(r"\end{bmatrix}")
        elif s.startswith(r"\sqrt{", i):
            body, j = _group(s, i + 5)
            out.append("√" + _wrap(_convert(body)))
            i = j
        elif s.startswith(r"\mathbf", i):
            body, j = _group(s, i + 7)
            out.append(body)
            i = j
        elif s.startswith(r"\overline", i):
            body, j = _group(s, i + 9)
            b = _convert(body)
            out.append(b[:1] + "\u0304" + b[1:])
            i = j
        elif s.startswith(r"\mathcal", i):
            body, j = _group(s, i + 8)
            out.append(_CAL.get(body, body))
            i = j
        elif s.startswith(r"\mathbin{", i):
            body, j = _group(s, i + 8)
            out.append(" " + _convert(body) + " ")
            i = j
        elif s.startswith(r"\mathrm", i) or s.startswith(r"\operatorname", i) or s.startswith(r"\text{", i):
            k = i + (7 if s.startswith(r"\mathrm", i) else 13 if s.startswith(r"\operatorname", i) else 5)
            body, j = _group(s, k)
            out.append(body)
            i = j
        elif s.startswith(r"\begin{cases}", i):
            end = s.find(r"\end{cases}", i)
            body = s[i + 13 : end]
            parts = [p.strip() for p in body.split(r"\\")]
            out.append("(" + "; ".join(_convert(p).replace("&", "if").strip() for p in parts) + ")")
            i = end + len(r"\end{cases}")
        elif ch == "\\":
            m = re.match(r"\\[A-Za-z]+|\\.", s[i:])
            word = m.group(0)
            out.append(_WORDS.get(word, word.lstrip("\\")))
            i += len(word)
        elif ch in "^_":
            body, j = _group(s, i + 1)
            conv = _convert(body)
            if ch == "^":
                if conv == "ᵀ" or conv.endswith("ᵀ"):
                    out.append(conv)
                else:
                    out.append(_script(conv, _SUP, "^"))
            else:
                out.append(_script(conv, _SUB, "_"))
            i = j
        elif ch in "{}":
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _clean(t: str) -> str:
    t = t.replace("-", "−").replace("'", "′").replace("∂ ", "∂").replace("Σ", " Σ").replace("( ", "(").replace(" )", ")")
    t = re.sub(r" ([,.;:)\]])", r"\1", t)
    return re.sub(r"  +", " ", t).strip()


class Block:
    """Lines of equal width that can be set side by side."""

    def __init__(self, lines: list[str]):
        width = max((len(x) for x in lines), default=0)
        self.lines = [x.ljust(width) for x in lines]
        self.width = width

    @property
    def height(self) -> int:
        return len(self.lines)

    @classmethod
    def text(cls, t: str) -> "Block":
        return cls([t])

    @classmethod
    def matrix(cls, cells: list[list[str]]) -> "Block":
        if not cells:
            return cls(["[]"])
        widths = [max(len(r[c]) for r in cells) for c in range(len(cells[0]))]
        body = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
        if len(body) == 1:
            return cls([f"[{body[0]}]"])
        lines = []
        for k, line in enumerate(body):
            left, right = ("⎡", "⎤") if k == 0 else ("⎣", "⎦") if k == len(body) - 1 else ("⎢", "⎥")
            lines.append(f"{left}{line}{right}")
        return cls(lines)

    @staticmethod
    def row(blocks: list["Block"], gap: int = 1) -> "Block":
        """Set blocks side by side, vertically centred."""
        h = max(b.height for b in blocks)
        out = [""] * h
        for b in blocks:
            top = (h - b.height) // 2
            for r in range(h):
                k = r - top
                piece = b.lines[k] if 0 <= k < b.height else " " * b.width
                out[r] += piece + " " * gap
        return Block([x.rstrip() for x in out])

    def __str__(self) -> str:
        return "\n".join(x.rstrip() for x in self.lines)


# ------------------------------------------------------------ displays
_ENV = re.compile(r"\\begin\{(bmatrix|cases)\}(.*?)\\end\{\1\}", re.S)


def _split_lines(body: str) -> list[str]:
    """Split an aligned body at its top-level \\\\ (not inside a matrix)."""
    lines, depth, cur, i = [], 0, "", 0
    while i < len(body):
        if body.startswith("\\begin{", i):
            depth += 1
        elif body.startswith("\\end{", i):
            depth -= 1
        if depth == 0 and body.startswith("\\\\", i):
            lines.append(cur)
            cur = ""
            i += 2
            continue
        cur += body[i]
        i += 1
    lines.append(cur)
    return [x for x in (l.strip() for l in lines) if x]


def _unfrac(line: str) -> str:
    """A fraction holding a matrix cannot be drawn on one line of text:
    \\frac{A}{B} becomes (A)/(B) there."""
    if "\\frac" not in line or "bmatrix" not in line:
        return line
    out, i = [], 0
    while True:
        k = line.find("\\frac{", i)
        if k < 0:
            out.append(line[i:])
            return "".join(out)
        num, j = _group(line, k + 5)
        den, j = _group(line, j)
        if "bmatrix" not in num + den:
            out.append(line[i:j])
        else:
            out.append(line[i:k] + f"\\left({_unfrac(num)}\\right) / \\left({_unfrac(den)}\\right)")
        i = j


def _line_block(line: str) -> Block:
    line = _unfrac(line)
    blocks: list[Block] = []
    pos = 0
    for m in _ENV.finditer(line):
        before = line[pos : m.start()]
        if before.strip():
            blocks.append(Block.text(sym(before)))
        if m.group(1) == "bmatrix":
            rows = [r for r in (x.strip() for x in m.group(2).split("\\\\")) if r]
            blocks.append(Block.matrix([[sym(c) for c in r.split("&")] for r in rows]))
        else:
            blocks.append(Block.text(sym(m.group(0))))
        pos = m.end()
    rest = line[pos:]
    if rest.strip():
        blocks.append(Block.text(sym(rest)))
    return Block.row(blocks) if blocks else Block([""])


def display(tex: str) -> str:
    """A display (LaTeX math body) as Unicode text, matrices drawn with
    brackets; the lines of an aligned block line up on their '='."""
    body = tex.strip()
    m = re.fullmatch(r"\\begin\{aligned\}(.*)\\end\{aligned\}", body, re.S)
    if not m:
        return str(_line_block(body))
    out: list[str] = []
    indent = 0
    for k, line in enumerate(_split_lines(m.group(1))):
        lhs, amp, rhs = line.partition("&")
        if k == 0 or lhs.strip():
            left = sym(lhs) + " " if lhs.strip() else ""
            indent = len(left)
            block = _line_block(rhs if amp else lhs)
            b = Block.row([Block.text(left.rstrip()), block]) if left else block
        else:
            b = _line_block(rhs)
            b = Block([" " * indent + x for x in b.lines])
        out.append(str(b))
    return "\n".join(out)


# ------------------------------------------------------------- helpers
def _width(text) -> int:
    """Columns a string takes in a terminal: Hangul, CJK and other wide
    characters take two.  (Other text counts its code points, as it always
    has, so English output is unchanged.)"""
    import unicodedata

    s = str(text)
    if s.isascii():
        return len(s)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _has_wide(text: str) -> bool:
    import unicodedata

    return not text.isascii() and any(unicodedata.east_asian_width(c) in "WF" for c in text)


def _ljust(text, w: int) -> str:
    s = str(text)
    return s + " " * (w - _width(s))


def table(header: list, rows: list) -> str:
    """A plain-text table with aligned columns (by display width)."""
    cols = list(zip(*([header] + rows))) if rows else [[h] for h in header]
    widths = [max(_width(c) for c in col) for col in cols]
    lines = ["  ".join(_ljust(c, w) for c, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(_ljust(c, w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


def indent(text: str, width: int = 4) -> str:
    pad = " " * width
    return "\n".join(pad + line if line.strip() else "" for line in str(text).split("\n"))


def wrap(text: str, hang: int = 0, width: int = 100) -> str:
    """Wrap a paragraph; continuation lines indented by ``hang``.  Text
    with wide characters (Hangul) is wrapped by display width."""
    import textwrap

    paras = str(text).split("\n\n")
    return "\n\n".join(
        textwrap.fill(" ".join(p.split()), width=width, subsequent_indent=" " * hang, break_on_hyphens=False)
        if not _has_wide(p) else _wrap_wide(p.split(), hang, width)
        for p in paras
    )


def _wrap_wide(words: list, hang: int, limit: int) -> str:
    lines, line, used = [], "", 0
    for w in words:
        ww = _width(w)
        if line and used + 1 + ww > limit:
            lines.append(line)
            line, used = " " * hang + w, hang + ww
        else:
            line, used = (line + " " + w, used + 1 + ww) if line else (w, ww)
    if line:
        lines.append(line)
    return "\n".join(lines)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """User text for a terminal: control characters (escape sequences,
    bidirectional overrides) removed."""
    return _CONTROL.sub("", str(text))


width = _width
