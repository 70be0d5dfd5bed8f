"""Buy instead of rent: seed 003's 8x H200 ladder reproduced from a stack, payback, located errors."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from inferplan.cost import estimate
from inferplan.cost.buy import Figure, OwnedPool
from inferplan.cost.model import Costs
from inferplan.errors import SpecInputErrors
from tests.conftest import stack_config
from tests.cost.conftest import plan_of

# Seed 003: 8x H200 bought at $400,000, written off over four years.
DEPRECIATION = 8_333.33  # 400,000 / 48
POWER = 1_087.116  # 10.2 kW x 730 h x $0.146/kWh (EIA US commercial average)
COLO = 2_216.46  # 10.2 kW x $217.30 per kW-month (CBRE, Q1 2025)
SUPPORT = 3_333.33  # 400,000 x 10% a year / 12
AWS_RENT = 46_206.08  # p5en.48xlarge on demand: 63.296/h x 730 h


def h200_stack(**buy: Any) -> dict[str, Any]:
    """dev's one pool on an 8x H200 shape (p5en.48xlarge), with `cost.buy`."""
    config = stack_config("dev")
    platform = config["inferplan:platform"]
    platform["pools"][0]["instance_type"] = "p5en.48xlarge"
    platform["budget"] = {"monthly_usd": 100_000, "hard_cap_usd": 200_000}
    platform["cost"]["buy"] = buy
    return config


@cache
def seed_003() -> Costs:
    return estimate(plan_of("dev", h200_stack(node_price_usd={"p5en.48xlarge": 400_000})))


def test_seed_003_eight_h200_bought_at_400k_is_8333_a_month_of_depreciation() -> None:
    (owned,) = seed_003().buy.pools  # type: ignore[union-attr]
    assert (owned.pool, owned.instance_type, owned.nodes) == ("l40s", "p5en.48xlarge", 1)
    assert owned.depreciation_monthly_usd == pytest.approx(DEPRECIATION, abs=0.01)
    assert owned.power_monthly_usd == pytest.approx(POWER, abs=0.001)
    assert owned.colo_monthly_usd == pytest.approx(COLO, abs=0.001)
    assert owned.support_monthly_usd == pytest.approx(SUPPORT, abs=0.01)
    assert owned.financing_monthly_usd == 0
    assert owned.monthly_usd == pytest.approx(DEPRECIATION + POWER + COLO + SUPPORT, abs=0.02)


def test_seed_003_beside_the_aws_rent_of_the_same_node_and_api_only() -> None:
    costs = seed_003()
    (owned,) = costs.buy.pools  # type: ignore[union-attr]
    assert dict(owned.rent_parts)["on-demand"] == pytest.approx(AWS_RENT)
    pool_lines = [ln for ln in costs.lines if ln.pool == "l40s" and ln.bucket == "cloud_gpu"]
    assert owned.rent_monthly_usd == pytest.approx(sum(ln.monthly_usd for ln in pool_lines))
    # ticket-triage: 95% of its calls on the pool; API-only sends it to claude-haiku-4-5 ($1 in / $5 out).
    haiku = 4000 * 730 / 24 * (600 * 1 + 80 * 5) / 1e6
    assert owned.api_only_monthly_usd == pytest.approx(0.95 * haiku)
    assert owned.payback_months_vs_api_only is None  # the API costs less than running the node: never


def test_the_deployed_plan_rents_and_the_buy_scenario_moves_the_nodes_to_owned_hardware() -> None:
    costs = seed_003()
    assert costs.buckets["owned_hardware"] == 0
    assert any("owned_hardware: this plan rents every node on AWS" in a for a in costs.assumptions)
    buy = costs.buy
    assert buy is not None
    (owned,) = buy.pools
    assert buy.monthly_usd == pytest.approx(owned.monthly_usd)
    assert buy.plan_monthly_usd == pytest.approx(
        costs.monthly_expected_usd - owned.rent_monthly_usd + owned.monthly_usd
    )
    payload = costs.to_json()["buy"]
    assert set(payload["pools"][0]) >= {
        "pool", "nodes", "depreciation_monthly_usd", "power_monthly_usd", "colo_monthly_usd",
        "support_monthly_usd", "monthly_usd", "payback_months", "payback_months_vs_api_only",
    }  # fmt: skip
    assert payload["pools"][0]["depreciation_monthly_usd"] == 8333.33


