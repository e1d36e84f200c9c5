"""The exact solve: small pure functions, one per textbook step, composed by
:func:`solve` into a :class:`~stepsolver.trace.Trace`.

Conventions (README, "Conventions"):
z^[l] = W^[l] a^[l-1] + b^[l], a^[l] = g(z^[l]), examples are columns;
J = (1/m) sum_i L_i (batch = mean) or sum_i L_i (batch = sum), plus
(lambda/2) sum_l ||W^[l]||^2; delta^[l] = dJ/dz^[l] with the batch factor;
dJ/dW^[l] = delta^[l] a^[l-1]^T + lambda W^[l]; dJ/db^[l] = row sums of
delta^[l]; W <- W - eta dJ/dW, b <- b - eta dJ/db, all gradients of one update
taken with the weights from before it.  relu'(0) = 0, leaky_relu'(0) = slope.

The functions are reused by ``check`` to recompute a quantity from a
student's own earlier values.
"""

from __future__ import annotations

from typing import Callable

from . import limits
from .activations import Activation
from .errors import LimitError, SolveError
from .exact import ONE, ZERO, Q, Irr, is_rational, magnitude_ok
from .matrix import Mat
from .problem import Problem
from .trace import ExampleLoss, LayerTrace, LossTrace, Step, Trace


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
    except SolveError as exc:
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
def output_rule(loss, act: Activation, T: Mat) -> str:
    paired = loss.paired(act.name)
    if paired == "softmax_ce":
        sums = [_sum(T[i, j] for i in range(T.n)) for j in range(T.m)]
        return "softmax_ce" if all(s == 1 for s in sums) else "softmax_ce_general"
    if paired:
        return paired
    return "softmax_chain" if act.vector else "chain"


def loss_gradient(loss, A: Mat, T: Mat, example_ids, where) -> Mat:
    """dL/da per example (no batch factor)."""
    cols = []
    for j in range(A.m):
        a = [A[i, j] for i in range(A.n)]
        t = [T[i, j] for i in range(T.n)]
        cols.append(loss.grad(a, t, lambda j=j: where(example_ids[j])))
    return Mat(tuple(cols[j][i] for j in range(A.m)) for i in range(A.n))


def output_delta(rule: str, factor, A: Mat, T: Mat, dL_da: Mat | None, gprime: Mat | None, Z: Mat | None = None) -> tuple[Mat | None, Mat]:
    """(dJ/da, delta) at the output layer for the given rule."""
    dA = dL_da.scale(factor) if dL_da is not None else None
    if rule == "sigmoid_bce" and Z is not None:
        # a - t, with a - 1 taken as -sigma(-z) where a is near 1
        from .activations import SIGMOID

        def diff(a, z, t):
            if type(a) is Irr and a.v > 0.5:
                return (1 - t) - SIGMOID.complement(z)
            return a - t

        delta = Mat(tuple(diff(A[i, j], Z[i, j], T[i, j]) for j in range(A.m)) for i in range(A.n)).scale(factor)
    elif rule in ("softmax_ce", "sigmoid_bce"):
        delta = (A - T).scale(factor)
    elif rule == "softmax_ce_general":
        # dL/dz_i = a_i * sum_k t_k - t_i
        sums = [_sum(T[i, j] for i in range(T.n)) for j in range(T.m)]
        delta = Mat(tuple(A[i, j] * sums[j] - T[i, j] for j in range(A.m)) for i in range(A.n)).scale(factor)
    elif rule == "softmax_chain":
        delta = softmax_backward(A, dA)
    else:
        delta = dA.hadamard(gprime)
    return dA, delta


def softmax_backward(A: Mat, G: Mat) -> Mat:
    """delta_i = a_i (g_i - sum_k a_k g_k), column by column."""
    dots = [_sum(A[k, j] * G[k, j] for k in range(A.n)) for j in range(A.m)]
    return Mat(tuple(A[i, j] * (G[i, j] - dots[j]) for j in range(A.m)) for i in range(A.n))


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
    W_new = W - gW.scale(eta)
    b_new = b - gb.scale(eta) if update_biases else b
    return W_new, b_new


