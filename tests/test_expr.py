"""Custom activation expressions: a whitelist, never code."""

from fractions import Fraction as Fr

import pytest

from conftest import run_cli
from stepsolver.errors import InputError, LimitError
from stepsolver.exact import Q, q_str
from stepsolver.functions.expr import parse_expression


@pytest.mark.parametrize(
    "text, at, value",
    [
        ("x**2", Q(3, 2), Fr(9, 4)),
        ("x**3/3 - x", Q(1, 2), Fr(-11, 24)),
        ("-x + 2.5*x", Q(2), Fr(3)),
        ("x**(1/2)", Q(9, 4), Fr(3, 2)),
        ("x**0.5", Q(4), Fr(2)),
        ("sqrt(x**2 + 9)", Q(4), Fr(5)),
        ("exp(x) - 1", Q(0), Fr(0)),
        ("log(x)", Q(1), Fr(0)),
        ("tanh(x)", Q(0), Fr(0)),
        ("(x - 1)*(x + 1)", Q(3), Fr(8)),
    ],
)
def test_accepted_expressions_evaluate_exactly(text, at, value):
    from stepsolver.functions.expr import exact_value

    e = parse_expression(text, "activation")
    assert Fr(q_str(exact_value(e.tree, at, "test"))) == value


def test_derivative_comes_from_sympy():
    from stepsolver.functions.expr import exact_value

    e = parse_expression("x**3/3 - x", "activation")
    assert Fr(q_str(exact_value(e.dtree, Q(1, 2), "t"))) == Fr(-3, 4)


@pytest.mark.parametrize(
    "text, at, value, slope",
    [
        ("sqrt(x**2)", Q(-3, 2), Fr(3, 2), Fr(-1)),  # Abs(x), sign(x) inside SymPy
        ("(x**2)**(1/2)", Q(5), Fr(5), Fr(1)),
        ("(x**4)**(1/4)", Q(-2), Fr(2), Fr(-1)),
        ("(x**2)**(3/2)", Q(-2), Fr(8), Fr(-12)),
        ("sqrt(x**2) + x", Q(0), Fr(0), Fr(1)),  # sign(0) = 0: abs'(0) = 0
    ],
)
def test_every_sympy_head_the_grammar_reaches_is_evaluated(text, at, value, slope):
    from stepsolver.functions.expr import exact_value

    e = parse_expression(text, "activation")
    assert Fr(q_str(exact_value(e.tree, at, "t"))) == value
    assert Fr(q_str(exact_value(e.dtree, at, "t"))) == slope


@pytest.mark.parametrize(
    "text, at, fragment",
    [
        ("exp(log(x))", Q(-1), "log of a negative number"),  # SymPy would say x
        ("sqrt(x)**2", Q(-4), "square root of a negative number"),
        ("log(x)", Q(0), "log of zero"),
        ("1/x", Q(0), "division by zero"),
        ("(x**3)**(1/3)", Q(-8), "fractional power of a negative number"),
    ],
)
def test_a_value_outside_a_functions_domain_is_an_input_error(text, at, fragment):
    from stepsolver.errors import SolveError
    from stepsolver.functions.expr import exact_value

    e = parse_expression(text, "activation")
    with pytest.raises(SolveError, match=fragment):
        exact_value(e.tree, at, "activation at z")


