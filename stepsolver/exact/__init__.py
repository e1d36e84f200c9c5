"""Exact numbers, exact matrices, and how an exact number is spelled.

The bottom floor of the house but for errors and limits: it imports nothing
of stepsolver above it (see tests/test_layers.py).
"""

from .matrix import Mat
from .numbers import (
    BACKEND, DIGITS, MAX_PRECISION, MIN_BITS_AT_LIMIT, MP, ONE, START_PRECISION, TARGET_BITS, WORKING, ZERO, Irr, Q,
    QType, Uncertain, _fq, accuracy_bits, ball, bits, denom, exact_text, guard, guard_all, irr, is_rational, log,
    magnitude_bits, magnitude_ok, numer, precision, q_str, q_to_float, q_to_mpf, rational_root, sigmoid,
    sigmoid_derivative, sign, softplus, sqrt, tanh, tanh_derivative, to_float, to_mpf, working_precision,
)
from .numbers import exp, log1p
from .spelling import (decimal_text, exact_decimal, json_float, json_matrix, json_value, q_latex, round_half_away,
                       round_significant, terminating_places)

__all__ = [
    "BACKEND", "DIGITS", "Irr", "MAX_PRECISION", "MIN_BITS_AT_LIMIT", "MP", "Mat", "ONE", "Q", "QType",
    "START_PRECISION", "TARGET_BITS", "Uncertain", "WORKING", "ZERO", "_fq", "accuracy_bits", "ball", "bits",
    "decimal_text", "denom", "exact_decimal", "exact_text", "exp", "guard", "guard_all", "irr", "is_rational",
    "json_float", "json_matrix", "json_value", "log", "log1p", "magnitude_bits", "magnitude_ok", "numer",
    "precision", "q_latex", "q_str", "q_to_float", "q_to_mpf", "rational_root", "round_half_away",
    "round_significant", "sigmoid", "sigmoid_derivative", "sign", "softplus", "sqrt", "tanh", "tanh_derivative",
    "terminating_places", "to_float", "to_mpf", "working_precision",
]