# ---------------------------------------------------------------- solve
def _same(M):
    return M


def forward(params, acts, X: Mat, where_layer, rnd=_same):
    """Forward pass: lists of z and a per layer (``rnd`` rounds each as a
    student working to N decimals would)."""
    zs, as_ = [], []
    A = X
    for l, ((W, b), act) in enumerate(zip(params, acts), 1):
        Z = rnd(preactivation(W, b, A))
        _check_size(Z, where_layer(l, "z"))
        A = rnd(activate(act, Z, lambda i, j, l=l: where_layer(l, "a", i, j)))
        _check_size(A, where_layer(l, "a"))
        zs.append(Z)
        as_.append(A)
    return zs, as_


def solve_step(problem: Problem, params, example_ids: tuple[int, ...], index: int, pass_index: int, rnd=None) -> Step:
    """One update.  With ``rnd`` (a function rounding a matrix), every
    intermediate value is rounded before it is used, and derivatives are
    taken in the form students use (sigma' = a(1 - a) from the rounded a):
    the answer key of someone working to N decimals."""
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

    zs, as_ = forward(params, acts, X, where_layer, rnd)
    gps = [
        rnd_opt(rnd, activation_derivative(act, Z, A, lambda i, j, l=l: where_layer(l, "g'(z)", i, j), by_a=rounding))
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
    if rounding:
        per_example = tuple(
            ExampleLoss(e.example, tuple(rnd(Mat([[v]]))[0, 0] for v in e.terms), rnd(Mat([[e.value]]))[0, 0])
            for e in per_example
        )
    loss = total_loss(per_example, factor, problem.l2, [W for W, _ in params])
    if rounding:
        loss = LossTrace(loss.per_example, rnd(Mat([[loss.data]]))[0, 0], loss.l2_norms,
                         loss.l2_term, rnd(Mat([[loss.total]]))[0, 0])

    L = len(params)
    rule = output_rule(problem.loss, acts[-1], T)
    try:
        dL_da = loss_gradient(problem.loss, as_[-1], T, example_ids, lambda k: f"derivative of {lname} at step {index}, example {k}")
    except SolveError:
        if rule not in ("sigmoid_bce", "softmax_ce", "softmax_ce_general"):
            raise
        dL_da = None  # the paired rule does not need dL/da (a saturated a = 1 has none)
    dL_da = rnd_opt(rnd, dL_da)
    dA_out, delta_out = output_delta(rule, factor, as_[-1], T, dL_da, gps[-1], None if rounding else zs[-1])
    dAs = [None] * L
    deltas = [None] * L
    dAs[-1], deltas[-1] = rnd_opt(rnd, dA_out), rnd(delta_out)
    for l in range(L - 2, -1, -1):
        if rounding:
            dA = rnd(params[l + 1][0].T @ deltas[l + 1])
            dAs[l], deltas[l] = dA, rnd(dA.hadamard(gps[l]))
        else:
            dAs[l], deltas[l] = hidden_delta(params[l + 1][0], deltas[l + 1], gps[l])

    layer_traces = []
    for l in range(L):
        W, b = params[l]
        A_prev = X if l == 0 else as_[l - 1]
        gW_data, gW, gb = (rnd(M) for M in gradients(deltas[l], A_prev, W, problem.l2))
        W_new, b_new = (rnd(M) for M in update(W, b, gW, gb, problem.learning_rate, problem.update_biases))
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
                dz_ex=deltas[l] if factor == 1 else deltas[l].scale(unscale),
                da_ex=dAs[l] if factor == 1 or dAs[l] is None else dAs[l].scale(unscale),
            )
        )
    for lt in layer_traces:
        for name in ("gprime", "delta", "grad_W", "grad_b", "b_new"):
            M = getattr(lt, name)
            if M is not None:
                _check_size(M, f"step {index}, layer {lt.index}, {name}")
    for el in loss.per_example:
        _check_size(Mat([[el.value]]), f"step {index}, loss of example {el.example}")
    return Step(
        index=index,
        pass_index=pass_index,
        examples=tuple(example_ids),
        X=X,
        T=T,
        factor=factor,
        output_rule=rule,
        dL_da=dL_da,
        loss=loss,
        layers=tuple(layer_traces),
        kinks=kinks,
    )


