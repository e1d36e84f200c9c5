"""The kit every exercise kind is built on, one layer below the kinds.

* :class:`Kind`: the declared interface a kind provides -- every member the
  program uses, with the default that most kinds want.  A kind names its
  modules (``problem``, ``engine``, ``numeric``, ``answers``, ``replay``,
  ``contract``, ``view``, ``variants``) and the base forwards to them by
  convention; a kind overrides only what differs.
* :func:`certify`: the certification loop of an exact solve -- raise the
  working precision until every irrational value has its digits, settle the
  balls that stay at 0, refuse by name what cannot be certified.
* :func:`audit`: the fewest correct bits among a trace's quantities.

Imports: the trace, exact numbers, errors and limits only (the kit is
below every kind; kinds never import each other).
"""

from __future__ import annotations

import dataclasses
import importlib

from .. import exact
from ..errors import LimitError
from ..exact import Irr
from ..lang import Text


class Kind:
    """What an exercise kind supplies to the program.

    name         the value of a problem file's ``kind`` key ("net");
    trace_type   its Trace subclass (``kind`` is bound on it);
    problem_type its Problem class (``kind`` is bound on it);
    templates    the folder under templates/ holding its partials ("net");
    where_key    how check's JSON names the part of an exercise an item
                 belongs to ("layer", "node");
    hints        slip code -> sentence, for a kind registered from outside
                 (an in-tree kind keeps its sentences in the language tables,
                 ``hint.KIND.CODE``);
    template_dir a folder of templates of its own (a kind from outside), or None;
    tikz         whether its LaTeX pictures need TikZ (loaded only then);
    package      the package holding its modules (``problem``, ``engine``,
                 ``numeric``, ``answers``, ``replay``, ``contract``, ``view``,
                 ``variants``): the default members forward to them."""

    name: str = ""
    trace_type: type = None
    problem_type: type = None
    templates: str = ""
    where_key: str = "layer"
    hints: dict = {}
    template_dir: str | None = None
    package: str = ""
    #: whether its LaTeX pictures need TikZ (a network draws in picture mode)
    tikz: bool = True

    def _module(self, name: str):
        return importlib.import_module(f"{self.package}.{name}")

    # -- reading and solving ----------------------------------------------
    def load(self, data: dict, source: str | None = None):
        """A Problem from parsed TOML data (InputError naming the key)."""
        return self._module("problem").from_dict(data, source)

    def solve(self, problem):
        """The exact trace, certified."""
        return self._module("engine").solve_exact(problem)

    def solve_rounded(self, problem, places: int):
        """The trace of a careful student rounding every value they write."""
        return self._module("engine").solve_rounded(problem, places)

    def crosscheck(self, trace) -> list[str]:
        """Recompute independently; notes, or CrossCheckError."""
        return self._module("numeric").crosscheck(trace)

    def quantities(self, trace, step) -> list:
        """What one step derived, in worked order."""
        return trace.quantities(step)

    # -- check ------------------------------------------------------------------
    def read_answers(self, data: dict, trace):
        """A student's answers (an AnswerSheet keyed by Key)."""
        return self._module("answers").answers_from_dict(data, trace)

    def replay(self, marker, trace, sheet) -> None:
        """Judge a sheet with the marker's run/judge, quantity by quantity."""
        self._module("replay").replay(marker, trace, sheet)

    def blank(self, trace) -> dict:
        """What the blank answer sheet's template needs."""
        return self._module("answers").blank_view(trace)

    @staticmethod
    def blank_value(shape: tuple[int, int], vector_if_column: bool = True) -> str:
        """TOML text of a "?" matrix of the given shape (a column as a flat list)."""
        n, m = shape
        if n == 1 and m == 1:
            return '"?"'
        if m == 1 and vector_if_column:
            return "[" + ", ".join(['"?"'] * n) + "]"
        row = "[" + ", ".join(['"?"'] * m) + "]"
        return "[" + ", ".join([row] * n) + "]"

    # -- output -----------------------------------------------------------------
    def to_dict(self, trace) -> dict:
        """The JSON contract of one solved problem."""
        return self._module("contract").to_dict(trace)

    def view(self, trace, number: int, services):
        """What templates see of one solved problem."""
        return self._module("view").view(trace, number, services)

    def report_view(self, report, tr):
        """What the check report's templates see of the kind."""
        return self._module("view").ReportParts(report, tr)

    # -- practice ---------------------------------------------------------------
    def variant_like(self, problem, seed: int, lang: str = "en") -> str:
        """The problem text of one fresh variant of ``problem``: the same shape
        and conventions, nice numbers drawn by the variant loop (the practice
        page's "New variant")."""
        return self._module("variants").variant_like(problem, seed, lang)

    def step_section(self, sections: list, place: dict, tr, several: bool) -> str:
        """The HTML of the worked solution that derives the quantity at
        ``place`` (a report item's step, part and quantity), from the worked
        page's sections [(heading, html)]."""
        return self._module("view").step_section(sections, place, tr, several)

    # -- a class ----------------------------------------------------------------
    def variant_spec(self, options: dict, problem=None):
        """What ``generate`` asks for, from its options (and the problem
        file it varies, where one is given)."""
        return self._module("variants").spec_from_options(options, problem)

    def variants(self, spec, count: int, seed: int, **options) -> list[str]:
        """Problem texts of distinct variants for a class."""
        return self._module("variants").generate(spec, count, seed, **options)


