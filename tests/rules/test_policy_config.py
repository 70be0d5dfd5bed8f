"""The organisation's policy config: one file for the pack (`--policy-pack-config`) and the offline gate."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from inferplan.errors import UserError
from inferplan.policy_config import ENV, PolicyConfig, from_environment, load_policy_config
from inferplan.rules.waivers import Allowance
from policy.policies import StackContext
from tests.cli.conftest import inferplan
from tests.conftest import ROOT, stack_config
from tests.policy.test_pack import REGION, run

EXAMPLE = ROOT / "policy" / "org-caps.example.json"
SOON = (date.today() + timedelta(days=10)).isoformat()


def test_the_example_file_is_valid_and_allows_two_rules():
    config = load_policy_config(EXAMPLE)
    assert config.allowances == {"budget-expected": Allowance(30), "endpoint-policies": Allowance(14)}


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        ({"residency-dataflw": {"waivable": True}}, "'residency-dataflw' is not a policy of the pack"),
        ({"residency-dataflow": {"waivable": {"max_days": 0}}}, "max_days: expected a whole number of days"),
        ({"residency-dataflow": {"waivable": {"max_days": "30"}}}, "max_days: expected a whole number"),
        ({"residency-dataflow": {"waivable": {"days": 30}}}, 'expected true or {"max_days": <days>}'),
        ({"residency-dataflow": "off"}, "'off' is not an enforcement level"),
        (["residency-dataflow"], "not a JSON object"),
    ],
)
def test_a_malformed_config_is_one_user_error(tmp_path: Path, entries: Any, says: str):
    path = tmp_path / "org.json"
    path.write_text(json.dumps(entries))
    with pytest.raises(UserError, match=r"org\.json") as caught:
        load_policy_config(path)
    assert says in str(caught.value)


def test_without_a_file_nothing_is_waivable(tmp_path: Path):
    assert from_environment({}) == PolicyConfig()
    (tmp_path / "org.json").write_text('{"network-private": {"waivable": true}}')
    assert from_environment({ENV: str(tmp_path / "org.json")}).allowances == {"network-private": Allowance()}


def test_plan_refuses_an_unreadable_policy_config_with_exit_2(tmp_path: Path):
    done = inferplan("plan", "--stack", "dev", "--policy-config", str(tmp_path / "missing.json"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot read the policy config" in done.stderr


def leaking() -> dict[str, Any]:
    """prod-eu: a confidential workload falls back to us-east-1; the stack file waives both residency rules."""
    config = stack_config("prod-eu")
    platform = config["inferplan:platform"]
    platform["workloads"][2]["fallback"] = "claude-sonnet"
    platform["policy"] = {
        "waivers": [
            {"rule": rule, "subject": subject, "reason": "DPA signed, LEG-7", "expires": SOON}
            for rule, subject in (
                ("residency-dataflow", "contract-extraction"),
                ("residency-region", "claude-sonnet"),
            )
        ]
    }
    return config


ALLOWING = {
    "residency-dataflow": {"waivable": {"max_days": 30}},
    "residency-region": {"waivable": {"max_days": 30}},
}


def test_the_program_s_gate_reads_the_same_allowance(record, monkeypatch, tmp_path: Path):
    monkeypatch.delenv(ENV, raising=False)
    refused = record("prod-eu", leaking())
    assert refused.failed and refused.resources == []
    assert any("waiver refused" in e for e in refused.errors)
    (tmp_path / "org.json").write_text(json.dumps(ALLOWING))
    monkeypatch.setenv(ENV, str(tmp_path / "org.json"))
    allowed = record("prod-eu", leaking())
    assert not allowed.failed, allowed.errors
    assert any("(waived)" in w and "residency-dataflow" in w for w in allowed.warnings)


def test_the_pack_applies_a_residency_waiver_only_with_its_policy_s_allowance(recorded):
    from inferplan.planner import build_plan
    from inferplan.spec import Platform

    plan = build_plan("prod-eu", Platform.model_validate(leaking()["inferplan:platform"]))
    context = StackContext(stack="prod-eu", plan=plan, region=REGION["prod-eu"])
    records = list(recorded["prod-eu"])
    without = run("prod-eu", records, context=context, only="residency-dataflow")["residency-dataflow"]
    assert [v[0] for v in without] and "waiver refused" in without[0][0]
    config = {"residency-dataflow": ALLOWING["residency-dataflow"]}
    assert run("prod-eu", records, context=context, config=config, only="residency-dataflow") == {
        "residency-dataflow": []
    }
