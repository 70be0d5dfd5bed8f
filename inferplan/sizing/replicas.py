"""From the spec's models, pools and workloads to ModelPlan / PoolPlan: demand, replicas, nodes, shapes.

Demand of a model is the busiest minute of the workloads routed to it (`route == model name`):
calls_per_day / 1440 x autoscaling.peak_to_average. Fallback traffic that lands on a self-hosted
model is not counted (the fallback absorbs overflow; it is not planned for). The engine is sized
(tensor parallelism, batch slots) for the call-weighted average token mix, under the strictest TTFT
and TPOT among those workloads; then each workload's busiest minute is charged at what one replica
does for that workload's own mix, and the replicas needed are the sum of those shares, rounded up
(a replica time-shares its batch, so a long-prompt workload costs more of it than a short one — and
the decision engine charges a workload exactly this share). A model no workload routes to is sized
for a 1000-in / 1000-out mix (the calibration table's standard) and needs no replica.

`instance_type: auto` is resolved before sizing, by the decision engine (`inferplan.decide`), which
chooses shapes and routes in one problem priced by the plan's price book; sizing only sees shapes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from inferplan.catalog import Catalog, GpuEntry, InstanceEntry, ModelEntry, NotInCatalog, Precision
from inferplan.catalog.efficiency import Efficiency, builtin_efficiency
from inferplan.errors import SpecInputError
from inferplan.plan import ModelPlan
from inferplan.sizing.confidence import Adjustments
from inferplan.sizing.hf_config import ConfigError, read_config
from inferplan.sizing.measured import Measurement, MeasurementError, load_result
from inferplan.sizing.memory import checkpoint_gib
from inferplan.sizing.split import Sizing, size_model
from inferplan.sizing.throughput import Slo, TokenMix, replica_throughput
from inferplan.sizing.vllm_args import vllm_args
from inferplan.spec import AUTO, LatencySlo, Model, Platform, Pool, Workload, did_you_mean
from inferplan.stackfile import project_root

MINUTES_PER_DAY = 1440
DEFAULT_MIX = TokenMix(1000, 1000)


@dataclass(frozen=True)
class PoolSizing:
    """What sizing decides about one pool: its shape and the nodes its models need at peak."""

    name: str
    instance_type: str  # resolved (never "auto")
    gpu: str
    gpus_per_node: int
    nodes_needed: int  # what the models on it need at peak (0 when idle; the planner applies min_nodes)
    root_volume_gib: int
    engine_slots: int  # max_num_seqs of the engine it serves (v1: one model per pool)
    models: tuple[str, ...]


@dataclass(frozen=True)
class WorkloadDemand:
    """One workload's busiest minute and its own token mix."""

    name: str
    peak_calls_per_min: float
    mix: TokenMix


@dataclass(frozen=True)
class Demand:
    """What the routed workloads ask of one model at peak."""

    peak_calls_per_min: float
    mix: TokenMix  # call-weighted average: what the engine's parallelism and batch are sized for
    slo: Slo  # the strictest of the routed workloads'
    workloads: tuple[WorkloadDemand, ...] = ()


def peak_calls_per_min(platform: Platform, workload: Workload) -> float:
    """A workload's busiest minute: its daily volume spread over the day, times its own peak factor
    (`peak_to_average`, measured by import-usage) or else the stack's."""
    factor = (
        workload.peak_to_average
        if workload.peak_to_average is not None
        else platform.autoscaling.peak_to_average
    )
    return workload.calls_per_day / MINUTES_PER_DAY * factor


def workload_mix(workload: Workload) -> TokenMix:
    return TokenMix(workload.input_tokens, workload.output_tokens)


def strictest(slos: Sequence[LatencySlo | None]) -> Slo:
    ttfts = [s.ttft for s in slos if s is not None and s.ttft is not None]
    tpots = [s.tpot for s in slos if s is not None and s.tpot is not None]
    return Slo(min(ttfts) if ttfts else None, min(tpots) if tpots else None)


def routed_workloads(platform: Platform, model_name: str) -> tuple[Workload, ...]:
    return tuple(w for w in platform.workloads if w.route == model_name)


def demand(platform: Platform, model_name: str, engine_mix: TokenMix | None = None) -> Demand:
    """The routed workloads' busiest minute, each at its own `peak_to_average` (else the stack's),
    summed (their busiest hours taken to coincide: never short). The engine is configured for
    `engine_mix` when given (the decision engine's reference mix: that of every workload that may use
    the model), else for theirs."""
    workloads = routed_workloads(platform, model_name)
    calls = sum(w.calls_per_day for w in workloads)
    if engine_mix is not None:
        mix = engine_mix
    elif calls > 0:
        mix = TokenMix(
            sum(w.calls_per_day * w.input_tokens for w in workloads) / calls,
            sum(w.calls_per_day * w.output_tokens for w in workloads) / calls,
        )
    else:
        mix = DEFAULT_MIX
    by_workload = tuple(
        WorkloadDemand(w.name, peak_calls_per_min(platform, w), workload_mix(w)) for w in workloads
    )
    return Demand(
        sum(d.peak_calls_per_min for d in by_workload),
        mix,
        strictest([w.latency_slo_ms for w in workloads]),
        by_workload,
    )


