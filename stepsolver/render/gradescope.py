"""Gradescope's autograder results (``results.json``) of one check report.

One test per asked quantity of each update (``z, layer 1``; ``grad w``),
worth one point per entry: an entry judged correct or carried earns its
point, a wrong, imprecise or blank one none (the same no-free-marks rules as
``check`` and the Moodle export: copying the old weights earns nothing).
The shape is Gradescope's: {"score", "output", "tests": [{"name", "score",
"max_score", "status", "output", "visibility"}]}.
"""

from __future__ import annotations

from ..exact import exact_text, to_float


def results(report, tr) -> dict:
    from .views import ReportView

    view = ReportView(report, tr)  # the marks, the notes and where an entry sits, as in every report
    trace = report.trace
    by_key: dict = {}
    for it in report.items:
        by_key.setdefault(it.key, []).append(it)
    several = len(trace.steps) > 1
    tests = []
    for step in trace.steps:
        for q in trace.quantities(step):
            if not q.asked:
                continue
            n = q.value.n * q.value.m
            items = by_key.get(q.key, [])
            score = sum(1 for it in items if it.verdict in ("correct", "carried"))
            label = tr.text(q.label)
            name = tr.t("check.gs_step_name", step=step.index, name=label) if several else label
            lines = []
            for it in items:
                line = tr.t("check.gs_item", mark=view.mark(it), where=view.where(it), given=it.given.text,
                            expected=_num(it.expected))
                note = view.note(it)
                lines.append(line + (f" ({note})" if note else ""))
            if n > len(items):
                lines.append(tr.t("check.gs_blank", count=n - len(items)))
            tests.append({"name": name, "score": score, "max_score": n,
                          "status": "passed" if score == n else "failed",
                          "output": "\n".join(lines), "visibility": "visible"})
    c = report.counts
    total = sum(t["max_score"] for t in tests)
    summary = tr.t("check.score_text", correct=c["correct"], count=len(report.items), wrong=c["wrong"],
                   carried=c["carried"])
    return {"score": sum(t["score"] for t in tests), "output": summary + "\n" + tr.t("check.gs_total", total=total),
            "tests": tests, "visibility": "visible", "stdout_visibility": "hidden"}


def _num(v) -> str:
    t = exact_text(v)
    if t is not None and len(t) <= 12:
        return t
    return f"{to_float(v):.6g}"