def test_without_cost_buy_there_is_no_buy_scenario() -> None:
    costs = estimate(plan_of("dev"))
    assert costs.buy is None and costs.to_json()["buy"] is None


def test_financing_is_simple_interest_on_the_price() -> None:
    costs = estimate(
        plan_of("dev", h200_stack(node_price_usd={"p5en.48xlarge": 400_000}, financing_rate=0.06))
    )
    (owned,) = costs.buy.pools  # type: ignore[union-attr]
    assert owned.financing_monthly_usd == pytest.approx(2_000)  # 400,000 x 6% / 12


def test_stack_settings_replace_the_catalog_defaults() -> None:
    costs = estimate(
        plan_of(
            "dev",
            h200_stack(
                depreciation_months=36,
                power_kw_per_node={"p5en.48xlarge": 8.0},
                usd_per_kwh=0.20,
                colo_usd_per_kw_month=150,
                support_share=0.15,
            ),
        )
    )
    (owned,) = costs.buy.pools  # type: ignore[union-attr]
    # No node price given: the catalog's 400,000 (seed 003's OEM/HGX high end).
    assert owned.depreciation_monthly_usd == pytest.approx(400_000 / 36)
    assert owned.power_monthly_usd == pytest.approx(8.0 * 730 * 0.20)  # 1,168
    assert owned.colo_monthly_usd == pytest.approx(1_200)  # 8 kW x 150
    assert owned.support_monthly_usd == pytest.approx(5_000)  # 400,000 x 15% / 12


def figure(value: float) -> Figure:
    return Figure(value, "hand", "stack")


def owned(rent: float, api_only: float | None, power: float = 1_000.0) -> OwnedPool:
    return OwnedPool(
        pool="p", instance_type="x", nodes=2, node_price=figure(100_000), power_kw=figure(10),
        purchase_usd=200_000, depreciation_monthly_usd=4_000, power_monthly_usd=power, colo_monthly_usd=500,
        support_monthly_usd=300, financing_monthly_usd=200, rent_monthly_usd=rent, rent_parts=(),
        api_only_monthly_usd=api_only,
    )  # fmt: skip


def test_payback_is_the_purchase_over_the_monthly_saving_once_running() -> None:
    pool = owned(rent=22_000, api_only=12_000)
    assert pool.running_monthly_usd == 2_000
    assert pool.payback_months == pytest.approx(10.0)  # 200,000 / (22,000 - 2,000)
    assert pool.payback_months_vs_api_only == pytest.approx(20.0)  # 200,000 / (12,000 - 2,000)


def test_no_saving_means_no_payback() -> None:
    assert owned(rent=2_000, api_only=1_000).payback_months is None  # saves exactly nothing
    assert owned(rent=2_000, api_only=None).payback_months_vs_api_only is None


def test_a_shape_without_a_purchase_price_is_a_located_error() -> None:
    config = stack_config("dev")  # g6e.xlarge: no owned_hardware.csv row
    config["inferplan:platform"]["cost"]["buy"] = {}
    with pytest.raises(SpecInputErrors) as caught:
        plan_of("dev", config)
    (error,) = caught.value.errors
    assert error.path == ("cost", "buy", "node_price_usd")
    assert "no purchase price for a node like g6e.xlarge (pool 'l40s'" in error.message
    assert "add g6e.xlarge: <USD per node>" in error.message


def test_a_price_without_a_power_draw_is_a_located_error() -> None:
    config = stack_config("dev")
    config["inferplan:platform"]["cost"]["buy"] = {"node_price_usd": {"g6e.xlarge": 12_000}}
    with pytest.raises(SpecInputErrors) as caught:
        plan_of("dev", config)
    (error,) = caught.value.errors
    assert error.path == ("cost", "buy", "power_kw_per_node")


def test_a_misspelt_shape_is_refused_with_a_suggestion() -> None:
    with pytest.raises(SpecInputErrors) as caught:
        plan_of("dev", h200_stack(node_price_usd={"p5en.48xlarg": 400_000}))
    (error,) = caught.value.errors
    assert error.path == ("cost", "buy", "node_price_usd", "p5en.48xlarg")
    assert "did you mean 'p5en.48xlarge'?" in error.message
