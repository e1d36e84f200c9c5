"""Data exports: the JSON contract, CSV of every quantity, and the values
of quiz answers.  Data, not layout, so they are built here rather than in
templates."""

from __future__ import annotations

import json

from .exact import exact_text, to_float
from .matrix import Mat
from .trace import REPORTED


# ---------------------------------------------------------------- JSON
def json_matrix(M: Mat) -> dict:
    return {
        "exact": [[exact_text(x) for x in r] for r in M.rows],
        "value": [[_jfloat(x) for x in r] for r in M.rows],
    }


def json_scalar(x) -> dict:
    return {"exact": exact_text(x), "value": _jfloat(x)}


def _jfloat(x):
    f = to_float(x)
    if f != f or f in (float("inf"), float("-inf")):
        return None
    return f


def quiz_answer(v) -> str:
    """A quiz answer: the exact decimal where it is short, else the float."""
    from .exact import denom, is_rational
    from .printing import terminating_places

    if is_rational(v):
        places = terminating_places(denom(v))
        if places is not None and places <= 12:
            from .generate import decimal_text

            return decimal_text(v)
    return repr(to_float(v))


def quiz_tolerance(v, absolute=None) -> str:
    """Absolute tolerance: given, or 1% of |v| with a floor of 0.005."""
    if absolute is not None:
        return repr(to_float(absolute))
    t = max(0.005, 0.01 * abs(to_float(v)))
    return f"{t:.6g}"


def activation_label(act) -> str:
    return act.text if act.name == "custom" else act.name


def trace_to_dict(trace) -> dict:
    p = trace.problem
    steps = []
    for s in trace.steps:
        steps.append(
            {
                "examples": list(s.examples),
                "pass": s.pass_index,
                "loss": json_scalar(s.loss.total),
                "input": json_matrix(s.X),
                "target": json_matrix(s.T),
                "layers": [
                    {
                        "layer": lt.index,
                        "activation": activation_label(lt.activation),
                        "W": json_matrix(lt.W),
                        "b": json_matrix(lt.b),
                        "z": json_matrix(lt.z),
                        "a": json_matrix(lt.a),
                        "delta": json_matrix(lt.delta),
                        "grad_W": json_matrix(lt.grad_W),
                        "grad_b": json_matrix(lt.grad_b),
                        "W_new": json_matrix(lt.W_new),
                        "b_new": json_matrix(lt.b_new),
                    }
                    for lt in s.layers
                ],
            }
        )
    return {
        "title": p.name,
        "steps": steps,
        "loss_after": json_scalar(trace.final_loss.total) if trace.final_loss is not None else None,
        "notes": list(trace.notes),
    }


def json_document(traces, options=None, files: dict | None = None) -> str:
    data = [trace_to_dict(t) for t in traces]
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
            total = s.loss.total
            w.writerow([number, title, s.index, ex, "", "loss", 1, 1, exact_text(total) or "", _csv_float(total)])
            for lt in s.layers:
                for name in REPORTED:
                    M = getattr(lt, name)
                    for i in range(M.n):
                        for j in range(M.m):
                            v = M[i, j]
                            w.writerow([number, title, s.index, ex, lt.index, name, i + 1, j + 1, exact_text(v) or "", _csv_float(v)])
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
