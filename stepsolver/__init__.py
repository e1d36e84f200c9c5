"""stepsolver: exact, step-by-step worked solutions of backpropagation exercises.

>>> import stepsolver
>>> problem = stepsolver.load_problem("problems/linear_2_3_2.toml")
>>> solution = stepsolver.solve(problem)
>>> print(solution.render("md"))          # or "latex", "json"

Marking a hand calculation:

>>> sheet = stepsolver.load_answers("answers.toml", solution.trace)
>>> report = stepsolver.check(solution.trace, sheet)

In a notebook or an autograder (a dict of the answers file's structure):

>>> marked = stepsolver.mark("problems/linear_2_3_2.toml", {"loss": "0.5"})
>>> marked.score, marked.counts        # 0..1, no marks for blank entries

Conventions are listed in the README ("Conventions") and printed in every
derivation.  The package is layered (README, "How it works"): this module
and solution.py are the API over kinds/, render/, export/ and marking/.
"""

from .errors import CrossCheckError, InputError, LimitError, SolveError, StepsolverError
from .kinds import load_problem, loads_problem
from .kinds.net.problem import Problem
from .notebook import mark, practice
from .solution import Solution, check, load_answers, loads_answers, solve, solve_exact
from .version import __version__

__all__ = [
    "__version__",
    "load_problem",
    "loads_problem",
    "solve",
    "solve_exact",
    "check",
    "mark",
    "practice",
    "load_answers",
    "loads_answers",
    "Problem",
    "Solution",
    "StepsolverError",
    "InputError",
    "LimitError",
    "SolveError",
    "CrossCheckError",
]