def replica_load(
    entry: ModelEntry, gpu: GpuEntry, sizing: Sizing, need: Demand, factors: Efficiency, scale: float = 1.0
) -> float:
    """Replicas the peak keeps busy: each workload's peak over one replica's calls/min for its own mix,
    at the engine's parallelism, KV budget, batch slots and (strictest) SLO."""
    if not sizing.fits:
        return 0.0
    load = 0.0
    for wd in need.workloads:
        if wd.peak_calls_per_min <= 0:
            continue
        replica = replica_throughput(
            entry,
            gpu,
            sizing.quantization,
            sizing.tensor_parallel,
            sizing.memory.kv_cache_gib,
            wd.mix,
            need.slo,
            sizing.kv_cache_dtype,
            max_num_seqs=max(1, sizing.replica.batch),
            factors=factors,
            scale=scale,
        )
        if replica.calls_per_min <= 0:
            return math.inf
        load += wd.peak_calls_per_min / replica.calls_per_min
    return load


def _index(names: Sequence[str], name: str) -> int:
    """Where a named entry sits in its spec list, for a `models[1].model`-style error path."""
    return names.index(name)


def project_path(text: str) -> Path:
    """A path from the spec: absolute, or relative to the project directory (where Pulumi.yaml is)."""
    path = Path(text)
    return path if path.is_absolute() else project_root() / path


def model_entry(platform: Platform, catalog: Catalog, spec: Model) -> ModelEntry:
    """The architecture of a spec model: its `config_json` when given, else the catalog entry of its id."""
    where = ("models", _index([m.name for m in platform.models], spec.name))
    if spec.config_json is not None:
        try:
            return read_config(project_path(spec.config_json), spec.model)
        except ConfigError as exc:
            raise SpecInputError((*where, "config_json"), str(exc)) from None
    try:
        return catalog.find_model(spec.model)
    except NotInCatalog as exc:
        raise SpecInputError(
            (*where, "model"),
            f"{exc.message} (point `config_json` at its config.json, or add it under `catalog.models`)",
        ) from None


def catalog_model(platform: Platform, catalog: Catalog, spec: Model) -> tuple[ModelEntry, Precision, int]:
    entry = model_entry(platform, catalog, spec)
    where = ("models", _index([m.name for m in platform.models], spec.name))
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


def instance_of(platform: Platform, catalog: Catalog, pool: Pool) -> tuple[InstanceEntry, GpuEntry]:
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
    load: float  # replicas the peak keeps busy (replica_load)

    @property
    def replicas_needed(self) -> int:
        if not self.sizing.fits or self.load <= 0:
            return 0
        return math.ceil(self.load - 1e-9)

    @property
    def node_calls_per_min(self) -> float:
        """What one node carries for the routed workloads together (their own mixes, time-shared)."""
        if self.load <= 0 or not self.sizing.replicas:
            return self.sizing.calls_per_min
        return self.demand.peak_calls_per_min / self.load * self.sizing.replicas

    @property
    def nodes_needed(self) -> int:
        replicas = self.sizing.replicas
        return math.ceil(self.replicas_needed / replicas) if replicas else 0


def _size_on(
    specs: Sequence[tuple[Model, ModelEntry, Precision, int, Demand]],
    instance: InstanceEntry,
    gpu: GpuEntry,
    factors: Efficiency,
    adjust: Adjustments | None = None,
) -> list[_Sized]:
    adjust = adjust or Adjustments()
    out = []
    for spec, entry, precision, context, need in specs:
        scale = adjust.scale(spec.name, entry, gpu, factors)
        sizing = size_model(
            entry, gpu, instance.gpus, precision, need.mix, context, spec.gpu_memory_utilization, need.slo,
            factors=factors, scale=scale,
        )  # fmt: skip
        out.append(_Sized(spec, entry, need, sizing, replica_load(entry, gpu, sizing, need, factors, scale)))
    return out


def _pool_sizing(
    pool: Pool, instance: InstanceEntry, gpu: GpuEntry, sized: Sequence[_Sized], f: Efficiency
) -> PoolSizing:
    slots = [s.sizing.replica.batch for s in sized if s.sizing.fits]
    return PoolSizing(
        name=pool.name,
        instance_type=instance.instance_type,
        gpu=gpu.gpu,
        gpus_per_node=instance.gpus,
        nodes_needed=sum(s.nodes_needed for s in sized),
        root_volume_gib=root_volume_gib([s.entry for s in sized], f),
        engine_slots=max(1, max(slots)) if slots else 0,
        models=tuple(s.spec.name for s in sized),
    )


