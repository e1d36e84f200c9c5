"""PrairieLearn questions: the data of each variant (params and correct
answers, as server.py's generate hands them over), each question's id and
info.json.  Layout is the templates' (templates/prairielearn/)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
import zlib

from ..exact import to_float

#: the namespace of the questions' uuids: the same exercise always gets the same uuid
NAMESPACE = uuid.UUID("5f0c7d1e-3b0a-4c59-9d0e-7a1f6b2c8e41")


def question_ids(groups: dict) -> list:
    """(qid, variants) per group: the exercise's title as a folder name (ASCII
    letters, digits and dashes; a title in another script adds a short mark of
    it), with -2, -3 ... where one title has variants of different shapes."""
    out, seen = [], {}
    for (exercise, _), variants in groups.items():
        base = re.sub(r"[^0-9A-Za-z]+", "-", exercise).strip("-").lower() or "exercise"
        if any(ch.isalnum() and not ch.isascii() for ch in exercise):
            # a title in Hangul (or another script) keeps its ASCII part and a short stable mark of the rest
            base = f"{base}-{hashlib.sha1(exercise.encode('utf-8')).hexdigest()[:6]}".lstrip("-")
        n = seen.get(base, 0) + 1
        seen[base] = n
        out.append((base if n == 1 else f"{base}-{n}", variants))
    return out


def _tree(node):
    """A formula as JSON: numbers as doubles (what server.py computes with)."""
    kind = node[0]
    if kind == "ref":
        return ["ref", node[1]]
    if kind == "num":
        return ["num", to_float(node[1])]
    if kind == "call":
        return ["call", node[1], _tree(node[2])]
    if kind in ("neg",):
        return ["neg", _tree(node[1])]
    if kind == "pow":
        return ["pow", _tree(node[1]), node[2]]
    return [kind, _tree(node[1]), _tree(node[2])]


def variant(v, tr, f) -> dict:
    """params and correct answers of one variant: the statement, the worked
    solution, per entry its true value, tolerance, decimals hint, the value
    before the update and the formula it is worked from."""
    true, tol, hint, old, formula, given, order, dec = {}, {}, {}, {}, {}, {}, [], {}
    headings = {}
    for e in v.entries:
        if e.heading:
            headings[f"s{e.step.index}"] = e.heading
        for row in e.cells:
            for c in row:
                true[c.var] = to_float(c.value)
                if c.blank.given:
                    shown = ("\\approx " if f.rounded(c.value) else "") + f.num(c.value)
                    given[c.var] = f"\\( {shown} \\) ({tr.t('quiz.given', why=tr.text(c.blank.why))})"
                    continue
                order.append(c.var)
                tol[c.var] = float(c.blank.tolerance)
                dec[c.var] = c.blank.decimals or 2
                hint[c.var] = f" ({tr.t('quiz.decimals', count=c.blank.decimals)})" if c.blank.decimals else ""
                if c.old is not None:
                    old[c.var] = to_float(c.old)
                if c.formula is not None:
                    formula[c.var] = _tree(c.formula)
    many = tr.t("prairielearn.wrong_count", count=987654321).replace("987654321", "{count}")
    texts = {"old_copied": tr.t("numbas.old_copied"), "carried": tr.t("prairielearn.carried"),
             "all_right": tr.t("prairielearn.all_right"), "wrong": many}
    params = {"statement": v.statement, "solution": v.solution, "heading": headings, "true": true, "tol": tol,
              "hint": hint, "dec": dec, "old": old, "formula": formula, "given": given, "order": order, "text": texts}
    return {"params": params, "correct": {k: true[k] for k in order}}


def pack(variants: list) -> str:
    """The variants as server.py holds them: zlib-compressed JSON in base64, in lines of 76."""
    raw = json.dumps(variants, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text = base64.b64encode(zlib.compress(raw, 9)).decode("ascii")
    return '"\n    "'.join(text[i:i + 76] for i in range(0, len(text), 76))


def info(qid: str, p, tr) -> str:
    kind = type(p.trace).__name__.replace("Trace", "").lower() or "exercise"
    data = {
        "uuid": str(uuid.uuid5(NAMESPACE, f"stepsolver/{qid}")),
        "title": p.exercise,
        "topic": tr.t("prairielearn.topic"),
        "tags": ["stepsolver", kind, tr.lang],
        "type": "v3",
        "partialCredit": True,
        "showCorrectAnswer": True,
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
