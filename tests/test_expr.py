"""Custom activation expressions: a whitelist, never code."""

from fractions import Fraction as Fr

import pytest

from conftest import run_cli
from stepsolver.errors import InputError, LimitError
from stepsolver.exact import Q, q_str
from stepsolver.expr import parse_expression


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
    from stepsolver.expr import exact_at

    e = parse_expression(text, "activation")
    assert Fr(q_str(exact_at(e.expr, at, "test"))) == value


def test_derivative_comes_from_sympy():
    from stepsolver.expr import exact_at

    e = parse_expression("x**3/3 - x", "activation")
    assert Fr(q_str(exact_at(e.deriv, Q(1, 2), "t"))) == Fr(-3, 4)


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
