"""budget-expected and budget-worst-case: one passing and one failing case each, on real estimates and by hand."""

from __future__ import annotations

import pytest

from inferplan.cost import estimate
from inferplan.cost.model import Costs, line
from inferplan.rules import evaluate_plan
from inferplan.rules.budget import budget_expected, budget_worst_case
from tests.conftest import EXAMPLE_STACKS
from tests.rules.conftest import failures, only, plan_of


def costs(*pairs: tuple[str, float, float]) -> Costs:
    """Lines of (item, expected, worst case) money."""
    return Costs(
        lines=tuple(
            line(item, "month", 1, expected, "cloud_gpu", worst_quantity=worst / expected if expected else 0)
            for item, expected, worst in pairs
        )
    )


def test_budget_expected_passes_under_the_budget():
    item = budget_expected(costs(("gpu", 900, 1500)), 1000, "dev")
    assert (item.rule, item.status, item.subject) == ("budget-expected", "pass", "dev")
    assert "$900" in item.message


def test_budget_expected_fails_over_the_budget_and_says_what_to_change():
    item = budget_expected(costs(("p5.48xlarge on-demand", 1100, 1500), ("nat", 50, 50)), 1000, "dev")
    assert (item.rule, item.severity, item.status, item.subject) == (
        "budget-expected",
        "mandatory",
        "fail",
        "dev",
    )
    assert "$1,150" in item.message and "by $150" in item.message
    assert "p5.48xlarge on-demand" in item.message and "budget.monthly_usd" in item.message


def test_budget_worst_case_passes_under_the_cap():
    item = budget_worst_case(costs(("gpu", 900, 1500)), 2000, "prod-eu")
    assert (item.rule, item.status, item.subject) == ("budget-worst-case", "pass", "prod-eu")


def test_budget_worst_case_fails_over_the_cap_and_names_the_largest_contributors():
    item = budget_worst_case(
        costs(("h100 nodes", 900, 5000), ("claude cap", 10, 3000), ("nat", 30, 30), ("logs", 5, 5)),
        6000,
        "prod-eu",
    )
    assert (item.rule, item.status, item.subject) == ("budget-worst-case", "fail", "prod-eu")
    assert "$8,035" in item.message
    # The three largest, largest first; the smallest is not named.
    assert item.message.index("h100 nodes") < item.message.index("claude cap") < item.message.index("nat")
    assert "logs" not in item.message


def test_unpriced_items_turn_a_pass_into_a_warning():
    priced = costs(("gpu", 100, 100))
    missing = line("mystery box", "month", 1, 0, "cloud_gpu", resource_name="box", priced=False)
    item = budget_expected(Costs(lines=(*priced.lines, missing)), 1000, "dev")
    assert item.status == "warn" and "no price" in item.message


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_stacks_pass_both_budget_rules(stack):
    plan = plan_of(stack)
    found = evaluate_plan(plan, estimate(plan))
    assert [f.status for f in only(found, "budget-expected")] == ["pass"]
    assert [f.status for f in only(found, "budget-worst-case")] == ["pass"]


def test_a_tight_budget_fails_the_gate_rules_for_the_stack():
    def tighten(platform):
        platform["budget"]["monthly_usd"] = 100
        platform["budget"]["hard_cap_usd"] = 200

    plan = plan_of("dev", tighten)
    found = evaluate_plan(plan, estimate(plan))
    assert {(f.rule, f.subject) for f in failures(found)} == {
        ("budget-expected", "dev"),
        ("budget-worst-case", "dev"),
    }
    assert all(f.blocking for f in failures(found))


def test_gpu_nodes_without_a_price_fail_the_budget_closed():
    """CrossGuard's path: real resources and no plan (a plan refuses an unpriced shape before this)."""
    # p5e.48xlarge has no on-demand price in the catalog (Capacity Blocks only).
    from dataclasses import replace

    from inferplan.cost import PricingContext, price_resources
    from inferplan.planner import build_plan
    from inferplan.stackfile import load_stack

    loaded = load_stack("prod-eu")
    plan = build_plan("prod-eu", loaded.platform)

    def on_p5e(record):
        if record.tag("inferplan:pool") != "h200" or "instanceType" not in record.inputs:
            return record
        return replace(record, inputs={**record.inputs, "instanceType": "p5e.48xlarge"})

    records = tuple(on_p5e(r) for r in plan.intents)
    assert any(r.get("instanceType") == "p5e.48xlarge" for r in records)
    costs = price_resources(records, PricingContext.for_records(records, "eu-central-1"))
    for found in (budget_expected(costs, 1e9, "prod-eu"), budget_worst_case(costs, 1e9, "prod-eu")):
        assert (found.status, found.subject) == ("fail", "prod-eu")
        assert "p5e.48xlarge" in found.message and "no price" in found.message
