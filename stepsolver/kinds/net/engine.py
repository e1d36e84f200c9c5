"""The exact solve: small pure functions, one per textbook step, composed by
:func:`solve` into a :class:`~stepsolver.trace.Trace`.

Conventions (README, "Conventions"):
z^[l] = W^[l] a^[l-1] + b^[l], a^[l] = g(z^[l]), examples are columns;
J = (1/m) sum_i L_i (batch = mean) or sum_i L_i (batch = sum), plus
(lambda/2) sum_l ||W^[l]||^2; delta^[l] = dJ/dz^[l] with the batch factor;
dJ/dW^[l] = delta^[l] a^[l-1]^T + lambda W^[l]; dJ/db^[l] = row sums of
delta^[l]; W <- W - eta dJ/dW, b <- b - eta dJ/db, all gradients of one update
taken with the weights from before it.  relu'(0) = 0, leaky_relu'(0) = slope.

The functions are reused by ``check`` (replay.py) to recompute a quantity
from a student's own earlier values; the output rules and the update are
written once, in rules.py.

Size: about 550 lines, because these are the textbook steps in one place
(forward, loss, backward, gradients, update, the rounded key): the one
vocabulary the replay for ``check`` speaks.  Splitting them would scatter
the conventions above over several files.
"""

from __future__ import annotations

from typing import Callable

import dataclasses

from ... import exact
from ...errors import LimitError, SolveError
from ...exact import ONE, ZERO, Q, Irr, Mat, is_rational, round_half_away, round_significant
from ...functions.activations import Activation
from ...lang import Text
from .. import kit
from . import rules
from .problem import Problem
from .trace import ExampleLoss, LayerTrace, LossTrace, NetTrace, Step


# ------------------------------------------------------------- forward
def preactivation(W: Mat, b: Mat, A_prev: Mat) -> Mat:
    """z = W a_prev + b (b added to every column)."""
    return (W @ A_prev).add_column(b)


def activate(act: Activation, Z: Mat, where: Callable[[int, int], str] | None = None) -> Mat:
    """a = g(z), entry by entry, or column by column for softmax."""
    if act.vector:
        cols = [act.column([Z[i, j] for i in range(Z.n)]) for j in range(Z.m)]
        return Mat(tuple(cols[j][i] for j in range(Z.m)) for i in range(Z.n))
    return _map_indexed(Z, act.value, where)


def activation_derivative(act: Activation, Z: Mat, A: Mat, where=None, by_a: bool = False) -> Mat | None:
    """g'(z) entry by entry (None for softmax, whose Jacobian is used
    instead); ``by_a``: in the form students use from a, e.g. a(1 - a)."""
    if act.vector:
        return None
    f = act.deriv_from_a if by_a else act.deriv
    return Mat(tuple(_guard(lambda: f(Z[i, j], A[i, j]), where, i, j) for j in range(Z.m)) for i in range(Z.n))


def rnd_opt(rnd, M):
    return None if M is None else rnd(M)


def _map_indexed(M: Mat, f, where):
    return Mat(tuple(_guard(lambda: f(M[i, j]), where, i, j) for j in range(M.m)) for i in range(M.n))


def _guard(thunk, where, i, j):
    try:
        return thunk()
    except (SolveError, LimitError) as exc:
        if where is not None:
            exc.message = f"{where(i, j)}: {exc.message}"
        raise
    except ZeroDivisionError:
        raise SolveError(f"{where(i, j) if where else 'value'}: division by zero") from None


