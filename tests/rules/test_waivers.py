"""Waivers: a live waiver keeps the failure visible but not blocking; an expired one waives nothing."""

from __future__ import annotations

from datetime import date

import pytest

from inferplan.cost import estimate
from inferplan.rules import evaluate_plan
from inferplan.rules.findings import finding
from inferplan.rules.waivers import (
    GUARDED_RULES,
    Allowance,
    allowance,
    allowances,
    apply_waivers,
    unused_waivers,
)
from inferplan.spec import Waiver
from tests.rules.conftest import plan_of

TODAY = date(2026, 3, 1)


def waiver(expires: date, rule: str = "autoscaler-bounded", subject: str = "h200") -> Waiver:
    return Waiver(
        rule=rule, subject=subject, reason="load test in March, approved by finops", expires=expires
    )


def test_a_live_waiver_marks_the_failure_waived_and_not_blocking():
    fail = finding("autoscaler-bounded", "fail", "h200", "too many nodes")
    (item,) = apply_waivers([fail], [waiver(date(2026, 3, 31))], TODAY)
    assert (item.status, item.waived, item.blocking) == ("fail", True, False)
    assert item.waiver_reason and item.waiver_expires == date(2026, 3, 31)
    assert item.to_json()["waived"] is True


def test_a_waiver_is_live_through_its_expiry_day():
    fail = finding("autoscaler-bounded", "fail", "h200", "too many nodes")
    (item,) = apply_waivers([fail], [waiver(TODAY)], TODAY)
    assert item.waived


def test_an_expired_waiver_no_longer_waives_and_says_so():
    fail = finding("autoscaler-bounded", "fail", "h200", "too many nodes")
    (item,) = apply_waivers([fail], [waiver(date(2026, 2, 28))], TODAY)
    assert (item.waived, item.blocking, item.waiver_expired) == (False, True, True)
    assert "waiver expired on 2026-02-28" in item.message


def test_a_waiver_matches_rule_and_subject_exactly():
    fail = finding("autoscaler-bounded", "fail", "h200", "too many nodes")
    other = [waiver(date(2026, 12, 31), subject="h100"), waiver(date(2026, 12, 31), rule="budget-expected")]
    (item,) = apply_waivers([fail], other, TODAY)
    assert item.blocking and item.waiver_expires is None
    assert len(unused_waivers([item], other)) == 2


def test_waivers_from_the_spec_apply_in_evaluate_plan():
    def edit(platform):
        platform["pools"][1]["max_nodes"] = 9
        platform["budget"]["hard_cap_usd"] = 10_000_000
        platform["policy"] = {
            "waivers": [
                {
                    "rule": "autoscaler-bounded",
                    "subject": "h200",
                    "reason": "burst test",
                    "expires": "2026-03-31",
                }
            ]
        }

    plan = plan_of("prod-eu", edit)
    found = [f for f in evaluate_plan(plan, estimate(plan), today=TODAY) if f.subject == "h200"]
    bounded = [f for f in found if f.rule == "autoscaler-bounded"]
    assert [(f.status, f.waived) for f in bounded] == [("fail", True)]
    assert not any(f.blocking for f in evaluate_plan(plan, estimate(plan), today=TODAY))
    later = evaluate_plan(plan, estimate(plan), today=date(2026, 4, 1))
    assert [f.subject for f in later if f.blocking] == ["h200"]


# --- the organisation's allowance: residency and security waivers need it --------------------------------

RESIDENCY = "residency-dataflow"


def residency_waiver(expires: date) -> Waiver:
    return waiver(expires, rule=RESIDENCY, subject="contract-extraction")


def leaking(platform):
    """prod-eu with a confidential workload falling back to a frontier API in us-east-1, both residency
    findings (the data flow and the frontier entry's region) waived in the stack file."""
    platform["workloads"][2]["fallback"] = "claude-sonnet"
    platform["policy"] = {
        "waivers": [
            {"rule": rule, "subject": subject, "reason": "vendor DPA signed, LEG-7", "expires": "2026-03-20"}
            for rule, subject in ((RESIDENCY, "contract-extraction"), ("residency-region", "claude-sonnet"))
        ]
    }


