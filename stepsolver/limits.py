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
MAX_PARAMETERS = 20_000
#: examples in a problem
MAX_EXAMPLES = 256
#: passes over the examples (``steps``)
MAX_STEPS = 1000
#: updates in one solve (steps, times examples for online updates)
MAX_UPDATES = 1000
#: estimated multiply-adds of a whole solve (parameters x examples x passes x 3)
MAX_WORK = 30_000_000
#: characters in a custom activation expression
MAX_EXPR_CHARS = 200
#: nodes (numbers, x, operators, calls) in a custom activation expression
MAX_EXPR_NODES = 80
#: |numerator| and denominator of a power's exponent in an expression
MAX_EXPR_EXPONENT = 16
#: product of nested exponents, e.g. (x**4)**4 counts 16
MAX_EXPR_DEGREE = 64
#: size, in bits of numerator plus denominator, any exact value may grow to
#: during a solve (about 6000 decimal digits)
MAX_VALUE_BITS = 20_000
#: an irrational value whose magnitude passes 2**this is refused
MAX_MAGNITUDE_BITS = 3_000