# ---------------------------------------------------------------- loss
def example_losses(loss, A: Mat, T: Mat, example_ids, where: Callable[[int], str], Z: Mat | None = None, act=None):
    """Per-example losses (column j is example example_ids[j]).  With the
    output's z and a sigmoid output, binary cross-entropy is computed from z
    (stable where 1 - a rounds to 0)."""
    out = []
    logits = Z is not None and act is not None and loss.paired(act.name) == "sigmoid_bce"
    for j in range(A.m):
        a = [A[i, j] for i in range(A.n)]
        t = [T[i, j] for i in range(T.n)]
        if logits and any(type(x) is Irr for x in a):
            terms = loss.terms_from_logits([Z[i, j] for i in range(Z.n)], t)
            total = ZERO
            for x in terms:
                total = total + x
            value = loss.outer(len(a)) * total
        else:
            terms, value = loss.value(a, t, lambda j=j: where(example_ids[j]))
        out.append(ExampleLoss(example=example_ids[j], terms=tuple(terms), value=value))
    return tuple(out)


def batch_factor(batch: str, m: int):
    return Q(1, m) if batch == "mean" else ONE


def total_loss(per_example, factor, l2, Ws) -> LossTrace:
    data = ZERO
    for e in per_example:
        data = data + e.value
    data = factor * data
    if l2:
        norms = tuple(_sum(x * x for x in W.entries()) for W in Ws)
        l2_term = (l2 / 2) * _sum(norms)
        total = data + l2_term
    else:
        norms, l2_term, total = (), None, data
    return LossTrace(per_example=tuple(per_example), data=data, l2_norms=norms, l2_term=l2_term, total=total)


def _sum(values):
    total = ZERO
    for v in values:
        total = total + v
    return total


# ------------------------------------------------------------ backward
def output_rule(loss, act: Activation, T: Mat) -> rules.OutputRule:
    return rules.output_rule(loss, act, T)


def loss_gradient(loss, A: Mat, T: Mat, example_ids, where) -> Mat:
    """dL/da per example (no batch factor)."""
    cols = []
    for j in range(A.m):
        a = [A[i, j] for i in range(A.n)]
        t = [T[i, j] for i in range(T.n)]
        cols.append(loss.grad(a, t, lambda j=j: where(example_ids[j])))
    return Mat(tuple(cols[j][i] for j in range(A.m)) for i in range(A.n))


def output_delta(rule, factor, A: Mat, T: Mat, dL_da: Mat | None, gprime: Mat | None, Z: Mat | None = None) -> tuple[Mat | None, Mat]:
    """(dJ/da, delta) at the output layer for the given rule (an
    OutputRule or its name)."""
    if isinstance(rule, str):
        rule = rules.OUTPUT_RULES[rule]
    dA = dL_da.scale(factor) if dL_da is not None else None
    return dA, rule.compute(factor, A, T, dA, gprime)


def hidden_delta(W_next: Mat, delta_next: Mat, gprime: Mat) -> tuple[Mat, Mat]:
    """(dJ/da, delta) of a hidden layer: dJ/da = W_next^T delta_next,
    delta = dJ/da (.) g'(z)."""
    dA = W_next.T @ delta_next
    return dA, dA.hadamard(gprime)


def gradients(delta: Mat, A_prev: Mat, W: Mat, l2) -> tuple[Mat, Mat, Mat]:
    """(delta a_prev^T, that plus lambda W, row sums of delta)."""
    data = delta @ A_prev.T
    gW = data + W.scale(l2) if l2 else data
    return data, gW, delta.row_sums()


def update(W: Mat, b: Mat, gW: Mat, gb: Mat, eta, update_biases: bool) -> tuple[Mat, Mat]:
    W_new = rules.updated(W, gW, eta)
    b_new = rules.updated(b, gb, eta) if update_biases else b
    return W_new, b_new


