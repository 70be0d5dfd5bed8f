"""Waivers: a live waiver keeps the failure visible but not blocking; an expired one waives nothing."""

from __future__ import annotations

from datetime import date

from inferplan.cost import estimate
from inferplan.rules import evaluate_plan
from inferplan.rules.findings import finding
from inferplan.rules.waivers import apply_waivers, unused_waivers
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
