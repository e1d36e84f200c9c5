"""A throwaway exercise kind: one linear neuron, y = w x + b, loss
L = (y - t)^2 / 2, one gradient-descent step.

It exists to prove that a kind is one folder (this one, with its templates
under templates/toy/) and one registry line (``kinds.register("toy", KIND)``,
done by the test): it touches nothing else of stepsolver.  It imports only
the floors a kind may use (exact, tomlio, trace, answers, errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stepsolver.answers import AnswerSheet, parse_entries, read_precision
from stepsolver.errors import CrossCheckError, InputError
from stepsolver.exact import Mat, json_value, round_half_away, to_float
from stepsolver.tomlio import check_keys, parse_number
from stepsolver.trace import Key, Quantity, Trace

KEYS = ("kind", "title", "w", "b", "x", "t", "learning_rate")
ORDER = ("y", "loss", "grad_w", "grad_b", "w_new", "b_new")  # worked order = record order


@dataclass(frozen=True)
class Toy:
    name: str
    source: str | None
    w: object
    b: object
    x: object
    t: object
    eta: object
    kind = None  # bound by kinds.register


@dataclass(frozen=True)
class ToyStep:
    index: int
    y: object
    loss: object
    grad_w: object
    grad_b: object
    w_new: object
    b_new: object
    examples: tuple = (1,)


@dataclass(frozen=True)
class ToyTrace(Trace):
    def quantities(self, step):
        p = self.problem
        ops = {
            "y": ("forward", (("w", p.w), ("x", p.x), ("b", p.b))),
            "loss": ("loss", (("y", step.y), ("t", p.t))),
            "grad_w": ("grad_w", (("y", step.y), ("t", p.t), ("x", p.x))),
            "grad_b": ("grad_b", (("y", step.y), ("t", p.t))),
            "w_new": ("update", (("w", p.w), ("grad", step.grad_w), ("eta", p.eta))),
            "b_new": ("update", (("b", p.b), ("grad", step.grad_b), ("eta", p.eta))),
        }
        return [Quantity(Key(step.index, None, name), Mat([[getattr(step, name)]]), ops[name][0], ops[name][1],
                         True, i, name) for i, name in enumerate(ORDER)]


def forward(w, b, x):
    return w * x + b


def step_of(p: Toy, rnd=lambda v: v) -> ToyStep:
    """The step, each written value passed through ``rnd`` before it is used."""
    y = rnd(forward(p.w, p.b, p.x))
    r = y - p.t
    gw, gb = rnd(r * p.x), rnd(r)
    return ToyStep(1, y, rnd(r * r / 2), gw, gb, rnd(p.w - p.eta * gw), rnd(p.b - p.eta * gb))


class ToyKind:
    name = "toy"
    trace_type = ToyTrace
    problem_type = Toy
    templates = "toy"
    template_dir = Path(__file__).parent / "templates"
    hints = {"forgot_input": "The weight's gradient is (y − t) x: the input x was left out.",
             "not_updated": "This is the value from before the update: the step θ ← θ − η ∂L/∂θ changes it."}

    def load(self, data, source=None):
        check_keys(data, KEYS, "")
        for k in KEYS[2:]:
            if k not in data:
                raise InputError("missing", key=k)
        num = {k: parse_number(data[k], k) for k in KEYS[2:]}
        return Toy(str(data.get("title", "A linear neuron")), source, num["w"], num["b"], num["x"], num["t"],
                   num["learning_rate"])

    def solve(self, problem):
        return ToyTrace(problem, (step_of(problem),))

    def solve_rounded(self, problem, places):
        return ToyTrace(problem, (step_of(problem, lambda v: round_half_away(v, places)),))

    def crosscheck(self, trace):
        p, s = trace.problem, trace.steps[0]
        w, b, x, t, eta = (to_float(v) for v in (p.w, p.b, p.x, p.t, p.eta))
        y = w * x + b
        floats = {"y": y, "loss": (y - t) ** 2 / 2, "grad_w": (y - t) * x, "grad_b": y - t,
                  "w_new": w - eta * (y - t) * x, "b_new": b - eta * (y - t)}
        for name, f in floats.items():
            e = to_float(getattr(s, name))
            if abs(e - f) > 1e-9 * max(1.0, abs(e)):
                raise CrossCheckError(f"{name}: exact {e}, float64 {f}")
        return []

    def quantities(self, trace, step):
        return trace.quantities(step)

    def read_answers(self, data, trace):
        check_keys(data, ("decimals",) + ORDER, "")
        entries = {Key(1, None, k): parse_entries(data[k], k, 1, 1) for k in ORDER if k in data}
        return read_precision(AnswerSheet(entries=entries, decimals=data.get("decimals")))

    def replay(self, marker, trace, sheet):
        p, s = trace.problem, trace.steps[0]
        X, T, eta = (Mat([[v]]) for v in (p.x, p.t, p.eta))
        W, B = marker.exact(Mat([[p.w]])), marker.exact(Mat([[p.b]]))
        one = lambda f: (lambda *ms: Mat([[f(*(m[0, 0] for m in ms))]]))  # noqa: E731
        true = {q.key.name: q.value for q in trace.quantities(s)}
        x, t = X[0, 0], T[0, 0]
        y = marker.judge(Key(1, None, "y"), true["y"], [marker.run(one(lambda w, b: w * x + b), W, B)])
        marker.judge(Key(1, None, "loss"), true["loss"], [marker.run(one(lambda y: (y - t) * (y - t) / 2), y)])
        gw = marker.judge(Key(1, None, "grad_w"), true["grad_w"], [marker.run(one(lambda y: (y - t) * x), y)],
                          lambda: [("forgot_input", Mat([[y.balls[0, 0] - t]]))])
        gb = marker.judge(Key(1, None, "grad_b"), true["grad_b"], [marker.run(one(lambda y: y - t), y)])
        e = eta[0, 0]
        marker.judge(Key(1, None, "w_new"), true["w_new"], [marker.run(one(lambda w, g: w - e * g), W, gw)],
                     old=Mat([[p.w]]))
        marker.judge(Key(1, None, "b_new"), true["b_new"], [marker.run(one(lambda b, g: b - e * g), B, gb)],
                     lambda: [("not_updated", Mat([[p.b]]))], old=Mat([[p.b]]))

    def blank(self, trace):
        return {"title": trace.problem.name, "steps": [{"index": 1, "names": ORDER}]}

    blank_value = staticmethod(lambda shape=None: '"?"')

    def to_dict(self, trace):
        s = trace.steps[0]
        return {"kind": "toy", "title": trace.problem.name,
                "steps": [{name: json_value(getattr(s, name)) for name in ORDER}]}

    def view(self, trace, number, services):
        return ToyView(trace, number)

    def report_view(self, report, tr):
        return ToyReportParts()

    def variants(self, spec, count, seed, **options):
        raise InputError("the toy kind has no class variants", key="kind")


class ToyView:
    n = None  # no notation to choose

    def __init__(self, trace, number):
        self.trace, self.number = trace, number
        self.p = trace.problem
        self.s = trace.steps[0]


class ToyReportParts:
    @staticmethod
    def entry(it):
        return ""

    @staticmethod
    def where(it):
        return it.quantity


KIND = ToyKind()
