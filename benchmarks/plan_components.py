"""Plan time with the self-hosted components in: prod-eu end to end, and the recorder on a large stack.

Rows:
- `plan --stack prod-eu` end to end (a fresh `python -m inferplan` process, as a user runs it);
- the Pulumi program under mocks for prod-eu, in this process (`offline.recorder.record`);
- the same for a generated stack of 1,000 workloads (100 models, 100 GPU pools; benchmarks/plan_scaling.py),
  which registers every pool's launch template, group, policy, alarm, role and target group.

    python benchmarks/plan_components.py [--runs 3] [--workloads 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from plan_scaling import generated_stack, project_copy  # noqa: E402

from offline.recorder import record  # noqa: E402


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (wall time is noisy on a shared machine)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(runs: int, step: Callable[[], int]) -> tuple[list[float], list[float], int]:
    """Wall and CPU times of `runs` calls of `step`, and what the last one returned (a resource count)."""
    walls, cpus, count = [], [], 0
    for _ in range(runs):
        start, cpu = time.perf_counter(), cpu_seconds()
        count = step()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return walls, cpus, count


def plan_end_to_end(stack: str, root: Path) -> int:
    done = subprocess.run(
        # --no-cache: the row is the program run end to end, not a cached recording (plan_speed.py has both)
        [sys.executable, "-m", "inferplan", "plan", "--stack", stack, "--format", "json", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"plan --stack {stack} failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    return sum(1 for r in json.loads(done.stdout)["resources"] if r["type"].startswith("aws:"))


def record_in_process(stack: str, root: Path) -> int:
    config = yaml.safe_load((root / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    recording = record(stack, config, root / "__main__.py")
    if recording.failed:
        raise SystemExit(f"program failed for {stack}: {recording.errors}")
    return sum(1 for r in recording.resources if r.custom)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workloads", type=int, default=1000)
    args = parser.parse_args()

    rows: list[tuple[str, int, list[float], list[float]]] = []
    walls, cpus, count = timed(args.runs, lambda: plan_end_to_end("prod-eu", ROOT))
    rows.append(("plan --stack prod-eu (end to end)", count, walls, cpus))
    walls, cpus, count = timed(args.runs, lambda: record_in_process("prod-eu", ROOT))
    rows.append(("recorder: prod-eu", count, walls, cpus))
    with tempfile.TemporaryDirectory() as tmp:
        root = project_copy(Path(tmp))
        stack = f"bench-{args.workloads}"
        config = generated_stack(args.workloads)
        (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
        walls, cpus, count = timed(args.runs, lambda: record_in_process(stack, root))
        pools = len(config["inferplan:platform"]["pools"])
        rows.append((f"recorder: {args.workloads} workloads, {pools} pools", count, walls, cpus))

    header = f"{'case':<40} {'resources':>9} {'runs':>4} {'wall median s':>13} {'wall min s':>10} {'cpu median s':>12}"
    print(header)
    print("-" * len(header))
    for case, resources, walls, cpus in rows:
        print(
            f"{case:<40} {resources:>9} {len(walls):>4} {statistics.median(walls):>13.2f} "
            f"{min(walls):>10.2f} {statistics.median(cpus):>12.2f}"
        )


if __name__ == "__main__":
    main()
