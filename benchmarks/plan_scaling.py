"""How `plan` grows with the size of a stack: 10, 100 and 1,000 workloads (one model and pool per 10).

Prints a table: wall time and peak memory of the planner (spec → Plan with sizing, in this process),
of the Pulumi program under mocks (the child process `plan` runs), the time to price the recorded
resources, judge the policy rules and render the text plan, and the end-to-end time.

    python benchmarks/plan_scaling.py [--sizes 10 100 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inferplan.cost import estimate  # noqa: E402
from inferplan.planner import build_plan  # noqa: E402
from inferplan.report import PlanReport, render  # noqa: E402
from inferplan.resources import ResourceRecord  # noqa: E402
from inferplan.rules import evaluate_plan, evaluate_resources  # noqa: E402
from inferplan.stackfile import load_stack  # noqa: E402
from offline.project import linked_project  # noqa: E402

SHAPES = ("g6e.xlarge", "g6e.12xlarge", "p5.48xlarge")
MODELS = ("meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-32B", "meta-llama/Llama-3.3-70B-Instruct")


def generated_stack(workloads: int) -> dict[str, Any]:
    """A valid stack with `workloads` workloads, one model and one pool per ten workloads."""
    models = max(1, workloads // 10)
    pools = [
        {"name": f"pool-{i}", "instance_type": SHAPES[i % 3], "min_nodes": 1, "max_nodes": 4}
        for i in range(models)
    ]
    served = [
        {
            "name": f"model-{i}",
            "model": MODELS[i % 3],
            "quantization": "fp8" if i % 3 else "bf16",
            "max_context": 8192,
            "pool": f"pool-{i}",
        }
        for i in range(models)
    ]
    work = [
        {
            "name": f"work-{i}",
            "calls_per_day": 1000 + 37 * i,
            "input_tokens": 800,
            "output_tokens": 200,
            "sensitivity": ("public", "internal", "confidential")[i % 3],
            "route": f"model-{i % models}",
            **({"fallback": "claude", "fallback_rate": 0.05} if i % 3 < 2 else {}),
        }
        for i in range(workloads)
    ]
    return {
        "aws:region": "us-east-1",
        "inferplan:platform": {
            "region": "us-east-1",
            "environment": "prod",
            "network": {"cidr": "10.0.0.0/16", "availability_zones": 3, "egress": "nat"},
            "residency": {"allowed_regions": ["us-east-1"]},
            "budget": {"monthly_usd": 5e8, "hard_cap_usd": 1e9},  # the spec's ceiling
            "autoscaling": {"max_nodes_per_pool": 8},
            "gateway": {
                "jwt": {"issuer": "https://id.example.com", "audience": ["bench"]},
                "rate_limit": {"requests_per_second": 100, "burst": 200},
            },
            "pools": pools,
            "models": served,
            "frontier": [
                {
                    "name": "claude",
                    "provider": "anthropic",
                    "model": "claude-sonnet-4-5",
                    "processing_regions": ["us-east-1"],
                    "secret": "anthropic-key",
                    "monthly_cap_usd": 10000,
                }
            ],
            "workloads": work,
        },
    }


def record_in_child(stack: str, root: Path) -> tuple[list[ResourceRecord], float, float]:
    """Run the program under mocks in a child; its wall time and peak RSS (MiB) from wait4."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "offline", "--stack", stack, "--root", str(root)],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        out.seek(0)
        answer = json.load(out)
    if child.returncode != 0 or answer["failed"]:
        raise SystemExit(f"program failed for {stack}: {answer.get('errors')}")
    records = [
        ResourceRecord(
            type=r["type"], name=r["name"], inputs=r["inputs"], custom=r["custom"], parent=r.get("parent")
        )
        for r in answer["resources"]
    ]
    return records, elapsed, usage.ru_maxrss / 1024


def measure(size: int, root: Path) -> dict[str, float]:
    stack = f"bench-{size}"
    (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": generated_stack(size)}))
    start = time.perf_counter()
    tracemalloc.start()
    loaded = load_stack(stack, root)
    plan = build_plan(loaded.stack, loaded.platform)
    _, planner_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    planner_s = time.perf_counter() - start
    records, program_s, program_mib = record_in_child(stack, root)
    checked = time.perf_counter()
    costs = estimate(plan, records)
    findings = evaluate_plan(plan, costs, records) + evaluate_resources(records, plan)
    render(PlanReport(plan=plan, resources=tuple(records), findings=findings, costs=costs), "text")
    report_s = time.perf_counter() - checked
    return {
        "workloads": size,
        "models": len(plan.platform.models),
        "resources": sum(1 for r in records if r.custom),
        "planner_s": planner_s,
        "planner_mib": planner_peak / 2**20,
        "program_s": program_s,
        "program_mib": program_mib,
        "report_s": report_s,
        "total_s": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = linked_project(Path(tmp) / "project")
        rows = [measure(size, root) for size in args.sizes]
    header = (
        f"{'workloads':>9} {'models':>6} {'resources':>9} {'planner s':>9} {'planner MiB':>11} "
        f"{'program s':>9} {'program MiB':>11} {'cost+policy+render s':>20} {'total s':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['workloads']:>9} {r['models']:>6} {r['resources']:>9} {r['planner_s']:>9.3f} "
            f"{r['planner_mib']:>11.1f} {r['program_s']:>9.2f} {r['program_mib']:>11.1f} "
            f"{r['report_s']:>20.2f} {r['total_s']:>8.2f}"
        )


if __name__ == "__main__":
    main()
