"""The volume model: self-hosted steps against the API line, and the break-even above which self-hosting stays cheaper."""

from __future__ import annotations

import pytest

from inferplan.cost import PoolStep, VolumeModel


def pool(
    node_usd: float, calls_per_node: float, min_nodes: int = 1, max_nodes: int | None = None
) -> PoolStep:
    # capacity 1 call/min per node and demand 1/calls_per_node call/min per monthly call
    return PoolStep("p", node_usd, min_nodes, max_nodes, 1 / calls_per_node, 1.0)


def test_fixed_cost_only_crosses_where_savings_pay_for_it() -> None:
    model = VolumeModel(100_000, fixed_usd=1_000, per_call_usd=0.001, api_per_call_usd=0.006)
    assert model.breakeven() == pytest.approx(200_000)  # 1,000 / (0.006 - 0.001)


def test_never_when_a_full_node_costs_more_per_call_than_the_api() -> None:
    model = VolumeModel(1, 0.0, 0.0, 0.007, (pool(1_000, 100_000),))  # 0.01 a call at best
    assert model.marginal_usd_per_call == pytest.approx(0.01)
    assert model.breakeven() is None


def test_breakeven_is_where_self_hosting_stays_cheaper_not_the_first_touch() -> None:
    # 0.0105 a call against 0.01 a call on full nodes: cheaper just before each node fills, dearer just
    # after it is added, until 20 nodes; from 1,904,762 calls on it stays cheaper.
    model = VolumeModel(1, 0.0, 0.0, 0.0105, (pool(1_000, 100_000),))
    assert model.self_hosted_usd(99_000) < model.api_usd(99_000)  # the first touch, at ~95,238
    assert model.self_hosted_usd(100_001) > model.api_usd(100_001)
    breakeven = model.breakeven()
    assert breakeven == pytest.approx(20 * 1_000 / 0.0105)
    for calls in (breakeven * 1.0001, 2_000_001, 5_000_001, 10_000_001):
        assert model.self_hosted_usd(calls) <= model.api_usd(calls)


def test_nodes_step_with_volume_and_respect_min_nodes() -> None:
    step = pool(1_000, 100_000, min_nodes=2)
    assert [step.nodes(v) for v in (0, 1, 100_000, 200_000, 200_001, 450_000)] == [2, 2, 2, 2, 3, 5]
    model = VolumeModel(1, 500.0, 0.0, 0.02, (step,))
    assert model.self_hosted_usd(250_000) == pytest.approx(500 + 3 * 1_000)
    assert model.steps(350_000) == pytest.approx([200_000, 300_000])


def test_a_pool_without_capacity_figures_stays_at_its_size() -> None:
    fixed = PoolStep("p", 1_000, 1, 3, 0.0, 0.0, fixed_nodes=2)
    model = VolumeModel(1, 0.0, 0.0, 0.01, (fixed,))
    assert model.self_hosted_usd(10**9) == pytest.approx(2_000)
    assert model.breakeven() == pytest.approx(200_000)


def test_two_pools_step_independently() -> None:
    a, b = PoolStep("a", 1_000, 1, None, 1 / 100_000, 1.0), PoolStep("b", 3_000, 1, None, 1 / 1_000_000, 1.0)
    model = VolumeModel(1, 0.0, 0.0, 0.02, (a, b))
    assert model.nodes(150_000) == {"a": 2, "b": 1}
    # a adds a node every 100k calls (+1,000), the API adds 2,000 per 100k: 4 a + 1 b = 7,000 at 350,000
    assert model.breakeven() == pytest.approx(350_000)
    assert model.self_hosted_usd(350_000) == pytest.approx(model.api_usd(350_000))
