"""Commitments on a pool's min_nodes (RI, Savings Plans, Capacity Blocks) and spot by shape, by hand."""

from __future__ import annotations

from typing import Any

import pytest

from inferplan.cost import PricingContext, estimate, price_record
from inferplan.cost.engine import breakeven_model
from inferplan.errors import SpecInputError, SpecInputErrors
from inferplan.pricebook import PriceBook
from inferplan.resources import ResourceRecord
from inferplan.stackfile import SpecErrors, read_stack
from tests.conftest import stack_config
from tests.cost.conftest import plan_of

HOURS = 730


def asg(
    pool: str,
    itype: str,
    low: int,
    high: int,
    desired: int,
    purchase: str | None = None,
    base: int | None = None,
) -> ResourceRecord:
    tags = [{"key": "inferplan:pool", "value": pool, "propagateAtLaunch": True}]
    if purchase:
        tags.append({"key": "inferplan:purchase", "value": purchase, "propagateAtLaunch": True})
    inputs: dict[str, Any] = {"minSize": low, "maxSize": high, "desiredCapacity": desired, "tags": tags}
    if base is None:
        inputs["mixedInstancesPolicy"] = {
            "instancesDistribution": {"onDemandPercentageAboveBaseCapacity": 100},
            "launchTemplate": {"overrides": [{"instanceType": itype}]},
        }
    else:
        inputs["mixedInstancesPolicy"] = {
            "instancesDistribution": {"onDemandBaseCapacity": base, "onDemandPercentageAboveBaseCapacity": 0},
            "launchTemplate": {"overrides": [{"instanceType": itype}]},
        }
    return ResourceRecord("aws:autoscaling/group:Group", f"{pool}-asg", inputs)


def priced(record: ResourceRecord, region: str = "us-east-1", hours: float = HOURS, nodes: int | None = None):
    ctx = PricingContext(
        prices=PriceBook.builtin(region),
        hours_per_month=hours,
        records=(record,),
        pool_nodes={} if nodes is None else {record.tag("inferplan:pool") or "": nodes},
    )
    return {ln.item: ln for ln in price_record(record, ctx)}


# -- the price book ---------------------------------------------------------------------------


def test_commitment_rate_is_the_catalog_row_with_its_source_and_date() -> None:
    rate = PriceBook.builtin("us-east-1").commitment_hour("p5.48xlarge", "savings_plan_1y")
    assert rate is not None and rate.usd == pytest.approx(34.6752)
    assert "nativ-x/fsku" in rate.source and rate.as_of == "2026-09-25" and not rate.estimated


def test_a_region_without_its_own_rate_scales_the_us_east_1_rate_like_on_demand() -> None:
    # p5.48xlarge has no eu-central-1 row of any kind: on demand is us-east-1 x 1.25, and so is the RI.
    rate = PriceBook.builtin("eu-central-1").commitment_hour("p5.48xlarge", "reserved_3y")
    assert rate is not None and rate.estimated
    assert rate.usd == pytest.approx(23.77728 * 1.25)
    assert "on-demand price" in rate.note


def test_a_region_with_its_own_rate_reads_it() -> None:
    rate = PriceBook.builtin("eu-central-1").commitment_hour("g5.xlarge", "reserved_1y")
    assert rate is not None and rate.usd == pytest.approx(0.79254) and not rate.estimated


def test_capacity_blocks_are_never_scaled_to_another_region() -> None:
    book = PriceBook.builtin("eu-central-1")
    assert book.commitment_hour("p5.48xlarge", "capacity_block") is None
    block = PriceBook.builtin("us-east-1").commitment_hour("p5.48xlarge", "capacity_block")
    assert block is not None and block.usd == pytest.approx(41.528) and block.min_hours == 24


def test_no_one_year_ri_for_p5_anywhere_and_the_book_says_none() -> None:
    assert PriceBook.builtin("us-east-1").commitment_hour("p5.48xlarge", "reserved_1y") is None


def test_a_stack_override_sets_a_commitment_rate() -> None:
    book = PriceBook.builtin("us-east-1", overrides={"commit:reserved_1y:p5.48xlarge": 33.0})
    rate = book.commitment_hour("p5.48xlarge", "reserved_1y")
    assert rate is not None and rate.usd == 33.0 and rate.source == "stack override (cost.prices)"


def test_a_misspelt_commitment_override_is_refused() -> None:
    with pytest.raises(SpecInputError) as caught:
        PriceBook.builtin("us-east-1", overrides={"commit:reserved_2y:p5.48xlarge": 33.0})
    assert caught.value.path == ("cost", "prices", "commit:reserved_2y:p5.48xlarge")
    assert "prices nothing" in caught.value.message


# -- the pricing function -----------------------------------------------------------------------