# ------------------------------------------------------------- certification
def audit(entries):
    """(fewest correct bits of a reported irrational value, its label, the
    labels of values whose ball holds 0 but is already narrow) over
    ``entries``: (label of entry k, matrix, group) triples, a group being
    what sets a value's scale where its own matrix has none (a step).

    A ball that holds 0 is judged against the scale of its own matrix (the
    largest entry certainly nonzero; the largest value of its group when
    there is none; with no scale at all it is simply not known yet): while
    its radius is not 2^TARGET_BITS below that scale it is a value not known
    yet -- a large cancellation -- and counts as that many correct bits; once
    it is that narrow it may be an exact 0."""
    worst, where, zeros = float("inf"), None, []
    entries = list(entries)
    group_scales: dict = {}
    for label, M, group in entries:
        values = list(M.entries())
        balls = [(k, x.b) for k, x in enumerate(values) if type(x) is Irr]
        if not balls:
            continue
        scale = None
        for k, b in balls:
            if 0 in b:
                if scale is None:
                    scale = _scale(values) or group_scales.get(group)
                    if scale is None and group not in group_scales:
                        group_scales[group] = _scale(x for _, M2, g2 in entries if g2 == group for x in M2.entries())
                        scale = group_scales[group]
                acc = float("-inf") if scale is None else _log2(scale) - _log2(b.rad())
                if acc >= exact.TARGET_BITS:
                    zeros.append(label(k))
                    continue
            else:
                acc = b.rel_accuracy_bits()
            if acc < worst:
                worst, where = acc, label(k)
    return worst, where, zeros


def _scale(values):
    """The largest magnitude among values certainly nonzero, or None."""
    best = None
    for x in values:
        if type(x) is Irr:
            if 0 in x.b:
                continue
            m = abs(x.b.mid())
        elif x:
            m = abs(exact.ball(x))
        else:
            continue
        if best is None or m > best:
            best = m
    return best


def _log2(b) -> float:
    m = b.mid() if hasattr(b, "mid") else b
    man, e = m.man_exp()
    man = int(man)
    return int(e) + man.bit_length() if man else float("-inf")


