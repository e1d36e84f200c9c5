"""The JSON contract of a solved network (``solve -f json``).

Its shape is fixed (README, "JSON"): other programs read it.  Every value is
``{"exact": text or null, "value": float or null}``.
"""

from __future__ import annotations

from ...exact import json_matrix, json_value


def activation_label(act) -> str:
    return act.text if act.name == "custom" else act.name


def to_dict(trace) -> dict:
    p = trace.problem
    steps = []
    for s in trace.steps:
        steps.append(
            {
                "examples": list(s.examples),
                "pass": s.pass_index,
                "loss": json_value(s.loss.total),
                "input": json_matrix(s.X),
                "target": json_matrix(s.T),
                "layers": [_layer(lt) for lt in s.layers],
            }
        )
    return {
        "title": p.name,
        "optimizer": optimizer_dict(p.optimizer),
        "steps": steps,
        "loss_after": json_value(trace.final_loss.total) if trace.final_loss is not None else None,
        "notes": list(trace.notes),
    }


def optimizer_dict(opt) -> dict:
    """{"name": ..., and each hyper-parameter as a value}."""
    out = {}
    for k, v in opt.to_dict().items():
        out[k] = v if isinstance(v, (str, bool)) else json_value(v)
    return out


def _layer(lt) -> dict:
    out = {
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
    for name, M in (lt.opt or {}).items():
        out[name] = json_matrix(M)
    return out
