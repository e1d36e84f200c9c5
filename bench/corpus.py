"""Render a corpus -- every example problem in every format and option, check
reports, blank sheets, class sets -- and print one digest per output, so that
two versions can be compared output by output:

    python bench/corpus.py > after.txt        # this checkout
    (cd OLD && python /path/to/bench/corpus.py) > before.txt
    diff before.txt after.txt                 # the outputs that changed

Runs the command line in process against the ``stepsolver`` it imports (the
one of the current folder first) and the problems, answers and cases of the
current folder.  PDF is left out (its bytes carry a date).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.getcwd())

from stepsolver import cli  # noqa: E402

FORMATS = ["md", "latex", "html", "text", "json", "csv", "moodle"]
OPTIONS = [[], ["--detail", "element"], ["--round", "2"], ["--sheet", "questions"], ["--sheet", "both"], ["--lang", "ko"],
           ["--exact"]]


def run(*args) -> tuple[int, bytes]:
    out, err = io.BytesIO(), io.BytesIO()
    o, e = io.TextIOWrapper(out, encoding="utf-8", write_through=True), io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    result = out.getvalue() + b"\n--stderr--\n" + err.getvalue()
    o.detach()
    e.detach()
    return code, result


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def main() -> None:
    root = Path.cwd()
    problems = sorted((root / "problems").glob("*.toml"))
    for path in problems:
        rel = path.relative_to(root)
        for fmt in FORMATS:
            for opts in OPTIONS:
                code, data = run("solve", rel, "-f", fmt, *opts)
                print(f"solve {rel} {fmt} {' '.join(opts) or '-'}: {code} {digest(data)}")
        code, data = run("check", rel, "--blank")
        print(f"blank {rel}: {code} {digest(data)}")
    for answers in sorted((root / "tests" / "check_cases").glob("*.answers.toml")):
        problem = answers.parent / (answers.name.split(".")[0] + ".problem.toml")
        for fmt in ("text", "json", "md", "html"):
            code, data = run("check", problem.relative_to(root), answers.relative_to(root), "-f", fmt)
            print(f"check {answers.name} {fmt}: {code} {digest(data)}")
    with tempfile.TemporaryDirectory() as d:
        for name, args in [("net", ["--layers", "2,3,2", "--count", "12", "--seed", "4"]),
                           ("graph", ["--from", "problems/graph_regularised_unit.toml", "--vary", "w,b", "--count", "6", "--seed", "2"])]:
            out = Path(d) / name
            code, data = run("generate", *args, "--out", out)
            texts = b"".join(p.read_bytes() for p in sorted(out.glob("*.toml"))) if out.exists() else b""
            print(f"generate {name}: {code} {digest(data.replace(str(out).encode(), b'OUT') + texts)}")


if __name__ == "__main__":
    main()