def test_committed_min_nodes_at_the_rate_and_the_rest_on_demand() -> None:
    # g6e.xlarge us-east-1: on demand 1.861/h, 1-year RI no upfront 1.17243/h. 2 committed of 3 expected, 5 max.
    lines = priced(asg("l40s", "g6e.xlarge", 2, 5, 3, "reserved_1y"), nodes=3)
    committed = lines["g6e.xlarge reserved_1y (min_nodes)"]
    assert committed.monthly_usd == pytest.approx(2 * 730 * 1.17243)  # 1,711.7478
    assert committed.worst_case_usd == pytest.approx(2 * 730 * 1.17243)  # paid whether used or not
    assert "tsaol/aws-gpu" in committed.source and committed.as_of == "2025-11-30"
    on_demand = lines["g6e.xlarge on-demand"]
    assert on_demand.monthly_usd == pytest.approx(1 * 730 * 1.861)
    assert on_demand.worst_case_usd == pytest.approx(3 * 730 * 1.861)


def test_mixed_pool_commits_its_base_and_runs_the_rest_on_spot() -> None:
    # 1 committed (= on_demand_base), 3 expected, 4 max; spot at the catalog's 50% default for g6e.xlarge.
    lines = priced(asg("l40s", "g6e.xlarge", 1, 4, 3, "reserved_1y", base=1), nodes=3)
    assert set(lines) == {"g6e.xlarge reserved_1y (min_nodes)", "g6e.xlarge spot"}
    assert lines["g6e.xlarge reserved_1y (min_nodes)"].monthly_usd == pytest.approx(730 * 1.17243)
    spot = lines["g6e.xlarge spot"]
    assert spot.monthly_usd == pytest.approx(2 * 730 * 0.9305)
    assert spot.worst_case_usd == pytest.approx(3 * 730 * 1.861)  # spot hours at on-demand in the worst case


def test_a_capacity_block_bills_its_minimum_hours() -> None:
    # A 12-hour "month": a block still bills 24 hours a node at 41.528/h.
    lines = priced(asg("h100", "p5.48xlarge", 1, 1, 1, "capacity_block"), hours=12, nodes=1)
    block = lines["p5.48xlarge capacity_block (min_nodes)"]
    assert block.quantity == 24 and block.monthly_usd == pytest.approx(996.672)
    assert "182 days" in block.note


def test_a_commitment_without_a_rate_is_an_unpriced_line_on_the_records_path() -> None:
    lines = priced(asg("h100", "p5.48xlarge", 1, 2, 1, "reserved_1y"), nodes=1)
    line = lines["p5.48xlarge reserved_1y (min_nodes) (no price)"]
    assert not line.priced and "commit:reserved_1y:p5.48xlarge" in line.note


def test_spot_on_a_shape_with_a_spot_advisor_row_states_discount_and_interruption() -> None:
    lines = priced(asg("h100", "p5.48xlarge", 1, 2, 1, base=0), nodes=1)
    spot = lines["p5.48xlarge spot"]
    assert spot.unit_usd == pytest.approx(55.04 * 0.43)  # 57% off
    assert "p5.48xlarge 57% off on-demand, interrupted <5% of the time" in spot.note
    assert "2026-09-20" in spot.note


def test_spot_on_a_shape_without_a_row_says_the_interruption_rate_is_unknown() -> None:
    spot = priced(asg("l40s", "g6e.xlarge", 1, 2, 1, base=0), nodes=1)["g6e.xlarge spot"]
    assert "50% off on-demand, interruption rate unknown" in spot.note


# -- the plan -----------------------------------------------------------------------------------


def committed_dev(purchase: str, min_nodes: int = 2) -> dict[str, Any]:
    config = stack_config("dev")
    pool = config["inferplan:platform"]["pools"][0]
    pool.update(min_nodes=min_nodes, max_nodes=3, purchase=purchase)
    config["inferplan:platform"]["autoscaling"]["max_nodes_per_pool"] = 3
    return config


def test_a_reserved_pool_costs_less_than_on_demand_by_the_catalog_rate() -> None:
    on_demand = estimate(plan_of("dev", committed_dev("on_demand")))
    reserved = estimate(plan_of("dev", committed_dev("reserved_1y")))
    saving = (1.861 - 1.17243) * 2 * 730  # (on demand - RI) x min_nodes x hours = 1,005.3122
    assert on_demand.monthly_expected_usd - reserved.monthly_expected_usd == pytest.approx(saving)
    assert on_demand.monthly_worst_case_usd - reserved.monthly_worst_case_usd == pytest.approx(saving)
    (line,) = [ln for ln in reserved.lines if "reserved_1y" in ln.item]
    assert line.item == "g6e.xlarge reserved_1y (min_nodes)"
    assert "tsaol/aws-gpu" in line.source and line.as_of == "2025-11-30" and line.unit_usd == 1.17243