def test_the_domain_error_names_the_step_on_the_command_line(tmp_path):
    problem = tmp_path / "p.toml"
    problem.write_text('learning_rate = 0.1\n[[layers]]\nweights = [[-1]]\nactivation = "exp(log(x))"\n'
                       "[[examples]]\nx = 1\nt = 1\n")
    r = run_cli("solve", problem)
    assert r.returncode == 2, r.stderr
    assert "step 1, layer 1, a" in r.stderr and "log of a negative number" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("__import__('os').system('true')", "character \"'\" is not allowed"),
        ("x.real", "not allowed"),
        ("y + 1", "unknown name"),
        ("open(x)", "only the functions"),
        ("exp(x, 2)", "each function takes one argument"),
        ("x if x else 1", "not allowed"),
        ("x ^ 2", "use ** for powers"),
        ("x // 2", "only + - * / **"),
        ("x % 2", "'%'"),
        ("x**x", "exponent must be a plain number"),
        ("x**exp(1)", "exponent must be a plain number"),
        ("lambda x: x", "':'"),
        ("[x for x in (1,)]", "'['"),
        ("x == 1", "'='"),
        ("not x", "only + and - may stand before a term"),
        ("exp", "is a function"),
        ("1j*x", "only plain numbers"),
        ("True", "unknown name"),
        ("x/0", "division by zero"),
        ("", "empty expression"),
        ("x +", "not a valid formula"),
    ],
)
def test_refused_expressions_name_the_offending_part(text, fragment):
    with pytest.raises(InputError) as info:
        parse_expression(text, "layers[1].activation")
    assert fragment in str(info.value)
    assert "layers[1].activation" in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["x**(10**10)", "x**100", "((x**8)**8)**8", "x" + " + x" * 150, "(" * 120 + "x" + ")" * 120, "x*1e400"],
)
def test_oversized_expressions_are_refused_at_once(text):
    with pytest.raises((LimitError, InputError)):
        parse_expression(text, "activation")


PAYLOADS = [
    "__import__('os').system('touch {m}')",
    "open('{m}', 'w')",
    "exec(\"open('{m}','w')\")",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "(lambda: open('{m}', 'w'))()",
    "x.__class__",
    "globals()",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injected_expressions_run_nothing(tmp_path, payload):
    marker = tmp_path / "MARKER"
    expr = payload.format(m=marker)
    problem = tmp_path / "p.toml"
    # a TOML multi-line literal string holds the payload verbatim
    problem.write_text(
        f"learning_rate = 0.1\n[[layers]]\nweights = [[1]]\nactivation = '''{expr}'''\n"
        "[[examples]]\nx = 1\nt = 1\n"
    )
    r = run_cli("solve", problem)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr
    assert "activation" in r.stderr
    assert not marker.exists()


# ---------------------------------------------------------------- fuzzing
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_leaf = st.sampled_from(["x", "x", "2", "1/2", "0.3", "3"])


def _expr(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(children, st.sampled_from(["2", "3", "(1/2)", "(1/3)", "(-1)", "(3/2)"])).map(lambda t: f"({t[0]})**{t[1]}"),
        st.tuples(st.sampled_from(["exp", "log", "sqrt", "tanh"]), children).map(lambda t: f"{t[0]}({t[1]})"),
        children.map(lambda c: f"-{c}"),
    )


grammar = st.recursive(_leaf, _expr, max_leaves=6)


@settings(max_examples=300)
@given(text=grammar, at=st.sampled_from([Q(-3, 2), Q(-1), Q(0), Q(1, 3), Q(2), Q(7, 10)]))
def test_every_expression_of_the_grammar_evaluates_or_says_why(text, at):
    """Whatever SymPy makes of a formula (Abs, sign, powers of powers ...),
    its value and derivative are evaluated or refused with an input error
    naming the reason; never an internal error."""
    from stepsolver import exact
    from stepsolver.errors import SolveError
    from stepsolver.functions.expr import ExprError, exact_value

    try:
        e = parse_expression(text, "activation")
    except (ExprError, LimitError):
        return
    with exact.working_precision(224):
        for tree in (e.tree, e.dtree):
            for z in (at, exact.sigmoid(at)):  # a rational and an irrational point
                try:
                    exact_value(tree, z, "t")
                except (SolveError, LimitError, exact.Uncertain):
                    pass


@settings(max_examples=150)
@given(text=grammar)
def test_the_derivative_agrees_with_a_difference_quotient(text):
    from stepsolver import exact
    from stepsolver.errors import SolveError
    from stepsolver.functions.expr import ExprError, exact_value

    try:
        e = parse_expression(text, "activation")
    except (ExprError, LimitError):
        return
    z, h = Q(7, 10), Q(1, 10**30)
    with exact.working_precision(400):
        try:
            up, down = exact_value(e.tree, z + h, "t"), exact_value(e.tree, z - h, "t")
            d = exact_value(e.dtree, z, "t")
        except (SolveError, LimitError, exact.Uncertain):
            return
        quotient = exact.to_mpf((up - down) / (2 * h))
        dv = exact.to_mpf(d)
    assert abs(quotient - dv) <= 1e-20 * (1 + abs(dv)), (text, quotient, dv)
