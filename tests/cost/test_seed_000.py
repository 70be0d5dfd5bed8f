"""Seed 000 ("Should we self-host?"), reproduced under its own assumptions.

Its inputs: 800 input / 200 output tokens a call; ~$7 per 1,000 calls on a midrange API tier; a 70B
model on one rented H100 at $2/h serving 50-80 calls a minute; "a flat workload".
Its outputs: ~$0.0007 per call on hardware; break-even "somewhere around 50,000 calls per month".

The second does not follow from the first: one H100 paid all month at $2/h is $1,460, and at $7 per
1,000 calls the API costs that much at ~208,600 calls/month, about 4x the headline. The headline
matches a GPU paid ~176 hours a month (office hours, 8 h x 22 days). These tests pin what the inputs
imply and show where the headline would come from.
"""

from __future__ import annotations

import pytest

from inferplan.cost import PoolStep, PricingContext, VolumeModel, price_record
from inferplan.pricebook import PriceBook
from inferplan.resources import ResourceRecord

HOURS = 730.0
TOKENS_IN, TOKENS_OUT = 800, 200
API_USD_PER_1000 = 7.0
H100_USD_PER_HOUR = 2.0
# p5.4xlarge is the one-H100 EC2 shape; the seed's $2/h comes in through the stack's cost.prices.
SEED_PRICES = {
    "instance:p5.4xlarge": H100_USD_PER_HOUR,
    # a "midrange tier" priced so 800/200 tokens cost $7 per 1,000 calls: 800 x 5 + 200 x 15 = 7,000 $/M
    "api:anthropic/claude-sonnet-4-5:input": 5.0,
    "api:anthropic/claude-sonnet-4-5:output": 15.0,
}


def book() -> PriceBook:
    return PriceBook.builtin("us-east-1", overrides=SEED_PRICES)


def h100_month() -> float:
    """One H100 node all month, priced by the ASG pricing function with the seed's $2/h."""
    group = ResourceRecord(
        "aws:autoscaling/group:Group",
        "h100-asg",
        {
            "minSize": 1,
            "maxSize": 1,
            "desiredCapacity": 1,
            "mixedInstancesPolicy": {
                "instancesDistribution": {"onDemandPercentageAboveBaseCapacity": 100},
                "launchTemplate": {"overrides": [{"instanceType": "p5.4xlarge"}]},
            },
            "tags": [{"key": "inferplan:pool", "value": "h100", "propagateAtLaunch": True}],
        },
    )
    (line,) = price_record(group, PricingContext(prices=book(), records=(group,)))
    return line.monthly_usd


def seed_model(calls_per_min_per_node: float, node_usd: float | None = None) -> VolumeModel:
    api = book().api("anthropic", "claude-sonnet-4-5")
    assert api is not None
    flat = 1 / (HOURS * 60)  # a flat workload: the busiest minute carries the average minute's calls
    return VolumeModel(
        calls_per_month=500_000,
        fixed_usd=0.0,  # the seed's comparison is hardware alone against tokens alone
        per_call_usd=0.0,
        api_per_call_usd=api.per_call(TOKENS_IN, TOKENS_OUT),
        pools=(
            PoolStep(
                name="h100",
                node_usd=h100_month() if node_usd is None else node_usd,
                min_nodes=1,
                max_nodes=None,
                peak_calls_per_min_per_call=flat,
                calls_per_min_per_node=calls_per_min_per_node,
            ),
        ),
    )


def test_seed_000_api_costs_about_7_dollars_per_1000_calls() -> None:
    api = book().api("anthropic", "claude-sonnet-4-5")
    assert api is not None and api.source.startswith("stack override")
    assert 1000 * api.per_call(TOKENS_IN, TOKENS_OUT) == pytest.approx(API_USD_PER_1000, rel=0.10)


def test_seed_000_catalog_frontier_prices_fall_in_its_half_a_cent_to_a_cent_range() -> None:
    catalog = PriceBook.builtin("us-east-1")
    sonnet = catalog.api("anthropic", "claude-sonnet-4-5")
    opus = catalog.api("anthropic", "claude-opus-4-5")
    assert sonnet is not None and opus is not None
    assert sonnet.per_call(TOKENS_IN, TOKENS_OUT) == pytest.approx(0.0054)  # $5.40 per 1,000
    assert opus.per_call(TOKENS_IN, TOKENS_OUT) == pytest.approx(0.0090)  # $9.00 per 1,000


def test_seed_000_h100_at_2_dollars_an_hour_is_1460_a_month() -> None:
    assert h100_month() == pytest.approx(H100_USD_PER_HOUR * HOURS)


def test_seed_000_hardware_cost_per_call_is_about_0_0007_at_50_calls_a_minute() -> None:
    model = seed_model(50)
    per_call = model.marginal_usd_per_call  # node month / calls a full node carries in a month
    assert per_call == pytest.approx(0.0007, rel=0.10)  # 0.000667
    assert seed_model(80).marginal_usd_per_call == pytest.approx(0.000417, rel=0.01)  # the range's cheap end


def test_seed_000_breakeven_its_inputs_imply_is_about_208600_calls_not_50000() -> None:
    breakeven = seed_model(50).breakeven()
    assert breakeven is not None
    assert breakeven == pytest.approx(H100_USD_PER_HOUR * HOURS / (API_USD_PER_1000 / 1000), rel=0.01)
    assert breakeven == pytest.approx(208_571, rel=0.01)
    assert breakeven > 4 * 50_000  # the headline is a quarter of what its own inputs give
    assert seed_model(80).breakeven() == pytest.approx(breakeven)  # one node either way


def test_seed_000_headline_50000_matches_a_gpu_paid_only_office_hours() -> None:
    office_hours = 8 * 22
    breakeven = seed_model(50, node_usd=H100_USD_PER_HOUR * office_hours).breakeven()
    assert breakeven == pytest.approx(50_000, rel=0.10)


def test_seed_000_savings_at_500000_calls_follow_from_its_inputs() -> None:
    model = seed_model(50)
    api, hosted = model.api_usd(500_000), model.self_hosted_usd(500_000)
    assert api == pytest.approx(3_500, rel=0.01)
    assert hosted == pytest.approx(1_460, rel=0.01)  # one node carries 2.19M calls a month at 50/min
    assert api - hosted == pytest.approx(2_040, rel=0.01)  # the seed's "call it $3,000" is its spreadsheet's
