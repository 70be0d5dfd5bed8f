"""Shared helpers for the CLI tests: example stacks planned once (in-process), the CLI as a process."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

from inferplan.cost import estimate
from inferplan.planner import build_plan
from inferplan.report import PlanReport
from inferplan.report.resources import ordered
from inferplan.rules import evaluate_plan, evaluate_resources
from inferplan.stackfile import load_stack
from tests.components.recorded import recorded
from tests.conftest import ROOT


@functools.cache
def example_report(stack: str) -> PlanReport:
    """What `plan --stack <stack>` reports, from the resources recorded once per test run."""
    loaded = load_stack(stack, ROOT)
    plan = build_plan(loaded.stack, loaded.platform)
    records = tuple(ordered(recorded(stack)))
    costs = estimate(plan, records)
    findings = evaluate_plan(plan, costs, records) + evaluate_resources(records, plan)
    return PlanReport(plan=plan, resources=records, findings=findings, costs=costs)


def inferplan(*args: str, cwd: Path = ROOT, check: bool = False) -> subprocess.CompletedProcess[str]:
    """`python -m inferplan ARGS` in `cwd`, the repository importable wherever `cwd` is."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "inferplan", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done
