"""Cost-engine test helpers: plans from example stacks or edited configs, with hand-made sizing.

The sizing engine fills Plan.pools / Plan.models; tests that must not depend on its numbers attach
hand-written PoolPlan/ModelPlan rows with `with_sizing`, so the expected money is computed by hand.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any

import pytest

from inferplan.plan import ModelPlan, Plan, PoolPlan, build_plan
from inferplan.preflight.prices_cache import CACHE_ENV
from inferplan.spec import Platform
from tests.conftest import stack_config


def platform_of(config: dict[str, Any]) -> Platform:
    return Platform.model_validate(config["inferplan:platform"])


def plan_of(stack: str, config: dict[str, Any] | None = None) -> Plan:
    """build_plan on an example stack, or on an edited copy of its config."""
    return build_plan(stack, platform_of(config if config is not None else stack_config(stack)))


def pool_plan(plan: Plan, name: str, nodes_needed: int, root_volume_gib: int = 200) -> PoolPlan:
    spec = plan.platform.pool(name)
    shape = plan.catalog.instances[spec.instance_type]
    return PoolPlan(
        name=name,
        instance_type=spec.instance_type,
        gpu=shape.gpu,
        gpus_per_node=shape.gpus,
        capacity=spec.capacity,
        min_nodes=spec.min_nodes,
        max_nodes=spec.max_nodes,
        warm_pool=spec.warm_pool,
        on_demand_base=spec.on_demand_base,
        nodes_needed=nodes_needed,
        root_volume_gib=root_volume_gib,
        models=tuple(m.name for m in plan.platform.models if m.pool == name),
    )


def model_plan(
    plan: Plan, name: str, calls_per_min: float, peak_calls_per_min: float, nodes: int
) -> ModelPlan:
    spec = plan.platform.model(name)
    assert spec is not None
    pool = plan.platform.pool(spec.pool)
    return ModelPlan(
        name=name,
        model_id=spec.model,
        pool=spec.pool,
        instance_type=pool.instance_type,
        quantization=spec.quantization or "bf16",
        max_context=spec.max_context or 8192,
        fits=True,
        tensor_parallel=1,
        replicas_per_node=1,
        weights_gib=100.0,
        kv_cache_gib=20.0,
        max_concurrency=64,
        output_tokens_per_s=2000.0,
        calls_per_min=calls_per_min,
        peak_calls_per_min=peak_calls_per_min,
        replicas_needed=nodes,
        nodes_needed=nodes,
        vllm_args=(),
    )


def hand_sized(plan: Plan, calls_per_min: float = 300.0) -> Plan:
    """Every pool sized by hand: nodes = max(min_nodes, ceil(peak / calls_per_min)), 200 GiB roots."""
    pools, models = [], []
    factor = plan.platform.autoscaling.peak_to_average
    for spec in plan.platform.models:
        peak = 0.0
        for w in plan.platform.workloads:
            share = w.fallback_rate if w.fallback else 0.0
            if w.route == spec.name:
                peak += w.calls_per_day / 1440 * factor * (1 - share)
            if w.fallback == spec.name:
                peak += w.calls_per_day / 1440 * factor * share
        pool = plan.platform.pool(spec.pool)
        nodes = max(pool.min_nodes, math.ceil(peak / calls_per_min))
        pools.append(pool_plan(plan, spec.pool, nodes))
        models.append(model_plan(plan, spec.name, calls_per_min, peak, nodes))
    return with_sizing(plan, tuple(pools), tuple(models))


def with_sizing(plan: Plan, pools: tuple[PoolPlan, ...], models: tuple[ModelPlan, ...]) -> Plan:
    """The plan with these pools and models (replacing whatever sizing produced)."""
    names = {f.name for f in fields(Plan)}
    if {"pools", "models"} <= names:
        return replace(plan, pools=pools, models=models)
    raise AssertionError("Plan has no pools/models fields yet: the sizing engine has not landed")


@pytest.fixture(autouse=True)
def no_local_price_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cost tests price from the shipped catalog, not from a cache someone refreshed on this machine."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("cache") / "prices.json"))