def _check_size(M: Mat, where: str) -> None:
    for x in M.entries():
        if type(x) is Irr:
            if not magnitude_ok(x, limits.MAX_MAGNITUDE_BITS):
                raise LimitError(
                    f"{where}: a value passed 2^{limits.MAX_MAGNITUDE_BITS} in magnitude; "
                    "use smaller weights, inputs or fewer steps"
                )
        elif not magnitude_ok(x, limits.MAX_VALUE_BITS):
            raise LimitError(
                f"{where}: exact values grew past {limits.MAX_VALUE_BITS} bits (about "
                f"{limits.MAX_VALUE_BITS * 3 // 10} digits); use fewer steps or shorter decimals"
            )


def schedule(problem: Problem):
    """(pass, example ids) for every update, in order."""
    n = len(problem.examples)
    for p in range(1, problem.steps + 1):
        if problem.update == "online":
            for k in range(1, n + 1):
                yield p, (k,)
        else:
            yield p, tuple(range(1, n + 1))


def round_half_away(x, places: int):
    """x rounded to ``places`` decimals, halves away from zero, exactly."""
    scale = 10**places
    if is_rational(x):
        n = abs(x) * scale
        k = int((n + Q(1, 2)).numerator // (n + Q(1, 2)).denominator)
    else:
        from .exact import MP

        k = int(MP.floor(abs(x.v) * scale + MP.mpf(1) / 2))
    return Q(k if x >= 0 else -k, scale)


def solve_rounded(problem: Problem, places: int) -> Trace:
    """The answer key of a careful student who rounds every intermediate
    value to ``places`` decimals (half away from zero) before using it."""
    rnd = lambda M: M.map(lambda x: round_half_away(x, places))  # noqa: E731
    return solve_exact(problem, rnd)


def solve_exact(problem: Problem, rnd=None) -> Trace:
    params = [(l.W, l.b) for l in problem.layers]
    steps = []
    for index, (p, ids) in enumerate(schedule(problem), 1):
        step = solve_step(problem, params, ids, index, p, rnd)
        steps.append(step)
        params = [(lt.W_new, lt.b_new) for lt in step.layers]
    # the cost over all examples with the final parameters: a check on the
    # update, not part of it, so a value it cannot compute is only a note
    ids = tuple(range(1, len(problem.examples) + 1))
    X, T = problem.X, problem.T
    acts = [l.activation for l in problem.layers]
    notes: tuple[str, ...] = ()
    try:
        zs, as_ = forward(params, acts, X, lambda l, what, i=None, j=None: f"layer {l}, {what}", rnd or _same)
        per = example_losses(problem.loss, as_[-1], T, ids, lambda k: f"{problem.loss.name}, example {k}", zs[-1], acts[-1])
        final = total_loss(per, batch_factor(problem.batch, X.m), problem.l2, [W for W, _ in params])
        outputs = as_[-1]
    except (SolveError, LimitError) as exc:
        final, outputs = None, None
        notes = (f"The cost with the updated parameters cannot be computed ({exc.message}).",)
    return Trace(problem=problem, steps=tuple(steps), final_loss=final, final_outputs=outputs, notes=notes)


def solve(problem: Problem, *, crosscheck: bool = True, round_places: int | None = None):
    """Solve exactly and (by default) cross-check with NumPy float64; with
    ``round_places`` also work the key a student rounding to that many
    decimals gets.  Returns a :class:`~stepsolver.solution.Solution`.
    """
    import dataclasses

    from .solution import Solution

    trace = solve_exact(problem)
    if crosscheck:
        from .numeric import crosscheck as _cc

        notes = _cc(trace)
        if notes:
            trace = Trace(
                problem=trace.problem,
                steps=trace.steps,
                final_loss=trace.final_loss,
                final_outputs=trace.final_outputs,
                notes=trace.notes + tuple(notes),
            )
    if round_places is not None:
        trace = dataclasses.replace(trace, rounded=solve_rounded(problem, round_places), round_places=round_places)
    return Solution(trace)
