"""stepsolver: exact, step-by-step worked solutions of backpropagation exercises.

>>> import stepsolver
>>> problem = stepsolver.load_problem("problems/linear_2_3_2.toml")
>>> solution = stepsolver.solve(problem)
>>> print(solution.render("md"))          # or "latex", "json"

Conventions are listed in the README ("Conventions") and printed in every
derivation.
"""

__version__ = "0.1.0"

from .engine import solve, solve_exact
from .errors import CrossCheckError, InputError, LimitError, SolveError, StepsolverError
from .problem import Problem, load_problem, loads_problem
from .solution import Solution

__all__ = [
    "__version__",
    "load_problem",
    "loads_problem",
    "solve",
    "solve_exact",
    "Problem",
    "Solution",
    "StepsolverError",
    "InputError",
    "LimitError",
    "SolveError",
    "CrossCheckError",
]