def _model_plan(
    pool: Pool, instance: InstanceEntry, gpu: GpuEntry, sized: _Sized, adjust: Adjustments
) -> ModelPlan:
    s = sized.sizing
    measured = adjust.measured_on(sized.spec.name, gpu) is not None
    notes = [s.reason]
    if sized.spec.name in adjust.measured and not measured:
        notes.append(
            f"measured on {adjust.measured[sized.spec.name].gpu.gpu}, not {gpu.gpu}: sized on the model"
        )
    reason = "; ".join(r for r in notes if r)
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
        calls_per_min=round(sized.node_calls_per_min, 1),
        peak_calls_per_min=round(sized.demand.peak_calls_per_min, 1),
        replicas_needed=sized.replicas_needed,
        nodes_needed=sized.nodes_needed,
        vllm_args=vllm_args(sized.spec.name, sized.entry, s),
        reason=reason,
        meets_slo=s.meets_slo,
        max_num_seqs=max(1, s.replica.batch) if s.fits else 0,
        throughput_basis="measured" if measured else "modeled",
        confidence=adjust.confidence,
        throughput_error=round(adjust.error_band(sized.entry), 3),
    )


def _measurement(platform: Platform, catalog: Catalog, spec: Model) -> Measurement | None:
    """The spec's measured result, read and checked now so a bad file is a located error."""
    if spec.measured is None:
        return None
    where = ("models", _index([m.name for m in platform.models], spec.name), "measured")
    entry = model_entry(platform, catalog, spec)
    pool = platform.pool(spec.pool)
    gpu_name = spec.measured.gpu
    if gpu_name is None:
        instance = catalog.instances.get(pool.instance_type)
        if instance is None:
            raise SpecInputError(
                (*where, "gpu"), f"pool '{pool.name}' has no fixed shape: name the GPU the measurement ran on"
            )
        gpu_name = instance.gpu
    try:
        gpu = catalog.find_gpu(gpu_name)
    except NotInCatalog as exc:
        raise SpecInputError((*where, "gpu"), exc.message) from None
    try:
        result = load_result(project_path(spec.measured.file))
    except MeasurementError as exc:
        raise SpecInputError((*where, "file"), str(exc)) from None
    measurement = Measurement(
        result=result,
        gpu=gpu,
        tensor_parallel=spec.measured.tensor_parallel,
        quantization=spec.measured.quantization or spec.quantization or entry.native_precision,
        kv_cache_dtype=spec.measured.kv_cache_dtype,
        gpu_memory_utilization=spec.measured.gpu_memory_utilization,
        max_num_seqs=spec.measured.max_num_seqs,
    )
    try:
        Adjustments(measured={spec.name: measurement}).scale(spec.name, entry, gpu, builtin_efficiency())
    except MeasurementError as exc:
        raise SpecInputError(where, str(exc)) from None
    return measurement


def adjustments(platform: Platform, catalog: Catalog) -> Adjustments:
    """The confidence the spec sizes at and the measured results of its models."""
    measured = {spec.name: m for spec in platform.models if (m := _measurement(platform, catalog, spec))}
    return Adjustments(confidence=platform.sizing.confidence, measured=measured)


def root_volume_gib(entries: Sequence[ModelEntry], factors: Efficiency | None = None) -> int:
    """Root EBS volume of a node: the checkpoints it downloads + the vLLM image + AMI and cache headroom."""
    f = factors or builtin_efficiency()
    weights = sum(checkpoint_gib(e) for e in entries)
    return math.ceil(weights + f.container_image_gib + f.root_volume_headroom_gib)


def plan_models(
    platform: Platform,
    catalog: Catalog,
    factors: Efficiency | None = None,
    mixes: Mapping[str, TokenMix] | None = None,
) -> tuple[tuple[ModelPlan, ...], tuple[PoolSizing, ...]]:
    """Size every model of the spec on its pool's shape (the decision engine has resolved `auto` shapes)."""
    f = factors or builtin_efficiency()
    adjust = adjustments(platform, catalog)
    model_plans: list[ModelPlan] = []
    pools: list[PoolSizing] = []
    for pool in platform.pools:
        specs = [
            (
                spec,
                *catalog_model(platform, catalog, spec),
                demand(platform, spec.name, (mixes or {}).get(spec.name)),
            )
            for spec in platform.models
            if spec.pool == pool.name
        ]
        for spec, _, _, context, _ in specs:
            _check_calls_fit_context(platform, spec, context)
        instance, gpu = instance_of(platform, catalog, pool)
        sized = _size_on(specs, instance, gpu, f, adjust)
        plans = [_model_plan(pool, instance, gpu, s, adjust) for s in sized]
        for plan in plans:
            if not plan.fits:  # no node count fixes it: an input error, not a capacity advisory
                raise SpecInputError(
                    ("models", _index([m.name for m in platform.models], plan.name), "model"),
                    f"{plan.model_id} ({plan.quantization}) does not fit on pool '{pool.name}' "
                    f"({instance.instance_type}): {plan.reason} (lower max_context or quantization, or "
                    "pick a larger instance_type or `auto`)",
                )
        model_plans.extend(plans)
        pools.append(_pool_sizing(pool, instance, gpu, sized, f))
    return tuple(model_plans), tuple(pools)
