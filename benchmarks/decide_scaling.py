"""The decision engine: exact against brute force on small stacks, and how it grows with the stack.

Two tables:

1. exactness: stacks of 3–5 `route: auto` workloads on two self-hosted models (one on an `auto` pool)
   and two APIs; brute force plans and prices every assignment of routes in full (sizing and the cost
   engine, not the solver) and the table shows the decision's month against the cheapest assignment.
2. scaling: stacks of 10–500 workloads (four models, one on an `auto` pool, and four APIs; volumes,
   token mixes, sensitivities and tasks drawn from a fixed seed): time to build the options and solve,
   the MILP's size and status, and the whole `build_plan`.

    python benchmarks/decide_scaling.py [--sizes 10 50 100 300 500] [--exact 3 4 5]
"""

from __future__ import annotations

import argparse
import copy
import itertools
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inferplan.cost import estimate  # noqa: E402
from inferplan.planner import build_plan  # noqa: E402
from inferplan.spec import Platform  # noqa: E402
from inferplan.stackfile import load_stack  # noqa: E402

TASKS = (None, None, "classification", "extraction", "summarization", "chat", "rag")
SENSITIVITY = ("public", "internal", "internal", "internal", "confidential")


def base() -> dict[str, Any]:
    """prod-eu's pools and models, with one pool on `auto`, plus two more APIs."""
    spec = load_stack("prod-eu", ROOT).platform.model_dump(mode="json", exclude_none=True)
    spec["pools"][1]["instance_type"] = "auto"
    spec["autoscaling"]["max_nodes_per_pool"] = 40
    for pool in spec["pools"]:
        pool["max_nodes"] = 40
        pool.pop("warm_pool", None)
    spec["frontier"] = [
        *spec["frontier"],
        {"name": "claude-haiku", "provider": "anthropic", "model": "claude-haiku-4-5",
         "processing_regions": ["us-east-1"], "secret": "anthropic-api-key", "monthly_cap_usd": 1e6},
        {"name": "gpt-mini", "provider": "openai", "model": "gpt-5-mini",
         "processing_regions": ["us-east-1"], "secret": "openai-api-key", "monthly_cap_usd": 1e6},
    ]  # fmt: skip
    spec["budget"] = {"monthly_usd": 1e7, "hard_cap_usd": 2e7}
    spec.pop("cost", None)
    return spec


def stack(workloads: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    spec = base()
    spec["workloads"] = []
    for i in range(workloads):
        w: dict[str, Any] = {
            "name": f"w{i}",
            "calls_per_day": round(10 ** rng.uniform(2, 6)),
            "input_tokens": rng.choice((200, 600, 1500, 4000)),
            "output_tokens": rng.choice((50, 200, 400)),
            "sensitivity": rng.choice(SENSITIVITY),
            "route": "auto",
        }
        task = rng.choice(TASKS)
        if task:
            w["task"] = task
        spec["workloads"].append(w)
    return spec


def plan_of(spec: dict[str, Any]) -> Any:
    return build_plan("bench", Platform.model_validate(spec))


def exactness(sizes: list[int]) -> None:
    print(
        "| workloads | assignments | decision $/month | brute force $/month | gap | decision s | brute force s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        spec = stack(n, seed=n)
        start = time.perf_counter()
        chosen = plan_of(spec)
        decided = estimate(chosen).monthly_expected_usd
        took = time.perf_counter() - start
        choices = [[o.target for o in d.options if o.eligible] for d in chosen.decision.workloads]
        start = time.perf_counter()
        best, count = float("inf"), 0
        for combo in itertools.product(*choices):
            fixed = copy.deepcopy(spec)
            for w, target in zip(fixed["workloads"], combo, strict=True):
                w["route"] = target
            best = min(best, estimate(plan_of(fixed)).monthly_expected_usd)
            count += 1
        brute = time.perf_counter() - start
        print(
            f"| {n} | {count} | {decided:,.2f} | {best:,.2f} | {decided - best:,.2f} | {took:.2f} | {brute:.1f} |"
        )


def scaling(sizes: list[int]) -> None:
    print("| workloads | options | MILP variables | status | solve s | build_plan s | self-hosted | APIs |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|")
    for n in sizes:
        spec = stack(n, seed=7)
        start = time.perf_counter()
        p = plan_of(spec)
        total = time.perf_counter() - start
        d = p.decision
        options = sum(len(w.options) for w in d.workloads)
        hosted = sum(1 for w in d.workloads if w.chosen_kind == "model")
        print(
            f"| {n} | {options} | {d.variables} | {d.status} | {d.seconds:.2f} | {total:.2f} | {hosted} | "
            f"{n - hosted} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 50, 100, 300, 500])
    parser.add_argument("--exact", type=int, nargs="*", default=[3, 4, 5])
    args = parser.parse_args()
    exactness(args.exact)
    print()
    scaling(args.sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