def optimizer_update(opt, W: Mat, b: Mat, gW: Mat, gb: Mat, prev: dict, t: int, eta, update_biases: bool, rnd, where: str,
                     rnd_state=None) -> dict:
    """One layer's update with an optimizer that keeps state: the new W and
    b, and the LayerTrace fields of the state (``opt``, ``opt_before``,
    ``opt_dir``, ``opt_root``); ``rnd_state`` rounds the state entries
    (the rounded key writes them to significant digits).  ``prev``: the persistent state after the previous update
    by quantity name (empty at t = 1: zeros)."""
    shown, before, dirs, roots = {}, {}, {}, {}
    out = {}
    for param, theta, g in (("W", W, gW), ("b", b, gb)):
        if param == "b" and not update_biases:
            out["b_new"] = b
            continue
        old = {s: prev.get(f"{s}_{param}") for s in opt.state}
        old = None if any(v is None for v in old.values()) else old
        try:
            new, entries, direction, denom = opt.step(theta, g, old, t, eta, rnd_state or rnd)
        except ZeroDivisionError:
            raise SolveError(
                f"{where}, {param}_new: the {opt.name} update divides by zero (a gradient entry that has been 0 at "
                "every update so far, with epsilon = 0); give the optimizer an epsilon above 0"
            ) from None
        start = old if old is not None else opt.zeros(theta)
        for s in opt.state:
            before[f"{s}_{param}"] = start[s]
        for k, M in entries.items():
            shown[f"{k}_{param}"] = M
        dirs[param] = direction
        roots[param] = denom
        out[f"{param}_new"] = rnd(new)
    out.update(opt=shown, opt_before=before, opt_dir=dirs, opt_root=roots)
    return out


# ---------------------------------------------------------------- solve
def _same(M):
    return M


def forward(params, acts, X: Mat, where_layer, rnd=_same, logs_at_output: bool = False):
    """Forward pass: lists of z and a per layer (``rnd`` rounds each as a
    student working to N decimals would; with ``logs_at_output``, an output
    that the loss takes the log of keeps a digit where rounding would make
    it 0 or 1, as a careful student does)."""
    zs, as_ = [], []
    A = X
    L = len(params)
    for l, ((W, b), act) in enumerate(zip(params, acts), 1):
        Z = rnd(preactivation(W, b, A))
        _check_size(Z, where_layer(l, "z"))
        exact_A = activate(act, Z, lambda i, j, l=l: where_layer(l, "a", i, j))
        A = rnd(exact_A)
        if logs_at_output and l == L and rnd is not _same:
            A = Mat(tuple(_keep_a_digit(x, y) for x, y in zip(rx, ry)) for rx, ry in zip(exact_A.rows, A.rows))
        _check_size(A, where_layer(l, "a"))
        zs.append(Z)
        as_.append(A)
    return zs, as_


def _keep_a_digit(x, rounded):
    """A rounded output a in (0, 1) that must not become 0 or 1 (its log is
    taken): the first significant digit of a, or of 1 - a, is kept."""
    if rounded == 0 and x != 0:
        return round_significant(x, 1)
    if rounded == 1 and x != 1:
        return 1 - round_significant(1 - x, 1)
    return rounded


