"""Benchmark: the four speed targets of stepsolver, measured side by side.

    python bench/run.py            # after `pip install .`; prints a table

Every target is a ratio or a difference of times measured in this one run on
this one machine, so the verdicts hold on slow or noisy machines too:

1. cold start: `stepsolver solve` of a small problem to Markdown, at most
   1.3 x `python -c "import sympy, numpy, jinja2"`;
2. class key: 200 sigmoid 2-3-2 problems in one call to one Markdown
   document, at most 5 ms per extra problem;
3. scale: an exact 6-layer, 24-unit-wide ReLU network with a batch of 8
   (JSON), at most 2 x the bare import time;
4. growth: time against width (2 ... 64) and depth (1 ... 8) for the exact
   path (ReLU: rationals; sigmoid: certified irrational balls) and the float64
   path that cross-checks it.

Uses only the installed project, Python's standard library and NumPy.
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stepsolver_cmd() -> list[str]:
    exe = shutil.which("stepsolver", path=os.path.dirname(sys.executable)) or shutil.which("stepsolver")
    return [exe] if exe else [sys.executable, "-m", "stepsolver"]


def wall(cmd: list[str], runs: int, env=None) -> float:
    """Median wall time of a command (output discarded)."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def write_problem(path: Path, sizes: list[int], act: str, m: int, rng: random.Random, digits: int = 1) -> None:
    q = 10**digits

    def val(lo=-9, hi=9):
        return repr(rng.randint(lo, hi) / q)

    lines = ["learning_rate = 0.1", f'activation = "{act}"']
    for n_in, n_out in zip(sizes, sizes[1:]):
        lines.append("[[layers]]")
        lines.append("weights = [" + ", ".join("[" + ", ".join(val() for _ in range(n_in)) + "]" for _ in range(n_out)) + "]")
        lines.append("bias = [" + ", ".join(val() for _ in range(n_out)) + "]")
    for _ in range(m):
        lines.append("[[examples]]")
        lines.append("x = [" + ", ".join(val() for _ in range(sizes[0])) + "]")
        lines.append("t = [" + ", ".join(val(0, 9) for _ in range(sizes[-1])) + "]")
    path.write_text("\n".join(lines) + "\n")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def growth_table(rng: random.Random, tmp: Path) -> list[str]:
    import stepsolver
    from stepsolver import solve_exact

    def crosscheck(trace):
        return trace.kind.crosscheck(trace)

    rows = ["| width | depth | exact ReLU (ms) | exact sigmoid (ms) | float64 cross-check (ms) |", "|---:|---:|---:|---:|---:|"]
    warm = tmp / "warm.toml"
    write_problem(warm, [2, 2, 2], "sigmoid", 1, rng)
    crosscheck(solve_exact(stepsolver.load_problem(warm)))  # first use of NumPy and mpmath outside the table
    for width in (2, 4, 8, 16, 32, 64):
        for depth in (1, 2, 4, 8):
            cells = []
            for act in ("relu", "sigmoid"):
                p = tmp / f"g-{act}-{width}-{depth}.toml"
                write_problem(p, [width] * (depth + 1), act, 1, rng)
                problem = stepsolver.load_problem(p)
                t = time.perf_counter()
                trace = solve_exact(problem)
                cells.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            crosscheck(trace)  # the float64 path (three float runs) of the sigmoid network
            cells.append(1000 * (time.perf_counter() - t))
            rows.append(f"| {width} | {depth} | {cells[0]:.1f} | {cells[1]:.1f} | {cells[2]:.1f} |")
    return rows


def main() -> int:
    rng = random.Random(2026)
    cmd = stepsolver_cmd()
    tmp = Path(tempfile.mkdtemp(prefix="stepsolver-bench-"))
    env = dict(os.environ, STEPSOLVER_CACHE_DIR=str(tmp / "cache"))
    try:
        base = wall([sys.executable, "-c", "import sympy, numpy, jinja2"], 7)

        small = ROOT / "problems" / "linear_2_3_2.toml"
        first = wall(cmd + ["solve", str(small)], 1, env)  # empty template cache: compiles
        cold = wall(cmd + ["solve", str(small)], 7, env)

        class_dir = tmp / "class"
        class_dir.mkdir()
        for k in range(200):
            write_problem(class_dir / f"p{k:03d}.toml", [2, 3, 2], "sigmoid", 1, rng)
        files = sorted(str(p) for p in class_dir.glob("*.toml"))
        one = wall(cmd + ["solve", files[0]], 5, env)
        many = wall(cmd + ["solve", *files], 3, env)
        per_extra = (many - one) / 199

        big = tmp / "relu-24x6-batch8.toml"
        write_problem(big, [24] * 7, "relu", 8, rng)
        scale = wall(cmd + ["solve", str(big), "--format", "json"], 5, env)

        growth = growth_table(rng, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def verdict(ok: bool) -> str:
        return "meets" if ok else "MISSES"

    print(f"machine: {machine()}")
    print()
    print("| target | measured | limit | |")
    print("|---|---:|---:|---|")
    print(f"| baseline: `python -c \"import sympy, numpy, jinja2\"` | {base * 1000:.0f} ms | | |")
    print(f"| 1. cold start, small problem to Markdown | {cold * 1000:.0f} ms = {cold / base:.2f} x imports "
          f"(first run, compiling templates: {first / base:.2f} x) | 1.3 x | {verdict(cold / base <= 1.3 and first / base <= 1.3)} |")
    print(f"| 2. class key, 200 sigmoid 2-3-2 problems to one Markdown document | {many * 1000:.0f} ms in all, "
          f"{per_extra * 1000:.2f} ms per extra problem | 5 ms | {verdict(per_extra <= 0.005)} |")
    print(f"| 3. exact 6-layer 24-wide ReLU, batch of 8, JSON | {scale * 1000:.0f} ms = {scale / base:.2f} x imports "
          f"| 2 x | {verdict(scale / base <= 2)} |")
    print()
    print("4. growth (one example, one update, in process):")
    print()
    print("\n".join(growth))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
