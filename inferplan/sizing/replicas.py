"""From the spec's models, pools and workloads to ModelPlan / PoolPlan: demand, replicas, nodes, shapes.

Demand of a model is the busiest minute of the workloads routed to it (`route == model name`):
calls_per_day / 1440 x autoscaling.peak_to_average. Fallback traffic that lands on a self-hosted
model is not counted (the fallback absorbs overflow; it is not planned for). The token mix is the
call-weighted average of those workloads; the SLO the strictest TTFT and TPOT among them. A model
no workload routes to is sized for a 1000-in / 1000-out mix (the calibration table's standard) and
needs no replica beyond the pool's min_nodes.

`instance_type: auto` tries every catalog shape with an on-demand price in the stack's region and
keeps the cheapest (price x nodes needed, at least min_nodes) that fits every model of the pool,
meets their SLOs and stays within max_nodes (or autoscaling.max_nodes_per_pool). When none carries
the peak within that limit, the cheapest that fits and meets the SLOs is kept and the reason says so
(the `autoscaler-capacity` rule decides what that means); when none fits at all, it is an error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from inferplan.catalog import Catalog, GpuEntry, InstanceEntry, ModelEntry, Precision
from inferplan.catalog.efficiency import Efficiency, builtin_efficiency
from inferplan.errors import SpecInputError
from inferplan.plan import ModelPlan, PoolPlan
from inferplan.sizing.memory import checkpoint_gib
from inferplan.sizing.split import Sizing, size_model
from inferplan.sizing.throughput import Slo, TokenMix
from inferplan.sizing.vllm_args import vllm_args
from inferplan.spec import Model, Platform, Pool, Workload, did_you_mean

MINUTES_PER_DAY = 1440
DEFAULT_MIX = TokenMix(1000, 1000)
AUTO = "auto"


@dataclass(frozen=True)
class Demand:
    """What the routed workloads ask of one model at peak."""

    peak_calls_per_min: float
    mix: TokenMix
    slo: Slo


def routed_workloads(platform: Platform, model_name: str) -> tuple[Workload, ...]:
    return tuple(w for w in platform.workloads if w.route == model_name)


def demand(platform: Platform, model_name: str) -> Demand:
    """Peak calls per minute: each workload at its own `peak_to_average` (else the stack's), summed.

    Summing per-workload peaks assumes their busiest hours coincide: safe for sizing, never short.
    """
    workloads = routed_workloads(platform, model_name)
    calls = sum(w.calls_per_day for w in workloads)
    default_factor = platform.autoscaling.peak_to_average
    peak = sum(
        w.calls_per_day / MINUTES_PER_DAY * (default_factor if w.peak_to_average is None else w.peak_to_average)
        for w in workloads
    )
    if calls > 0:
        mix = TokenMix(
            sum(w.calls_per_day * w.input_tokens for w in workloads) / calls,
            sum(w.calls_per_day * w.output_tokens for w in workloads) / calls,
        )
    else:
        mix = DEFAULT_MIX
    slos = [w.latency_slo_ms for w in workloads if w.latency_slo_ms is not None]
    ttfts = [s.ttft for s in slos if s.ttft is not None]
    tpots = [s.tpot for s in slos if s.tpot is not None]
    return Demand(peak, mix, Slo(min(ttfts) if ttfts else None, min(tpots) if tpots else None))


def _index(names: Sequence[str], name: str) -> int:
    """Where a named entry sits in its spec list, for a `models[1].model`-style error path."""
    return names.index(name)


def _catalog_model(platform: Platform, catalog: Catalog, spec: Model) -> tuple[ModelEntry, Precision, int]:
    entry = catalog.models.get(spec.model)
    where = ("models", _index([m.name for m in platform.models], spec.name))
    if entry is None:
        raise SpecInputError(
            (*where, "model"),
            f"'{spec.model}' is not in the catalog{did_you_mean(spec.model, list(catalog.models))} "
            "(add it under `catalog.models` in the stack)",
        )
    precision = spec.quantization or entry.native_precision
    if precision not in entry.quantizations:
        raise SpecInputError(
            (*where, "quantization"),
            f"{entry.id} is not available in {precision} (choose one of {', '.join(entry.quantizations)})",
        )
    context = spec.max_context or entry.max_context
    if context > entry.max_context:
        raise SpecInputError(
            (*where, "max_context"), f"{context} exceeds the model's own maximum {entry.max_context}"
        )
    return entry, precision, context


def _check_calls_fit_context(platform: Platform, spec: Model, context: int) -> None:
    """A call longer than the served context can never be answered by the model it is routed to."""
    for w in routed_workloads(platform, spec.name):
        if w.input_tokens + w.output_tokens > context:
            raise SpecInputError(
                ("workloads", _index([x.name for x in platform.workloads], w.name), "output_tokens"),
                f"input_tokens + output_tokens = {w.input_tokens + w.output_tokens} exceed "
                f"models.{spec.name}.max_context {context} (raise max_context or shorten the calls)",
            )


def _instance(platform: Platform, catalog: Catalog, pool: Pool) -> tuple[InstanceEntry, GpuEntry]:
    where = ("pools", _index([p.name for p in platform.pools], pool.name), "instance_type")
    instance = catalog.instances.get(pool.instance_type)
    if instance is None:
        raise SpecInputError(
            where,
            f"'{pool.instance_type}' is not in the catalog"
            f"{did_you_mean(pool.instance_type, [*catalog.instances, AUTO])}",
        )
    gpu = catalog.gpus.get(instance.gpu)
    if gpu is None:
        raise SpecInputError(where, f"GPU '{instance.gpu}' of {instance.instance_type} is unknown")
    return instance, gpu


@dataclass(frozen=True)
class _Sized:
    spec: Model
    entry: ModelEntry
    demand: Demand
    sizing: Sizing

    @property
    def replicas_needed(self) -> int:
        per_replica = self.sizing.replica.calls_per_min
        if not self.sizing.fits or self.demand.peak_calls_per_min <= 0 or per_replica <= 0:
            return 0
        return math.ceil(self.demand.peak_calls_per_min / per_replica - 1e-9)

    @property
    def nodes_needed(self) -> int:
        replicas = self.sizing.replicas
        return math.ceil(self.replicas_needed / replicas) if replicas else 0


def _size_on(
    specs: Sequence[tuple[Model, ModelEntry, Precision, int, Demand]],
    instance: InstanceEntry,
    gpu: GpuEntry,
    factors: Efficiency,
) -> list[_Sized]:
    return [
        _Sized(
            spec,
            entry,
            need,
            size_model(
                entry,
                gpu,
                instance.gpus,
                precision,
                need.mix,
                context,
                spec.gpu_memory_utilization,
                need.slo,
                factors=factors,
            ),
        )
        for spec, entry, precision, context, need in specs
    ]


def _node_limit(platform: Platform, pool: Pool) -> int:
    return pool.max_nodes if pool.max_nodes is not None else platform.autoscaling.max_nodes_per_pool


def _choose_shape(
    platform: Platform,
    catalog: Catalog,
    pool: Pool,
    specs: Sequence[tuple[Model, ModelEntry, Precision, int, Demand]],
    factors: Efficiency,
) -> tuple[InstanceEntry, GpuEntry, list[_Sized], str]:
    limit = _node_limit(platform, pool)
    carrying: list[tuple[float, int, str, InstanceEntry, GpuEntry, list[_Sized]]] = []
    fitting: list[tuple[float, int, str, InstanceEntry, GpuEntry, list[_Sized]]] = []
    for instance in catalog.instances.values():
        price = catalog.instance_price(instance.instance_type, platform.region)
        gpu = catalog.gpus.get(instance.gpu)
        if price is None or gpu is None:
            continue
        sized = _size_on(specs, instance, gpu, factors)
        if not all(s.sizing.meets_slo for s in sized):
            continue
        nodes = max(pool.min_nodes, sum(s.nodes_needed for s in sized), 1)
        key = (price.usd_per_hour * nodes, instance.gpus, instance.instance_type, instance, gpu, sized)
        fitting.append(key)
        if nodes <= limit:
            carrying.append(key)
    if carrying:
        _, _, _, instance, gpu, sized = min(carrying, key=lambda k: k[:3])
        return instance, gpu, sized, ""
    if fitting:
        _, _, _, instance, gpu, sized = min(fitting, key=lambda k: k[:3])
        return instance, gpu, sized, f"instance_type auto: no shape carries the peak within {limit} nodes"
    names = ", ".join(spec.name for spec, *_ in specs) or "(no models)"
    raise SpecInputError(
        ("pools", _index([p.name for p in platform.pools], pool.name), "instance_type"),
        f"auto found no EC2 shape with an on-demand price in {platform.region} that fits {names} within "
        "its latency SLO (name an instance_type, lower max_context or quantization, or add a price under "
        "`catalog.instance_prices`)",
    )


def _model_plan(pool: Pool, instance: InstanceEntry, sized: _Sized, extra_reason: str) -> ModelPlan:
    s = sized.sizing
    reason = "; ".join(r for r in (s.reason, extra_reason) if r)
    return ModelPlan(
        name=sized.spec.name,
        model_id=sized.entry.id,
        pool=pool.name,
        instance_type=instance.instance_type,
        quantization=s.quantization,
        max_context=s.max_context,
        fits=s.fits,
        tensor_parallel=s.tensor_parallel,
        replicas_per_node=s.replicas,
        weights_gib=round(s.memory.weights_gib, 2),
        kv_cache_gib=round(max(s.memory.kv_cache_gib, 0.0), 2),
        max_concurrency=s.memory.max_concurrency,
        output_tokens_per_s=round(s.output_tokens_per_s, 1),
        calls_per_min=round(s.calls_per_min, 1),
        peak_calls_per_min=round(sized.demand.peak_calls_per_min, 1),
        replicas_needed=sized.replicas_needed,
        nodes_needed=sized.nodes_needed,
        vllm_args=vllm_args(sized.spec.name, sized.entry, s),
        reason=reason,
        meets_slo=s.meets_slo,
        max_num_seqs=max(1, s.replica.batch) if s.fits else 0,
    )


def root_volume_gib(entries: Sequence[ModelEntry], factors: Efficiency | None = None) -> int:
    """Root EBS volume of a node: the checkpoints it downloads + the vLLM image + AMI and cache headroom."""
    f = factors or builtin_efficiency()
    weights = sum(checkpoint_gib(e) for e in entries)
    return math.ceil(weights + f.container_image_gib + f.root_volume_headroom_gib)


def plan_models(
    platform: Platform, catalog: Catalog, factors: Efficiency | None = None
) -> tuple[tuple[ModelPlan, ...], tuple[PoolPlan, ...]]:
    """Size every model of the spec on its pool's shape (choosing the shape where it is `auto`)."""
    f = factors or builtin_efficiency()
    model_plans: list[ModelPlan] = []
    pool_plans: list[PoolPlan] = []
    for pool in platform.pools:
        specs = [
            (spec, *_catalog_model(platform, catalog, spec), demand(platform, spec.name))
            for spec in platform.models
            if spec.pool == pool.name
        ]
        for spec, _, _, context, _ in specs:
            _check_calls_fit_context(platform, spec, context)
        if pool.instance_type == AUTO:
            instance, gpu, sized, note = _choose_shape(platform, catalog, pool, specs, f)
        else:
            instance, gpu = _instance(platform, catalog, pool)
            sized, note = _size_on(specs, instance, gpu, f), ""
        plans = [_model_plan(pool, instance, s, note) for s in sized]
        for plan in plans:
            if not plan.fits:  # no node count fixes it: an input error, not a capacity advisory
                raise SpecInputError(
                    ("models", _index([m.name for m in platform.models], plan.name), "model"),
                    f"{plan.model_id} ({plan.quantization}) does not fit on pool '{pool.name}' "
                    f"({instance.instance_type}): {plan.reason} (lower max_context or quantization, or "
                    "pick a larger instance_type or `auto`)",
                )
        model_plans.extend(plans)
        pool_plans.append(
            PoolPlan(
                name=pool.name,
                instance_type=instance.instance_type,
                gpu=gpu.gpu,
                gpus_per_node=instance.gpus,
                capacity=pool.capacity,
                min_nodes=pool.min_nodes,
                max_nodes=pool.max_nodes,
                warm_pool=pool.warm_pool,
                on_demand_base=pool.on_demand_base,
                nodes_needed=max(pool.min_nodes, sum(p.nodes_needed for p in plans)),
                root_volume_gib=root_volume_gib([s.entry for s in sized], f),
                models=tuple(p.name for p in plans),
            )
        )
    return tuple(model_plans), tuple(pool_plans)