def solve_step(problem: Problem, params, example_ids: tuple[int, ...], index: int, pass_index: int, rnd=None,
               state=None) -> Step:
    """One update.  With ``rnd`` (a function rounding a matrix), every value
    a student writes down (z, a, J, delta, the gradients, the updated
    parameters) is rounded before it is used, and derivatives are taken in
    the form students use from their rounded a (sigma' = a(1 - a)): the
    answer key of someone working to N decimals.  Values they do not write
    (g', dL/da) are used as they come.  ``state``: per layer, the
    optimizer's persistent state after the previous update (by quantity
    name; None at the first)."""
    rounding = rnd is not None
    rnd = rnd or _same
    acts = [l.activation for l in problem.layers]
    X = Mat.from_columns([problem.examples[k - 1].x for k in example_ids])
    T = Mat.from_columns([problem.examples[k - 1].t for k in example_ids])
    m = X.m
    factor = batch_factor(problem.batch, m)

    def where_layer(l, what, i=None, j=None):
        s = f"step {index}, layer {l}, {what}"
        if i is not None:
            s += f"[{i + 1}]"
            s += f", example {example_ids[j]}"
        return s

    zs, as_ = forward(params, acts, X, where_layer, rnd, logs_at_output=rounding and problem.loss.uses_logs)
    gps = [
        activation_derivative(act, Z, A, lambda i, j, l=l: where_layer(l, "g'(z)", i, j), by_a=rounding)
        for l, (act, Z, A) in enumerate(zip(acts, zs, as_), 1)
    ]
    kinks = tuple(
        (l, i + 1, j + 1)
        for l, (act, Z) in enumerate(zip(acts, zs), 1)
        if act.piecewise
        for i in range(Z.n)
        for j in range(Z.m)
        if is_rational(Z[i, j]) and not Z[i, j]
    )

    lname = problem.loss.name
    per_example = example_losses(
        problem.loss, as_[-1], T, example_ids, lambda k: f"{lname} at step {index}, example {k}",
        None if rounding else zs[-1], acts[-1]
    )
    loss = total_loss(per_example, factor, problem.l2, [W for W, _ in params])
    if rounding:
        loss = LossTrace(loss.per_example, loss.data, loss.l2_norms, loss.l2_term, rnd(Mat([[loss.total]]))[0, 0])

    L = len(params)
    rule = output_rule(problem.loss, acts[-1], T)
    try:
        dL_da = loss_gradient(problem.loss, as_[-1], T, example_ids, lambda k: f"derivative of {lname} at step {index}, example {k}")
    except SolveError:
        if rule.uses_dL_da:
            raise
        dL_da = None  # the paired rule does not need dL/da (a saturated a = 1 has none)
    dA_out, delta_out = output_delta(rule, factor, as_[-1], T, dL_da, gps[-1], None if rounding else zs[-1])
    dAs = [None] * L
    deltas = [None] * L
    dAs[-1], deltas[-1] = dA_out, rnd(delta_out)
    for l in range(L - 2, -1, -1):
        dAs[l], deltas[l] = hidden_delta(params[l + 1][0], deltas[l + 1], gps[l])
        deltas[l] = rnd(deltas[l])

    layer_traces = []
    for l in range(L):
        W, b = params[l]
        A_prev = X if l == 0 else as_[l - 1]
        gW_data, gW, gb = (rnd(M) for M in gradients(deltas[l], A_prev, W, problem.l2))
        opt = problem.optimizer
        extra = {}
        if opt.plain:
            W_new, b_new = (rnd(M) for M in update(W, b, gW, gb, problem.learning_rate, problem.update_biases))
        else:
            prev = state[l] if state else {}
            extra = optimizer_update(opt, W, b, gW, gb, prev, index, problem.learning_rate, problem.update_biases,
                                     rnd, f"step {index}, layer {l + 1}", getattr(rnd, "state", rnd))
            W_new, b_new = extra.pop("W_new"), extra.pop("b_new")
        _check_size(W_new, f"step {index}, layer {l + 1}, W_new")
        unscale = 1 / factor
        layer_traces.append(
            LayerTrace(
                index=l + 1,
                activation=acts[l],
                W=W,
                b=b,
                a_prev=A_prev,
                z=zs[l],
                a=as_[l],
                gprime=gps[l],
                dA=dAs[l],
                delta=deltas[l],
                grad_W_data=gW_data,
                grad_W=gW,
                grad_b=gb,
                W_new=W_new,
                b_new=b_new,
                eta=problem.learning_rate,
                dz_ex=deltas[l] if factor == 1 else deltas[l].scale(unscale),
                da_ex=dAs[l] if factor == 1 or dAs[l] is None else dAs[l].scale(unscale),
                **extra,
            )
        )
    step_values = Step(index=index, pass_index=pass_index, examples=tuple(example_ids), X=X, T=T, factor=factor,
                       output_rule=rule.name, dL_da=dL_da, loss=loss, layers=tuple(layer_traces), kinks=kinks)
    for name, M in quantities_of_step(step_values, f"step {index}, ", guarded=True):
        exact.guard_all(M.entries(), lambda k, name=name, M=M: label(name, M, k))
    return step_values


