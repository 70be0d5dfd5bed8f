"""`python -m inferplan plan` on the example stacks: Plan JSON v1, text and markdown."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLE_STACKS, ROOT


def run_plan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inferplan", "plan", *args], cwd=ROOT, capture_output=True, text=True
    )


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_json_plan_carries_the_contract_fields(stack, tmp_path):
    out = tmp_path / "plan.json"
    done = run_plan("--stack", stack, "--format", "json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["schema"] == "inferplan.plan/v1"
    assert plan["stack"] == stack
    assert plan["region"] in ("us-east-1", "eu-central-1")
    assert plan["resources"] and all({"type", "name", "inputs"} <= set(r) for r in plan["resources"])
    assert json.loads(out.read_text()) == plan
    custom = [r for r in plan["resources"] if not r["type"].startswith("inferplan:components:")]
    assert plan["summary"]["create"] == len(custom)


def test_text_plan_groups_resources_and_ends_with_a_summary():
    done = run_plan("--stack", "dev")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("inferplan plan · stack dev · us-east-1")
    assert "  + inferplan:components:Network  dev-network" in lines
    assert any(line.strip().startswith("+ aws:ec2/vpc:Vpc") and line.endswith("dev-vpc") for line in lines)
    assert lines[-1].startswith("Plan: ") and "to create" in lines[-1]


def test_markdown_plan_has_a_heading_and_a_resource_table():
    done = run_plan("--stack", "sovereign", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("## inferplan plan: `sovereign`")
    assert "| + | `aws:ec2/vpc:Vpc` | `sovereign-vpc` |" in done.stdout


def test_unknown_format_is_a_usage_error():
    done = run_plan("--stack", "dev", "--format", "yaml")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


def test_two_plans_of_one_spec_are_identical():
    # Registration order under mocks varies; the plan must not, or every PR diff would be noise. The
    # second run records the program afresh (the first may have come from the recording cache).
    first = run_plan("--stack", "prod-eu", "--format", "json")
    second = run_plan("--stack", "prod-eu", "--format", "json", "--no-cache")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    assert "object at 0x" not in first.stdout
