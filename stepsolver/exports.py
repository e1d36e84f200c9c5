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
    """Absolute tolerance: given, or 1% of |v| with a floor of 0.005 (the
    old default, kept for callers; quizzes use :func:`blank_tolerance`)."""
    if absolute is not None:
        return repr(to_float(absolute))
    t = max(0.005, 0.01 * abs(to_float(v)))
    return f"{t:.6g}"


#: decimals a quiz may ask for, in order: 2 is honest hand working
QUIZ_DECIMALS = (2, 3, 4, 5, 6, 8)


def blank_tolerance(v, bound, rounded) -> tuple[float, int | None]:
    """(tolerance, decimals to ask for or None) of one quiz blank.

    The tolerance accepts honest working to d decimals -- the value rounded
    to d places, and the rounded chain of someone working to d places
    (``rounded(d)``, None where there is none) -- and must stay below
    ``bound``: |v - old value| for an updated weight, |v| for a nonzero
    gradient (so the old weight, 0 and the negated gradient are refused).
    d = 2 where that is possible; else the fewest decimals that are, and the
    question says so.  The tolerance is a short decimal, rounded up."""
    fv = to_float(v)
    for d in QUIZ_DECIMALS:
        r = rounded(d)
        t = _nice_up(max(0.5 * 10.0**-d, abs(fv - to_float(r)) if r is not None else 0.0) * 1.001)
        if bound is None or t < bound * 0.999:
            return t, (None if d == 2 else d)
    # an update or gradient too small for 8 decimals: half of it, and the
    # decimals that show it
    import math

    t = bound / 2
    return t, max(QUIZ_DECIMALS[-1], int(math.ceil(-math.log10(t))) + 1)


def _nice_up(t: float) -> float:
    """t rounded up to 3 significant digits (a tolerance reads 0.00501, not 0.0050000000070000005)."""
    from decimal import ROUND_CEILING, Decimal

    if t <= 0:
        return t
    d = Decimal(repr(t))
    return float(d.quantize(Decimal(1).scaleb(d.adjusted() - 2), rounding=ROUND_CEILING))


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