#: every matrix of a layer's record that can reach an output
LAYER_MATRICES = ("z", "a", "gprime", "dA", "delta", "grad_W_data", "grad_W", "grad_b", "W_new", "b_new", "dz_ex", "da_ex")


def quantities_of_step(step: Step, prefix: str = "", guarded: bool = False):
    """(name, matrix) of every quantity of one update that can be shown
    (scalars as 1 x 1, a loss's terms as a row).  With ``guarded``, only
    those held to the size limits: not dL/da nor the output layer's dA,
    which follow from a and t alone (both guarded) and whose 1/a or
    1/(1 - a) of a saturated output may pass the magnitude limit where every
    answer of the exercise is moderate."""
    for e in step.loss.per_example:
        yield f"{prefix}loss of example {e.example}, terms", Mat([list(e.terms)])
        yield f"{prefix}loss of example {e.example}", Mat([[e.value]])
    yield from quantities_of_loss(step.loss, prefix)
    if step.dL_da is not None and not guarded:
        yield f"{prefix}dL/da", step.dL_da
    last = len(step.layers)
    for lt in step.layers:
        for name in LAYER_MATRICES:
            if guarded and lt.index == last and name in ("dA", "da_ex"):
                continue
            M = getattr(lt, name)
            if M is not None:
                yield f"{prefix}layer {lt.index}, {name}", M
        for name, M in (lt.opt or {}).items():
            yield f"{prefix}layer {lt.index}, {name}", M


def quantities_of_loss(loss: LossTrace, prefix: str = ""):
    yield f"{prefix}J (data term)", Mat([[loss.data]])
    if loss.l2_norms:
        yield f"{prefix}||W||^2 of each layer", Mat([list(loss.l2_norms)])
    if loss.l2_term is not None:
        yield f"{prefix}J (l2 term)", Mat([[loss.l2_term]])
    yield f"{prefix}J", Mat([[loss.total]])


def label(name: str, M: Mat, k: int) -> str:
    """The name of the k-th entry (row by row, from 0) of a quantity."""
    if M.n * M.m == 1:
        return name
    return f"{name}[{k // M.m + 1}][{k % M.m + 1}]"


def quantities_of_trace(trace: NetTrace):
    """(name, matrix, step index or None) of every quantity of a trace."""
    several = len(trace.steps) > 1
    for step in trace.steps:
        for name, M in quantities_of_step(step, f"step {step.index}, " if several else ""):
            yield name, M, step.index
    if trace.final_loss is not None:
        for name, M in quantities_of_loss(trace.final_loss, "after the update, "):
            yield name, M, None
    if trace.final_outputs is not None:
        yield "after the update, output a", trace.final_outputs, None


def _check_size(M: Mat, where: str) -> None:
    exact.guard_all(M.entries(), lambda k: label(where, M, k))


def schedule(problem: Problem):
    """(pass, example ids) for every update, in order."""
    n = len(problem.examples)
    for p in range(1, problem.steps + 1):
        if problem.update == "online":
            for k in range(1, n + 1):
                yield p, (k,)
        else:
            yield p, tuple(range(1, n + 1))


def solve_rounded(problem: Problem, places: int) -> NetTrace:
    """The answer key of a careful student who rounds every intermediate
    value to ``places`` decimals (half away from zero) before using it."""
    def rnd(M):
        return M.map(lambda x: round_half_away(x, places))

    # an optimizer's state (Adam's v is about g^2 / 1000) is written to
    # significant digits: the update divides one tiny value by another
    rnd.state = lambda M: M.map(lambda x: round_significant(x, places) if x else x)
    return solve_exact(problem, rnd)


def solve_exact(problem: Problem, rnd=None) -> NetTrace:
    """The exact trace, every irrational value certified to
    exact.TARGET_BITS correct bits (the kit's certification loop: raised
    precision, balls that stay at 0 settled with a note, a value that cannot
    be certified refused by name)."""
    return kit.certify(lambda: _solve_at(problem, rnd), _audit, _settle_zeros)


