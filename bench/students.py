"""The grader against simulated students, at full size: the three figures of
each working style (tests/students.py), and what marking costs.

    python bench/students.py --count 250 --seeds 21,22,23,24,25 [--styles rounder,careful,calculator]

For each style: slip-free sheets all correct, one-slip sheets with every
verdict right, slips named -- over ``count`` sheets per seed.  Rounders and
calculators write 2, 3, 4 or 6 decimals (calculators each quantity with its
own, k ... k+3); careful students 2.  Then the time ``check`` takes per sheet
in process (solving excluded), the best of three passes over the sheets.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import students  # noqa: E402

KS = {"rounder": (2, 3, 4, 6), "careful": (2,), "calculator": (2, 3, 4, 6)}


def figures(style: str, seeds, count: int):
    total = collections.Counter()
    failures = []
    for seed in seeds:
        stats, fails = students.run(seed, count, ks=KS[style], style=style)
        for k in ("clean", "clean_ok", "slip", "slip_ok", "named"):
            total[k] += stats[k]
        failures += fails
    return total, failures


def timing(count: int, seed: int = 5) -> float:
    """ms of ``check`` per sheet, a third of the sheets of each style."""
    import stepsolver
    from stepsolver import check
    from stepsolver.kinds.net.answers import answers_from_dict
    from stepsolver.tomlio import parse_toml_bytes

    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        P = students.random_exercise(rng)
        style = ("rounder", "careful", "calculator")[len(cases) % 3]
        k = rng.choice(KS[style])
        slip = rng.choice([None, None] + students.SLIPS)
        where = students.slip_layer(P, slip, rng) if slip and students.applicable(P, slip) else None
        slip = slip if where is not None else None
        try:
            decimals = students.quantity_decimals(P, k, rng) if style == "calculator" else None
            answers, _ = students.sheet(P, k, slip, where, False, style, decimals)
            trace = stepsolver.solve(stepsolver.loads_problem(students.problem_toml(P))).trace
        except Exception:  # noqa: BLE001 - a draw the simulation cannot work (log of 0): another
            continue
        cases.append((trace, answers))
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        for trace, answers in cases:
            check(trace, answers_from_dict(parse_toml_bytes(answers.encode(), "a.toml"), trace))
        best = min(best, time.process_time() - t)
    return 1000 * best / len(cases)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=250, help="sheets per seed and style")
    ap.add_argument("--seeds", default="21,22,23,24,25")
    ap.add_argument("--styles", default="rounder,careful,calculator")
    ap.add_argument("--show", type=int, default=3, help="failures to print per style")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"{'style':<11} {'sheets':>6}  {'slip-free all correct':>22}  {'one slip, every verdict right':>30}  "
          f"{'slip named':>14}")
    for style in args.styles.split(","):
        t = time.time()
        s, failures = figures(style, seeds, args.count)
        print(f"{style:<11} {s['clean'] + s['slip']:>6}  {s['clean_ok']:>10} of {s['clean']:<9}  "
              f"{s['slip_ok']:>14} of {s['slip']:<13}  {s['named']:>5} of {s['slip']:<6} ({time.time() - t:.0f} s)")
        for f in failures[: args.show]:
            print("   ", f["slip"], f["where"], "k =", f["k"], dict(list(f["bad"].items())[:3]))
    print(f"check: {timing(150):.1f} ms per sheet (in process, best of 3)")


if __name__ == "__main__":
    main()
