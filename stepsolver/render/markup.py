"""Markup for user text and math: escaping for LaTeX, Markdown, HTML and
TOML comments, and LaTeX math converted to MathML for the HTML page."""

from __future__ import annotations

import re

from ..errors import RenderError


# ------------------------------------------------------------ escaping
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "%": r"\%",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


_GREEK = dict(zip("αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ", [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
    "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta",
    "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega"]))
_LATEX_SYMBOLS = {
    "→": r"\ensuremath{\rightarrow}", "←": r"\ensuremath{\leftarrow}", "≈": r"\ensuremath{\approx}",
    "×": r"\ensuremath{\times}", "·": r"\ensuremath{\cdot}", "≤": r"\ensuremath{\le}", "≥": r"\ensuremath{\ge}",
    "∂": r"\ensuremath{\partial}", "−": "-", "′": "'", "½": r"\ensuremath{\tfrac{1}{2}}",
}
_TEXT_PUNCT = set("–—‘’“”…•€")


#: a word with underscores in prose: a name with a subscript (L_reg, W_1, x_t) is set as math,
#: as in the formulas; a keyword (half_sse, leaky_relu) in typewriter type
_SUBSCRIPTED = re.compile(r"(?<![A-Za-z0-9_\\])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?![A-Za-z0-9_])")


def _name_math(m) -> str:
    word = m.group(0)
    base, _, sub = word.partition("_")
    if "_" in sub or (len(base) > 1 and not sub.isdigit()):
        return "\\texttt{" + "\\textunderscore{}".join(_escape_chars(p) for p in word.split("_")) + "}"
    base = base if len(base) == 1 else f"\\mathrm{{{base}}}"
    sub = sub if len(sub) == 1 or sub.isdigit() else f"\\mathrm{{{sub}}}"
    return f"\\ensuremath{{{base}_{{{sub}}}}}"


def latex_escape(text: str) -> str:
    """Escape user text for LaTeX in one pass: each character is looked at
    once, so an escape is never escaped again (no \\input, \\write18 or
    \\def survives).  Control characters are dropped; Hangul and CJK pass
    through (the document then loads kotex, see :func:`has_hangul`); other
    characters pdflatex cannot typeset (emoji ...) become '?'.  A name with
    a subscript (L_reg) is set as math, L_{reg}, as in the formulas."""
    text = str(text)
    parts, at = [], 0
    for m in _SUBSCRIPTED.finditer(text):
        parts.append(_escape_chars(text[at:m.start()]))
        parts.append(_name_math(m))
        at = m.end()
    parts.append(_escape_chars(text[at:]))
    return "".join(parts)


def _escape_chars(text: str) -> str:
    out = []
    for ch in str(text):
        o = ord(ch)
        if ch in _LATEX_SPECIAL:
            out.append(_LATEX_SPECIAL[ch])
        elif ch in "\n\t\r":
            out.append(" " if ch != "\n" else "\n")
        elif o < 32 or 0x7F <= o < 0xA0:
            continue
        elif o < 0x180 or ch in _TEXT_PUNCT:
            out.append(ch)
        elif ch in _GREEK:
            out.append(f"\\ensuremath{{\\{_GREEK[ch]}}}")
        elif ch in _LATEX_SYMBOLS:
            out.append(_LATEX_SYMBOLS[ch])
        elif _is_cjk(o):
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def _is_cjk(o: int) -> bool:
    """Hangul syllables and jamo, CJK punctuation and ideographs: what kotex
    typesets under pdflatex."""
    return (0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F or 0x3000 <= o <= 0x303F
            or 0x4E00 <= o <= 0x9FFF or 0xFF00 <= o <= 0xFFEF)


def has_hangul(text) -> bool:
    """Whether user text holds characters that need kotex in LaTeX."""
    return any(_is_cjk(ord(ch)) for ch in str(text or ""))


