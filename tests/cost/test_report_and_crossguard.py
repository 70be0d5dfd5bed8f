"""The cost section of `plan` (text, Markdown, JSON) and pricing real resources without a plan (CrossGuard)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from inferplan.cost import Costs, PricingContext, estimate, price_resources
from inferplan.cost.pricing import NO_USAGE
from inferplan.report.costs import render_markdown, render_text
from tests.conftest import stack_config
from tests.cost.conftest import plan_of


def test_text_and_markdown_show_totals_buckets_and_lines() -> None:
    costs = estimate(plan_of("prod-eu"))
    text = render_text(costs)
    for needle in (
        "expected / month",
        "worst case / month",
        "API only / month",
        "break-even",
        "owned_hardware",
    ):
        assert needle in text
    assert f"${costs.monthly_expected_usd:,.0f}" in text
    assert "cost per accepted outcome, lead-scoring" in text
    markdown = render_markdown(costs)
    assert markdown.startswith("### Costs") and "| bucket | expected | worst case |" in markdown
    assert markdown.count("\n| ") >= len(costs.lines)


def test_costs_json_is_json() -> None:
    out = json.loads(json.dumps(estimate(plan_of("sovereign")).to_json()))
    assert out["buckets"]["api"] == 0  # regulated data: nothing goes to a frontier API
    assert out["monthly_worst_case_usd"] >= out["monthly_expected_usd"] > 0
    assert all(
        {"item", "unit", "quantity", "unit_usd", "monthly_usd", "bucket"} <= set(ln) for ln in out["lines"]
    )


def test_crossguard_prices_real_resources_without_a_plan(record: Callable[..., Any]) -> None:
    recording = record("prod-eu", stack_config("prod-eu"))
    ctx = PricingContext.for_records(recording.resources, "eu-central-1")
    costs = price_resources(recording.resources, ctx)
    gpu = [ln for ln in costs.lines if ln.resource_type == "aws:autoscaling/group:Group"]
    assert {ln.pool for ln in gpu} == {"h100", "h200"}
    assert costs.monthly_worst_case_usd >= costs.monthly_expected_usd > 0
    # without the plan, usage (requests, logs, NAT data, the weights in S3) is 0 and says so; the rest
    # is what the plan gives
    with_plan = price_resources(recording.resources, plan_of("prod-eu"))
    unknown = [ln for ln in costs.lines if NO_USAGE in ln.note]
    assert {ln.resource_type for ln in unknown} >= {"aws:apigatewayv2/api:Api", "aws:s3/bucket:Bucket"}
    assert all(ln.monthly_usd == 0 for ln in unknown)

    def known(c: Costs) -> float:
        return sum(
            ln.monthly_usd for ln in c.lines if ln.scales != "calls" and ln.item != "model weights in S3"
        )

    assert known(costs) == known(with_plan)