def _audit(trace: NetTrace):
    """(fewest correct bits, where, narrow balls holding 0) of every quantity."""
    return kit.audit(((lambda k, name=name, M=M: label(name, M, k)), M, step)
                     for name, M, step in quantities_of_trace(trace))


def _settle_zeros(trace: NetTrace) -> NetTrace:
    """The trace with every value whose ball holds 0 replaced by 0."""

    fix, one = kit.settle_matrix, kit.settle_value

    def loss(lt):
        if lt is None:
            return None
        per = tuple(ExampleLoss(e.example, tuple(one(t) for t in e.terms), one(e.value)) for e in lt.per_example)
        return LossTrace(per, one(lt.data), tuple(one(v) for v in lt.l2_norms),
                         None if lt.l2_term is None else one(lt.l2_term), one(lt.total))

    def exact_update(old, new, grad, eta):
        """The update of a settled gradient, exact where it is: W - eta * 0 is W,
        not a ball about it."""
        if new is None or grad is None or eta is None:
            return new
        redone = rules.updated(old, grad, eta)
        return Mat(tuple(r if type(x) is Irr and type(r) is not Irr and x.b.overlaps(exact.ball(r)) else x
                         for x, r in zip(rn, rr)) for rn, rr in zip(new.rows, redone.rows))

    def settled(lt):
        lt = dataclasses.replace(lt, **{k: fix(getattr(lt, k)) for k in LAYER_MATRICES},
                                 **({"opt": {k: fix(M) for k, M in lt.opt.items()}} if lt.opt else {}))
        if lt.opt:  # an optimizer's update: its state says what the step is
            return lt
        return dataclasses.replace(lt, W_new=exact_update(lt.W, lt.W_new, lt.grad_W, lt.eta),
                                   b_new=exact_update(lt.b, lt.b_new, lt.grad_b, lt.eta) if lt.b_new is not lt.b else lt.b_new)

    steps = []
    for st in trace.steps:
        layers = tuple(settled(lt) for lt in st.layers)
        steps.append(dataclasses.replace(st, layers=layers, loss=loss(st.loss), dL_da=fix(st.dL_da)))
    return dataclasses.replace(trace, steps=tuple(steps), final_loss=loss(trace.final_loss),
                               final_outputs=fix(trace.final_outputs))


def _solve_at(problem: Problem, rnd=None) -> NetTrace:
    params = [(l.W, l.b) for l in problem.layers]
    steps = []
    state = None
    for index, (p, ids) in enumerate(schedule(problem), 1):
        step = solve_step(problem, params, ids, index, p, rnd, state)
        steps.append(step)
        params = [(lt.W_new, lt.b_new) for lt in step.layers]
        state = [lt.opt or {} for lt in step.layers]
    # the cost over all examples with the final parameters: a check on the
    # update, not part of it, so a value it cannot compute is only a note
    ids = tuple(range(1, len(problem.examples) + 1))
    X, T = problem.X, problem.T
    acts = [l.activation for l in problem.layers]
    notes: tuple[str, ...] = ()
    try:
        zs, as_ = forward(params, acts, X, lambda l, what, i=None, j=None: f"after the update, layer {l}, {what}", rnd or _same)
        per = example_losses(problem.loss, as_[-1], T, ids, lambda k: f"{problem.loss.name} after the update, example {k}", zs[-1], acts[-1])
        final = total_loss(per, batch_factor(problem.batch, X.m), problem.l2, [W for W, _ in params])
        for name, M in quantities_of_loss(final, "the cost after the update, "):
            exact.guard_all(M.entries(), lambda k, name=name, M=M: label(name, M, k))
        outputs = as_[-1]
    except (SolveError, LimitError) as exc:
        final, outputs = None, None
        notes = (Text("note.final_cost", reason=exc.message),)
    return NetTrace(problem=problem, steps=tuple(steps), final_loss=final, final_outputs=outputs, notes=notes)
