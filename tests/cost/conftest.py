"""Cost-engine test helpers: plans from example stacks or edited configs, with hand-made sizing.

The sizing engine fills Plan.pools / Plan.models; tests that must not depend on its numbers attach
hand-written PoolPlan/ModelPlan rows with `with_sizing`, so the expected money is computed by hand.
"""

from __future__ import annotations

import math
from typing import Any

from inferplan import planner
from inferplan.plan import ModelPlan, Plan, PoolPlan
from inferplan.planner import build_plan
from inferplan.preflight.prices_cache import PriceCache
from inferplan.sizing.replicas import PoolSizing
from inferplan.spec import Platform
from tests.conftest import stack_config


def platform_of(config: dict[str, Any]) -> Platform:
    return Platform.model_validate(config["inferplan:platform"])


def plan_of(stack: str, config: dict[str, Any] | None = None, prices_cache: PriceCache | None = None) -> Plan:
    """build_plan on an example stack, or on an edited copy of its config."""
    platform = platform_of(config if config is not None else stack_config(stack))
    return build_plan(stack, platform, prices_cache=prices_cache)


def pool_plan(plan: Plan, name: str, nodes_needed: int, root_volume_gib: int = 200) -> PoolPlan:
    """The planner's own pool decisions, on a hand-picked node count and root volume."""
    spec = plan.platform.pool(name)
    shape = plan.catalog.instances[spec.instance_type]
    sizing = PoolSizing(
        name=name,
        instance_type=spec.instance_type,
        gpu=shape.gpu,
        gpus_per_node=shape.gpus,
        nodes_needed=nodes_needed,
        root_volume_gib=root_volume_gib,
        engine_slots=64,
        models=tuple(m.name for m in plan.platform.models if m.pool == name),
    )
    return planner.pool_plan(plan.stack, plan.platform, spec, sizing)


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
    """The plan with these pools and models (replacing whatever sizing produced), intents re-derived."""
    return planner.resize(plan, models, pools)
