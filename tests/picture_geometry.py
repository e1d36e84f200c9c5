"""Geometry read back from a graph picture, SVG or TikZ: the boxes, the
edges' segments and the text lines with an estimated extent (0.6 em per
character), and the three faults a reader trips on: two boxes overlapping,
an edge through a box that is not one of its ends, two labels overlapping
(or a label outside its box)."""

from __future__ import annotations

import re

EM = 0.6  # width of a character, in em: a generous estimate for digits and Latin letters


def svg_geometry(svg: str, font: float = 11.0):
    rects = [tuple(float(m.group(k)) for k in ("x", "y", "w", "h")) for m in re.finditer(
        r'<rect x="(?P<x>[-\d.]+)" y="(?P<y>[-\d.]+)" width="(?P<w>[-\d.]+)" height="(?P<h>[-\d.]+)"', svg)]
    boxes = [(x, y, x + w, y + h) for x, y, w, h in rects]
    segs = [tuple(map(float, m.groups())) for m in re.finditer(
        r'<line x1="([-\d.]+)" y1="([-\d.]+)" x2="([-\d.]+)" y2="([-\d.]+)"', svg)]
    texts = []
    for m in re.finditer(r'<text x="([-\d.]+)" y="([-\d.]+)"[^>]*>([^<]*)</text>', svg):
        x, y, t = float(m.group(1)), float(m.group(2)), m.group(3)
        t = re.sub(r"&[a-z#0-9]+;", "_", t)
        w = len(t) * EM * font
        texts.append((x - w / 2, y - 0.8 * font, x + w / 2, y + 0.2 * font))
    return boxes, segs, texts


def tikz_geometry(tex: str, font: float = 11.0):
    """The picture's coordinates are the SVG's (x=0.02cm, y=-0.02cm per px)."""
    boxes = [tuple(map(float, m.groups())) for m in re.finditer(
        r"\\draw\[fill=[^\]]*\] \(([-\d.]+),([-\d.]+)\) rectangle \(([-\d.]+),([-\d.]+)\);", tex)]
    segs = []
    for m in re.finditer(r"\\draw\[->[^\]]*\] (.*?);", tex):
        pts = [tuple(map(float, p)) for p in re.findall(r"\(([-\d.]+),([-\d.]+)\)", m.group(1))]
        segs += [(a[0], a[1], b[0], b[1]) for a, b in zip(pts, pts[1:])]
    texts = []
    for m in re.finditer(r"\\node(?:\[[^\]]*\])? at \(([-\d.]+),([-\d.]+)\) \{(.*?)\};\n", tex):
        x, y, t = float(m.group(1)), float(m.group(2)), m.group(3)
        t = re.sub(r"\\(mathrm|operatorname|hat|bar)|[{}$^_]|\\[A-Za-z]+", lambda k: "" if k.group(0)[0] in "{}$^_" else "x", t)
        w = len(t) * EM * font
        texts.append((x - w / 2, y - 0.5 * font, x + w / 2, y + 0.5 * font))
    return boxes, segs, texts


def _overlap(a, b, eps=0.5) -> bool:
    return a[0] < b[2] - eps and b[0] < a[2] - eps and a[1] < b[3] - eps and b[1] < a[3] - eps


def _crosses(seg, box, eps=0.75) -> bool:
    """Whether the segment enters the box's interior (shrunk by eps): Liang-Barsky clipping."""
    x1, y1, x2, y2 = seg
    l, t, r, b = box[0] + eps, box[1] + eps, box[2] - eps, box[3] - eps
    if l >= r or t >= b:
        return False
    dx, dy = x2 - x1, y2 - y1
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, x1 - l), (dx, r - x1), (-dy, y1 - t), (dy, b - y1)):
        if p == 0:
            if q < 0:
                return False
        else:
            u = q / p
            if p < 0:
                lo = max(lo, u)
            else:
                hi = min(hi, u)
    return lo < hi


def faults(boxes, segs, texts) -> list[str]:
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if _overlap(a, b):
                out.append(f"boxes {a} and {b} overlap")
    for s in segs:
        for b in boxes:
            if _crosses(s, b):
                out.append(f"edge segment {s} passes through box {b}")
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if _overlap(a, b, eps=0.1):
                out.append(f"labels {a} and {b} overlap")
        if not any(a[0] >= b[0] - 0.5 and a[2] <= b[2] + 0.5 and a[1] >= b[1] - 0.5 and a[3] <= b[3] + 0.5 for b in boxes):
            out.append(f"label {a} is outside every box")
    return out
