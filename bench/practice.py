"""The practice server under a class's load: how long one check takes, and
many at once.

    python bench/practice.py [--sheets 300] [--concurrent 50] [--workers 2]

Starts ``stepsolver practice --no-browser`` on the shipped 2-3-2 example (as
the README starts it), then, over HTTP on this machine:

* ``--sheets`` checks one after another, each a different sheet (rounded true
  values, some blank, one entry off): the 50th, 95th percentile and the worst
  time from request to the whole report;
* ``--concurrent`` checks sent at once from as many threads: every one must be
  answered; the wall time of the burst and the slowest answer;
* a variant made from the page's button.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def post(url: str, body: bytes | None = None):
    req = urllib.request.Request(url, data=body if body is not None else b"", method="POST",
                                 headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        data = r.read()
        return r.status, time.perf_counter() - t, data


def get(url: str):
    with urllib.request.urlopen(url, timeout=120) as r:
        return json.loads(r.read())


def sheets(form: dict, key: dict, n: int, seed: int = 1) -> list[bytes]:
    from decimal import ROUND_HALF_UP, Decimal

    rng = random.Random(seed)
    cells = [c for g in form["groups"] for r in g["rows"] for c in r]
    out = []
    for _ in range(n):
        sheet = json.loads(json.dumps(form_blank(form)))
        off = rng.randrange(len(cells))
        for k, c in enumerate(cells):
            if rng.random() < 0.15:
                continue
            truth = key[c["place"]].replace("≈", "").strip()
            v = Decimal(truth) if "/" not in truth else Decimal(int(truth.split("/")[0])) / Decimal(int(truth.split("/")[1]))
            if k == off:
                v += Decimal("0.3")
            text = str(v.quantize(Decimal("0.01"), ROUND_HALF_UP))
            target = sheet
            for p in c["path"][:-1]:
                target = target[p]
            target[c["path"][-1]] = text
        out.append(json.dumps({"answers": sheet}).encode())
    return out


def form_blank(form):
    return form["blank"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sheets", type=int, default=300)
    ap.add_argument("--concurrent", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--problem", default=os.path.join(ROOT, "problems", "linear_2_3_2.toml"))
    args = ap.parse_args()

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "stepsolver", "practice", "--no-browser", "--workers",
                             str(args.workers), args.problem], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"), cwd=ROOT)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        if not ready:
            raise SystemExit("the server printed no URL")
        url = proc.stdout.readline().strip().rstrip("/")
        print(f"server ready in {time.perf_counter() - t0:.2f} s at {url} ({args.workers} workers)")
        ex = get(url + "/api/exercises")[0]["id"]
        api = f"{url}/api/exercises/{ex}"
        form = {**get(api), "blank": get(api + "/blank")}
        key = get(api + "/key")
        bodies = sheets(form, key, args.sheets + args.concurrent)
        for body in bodies[:10]:  # warm both workers
            post(api + "/check", body)
        times = []
        for body in bodies[: args.sheets]:
            status, dt, _ = post(api + "/check", body)
            assert status == 200
            times.append(dt * 1000)
        times.sort()
        p = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
        print(f"{args.sheets} checks one after another ({form['count']} entries each): "
              f"p50 {p(0.50):.1f} ms, p95 {p(0.95):.1f} ms, worst {times[-1]:.1f} ms, mean {statistics.mean(times):.1f} ms")
        burst = bodies[args.sheets:]
        t = time.perf_counter()
        with ThreadPoolExecutor(len(burst)) as pool:
            answers = list(pool.map(lambda b: post(api + "/check", b), burst))
        wall = time.perf_counter() - t
        ok = sum(1 for s, _, _ in answers if s == 200)
        print(f"{len(burst)} checks at once: {ok} answered 200 in {wall * 1000:.0f} ms wall, "
              f"slowest {max(dt for _, dt, _ in answers) * 1000:.0f} ms")
        status, dt, data = post(api + "/variant")
        print(f"a new variant: {status} in {dt * 1000:.0f} ms ({json.loads(data)})")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