def test_the_plan_states_the_commitment_among_its_assumptions() -> None:
    costs = estimate(plan_of("dev", committed_dev("reserved_1y")))
    assert any("pool l40s: its 2 min_nodes node(s) under reserved_1y" in a for a in costs.assumptions)


def test_the_break_even_curve_passes_through_the_committed_plan() -> None:
    """The volume model prices a committed pool as the plan does at the declared volume (the committed
    nodes are a fixed part, a node more costs on demand)."""
    plan = plan_of("dev", committed_dev("reserved_1y"))
    costs, model = breakeven_model(plan)
    assert model.self_hosted_usd(model.calls_per_month) == pytest.approx(costs.monthly_expected_usd)
    (pool,) = model.pools
    volumes = sum(ln.monthly_usd for ln in costs.lines if ln.pool == "l40s" and ln.unit != "node-hour")
    assert pool.node_usd == pytest.approx(1.861 * 730 + volumes / plan.pools[0].nodes_needed)


def test_the_decision_prices_the_pool_with_its_commitment() -> None:
    reserved = plan_of("dev", committed_dev("reserved_1y")).decision
    on_demand = plan_of("dev", committed_dev("on_demand")).decision
    assert reserved.shapes == on_demand.shapes
    assert on_demand.objective_usd - reserved.objective_usd == pytest.approx((1.861 - 1.17243) * 2 * 730)


def test_a_commitment_without_a_rate_is_one_located_error_from_build_plan() -> None:
    config = stack_config("prod-eu")
    config["inferplan:platform"]["pools"][0]["purchase"] = "reserved_1y"  # h100: p5.48xlarge
    with pytest.raises(SpecInputErrors) as caught:
        plan_of("prod-eu", config)
    (error,) = caught.value.errors
    assert error.path == ("pools", 0, "purchase")
    assert error.message == (
        "no reserved_1y rate for p5.48xlarge in eu-central-1 (catalog/commitments.csv has none): "
        "add cost.prices commit:reserved_1y:p5.48xlarge: <USD per node-hour>"
    )


def _errors(config: dict[str, Any]) -> list[str]:
    text = __import__("yaml").safe_dump({"config": config}, sort_keys=False)
    with pytest.raises(SpecErrors) as caught:
        read_stack(text, "stacks/Pulumi.dev.yaml", "dev")
    return [str(e) for e in caught.value.errors]


def test_a_commitment_on_spot_is_refused_where_it_is_written() -> None:
    config = committed_dev("savings_plan_1y")
    config["inferplan:platform"]["pools"][0]["capacity"] = "spot"
    (error,) = _errors(config)
    assert error.startswith("stacks/Pulumi.dev.yaml:")
    assert "pools[0].purchase: savings_plan_1y covers on-demand usage only" in error


def test_a_mixed_pool_must_run_its_committed_nodes_on_demand() -> None:
    config = committed_dev("reserved_3y")
    config["inferplan:platform"]["pools"][0].update(capacity="mixed", on_demand_base=1)
    (error,) = _errors(config)
    assert "pools[0].on_demand_base: must be >= min_nodes with purchase: reserved_3y (1 < 2)" in error


def test_a_spot_pool_states_its_discount_and_interruption_among_the_assumptions() -> None:
    config = stack_config("dev")
    config["inferplan:platform"]["pools"][0]["capacity"] = "spot"
    costs = estimate(plan_of("dev", config))
    assert (
        "pool l40s: spot: g6e.xlarge 50% off on-demand, interruption rate unknown (spot_discounts.csv, 2026-03)"
        in costs.assumptions
    )


def test_an_auto_pool_with_a_commitment_is_built_only_on_a_shape_with_a_rate() -> None:
    config = stack_config("hybrid")
    platform = config["inferplan:platform"]
    platform["pools"][0]["purchase"] = "savings_plan_1y"  # mid: instance_type auto
    platform["budget"] = {"monthly_usd": 1e6, "hard_cap_usd": 2e6}
    plan = plan_of("hybrid", config)
    (mid,) = [p for p in plan.pools if p.name == "mid"]
    # us-east-1 has Savings Plan rows for p4de, p5, p5en and p6-b200 only.
    assert mid.instance_type in {"p4de.24xlarge", "p5.48xlarge", "p5en.48xlarge", "p6-b200.48xlarge"}
    costs = estimate(plan)
    assert [ln.item for ln in costs.lines if "savings_plan_1y" in ln.item] == [
        f"{mid.instance_type} savings_plan_1y (min_nodes)"
    ]
    assert all(ln.priced for ln in costs.lines)
