"""Marking a class in one command (check --roster) and Gradescope's results.json.

A class of 40 is made the way a teacher has one: 10 variants from
``generate``, and for each student a right sheet (every value rounded to 4
decimals), a sheet that copies the old weights as the updated ones, a blank
sheet, a missing file or one that is not TOML.  The gradebook's counts must
equal single ``check --format json`` runs, right sheets 100 %, copied ones
below, blank ones 0 %, and a feedback file for every sheet that could be read.
"""

from __future__ import annotations

import csv
import json

import pytest

from conftest import ROOT, run_cli

import stepsolver
from stepsolver.exact import to_float


def _value(M, places=4, zeros=False):
    """M as TOML, rounded to ``places`` (trailing zeros dropped unless ``zeros``)."""
    rows = [[round(to_float(x), places) for x in r] for r in M.rows]
    text = (lambda v: f"{v:.{places}f}") if zeros else repr  # noqa: E731
    if M.m == 1:
        rows = [r[0] for r in rows]
        if M.n == 1:
            return text(rows[0])
        return "[" + ", ".join(text(v) for v in rows) + "]"
    return "[" + ", ".join("[" + ", ".join(text(v) for v in r) + "]" for r in rows) + "]"


def sheet(path, kind="right") -> str:
    """An answers file for a one-step network: every asked value to 4 decimals;
    'copied' writes the old weights and biases as the updated ones (to 4
    decimals: 0.5000); 'blank' only '?'."""
    trace = stepsolver.solve(stepsolver.load_problem(path)).trace
    (step,) = trace.steps
    if kind == "blank":
        return 'loss = "?"\n'
    lines = [f"loss = {round(to_float(step.loss.total), 4)!r}"]
    for lt in step.layers:
        lines.append("[[layers]]")
        for name in ("z", "a", "delta", "grad_W", "grad_b", "W_new", "b_new"):
            M = getattr(lt, name)
            copied = kind == "copied" and name in ("W_new", "b_new")
            if copied:  # written to the sheet's 4 decimals, where the update shows
                M = lt.W if name == "W_new" else lt.b
            lines.append(f"{name} = {_value(M, zeros=copied)}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    r = run_cli("generate", "--layers", "2,2,1", "--count", "10", "--seed", "3", "--out", root / "variants", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    (root / "hand-ins").mkdir()
    rows, kinds = [["student", "problem", "answers"]], {}
    for k in range(40):
        student = "김민준" if k == 0 else f"student{k:02d}"
        variant = f"variants/variant-{k % 10 + 1:02d}.toml"
        kind = ["right", "right", "copied", "blank", "right", "copied", "missing", "notoml"][k % 8]
        answers = f"hand-ins/{student}.toml"
        if kind == "notoml":
            (root / answers).write_text("loss = = 3\n", encoding="utf-8")
        elif kind != "missing":
            (root / answers).write_text(sheet(root / variant, kind), encoding="utf-8")
        rows.append([student, variant, answers])
        kinds[student] = kind
    with open(root / "roster.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    r = run_cli("check", "--roster", root / "roster.csv", "-o", root / "out", cwd=root)
    assert r.returncode == 0, r.stderr
    with open(root / "out" / "gradebook.csv", encoding="utf-8") as fh:
        book = {row["student"]: row for row in csv.DictReader(fh)}
    return root, kinds, book, r.stderr


def test_the_gradebook_has_a_row_per_student_with_the_documented_columns(klass):
    root, kinds, book, stderr = klass
    assert len(book) == 40
    with open(root / "out" / "gradebook.csv", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header[:8] == ["student", "problem", "correct", "wrong", "carried", "imprecise", "blank", "percent"]
    assert "marked 30 of 40 sheets" in stderr


def test_right_sheets_get_full_marks_copied_ones_do_not_blank_ones_nothing(klass):
    root, kinds, book, _ = klass
    for student, kind in kinds.items():
        row = book[student]
        if kind == "right":
            assert row["percent"] == "100.0" and row["wrong"] == "0" and row["blank"] == "0", row
        elif kind == "copied":
            assert float(row["percent"]) < 100 and int(row["wrong"]) > 0, row
            assert row["slip"] == "not_updated", row
        elif kind == "blank":
            assert row["percent"] == "0.0" and int(row["blank"]) == int(row["entries"]) > 0, row
        else:
            assert row["error"] and row["percent"] == "0.0", row
            assert (root / "hand-ins").name in row["error"] or "TOML" in row["error"], row


def test_the_counts_equal_single_checks(klass):
    root, kinds, book, _ = klass
    for student in ["김민준", "student02", "student03", "student05", "student09", "student10"]:
        row = book[student]
        r = run_cli("check", row["problem"], f"hand-ins/{student}.toml", "-f", "json", cwd=root)
        counts = json.loads(r.stdout)["counts"]
        assert {k: int(row[k]) for k in counts} == counts, student


def test_a_feedback_file_per_readable_sheet(klass):
    root, kinds, book, _ = klass
    feedback = root / "out" / "feedback"
    for student, kind in kinds.items():
        page = feedback / f"{student}.md"
        assert page.exists() == (kind in ("right", "copied", "blank")), student
    single = run_cli("check", book["student01"]["problem"], "hand-ins/student01.toml", "-f", "md", cwd=root)
    assert (feedback / "student01.md").read_text(encoding="utf-8") == single.stdout


def test_html_feedback_pages_and_korean(klass, tmp_path):
    root, *_ = klass
    r = run_cli("check", "--roster", root / "roster.csv", "-o", tmp_path / "o", "--format", "html", "--lang", "ko",
                cwd=root)
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "o" / "feedback" / "김민준.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ko">' in page and "채점" in page and "<math" in page


def test_a_bad_roster_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "roster.csv"
    bad.write_text("name,file\nkim,a.toml\n", encoding="utf-8")
    r = run_cli("check", "--roster", bad, "-o", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "student,problem,answers" in r.stderr
    r = run_cli("check", "--roster", tmp_path / "none.csv", "-o", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 2 and "none.csv" in r.stderr
    r = run_cli("check", "--roster", bad, cwd=tmp_path)
    assert r.returncode == 2 and "-o OUT" in r.stderr


# ------------------------------------------------------------------ Gradescope
def test_gradescope_results_follow_its_schema_and_the_marks(klass):
    root, kinds, book, _ = klass
    for student in ("student01", "student02", "student03"):
        row = book[student]
        r = run_cli("check", row["problem"], f"hand-ins/{student}.toml", "--format", "gradescope", cwd=root)
        assert r.returncode in (0, 1), r.stderr
        data = json.loads(r.stdout)
        assert set(data) >= {"score", "output", "tests"}
        for t in data["tests"]:
            assert set(t) >= {"name", "score", "max_score", "status", "output", "visibility"}
            assert 0 <= t["score"] <= t["max_score"] and t["status"] in ("passed", "failed")
            assert t["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
            assert (t["status"] == "passed") == (t["score"] == t["max_score"])
        assert data["score"] == sum(t["score"] for t in data["tests"])
        total = sum(t["max_score"] for t in data["tests"])
        assert total == int(row["entries"])
        assert data["score"] == int(row["correct"]) + int(row["carried"])
        if kinds[student] == "right":
            assert data["score"] == total
        else:
            assert data["score"] < total


def test_the_gradescope_example_runs(tmp_path, klass):
    root, *_ = klass
    import shutil
    import subprocess
    import sys

    example = ROOT / "docs" / "gradescope"
    auto = tmp_path / "autograder"
    (auto / "source").mkdir(parents=True)
    (auto / "submission").mkdir()
    (auto / "results").mkdir()
    shutil.copy(example / "run_autograder", auto / "source" / "run_autograder")
    shutil.copy(root / "variants" / "variant-02.toml", auto / "source" / "problem.toml")
    shutil.copy(root / "hand-ins" / "student01.toml", auto / "submission" / "answers.toml")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "stepsolver").write_text(f"#!/bin/sh\nexec {sys.executable} -m stepsolver \"$@\"\n")
    (bindir / "stepsolver").chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "AUTOGRADER": str(auto)}
    r = subprocess.run(["bash", auto / "source" / "run_autograder"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data = json.loads((auto / "results" / "results.json").read_text())
    assert data["score"] == sum(t["max_score"] for t in data["tests"])
