"""Data exports: the JSON contract (each kind's ``to_dict``) and CSV of
every quantity (from the trace's quantities, in record order).  Data, not
layout, so they are built here rather than in templates."""

from __future__ import annotations

import json

from ..exact import exact_text, json_float as _jfloat
from ..lang import messages
from ..trace import in_record_order


def trace_to_dict(trace) -> dict:
    """The JSON contract of one solved problem (its kind writes it)."""
    return trace.kind.to_dict(trace)


def json_document(traces, options=None, files: dict | None = None) -> str:
    data = [trace_to_dict(t) for t in traces]
    lang = getattr(options, "lang", None)
    if lang and lang != "en":  # the notes are prose: in the document's language
        tr = messages(lang)
        for d, t in zip(data, traces):
            if "notes" in d:
                d["notes"] = [tr.text(x) for x in t.notes]
    out = data[0] if len(data) == 1 else data
    return dumps(out) + "\n"


def csv_document(traces, options=None, files: dict | None = None) -> str:
    """Every quantity of every update, one row per entry, for spreadsheets
    and custom graders.  Indices count from 1; 'exact' is SymPy-readable."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["problem", "title", "step", "examples", "layer", "quantity", "row", "col", "exact", "value"])
    for number, trace in enumerate(traces, 1):
        title = trace.problem.name
        for s in trace.steps:
            ex = " ".join(str(k) for k in s.examples)
            for q in in_record_order(trace.quantities(s)):
                where = "" if q.key.where is None else q.key.where
                M = q.value
                for i in range(M.n):
                    for j in range(M.m):
                        v = M[i, j]
                        w.writerow([number, title, s.index, ex, where, q.key.name, i + 1, j + 1, exact_text(v) or "",
                                    _csv_float(v)])
    return buf.getvalue()


def _csv_float(v) -> str:
    f = _jfloat(v)
    return "" if f is None else repr(f)


def dumps(obj, indent: str = "") -> str:
    """JSON with objects indented and each list of numbers or strings (a
    matrix row) on one line, so matrices read as matrices."""
    inner = indent + "  "
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {dumps(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj):
            return json.dumps(obj, ensure_ascii=False)
        return "[\n" + ",\n".join(inner + dumps(v, inner) for v in obj) + "\n" + indent + "]"
    return json.dumps(obj, ensure_ascii=False)
