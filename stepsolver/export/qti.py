"""A QTI 1.2 package (.zip) for Canvas: the data its templates need
(templates/qti/), and the zip.  Layout is the templates'; this module
groups the variants into exercises, numbers the blanks and lists the
answers each blank accepts (export/quiz.py: the Moodle blank's tolerance,
written out as the texts Canvas compares)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from types import SimpleNamespace

from .quiz import accepted_texts


def quiz_data(problems, tr, title: str | None = None) -> SimpleNamespace:
    """Groups (one per exercise) of items (one per variant) with their parts
    (one per update), quantities and blanks."""
    digest = hashlib.sha1("\n".join(p.title for p in problems).encode("utf-8")).hexdigest()[:12]
    groups: dict[str, SimpleNamespace] = {}
    for k, p in enumerate(problems, 1):
        g = groups.get(p.exercise)
        if g is None:
            g = groups[p.exercise] = SimpleNamespace(ident=f"g{len(groups) + 1}_{digest}", title=p.exercise, items=[],
                                                     points=0)
        parts, blanks = [], []
        for s in p.steps:
            heading = None
            if len(p.steps) > 1:
                heading = tr.t("quiz.update_heading", index=s.index,
                               examples=tr.t("net.examples", count=len(s.examples),
                                             list=", ".join(str(e) for e in s.examples)))
            quantities = []
            for q in p.quiz_items(s):
                rows = []
                for row in q.blanks:
                    cells = []
                    for b in row:
                        if b.given:
                            cells.append(SimpleNamespace(given=True, value=b.value, why=b.why))
                            continue
                        cell = SimpleNamespace(given=False, id=f"v{k}b{len(blanks) + 1}", decimals=b.decimals,
                                               accepted=accepted_texts(b.answer_value, float(b.tolerance), b.decimals))
                        blanks.append(cell)
                        cells.append(cell)
                    rows.append(cells)
                quantities.append(SimpleNamespace(symbol=q.symbol, rows=rows))
            parts.append(SimpleNamespace(heading=heading, quantities=quantities))
        points = len(blanks)
        g.points = max(g.points, points)
        g.items.append(SimpleNamespace(ident=f"i{k}_{digest}", p=p, parts=parts, blanks=blanks, points=points,
                                       share=_share(points)))
    title = title or (problems[0].exercise if len({p.exercise for p in problems}) == 1 else tr.t("doc.worked_solutions"))
    return SimpleNamespace(ident=f"stepsolver_{digest}", title=title, groups=list(groups.values()))


def _share(points: int) -> str:
    """Each blank's share of the item's 100 (Canvas scales SCORE to the points)."""
    return f"{100 / points:.6f}".rstrip("0").rstrip(".") if points else "0"


def package(quiz, assessment: str, manifest: str) -> bytes:
    """The zip Canvas imports: imsmanifest.xml and the assessment in its folder."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("imsmanifest.xml", manifest), (f"{quiz.ident}/{quiz.ident}.xml", assessment)):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # the same bytes for the same input
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))
    return buf.getvalue()
