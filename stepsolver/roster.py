"""Marking a whole class in one process: a roster of (student, problem,
answers) rows in, a gradebook and one feedback page per student out.

    student,problem,answers
    kim,variants/variant-01.toml,hand-ins/kim.toml

Paths are relative to the roster file.  Each distinct problem is solved
once; every sheet is marked exactly as ``stepsolver check`` marks it (the
gradebook's counts are the report's), and a sheet that is missing or
unreadable becomes a row with its error, never the end of the run.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field

from .errors import InputError, StepsolverError

EXTENSIONS = {"md": ".md", "html": ".html", "text": ".txt", "json": ".json", "gradescope": ".json"}
COLUMNS = ("student", "problem", "correct", "wrong", "carried", "imprecise", "blank", "percent", "entries",
           "first_wrong", "slip", "error")


@dataclass
class Row:
    student: str
    problem: str
    answers: str
    counts: dict = field(default_factory=dict)
    entries: int = 0
    first_wrong: str = ""
    slip: str = ""
    error: str = ""
    feedback: str = ""  # the file written for the student

    @property
    def percent(self) -> float:
        """The share of the exercise's entries judged correct or carried (a blank entry earns nothing)."""
        if not self.entries or self.error:
            return 0.0
        return round(100 * (self.counts.get("correct", 0) + self.counts.get("carried", 0)) / self.entries, 1)

    def cells(self) -> list:
        c = self.counts
        if self.error:
            return [self.student, self.problem, "", "", "", "", "", "0.0", self.entries or "", "", "", self.error]
        answered = sum(c.values())
        return [self.student, self.problem, c["correct"], c["wrong"], c["carried"], c["imprecise"],
                self.entries - answered, f"{self.percent:.1f}", self.entries, self.first_wrong, self.slip, ""]


def read_roster(path: str) -> list[tuple[str, str, str]]:
    """(student, problem path, answers path) of each row; paths resolved
    against the roster's folder.  A malformed roster is bad input."""
    if os.path.isdir(path):
        raise InputError("is a directory, not a roster file", file=path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(20_000_000)
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), file=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; save the roster as UTF-8 CSV", file=path) from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputError("is empty: expected a header student,problem,answers", file=path)
    header = [h.strip().lower() for h in rows[0]]
    need = ("student", "problem", "answers")
    if any(h not in header for h in need):
        raise InputError(f"the header must name the columns student,problem,answers (got {','.join(rows[0])})",
                         file=path, key="header")
    idx = [header.index(h) for h in need]
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for n, r in enumerate(rows[1:], 2):
        if not any(c.strip() for c in r):
            continue
        if len(r) < len(header):
            raise InputError(f"expected {len(header)} columns, got {len(r)}", file=path, key=f"line {n}")
        student, problem, answers = (r[i].strip() for i in idx)
        if not student:
            raise InputError("the student column is empty", file=path, key=f"line {n}")
        out.append((student, os.path.join(base, problem), os.path.join(base, answers)))
    if not out:
        raise InputError("has a header but no students", file=path)
    return out


def safe_name(student: str, taken: set) -> str:
    """A file name for a student's feedback: letters (Hangul too), digits, '-', '_', '.'."""
    name = re.sub(r"[^\w.-]+", "_", student, flags=re.UNICODE).strip("._") or "student"
    name = name[:80]
    candidate, k = name, 2
    while candidate.lower() in taken:
        candidate, k = f"{name}-{k}", k + 1
    taken.add(candidate.lower())
    return candidate


def mark_class(roster: str, out_dir: str, *, rule=None, fmt: str = "md", options=None, progress=None) -> list[Row]:
    """Mark every row of ``roster``; write OUT/gradebook.csv and
    OUT/feedback/STUDENT.md (or .html).  Returns the rows."""
    from .kinds import load_problem
    from .output import write_output
    from .render import RenderOptions, render_report
    from .solution import check, load_answers, solve

    options = options or RenderOptions()
    entries = read_roster(roster)
    solved: dict[str, object] = {}
    rows: list[Row] = []
    taken: set = set()
    feedback_dir = os.path.join(out_dir, "feedback")
    os.makedirs(feedback_dir, exist_ok=True)
    base = os.path.dirname(os.path.abspath(roster))
    for k, (student, problem_path, answers_path) in enumerate(entries, 1):
        row = Row(student, os.path.relpath(problem_path, base), os.path.relpath(answers_path, base))
        rows.append(row)
        try:
            if problem_path not in solved:
                try:
                    solved[problem_path] = solve(load_problem(problem_path)).trace
                except StepsolverError as exc:
                    solved[problem_path] = exc.located(problem_path)
            trace = solved[problem_path]
            if isinstance(trace, StepsolverError):
                raise trace
            row.entries = total_entries(trace)
            report = check(trace, load_answers(answers_path, trace), rule)
            row.counts = report.counts
            view = _where(report, options)
            first = report.first_wrong
            if first is not None:
                row.first_wrong = view(first)
                row.slip = first.hint.code if first.hint else ""
            text = render_report(report, fmt, options)
            name = safe_name(student, taken) + EXTENSIONS.get(fmt, "." + fmt)
            write_output(text, os.path.join(feedback_dir, name))
            row.feedback = os.path.join("feedback", name)
        except StepsolverError as exc:
            row.error = exc.line().removeprefix("error: ").replace(base + os.sep, "")
        except OSError as exc:
            row.error = f"{getattr(exc, 'filename', None) or answers_path}: {exc.strerror or exc}"
        if progress:
            progress(k, len(entries))
    write_output(gradebook(rows), os.path.join(out_dir, "gradebook.csv"))
    return rows


def _where(report, options):
    from .lang import messages

    parts = report.trace.kind.report_view(report, messages(options.lang))
    return parts.where


def total_entries(trace) -> int:
    """How many entries the exercise asks for (what a full sheet answers)."""
    return sum(q.value.n * q.value.m for step in trace.steps for q in trace.quantities(step) if q.asked)


def gradebook(rows: list[Row]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(r.cells())
    return buf.getvalue()
