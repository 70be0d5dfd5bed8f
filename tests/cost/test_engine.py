"""The whole estimate of a plan: expected, worst case, API-only, buckets, break-even, outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from inferplan.cost import estimate, price_resources
from inferplan.cost.engine import breakeven_model
from inferplan.errors import UserError
from inferplan.preflight.prices_cache import SpotPriceRow, write_price_cache
from tests.conftest import EXAMPLE_STACKS, stack_config
from tests.cost.conftest import hand_sized, plan_of, pool_plan, with_sizing

PLAN_JSON_V1_COST_FIELDS = {
    "monthly_expected_usd",
    "monthly_worst_case_usd",
    "api_only_monthly_usd",
    "breakeven_calls_per_month",
    "buckets",
    "lines",
}
DAYS = 730 / 24


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_worst_case_is_never_below_expected_for_each_example_stack(stack: str) -> None:
    costs = estimate(plan_of(stack))  # the real sizing engine's pools and models
    assert costs.monthly_expected_usd > 0
    assert costs.monthly_worst_case_usd >= costs.monthly_expected_usd
    assert all(ln.worst_case_usd >= ln.monthly_usd >= 0 for ln in costs.lines)
    out = costs.to_json()
    assert set(out) >= PLAN_JSON_V1_COST_FIELDS
    assert set(out["buckets"]) == {"api", "cloud_gpu", "owned_hardware", "operations"}
    assert not costs.unpriced


# Seed 003, Fig. 02: which of the four buckets each kind of spend belongs to (written here, not read
# from the pricing functions, so a line filed in the wrong bucket fails).
SEED_BUCKETS = {
    "aws:autoscaling/group:Group": "cloud_gpu",  # hourly GPU rate
    "aws:ec2/launchTemplate:LaunchTemplate": "cloud_gpu",  # node storage
    "aws:s3/bucket:Bucket": "cloud_gpu",  # model storage
    "aws:ec2/natGateway:NatGateway": "cloud_gpu",  # networking
    "aws:ec2/vpcEndpoint:VpcEndpoint": "cloud_gpu",
    "aws:lb/loadBalancer:LoadBalancer": "cloud_gpu",
    "aws:apigatewayv2/api:Api": "cloud_gpu",
    "aws:ecs/service:Service": "operations",  # routing layer
    "aws:cloudwatch/logGroup:LogGroup": "operations",  # monitoring
    "aws:kms/key:Key": "operations",  # security
    "aws:secretsmanager/secret:Secret": "operations",
    "": "api",  # tokens (and declared staff, below)
}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_line_is_in_its_seed_bucket_and_the_buckets_cover_the_month(stack: str) -> None:
    plan = hand_sized(plan_of(stack))
    costs = estimate(plan)
    for ln in costs.lines:
        expected = (
            "operations" if ln.source == "platform.operations.monthly_usd" else SEED_BUCKETS[ln.resource_type]
        )
        assert ln.bucket == expected, (ln.resource_type, ln.item)
    assert sum(costs.buckets.values()) == pytest.approx(sum(ln.monthly_usd for ln in costs.lines))
    assert costs.buckets["operations"] >= plan.platform.operations.monthly_usd


def test_dev_stack_by_hand() -> None:
    """dev: one g6e.xlarge (1.861/h) of at most 2; 4,000 calls/day of 600/80 tokens, 5% to Haiku (1/5 $/M)."""
    plan = with_sizing(plan_of("dev"), (pool_plan(plan_of("dev"), "l40s", 1),), ())
    costs = estimate(plan)
    (node,) = [ln for ln in costs.lines if ln.resource_type == "aws:autoscaling/group:Group"]
    assert node.monthly_usd == pytest.approx(730 * 1.861)  # 1,358.53
    assert node.worst_case_usd == pytest.approx(2 * 730 * 1.861)
    calls = 4_000 * DAYS  # 121,666.7 a month
    fallback = 0.05 * calls * (600 * 1 + 80 * 5) / 1e6  # $6.08 of Haiku tokens
    assert costs.buckets["api"] == pytest.approx(fallback)
    assert costs.buckets_worst_case["api"] == pytest.approx(300.0)  # claude-haiku's monthly_cap_usd
    assert costs.api_only_monthly_usd == pytest.approx(calls * (600 + 80 * 5) / 1e6)  # $121.67
    assert costs.api_only_model == "anthropic/claude-haiku-4-5"
    assert costs.calls_per_month == pytest.approx(calls)
    assert costs.per_1000_calls_api == pytest.approx(1.0)
    assert costs.per_1000_calls_self_hosted == pytest.approx(1000 * costs.monthly_expected_usd / calls)
    ops = [ln for ln in costs.lines if ln.source == "platform.operations.monthly_usd"]
    assert [ln.monthly_usd for ln in ops] == [500.0]


def test_api_only_model_defaults_to_the_first_frontier_entry_else_sonnet() -> None:
    config = stack_config("dev")
    del config["inferplan:platform"]["cost"]
    assert estimate(hand_sized(plan_of("dev", config))).api_only_model == "anthropic/claude-haiku-4-5"
    # sovereign declares no API, and no API may take regulated data: the comparison covers nothing
    sovereign = estimate(hand_sized(plan_of("sovereign")))
    assert sovereign.api_only_monthly_usd == 0.0
    assert sorted(sovereign.api_only_excluded) == ["claims-coding", "clinical-notes"]
    assert all("regulated data never goes to an API" in why for why in sovereign.api_only_excluded.values())
    assert sovereign.breakeven_calls_per_month is None  # no stack-wide API alternative to break even with


def test_api_only_model_by_provider_and_model_and_a_bad_name() -> None:
    config = stack_config("dev")
    config["inferplan:platform"]["cost"]["api_only_model"] = "openai/gpt-5-mini"
    costs = estimate(hand_sized(plan_of("dev", config)))
    assert costs.api_only_monthly_usd == pytest.approx(4_000 * DAYS * (600 * 0.25 + 80 * 2) / 1e6)
    config["inferplan:platform"]["cost"]["api_only_model"] = "gpt5"
    with pytest.raises(UserError, match=r"cost\.api_only_model: 'gpt5'"):
        estimate(hand_sized(plan_of("dev", config)))


def test_frontier_spend_above_its_cap_is_noted_and_the_worst_case_follows_the_spend() -> None:
    config = stack_config("dev")
    config["inferplan:platform"]["frontier"][0]["monthly_cap_usd"] = 1.0
    costs = estimate(hand_sized(plan_of("dev", config)))
    assert any("exceeds its monthly_cap_usd" in n for n in costs.notes)
    assert costs.buckets_worst_case["api"] == pytest.approx(costs.buckets["api"])


def test_plan_breakeven_is_the_volume_models_and_the_model_passes_through_the_plan() -> None:
    plan = hand_sized(plan_of("dev"))
    costs, model = breakeven_model(plan)
    # at the declared volume the curve sits on the estimate (hand sizing uses the curve's node formula)
    assert model.self_hosted_usd(model.calls_per_month) == pytest.approx(costs.monthly_expected_usd)
    assert model.api_usd(model.calls_per_month) == pytest.approx(costs.api_only_monthly_usd)
    breakeven = costs.breakeven_calls_per_month
    assert breakeven is not None
    # the crossing: API-only cheaper just below it, self-hosting cheaper just above it and far beyond
    assert model.self_hosted_usd(breakeven * 0.99) > model.api_usd(breakeven * 0.99)
    for beyond in (1.01, 2.0, 10.0):
        assert model.self_hosted_usd(breakeven * beyond) < model.api_usd(breakeven * beyond)


def test_estimate_is_the_bom_priced_plus_usage_and_operations() -> None:
    plan = hand_sized(plan_of("prod-eu"))
    resources = price_resources(plan.intents, plan)
    costs = estimate(plan)
    usage = sum(ln.monthly_usd for ln in costs.lines if not ln.resource_type)
    assert costs.monthly_expected_usd == pytest.approx(resources.monthly_expected_usd + usage)
    assert usage == pytest.approx(costs.buckets["api"] + plan.platform.operations.monthly_usd)


def test_largest_contributors_for_the_budget_message() -> None:
    costs = estimate(hand_sized(plan_of("prod-eu")))
    top = costs.largest_contributors(2, worst_case=True)
    assert [ln.resource_type for ln in top] == ["aws:autoscaling/group:Group"] * 2
    assert top[0].worst_case_usd >= top[1].worst_case_usd
    assert costs.largest_contributors(1, worst_case=False)[0].monthly_usd == max(
        ln.monthly_usd for ln in costs.lines
    )


def test_outcomes_only_for_workloads_that_declare_them() -> None:
    costs = estimate(hand_sized(plan_of("prod-eu")))
    assert [o.workload for o in costs.outcomes] == ["lead-scoring"]
    assert costs.to_json()["outcomes"][0]["routed_per_accepted_outcome_usd"] is not None


def test_a_refreshed_price_cache_replaces_catalog_rows_but_not_the_stacks_own(tmp_path: Path) -> None:
    cache = write_price_cache(
        tmp_path / "prices.json",
        "us-east-1",
        {"g6e.xlarge": 1.5},
        [SpotPriceRow("g6e.xlarge", "us-east-1b", 0.6, "2026-11-20T00:00:00Z")],
        datetime(2026, 11, 20, tzinfo=UTC),
    )
    # Read only when asked for: the same stack without it keeps the catalog's price.
    assert plan_of("dev").prices.instance_hour("g6e.xlarge").usd == pytest.approx(1.861)  # type: ignore[union-attr]
    book = plan_of("dev", prices_cache=cache).prices
    assert book.cache_note == f"price cache {cache.path} (fetched 2026-11-20)"
    hour = book.instance_hour("g6e.xlarge")
    assert hour is not None and (hour.usd, hour.source, hour.as_of) == (
        1.5,
        "AWS Price List API",
        "2026-11-20",
    )
    spot = book.spot_hour("g6e.xlarge")
    assert spot is not None and spot.usd == 0.6
    config = stack_config("dev")
    config["inferplan:platform"]["catalog"] = {
        "instance_prices": [{"instance_type": "g6e.xlarge", "region": "us-east-1", "usd_per_hour": 1.7}]
    }
    own = plan_of("dev", config, prices_cache=cache).prices.instance_hour("g6e.xlarge")
    assert own is not None and own.usd == 1.7