def certify(solve_at, audit_of, settle_zeros):
    """The exact trace of ``solve_at()`` with every irrational value certified
    to exact.TARGET_BITS correct bits.

    It is solved at exact.START_PRECISION bits, then again at a higher
    working precision while any value falls short (digits lost to
    cancellation), up to exact.MAX_PRECISION.  A value whose ball still holds
    0 -- an exact zero that ball arithmetic cannot prove, such as W^T delta
    when the softmax deltas sum to 0 and W's column is constant, or a
    decision (a kink's side) that cannot be made -- is given one more solve at
    twice the precision it was first seen at; if it holds 0 there too, it is
    0 to the working precision: ``settle_zeros(trace)`` takes it as 0, with a
    note.  A value still short of its digits at the highest precision is
    refused, named.

    ``audit_of(trace)`` gives (worst bits, where, zeros) as :func:`audit`."""
    prec = exact.START_PRECISION
    settle = False
    while True:
        worst, where, zeros = None, None, []
        with exact.working_precision(prec, settle=settle):
            try:
                trace = solve_at()
            except exact.Uncertain as exc:
                trace, where = None, str(exc)
        if trace is not None:
            worst, where, zeros = audit_of(trace)
            if worst >= exact.TARGET_BITS or (settle and prec >= exact.MAX_PRECISION and worst >= exact.MIN_BITS_AT_LIMIT):
                if not zeros or settle:
                    notes = trace.notes
                    if zeros:
                        trace = settle_zeros(trace)
                        shown = _listed(zeros[:3])
                        if len(zeros) > 3:
                            shown = Text("note.zeros_more", shown=shown, more=len(zeros) - 3)
                        notes = notes + (Text("note.zeros", count=len(zeros), bits=prec, digits=prec * 3 // 10, shown=shown),)
                    return dataclasses.replace(trace, precision=prec, notes=notes)
                # every other value is certified; the balls that hold 0 are
                # narrow: one more solve at twice the precision decides them
                settle = True
                prec = min(2 * prec, exact.MAX_PRECISION)
                continue
        if prec >= exact.MAX_PRECISION:
            if trace is None and not settle:
                settle = True  # an undecided comparison at the last precision: its ball counts as 0
                continue
            raise LimitError(
                f"{where}: its digits cancel beyond {exact.MAX_PRECISION} bits of working precision (about "
                f"{exact.MAX_PRECISION * 3 // 10} digits), stepsolver's limit; use smaller weights, inputs or "
                "learning rate so that no unit saturates this far"
            )
        settle = False
        if worst is None or worst == float("-inf"):
            prec = 2 * prec
        else:
            prec = max(prec + 64, exact.TARGET_BITS + (prec - int(worst)) + 32)
        prec = min(prec, exact.MAX_PRECISION)


def _listed(items: list):
    """Items as one sentence part, "a, b, c", each in the reader's language."""
    out = items[0]
    for x in items[1:]:
        out = Text("note.list2", a=out, b=x)
    return out


def section(sections: list, heading: str, occurrence: int = 1) -> str | None:
    """The html of the ``occurrence``-th section of a worked page under
    ``heading`` (each step of several repeats its headings), or None."""
    seen = 0
    for title, html in sections:
        if title.strip() == heading:
            seen += 1
            if seen == occurrence:
                return html
    return None


def settle_matrix(M):
    """M with every value whose ball holds 0 replaced by 0."""
    if M is None or not any(type(x) is Irr and 0 in x.b for x in M.entries()):
        return M
    return M.map(settle_value)


def settle_value(x):
    return exact.ZERO if type(x) is Irr and 0 in x.b else x


# ------------------------------------------------------------------- quizzes
def quiz_bounds(M, old=None, gradient: bool = False) -> list:
    """Per entry of a quiz blank, the distance its tolerance must stay below
    so that no free answer passes (None: no bound): from the value before an
    update where the update changed it (the old value is refused), else for
    a gradient from 0 and from its negation (|v|)."""
    from ..exact import to_float

    bounds = []
    for i, r in enumerate(M.rows):
        row = []
        for j, v in enumerate(r):
            bound = None
            if old is not None and v != old[i, j]:
                bound = abs(to_float(v - old[i, j]))
            elif gradient and v:
                bound = abs(to_float(v))
            row.append(bound)
        bounds.append(row)
    return bounds


# ------------------------------------------------------------------- variants
def grid(low, high, step, key: str | None = None) -> list:
    """The values low, low + step, ... up to high that a class set draws from
    (``key``: the option that gave the range, named in a refusal)."""
    from ..errors import InputError
    from ..exact import q_str

    if step <= 0:
        raise InputError("the step of a range must be greater than 0", key=key)
    if high < low:
        raise InputError(f"empty range {q_str(low)} to {q_str(high)}", key=key)
    n = int((high - low) / step)
    if n > 10_000:
        raise LimitError("a range has more than 10000 values; use a larger step", key=key)
    return [low + k * step for k in range(n + 1)]
