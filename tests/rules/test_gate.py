"""The gate in `__main__.py` and the `plan` command: a mandatory failure registers nothing and exits 1."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLE_STACKS, ROOT, stack_config, write_stack


def too_many_nodes(stack: str = "prod-eu") -> dict:
    config = stack_config(stack)
    config["inferplan:platform"]["pools"][1]["max_nodes"] = 9  # autoscaling.max_nodes_per_pool is 4
    config["inferplan:platform"]["budget"]["hard_cap_usd"] = 10_000_000  # so only that rule fails
    return config


def test_a_stack_failing_a_mandatory_rule_registers_zero_resources(record):
    recording = record("prod-eu", too_many_nodes())
    assert recording.failed
    assert recording.resources == []
    assert any(e.startswith("policy autoscaler-bounded [h200]:") for e in recording.errors)
    assert "policy gate: 1 mandatory rule(s) failed; nothing was registered" in recording.errors


def test_a_waived_failure_lets_the_program_register(record):
    config = too_many_nodes()
    config["inferplan:platform"]["policy"] = {
        "waivers": [
            {"rule": "autoscaler-bounded", "subject": "h200", "reason": "burst test", "expires": "2999-01-01"}
        ]
    }
    recording = record("prod-eu", config)
    assert not recording.failed, recording.errors
    assert recording.resources
    assert any("(waived)" in w for w in recording.warnings)


def test_an_expired_waiver_blocks_again(record):
    config = too_many_nodes()
    config["inferplan:platform"]["policy"] = {
        "waivers": [
            {"rule": "autoscaler-bounded", "subject": "h200", "reason": "burst test", "expires": "2020-01-01"}
        ]
    }
    recording = record("prod-eu", config)
    assert recording.failed and recording.resources == []


@pytest.fixture
def project(tmp_path):
    """A copy of the project's entry files with an edited stack (the plan stops before running the program)."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    write_stack(tmp_path, "prod-eu", too_many_nodes())
    return tmp_path


def plan(cwd, *args):
    return subprocess.run(
        [sys.executable, "-m", "inferplan", "plan", "--stack", "prod-eu", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )


def test_plan_shows_the_policy_section_and_exits_1_when_the_gate_would_fail(project):
    done = plan(project)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("Policy: 1 mandatory rule(s) failed") for line in lines)
    assert any(line.split()[:3] == ["FAIL", "autoscaler-bounded", "h200"] for line in lines)
    assert lines[-1].startswith("Plan: blocked by 1 mandatory policy failure(s)")


def test_plan_json_lists_the_failing_rule_with_status_and_subject(project):
    done = plan(project, "--format", "json")
    assert done.returncode == 1, done.stderr
    out = json.loads(done.stdout)
    assert out["resources"] == []
    failed = [p for p in out["policy"] if p["status"] == "fail"]
    assert [(p["rule"], p["severity"], p["subject"], p["waived"]) for p in failed] == [
        ("autoscaler-bounded", "mandatory", "h200", False)
    ]
    assert all({"rule", "severity", "status", "subject", "message"} <= set(p) for p in out["policy"])


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_stacks_pass_every_mandatory_rule_in_plan_json(stack):
    done = subprocess.run(
        [sys.executable, "-m", "inferplan", "plan", "--stack", stack, "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    policy = json.loads(done.stdout)["policy"]
    assert {p["rule"] for p in policy} >= {
        "budget-expected", "budget-worst-case", "autoscaler-bounded", "autoscaler-capacity", "residency-region",
        "residency-dataflow", "frontier-needs-egress", "network-private", "gateway-auth", "secrets-encrypted",
    }  # fmt: skip
    assert not [p for p in policy if p["severity"] == "mandatory" and p["status"] == "fail"]


def test_sovereign_plan_shows_that_no_path_reaches_the_internet():
    text = subprocess.run(
        [sys.executable, "-m", "inferplan", "plan", "--stack", "sovereign"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    assert (
        "Data flow: no path exists from any workload (clinical-notes, claims-coding) to the internet" in text
    )
    out = json.loads(
        subprocess.run(
            [sys.executable, "-m", "inferplan", "plan", "--stack", "sovereign", "--format", "json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert out["dataflow"]["internet_reachable"] is False
    assert all(w["path_to_internet"] is None for w in out["dataflow"]["workloads"])
    dataflow = [p for p in out["policy"] if p["rule"] == "residency-dataflow"]
    assert dataflow and all(
        "no network path exists from it to the internet" in p["message"] for p in dataflow
    )
