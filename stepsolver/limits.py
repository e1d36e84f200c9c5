"""The documented limits, in one place (README: "Errors and limits").

Past any of them stepsolver stops with one clear error line and exit code 2
instead of hanging or running out of memory.
"""

#: largest problem or answers file read, in bytes
MAX_FILE_BYTES = 1_000_000
#: most significant digits in one written number (integer, decimal or fraction part)
MAX_DIGITS = 40
#: written numbers must satisfy 1e-40 <= |x| <= 1e40 (or be zero)
MAX_DECIMAL_EXPONENT = 40
#: units in one layer, and inputs
MAX_UNITS = 256
#: layers in a network
MAX_LAYERS = 32
#: weights and biases in all layers together
MAX_PARAMETERS = 50_000
#: examples in a problem
MAX_EXAMPLES = 256
#: passes over the examples (``steps``)
MAX_STEPS = 1000
#: updates in one solve (steps, times examples for online updates)
MAX_UPDATES = 1000
#: estimated multiply-adds of a whole solve (weights x examples x updates x 3)
#: when every value stays rational (identity, relu, square, polynomials) ...
MAX_WORK = 5_000_000
#: ... and when irrational values (sigmoid, tanh, softmax, exp, log) flow
#: through it: each such operation costs several times more
MAX_WORK_IRRATIONAL = 600_000
#: seconds one problem may take from reading to rendering (command line,
#: --time-limit); a safety net behind the limits above
TIME_LIMIT = 120
#: characters in a custom activation expression
MAX_EXPR_CHARS = 200
#: nodes (numbers, x, operators, calls) in a custom activation expression
MAX_EXPR_NODES = 80
#: |numerator| and denominator of a power's exponent in an expression
MAX_EXPR_EXPONENT = 16
#: product of nested exponents, e.g. (x**4)**4 counts 16
MAX_EXPR_DEGREE = 64
#: size, in bits of numerator plus denominator, any exact value may grow to
#: during a solve (about 3600 decimal digits; below Python's 4300-digit
#: limit on converting integers to text)
MAX_VALUE_BITS = 12_000
#: an irrational value whose magnitude passes 2**this is refused
MAX_MAGNITUDE_BITS = 3_000