def test_a_stack_file_waiver_of_residency_dataflow_without_an_allowance_still_blocks():
    plan = plan_of("prod-eu", leaking)
    blocking = {f.rule: f for f in evaluate_plan(plan, estimate(plan), today=TODAY) if f.blocking}
    assert set(blocking) == {RESIDENCY, "residency-region"}
    bad = blocking[RESIDENCY]
    assert (bad.subject, bad.waived) == ("contract-extraction", False)
    assert "waiver refused: the organisation's policy config does not let a stack waive" in bad.message
    assert bad.to_json()["waiver"]["refused"].startswith("the organisation's policy config")
    assert not bad.waiver_expired  # refused, not expired: the report says which


def test_with_the_organisation_s_allowance_the_waiver_counts_within_its_days():
    plan = plan_of("prod-eu", leaking)
    allowed = {RESIDENCY: Allowance(max_days=30), "residency-region": Allowance(max_days=30)}
    found = evaluate_plan(plan, estimate(plan), today=TODAY, allowed=allowed)
    assert not [f for f in found if f.blocking]
    [waived] = [f for f in found if f.rule == RESIDENCY and f.status == "fail"]
    assert waived.waived and waived.waiver_refused is None


def test_an_expiry_beyond_the_allowance_blocks_and_says_until_when():
    fail = finding(RESIDENCY, "fail", "contract-extraction", "reaches us-east-1")
    (item,) = apply_waivers([fail], [residency_waiver(date(2026, 4, 15))], TODAY, {RESIDENCY: Allowance(30)})
    assert item.blocking and not item.waived
    assert (
        "beyond the organisation's allowance of 30 days for residency-dataflow (at the latest 2026-03-31)"
        in (item.message)
    )


def test_the_default_allowance_is_ninety_days():
    assert allowance({"waivable": {}}) == allowance({"waivable": True}) == Allowance(90)
    fail = finding("network-private", "fail", "sg", "open")
    allowed = {"network-private": Allowance()}
    (inside,) = apply_waivers([fail], [waiver(date(2026, 5, 30), "network-private", "sg")], TODAY, allowed)
    (beyond,) = apply_waivers([fail], [waiver(date(2026, 5, 31), "network-private", "sg")], TODAY, allowed)
    assert inside.waived and not beyond.waived  # 2026-03-01 + 90 days = 2026-05-30


@pytest.mark.parametrize("rule", sorted(GUARDED_RULES))
def test_every_residency_and_security_rule_needs_the_allowance(rule):
    fail = finding(rule, "fail", "x", "broken")
    (item,) = apply_waivers([fail], [waiver(date(2026, 3, 2), rule, "x")], TODAY)
    assert item.blocking and item.waiver_refused


def test_budget_and_autoscaler_waivers_stay_the_stack_s_call_unless_the_organisation_caps_them():
    fail = finding("budget-expected", "fail", "prod-eu", "over budget")
    long = waiver(date(2027, 1, 1), "budget-expected", "prod-eu")
    (free,) = apply_waivers([fail], [long], TODAY)
    (capped,) = apply_waivers([fail], [long], TODAY, {"budget-expected": Allowance(30)})
    assert free.waived and not capped.waived and "allowance of 30 days" in capped.message


def test_allowances_are_read_from_the_pack_config_shape():
    config = {
        "residency-dataflow": {"allowed_regions": ["eu-central-1"], "waivable": {"max_days": 30}},
        "network-private": {"waivable": True},
        "budget-expected": {"monthly_usd": 1000},
        "autoscaler-capacity": "disabled",
    }
    assert allowances(config) == {"residency-dataflow": Allowance(30), "network-private": Allowance(90)}
