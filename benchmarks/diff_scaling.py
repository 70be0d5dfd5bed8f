"""How `diff` grows with the size of a stack: a VPC CIDR change (which reaches nearly everything) on
generated stacks of 10, 100 and 300 workloads (one model and pool per 10, see plan_scaling.py).

Prints a table: resources, the time to plan base and head (for scale), and the time of `diff_plans`,
of the Markdown and of the Mermaid picture.

    python benchmarks/diff_scaling.py [--sizes 10 100 300]
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from plan_scaling import generated_stack  # noqa: E402

from inferplan.commands.plan import build_report  # noqa: E402
from inferplan.diff import diff_plans  # noqa: E402
from inferplan.report import to_json  # noqa: E402
from inferplan.report.diff_markdown import render_markdown  # noqa: E402
from inferplan.report.mermaid import render_mermaid  # noqa: E402
from offline.project import linked_project  # noqa: E402


def plan_in(root: Path, stack: str, config: dict[str, Any]) -> dict[str, Any]:
    """Plan JSON of `config` in its own project root (so base and head share the stack name)."""
    linked_project(root)
    (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return to_json(build_report(stack, root))


def measure(size: int, tmp: Path) -> dict[str, float]:
    stack = f"bench-{size}"
    base_config = generated_stack(size)
    head_config = copy.deepcopy(base_config)
    head_config["inferplan:platform"]["network"]["cidr"] = "10.1.0.0/16"
    start = time.perf_counter()
    base = plan_in(tmp / f"base-{size}", stack, base_config)
    head = plan_in(tmp / f"head-{size}", stack, head_config)
    plan_s = time.perf_counter() - start

    start = time.perf_counter()
    diff = diff_plans(base, head)
    diff_s = time.perf_counter() - start
    start = time.perf_counter()
    markdown = render_markdown(diff)
    markdown_s = time.perf_counter() - start
    start = time.perf_counter()
    render_mermaid(diff.head_topology)
    mermaid_s = time.perf_counter() - start
    reached = max((len(r.downstream) for r in diff.resources), default=0)
    return {
        "workloads": size,
        "resources": len(head["resources"]),
        "changed": diff.changed,
        "reached": reached,
        "plan_s": plan_s,
        "diff_s": diff_s,
        "markdown_s": markdown_s,
        "markdown_kib": len(markdown.encode()) / 1024,
        "mermaid_s": mermaid_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 300])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(size, Path(tmp)) for size in args.sizes]
    header = (
        f"{'workloads':>9} {'resources':>9} {'changed':>7} {'reached':>7} {'plan 2x s':>9} "
        f"{'diff s':>7} {'markdown s':>10} {'md KiB':>7} {'mermaid s':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['workloads']:>9} {r['resources']:>9} {r['changed']:>7} {r['reached']:>7} {r['plan_s']:>9.1f} "
            f"{r['diff_s']:>7.3f} {r['markdown_s']:>10.3f} {r['markdown_kib']:>7.1f} {r['mermaid_s']:>9.4f}"
        )


if __name__ == "__main__":
    main()