_CONTROL = {chr(o) for o in range(32) if chr(o) not in "\n\t"} | {chr(o) for o in range(0x7F, 0xA0)}


def cloze_escape(html: str) -> str:
    """HTML that Moodle's cloze parser reads as text: the braces of user
    text become character references, so a title holding
    ``{1:SHORTANSWER:=yes}`` is shown, not turned into a blank."""
    return str(html).replace("{", "&#123;").replace("}", "&#125;")


def moodle_category(name: str) -> str:
    """A category name for Moodle XML: '/' separates levels there, so a
    slash in the name is written '//'; braces and control characters go."""
    return "".join(ch for ch in str(name) if ch not in _CONTROL).replace("/", "//").strip()


def cdata(text: str) -> str:
    """Text safe inside <![CDATA[ ... ]]>: a ']]>' in it is split across two sections."""
    return str(text).replace("]]>", "]]]]><![CDATA[>")


_MD_SPECIAL = set("\\`*_[]|$~")


def md_escape(text: str) -> str:
    """Escape user text for Markdown: no HTML, no math, no link syntax."""
    out = []
    for ch in str(text):
        if ch in _CONTROL:
            continue
        if ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "&":
            out.append("&amp;")
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def md_block(text: str) -> str:
    """User Markdown (a description): its paragraphs, emphasis and lists are
    kept, but raw HTML, math delimiters and backslash escapes are not."""
    out = []
    for ch in str(text):
        if ch in _CONTROL:
            continue
        if ch in "<>&":
            out.append({"<": "&lt;", ">": "&gt;", "&": "&amp;"}[ch])
        elif ch in "$\\`":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def html_escape(text) -> str:
    import html

    return html.escape("".join(ch for ch in str(text) if ch not in _CONTROL), quote=True)


def html_paragraphs(text) -> str:
    """User text (a description) as escaped HTML paragraphs."""
    paras = [" ".join(p.split()) for p in str(text).split("\n\n")]
    return "</p>\n<p>".join(html_escape(p) for p in paras if p)


def mathml(tex: str, display: bool = False) -> str:
    """LaTeX math (our own, KaTeX-safe vocabulary) as MathML, for HTML pages
    that render offline without scripts.  An ``aligned`` block becomes a
    two-column table of MathML cells, lined up on the relation signs."""
    import re

    from latex2mathml.converter import convert

    from .textmath import _split_lines

    def conv(t: str, block: bool) -> str:
        try:
            return _overlines(convert(t, display="block" if block else "inline"))
        except Exception as exc:  # a construct latex2mathml does not know
            raise RenderError(f"cannot convert math to MathML ({exc}): {t[:80]}") from None

    body = str(tex).strip()
    m = re.fullmatch(r"\\begin\{aligned\}(.*)\\end\{aligned\}", body, re.S) if display else None
    if not m:
        if not display or _visible(body) <= BREAK_AT:
            return conv(body, display)
        lhs, rest = _split_relation(body)
        if rest is None or len(_break(rest)) == 1:
            return conv(body, display)
        lines = []
        for k, piece in enumerate(_break(rest)):
            lines.append((lhs if k == 0 else "", piece))
    else:
        lines = []
        for line in _split_lines(m.group(1)):
            lhs, _, rhs = line.partition("&")
            for k, piece in enumerate(_break(rhs)):
                lines.append((lhs if k == 0 else "", piece))
    rows = []
    for lhs, rhs in lines:
        left = conv(lhs, False) if lhs.strip() else ""
        rows.append(f'<tr><td class="lhs">{left}</td><td class="rhs">{conv(rhs, False)}</td></tr>')
    return '<table class="aligned">' + "".join(rows) + "</table>"


_BAR = '<mo accent="true">&#x02015;</mo></mover>'
#: an overline as a rule over the whole base: browsers draw the MathML accent bar at one glyph's width
OVERLINE_STYLE = "border-top: 0.065em solid; padding-top: 0.1em"


