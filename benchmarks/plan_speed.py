"""How long `python -m inferplan plan` takes, cold and warm, and where the time goes.

Rows (each a fresh process, as a user runs it; median and min wall time, median CPU time of the
process and its children; the load average is printed before and after, since the machine is shared):

- `plan --stack S` cold: an empty recording cache, so the Pulumi program runs under mocks in the child;
- `plan --stack S` warm: the recording of the same input is in the cache (issue 15's target: <= 3 s
  for prod-eu);
- the parent's imports for `plan` (`plan --help`: everything it loads, no planning), and the largest
  packages among them, from `python -X importtime`;
- the child alone: `python -m offline --stack prod-eu` (imports pulumi and pulumi-aws, plans, registers).

`--root DIR` times another checkout (e.g. `git archive <commit> | tar -x -C DIR`, for a before/after);
a checkout without the recording cache simply runs the program every time.

    python benchmarks/plan_speed.py [--runs 5] [--stacks dev prod-eu sovereign hybrid] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELP = ("-m", "inferplan", "plan", "--help")  # everything `plan` imports, and no planning
PACKAGES = ("scipy.optimize", "networkx", "numpy", "pydantic", "inferplan.spec", "boto3", "polars")


def child_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(command: Sequence[str], root: Path, cache: Path, check: bool = True) -> str:
    env = {**os.environ, "PYTHONPATH": str(root), "INFERPLAN_CACHE_DIR": str(cache)}
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return done.stderr


def timed(runs: int, step: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of `runs` calls of `step`."""
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), child_cpu()
        step()
        walls.append(time.perf_counter() - start)
        cpus.append(child_cpu() - cpu)
    return walls, cpus


def import_breakdown(root: Path, cache: Path) -> dict[str, float]:
    """Cumulative import seconds of the largest packages `plan` loads (one `-X importtime` run)."""
    report = run([sys.executable, "-X", "importtime", *HELP], root, cache)
    found: dict[str, float] = {}
    for line in report.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$", line)
        if match and match.group(3) in PACKAGES and match.group(3) not in found:
            found[match.group(3)] = int(match.group(1)) / 1e6
    return found


def plan_rows(stack: str, runs: int, root: Path, scratch: Path) -> list[tuple[str, list[float], list[float]]]:
    """`plan --stack STACK` with an empty recording cache each run, then with its recording cached."""
    plan = [sys.executable, "-m", "inferplan", "plan", "--stack", stack, "--format", "json"]
    empty = (scratch / f"cold-{stack}-{n}" for n in range(runs))
    cold = timed(runs, lambda: run(plan, root, next(empty)))
    warm_cache = scratch / "warm"
    run(plan, root, warm_cache)  # fills the cache
    warm = timed(runs, lambda: run(plan, root, warm_cache))
    return [(f"plan --stack {stack}: cold", *cold), (f"plan --stack {stack}: warm", *warm)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stacks", nargs="+", default=["dev", "prod-eu", "sovereign", "hybrid"])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to time (default: this one)")
    args = parser.parse_args()
    root: Path = args.root.resolve()
    python = sys.executable

    print(f"checkout {root} · {args.runs} runs per row · load average before: {load()}")
    rows: list[tuple[str, list[float], list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="inferplan-bench-") as tmp:
        scratch = Path(tmp)
        for stack in args.stacks:
            rows += plan_rows(stack, args.runs, root, scratch)
        rows.append(
            (
                "parent imports: plan --help",
                *timed(args.runs, lambda: run([python, *HELP], root, scratch / "x")),
            )
        )
        child = [python, "-m", "offline", "--stack", "prod-eu", "--root", str(root)]
        rows.append(
            (
                "child alone: python -m offline --stack prod-eu",
                *timed(args.runs, lambda: run(child, root, scratch / "x")),
            )
        )
        breakdown = import_breakdown(root, scratch / "x")

    header = f"{'case':<50} {'wall median s':>13} {'wall min s':>10} {'cpu median s':>12}"
    print(header)
    print("-" * len(header))
    for case, walls, cpus in rows:
        print(
            f"{case:<50} {statistics.median(walls):>13.2f} {min(walls):>10.2f} {statistics.median(cpus):>12.2f}"
        )
    print()
    print("largest imports of the parent (cumulative s, one -X importtime run):")
    for name in PACKAGES:
        print(f"  {name:<20} {breakdown[name]:.2f}" if name in breakdown else f"  {name:<20} not loaded")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
