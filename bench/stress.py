"""Stress run: thousands of random valid network problems, each solved (and
rendered to JSON and Markdown) by stepsolver in process and compared value by
value with the independent reference in tests/netref.py.

    python bench/stress.py --count 2000 --seed 1 [--jobs 2] [--show 10]

Prints how many were answered right, refused with a true reason (the
reference confirms a documented limit is passed or the mathematics is
undefined), refused although every value is moderate, answered wrong, or
ended in an internal error; and a few examples of each failure.
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

import stress  # noqa: E402


def one(args):
    seed, k = args
    rng = random.Random(seed * 1_000_003 + k)
    text = stress.random_problem(rng)
    t0 = time.perf_counter()
    res = stress.run_one(text)
    res["seconds"] = time.perf_counter() - t0
    res["k"] = k
    res["text"] = text
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--show", type=int, default=5, help="examples shown per failure class")
    ap.add_argument("--save", metavar="DIR", help="write the failing problems to DIR")
    args = ap.parse_args()
    work = [(args.seed, k) for k in range(args.count)]
    t0 = time.perf_counter()
    if args.jobs > 1:
        import multiprocessing

        with multiprocessing.Pool(args.jobs) as pool:
            results = pool.map(one, work, chunksize=4)
    else:
        results = [one(w) for w in work]
    counts = collections.Counter(r["outcome"] for r in results)
    warned = sum(1 for r in results if r.get("warnings"))
    print(f"{args.count} problems (seed {args.seed}) in {time.perf_counter() - t0:.1f} s")
    for key in ("right", "refused_true", "refused_false", "wrong", "internal", "answered_huge", "answered_undefined",
                "answered_unresolved"):
        print(f"  {key:20s} {counts.get(key, 0)}")
    print(f"  with Python warnings {warned}")
    slow = sorted(results, key=lambda r: -r["seconds"])[:3]
    print("  slowest: " + ", ".join(f"#{r['k']} {r['seconds']:.2f} s (reference {r['ref_seconds']:.2f} s)" for r in slow))
    for key in ("refused_false", "wrong", "internal", "answered_huge", "answered_undefined"):
        shown = [r for r in results if r["outcome"] == key][: args.show]
        for r in shown:
            print(f"\n[{key}] #{r['k']}: {r['message'][:400]}")
    if args.save:
        os.makedirs(args.save, exist_ok=True)
        for r in results:
            if r["outcome"] not in ("right", "refused_true"):
                with open(os.path.join(args.save, f"{r['outcome']}-{r['k']}.toml"), "w") as fh:
                    fh.write(f"# {r['message'][:500]}\n" + r["text"])
    bad = sum(counts.get(k, 0) for k in ("refused_false", "wrong", "internal", "answered_huge", "answered_undefined"))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