def _overlines(xml: str) -> str:
    """Each \\overline (a mover whose accent is the bar U+2015) as its base with a top border, so the
    bar spans the whole name (Chromium draws the accent over one letter of a multi-letter name)."""
    while _BAR in xml:
        end = xml.index(_BAR)
        depth, i = 0, end
        while i > 0:  # back to the <mover> this bar closes
            i = xml.rindex("<mover", 0, i)
            depth += xml.count("</mover>", i, end) - xml.count("<mover", i + 1, end)
            if depth == 0:
                break
        base = xml[xml.index(">", i) + 1: end]
        xml = xml[:i] + f'<mrow style="{OVERLINE_STYLE}">{base}</mrow>' + xml[end + len(_BAR):]
    return xml


#: a display line longer than this many visible characters is broken over rows in the HTML page
#: (MathML does not break lines): before a top-level =, approx or a term's + or -
BREAK_AT = 72


def _visible(tex: str) -> int:
    """About how many characters wide a piece of LaTeX is drawn: commands and braces take no room,
    a matrix is as wide as its widest row."""
    import re

    def matrix(m):
        rows = m.group(1).split("\\\\")
        return "M" * max(_visible(r.replace("&", " ")) for r in rows)

    t = re.sub(r"\\begin\{[bp]?matrix\}(.*?)\\end\{[bp]?matrix\}", matrix, tex, flags=re.S)
    t = re.sub(r"\\(left|right|mathrm|operatorname|textstyle|displaystyle)\b|\\[,;!]|[{}]", "", t)
    t = re.sub(r"\\[A-Za-z]+", "x", t)
    return len(t.replace(" ", "")) + t.count("=") + t.count("+")


def _top_level_cuts(tex: str) -> list[tuple[int, str]]:
    """(position, kind) of each top-level relation (=, approx) and term sign ( + , - ) in tex."""
    cuts, depth, i = [], 0, 0
    while i < len(tex):
        if tex.startswith(("\\left", "\\begin"), i):
            depth += 1
        elif tex.startswith(("\\right", "\\end"), i):
            depth -= 1
        ch = tex[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and i > 0 and tex[i - 1] == " ":
            if ch == "=" or tex.startswith("\\approx", i):
                cuts.append((i, "rel"))
            elif ch in "+-" and i + 1 < len(tex) and tex[i + 1] == " ":
                cuts.append((i, "term"))
        i += 1
    return cuts


def _split_relation(tex: str):
    """(left side, the rest from its first top-level relation on), or (tex, None)."""
    for i, kind in _top_level_cuts(tex):
        if kind == "rel":
            return tex[:i].strip(), tex[i:].strip()
    return tex, None


def _break(rhs: str) -> list[str]:
    """rhs in rows of about BREAK_AT visible characters, each cut before a relation (preferred, when
    the row keeps a third of the width) or a term's sign; a piece that cannot be cut stays whole."""
    if _visible(rhs) <= BREAK_AT:
        return [rhs]
    rows, start, last, last_rel = [], 0, None, None
    for i, kind in _top_level_cuts(rhs):
        if _visible(rhs[start:i]) > BREAK_AT and last is not None:
            cut = last_rel if last_rel is not None and _visible(rhs[start:last_rel]) > BREAK_AT // 3 else last
            rows.append(rhs[start:cut].strip())
            start, last, last_rel = cut, None, None
        if i > start:
            last = i
            if kind == "rel":
                last_rel = i
    if last is not None and _visible(rhs[start:]) > BREAK_AT:
        cut = last_rel if last_rel is not None and _visible(rhs[start:last_rel]) > BREAK_AT // 3 else last
        rows.append(rhs[start:cut].strip())
        start = cut
    rows.append(rhs[start:].strip())
    return [r for r in rows if r]


def toml_comment(text) -> str:
    """Text safe inside a TOML comment: one line."""
    return " ".join(str(text).split())
