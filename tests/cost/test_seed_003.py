"""Seed 003 ("Is it time to self-host LLMs already?"), reproduced under its own assumptions.

Its AWS column of the H200 ladder pro-rates an 8x H200 node at ~$39.80/h: per GPU-hour 39.80 / 8 =
4.975, x 730 h = ~$3,632 (1x), ~$7,264 (2x), ~$29,054 (8x) a month. The catalog has no on-demand price
for p5e.48xlarge (Capacity Blocks only), so the seed's hourly assumption enters as a price override —
through the stack's `cost.prices` or through a `catalog.instance_prices` row — and the cost lines say
where it came from.
"""

from __future__ import annotations

import pytest

from inferplan.catalog import CatalogOverrides, InstancePrice, builtin_catalog
from inferplan.cost import PricingContext, price_record
from inferplan.cost.engine import outcome_costs
from inferplan.cost.model import line
from inferplan.pricebook import PriceBook
from inferplan.resources import ResourceRecord
from tests.conftest import stack_config
from tests.cost.conftest import plan_of

SEED_USD_PER_NODE_HOUR = 39.80
LADDER = {1: 3_632, 2: 7_264, 8: 29_054}


def h200_config() -> dict[str, object]:
    """The dev stack with its pool on the 8x H200 shape and the seed's hourly price as an override."""
    config = stack_config("dev")
    platform = config["inferplan:platform"]
    platform["pools"][0]["instance_type"] = "p5e.48xlarge"
    platform["cost"]["prices"] = {"instance:p5e.48xlarge": SEED_USD_PER_NODE_HOUR}
    return config


@pytest.mark.parametrize(("gpus", "monthly"), sorted(LADDER.items()))
def test_seed_003_h200_ladder_pro_rated_through_cost_prices(gpus: int, monthly: float) -> None:
    book = plan_of("dev", h200_config()).prices
    per_gpu = book.gpu_hour("p5e.48xlarge")
    assert per_gpu is not None and per_gpu.source == "stack override (cost.prices)"
    assert per_gpu.usd == pytest.approx(4.975)
    assert per_gpu.usd * gpus * 730 == pytest.approx(monthly, rel=0.10)
    assert per_gpu.usd * gpus * 730 == pytest.approx(monthly, abs=1.0)  # and to the dollar


def test_seed_003_full_node_priced_by_the_asg_function_is_29054() -> None:
    group = ResourceRecord(
        "aws:autoscaling/group:Group",
        "h200-asg",
        {
            "minSize": 1,
            "maxSize": 1,
            "mixedInstancesPolicy": {
                "instancesDistribution": {"onDemandPercentageAboveBaseCapacity": 100},
                "launchTemplate": {"overrides": [{"instanceType": "p5e.48xlarge"}]},
            },
            "tags": [{"key": "inferplan:pool", "value": "h200", "propagateAtLaunch": True}],
        },
    )
    book = plan_of("dev", h200_config()).prices
    (node,) = price_record(group, PricingContext(prices=book, records=(group,)))
    assert node.monthly_usd == pytest.approx(LADDER[8], abs=1.0)
    assert node.source == "stack override (cost.prices)"


def test_seed_003_same_figures_through_a_catalog_instance_price_override() -> None:
    row = InstancePrice(
        instance_type="p5e.48xlarge",
        region="us-east-1",
        usd_per_hour=SEED_USD_PER_NODE_HOUR,
        source="seed 003: ~39.80/h pro-rated",
        as_of="2026-05",
    )
    catalog = builtin_catalog().with_overrides(CatalogOverrides(instance_prices=(row,)))
    per_gpu = PriceBook.builtin("us-east-1", catalog).gpu_hour("p5e.48xlarge")
    assert per_gpu is not None and per_gpu.as_of == "2026-05"
    assert [per_gpu.usd * g * 730 for g in (1, 2, 8)] == pytest.approx([3_632, 7_264, 29_054], abs=1.0)


def test_seed_003_without_its_assumption_p5e_has_no_price_and_says_so() -> None:
    assert PriceBook.builtin("us-east-1").instance_hour("p5e.48xlarge") is None


def test_seed_003_fig01_cost_per_accepted_outcome_counts_rework() -> None:
    """prod-eu's lead-scoring: llama-70b 92% accepted, claude-sonnet 97%, $0.50 to fix a rejected one."""
    plan = plan_of("prod-eu")
    pool_month = 100_000.0  # a hand-set h100 pool cost, shared by tokens across its two workloads
    lines = [line("p5.48xlarge on-demand", "node-hour", 1.0, pool_month, "cloud_gpu", pool="h100")]
    (lead,) = outcome_costs(plan, lines, plan.prices)
    days = 730 / 24
    pool_tokens = days * (200_000 * 0.95 * 1_000 + 120_000 * 0.98 * 1_750)
    llama_call = pool_month / pool_tokens * 1_000
    sonnet_call = (800 * 3 + 200 * 15) / 1e6  # $0.0054
    assert lead.per_call["llama-70b"] == pytest.approx(llama_call)  # ~$0.0083
    assert lead.per_call["claude-sonnet"] == pytest.approx(sonnet_call)
    assert lead.per_target["llama-70b"] == pytest.approx(llama_call + 0.08 * 0.50)  # ~$0.048
    assert lead.per_target["claude-sonnet"] == pytest.approx(sonnet_call + 0.03 * 0.50)  # $0.0204
    assert lead.routed_usd == pytest.approx(
        0.95 * lead.per_target["llama-70b"] + 0.05 * lead.per_target["claude-sonnet"]
    )
    # Fig. 01's lesson: the cheaper call is the dearer accepted outcome once rework is counted.
    assert lead.per_call["llama-70b"] > 0 and lead.per_target["llama-70b"] > lead.per_target["claude-sonnet"]
