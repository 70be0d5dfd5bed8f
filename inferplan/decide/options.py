"""Every way a workload could be served, priced per call and per node, and judged eligible or not.

Self-hosted options are a model of the stack on one GPU shape (the pool's, or every catalog shape
when the pool says `auto`): a workload's busiest minute occupies `load` nodes there — its peak over
what one node does for its own token mix under the SLO in force, the share
`sizing.replicas.replica_load` charges when the plan is sized — and a pool costs
`fixed_usd + node_usd x nodes` a month, priced by the cost engine's own functions in the plan's
price book. API options (frontier and open-model entries) cost their tokens per call plus what the
call moves through NAT. Each option is judged by `inferplan.decide.eligibility`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from inferplan.catalog import Catalog, GpuEntry, InstanceEntry, ModelEntry
from inferplan.catalog.efficiency import builtin_efficiency
from inferplan.catalog.quality import floor_of
from inferplan.cost.usage import call_usd, monthly_calls
from inferplan.decide.eligibility import (
    Verdict,
    context_fits,
    data_flow,
    judge,
    latency,
    priced,
    quality_floor,
)
from inferplan.decide.types import OptionKind
from inferplan.pricebook import ApiPrice, PriceBook
from inferplan.router_config import frontier_context_window
from inferplan.sizing.replicas import (
    DEFAULT_MIX,
    PoolSizing,
    adjustments,
    catalog_model,
    instance_of,
    peak_calls_per_min,
    root_volume_gib,
    workload_mix,
)
from inferplan.sizing.split import size_model
from inferplan.sizing.throughput import Slo, TokenMix, replica_throughput
from inferplan.spec import AUTO, Frontier, Model, Platform, Pool, Workload

# Providers that serve open-weight models behind an API (a Bedrock row says so with its `open_model`).
OPEN_API_PROVIDERS = frozenset({"together", "fireworks", "groq", "deepinfra"})

# Monthly cost of this pool at `sizing.nodes_needed` nodes, by the cost engine (None: the shape has no price).
PoolPrice = Callable[[Pool, PoolSizing], float | None]


@dataclass(frozen=True)
class PoolOption:
    """One model of the stack on one GPU shape: what its pool costs and how far it may grow."""

    model: str
    pool: str
    shape: str
    node_usd: float  # a month, per running node
    fixed_usd: float  # a month, per built pool whatever its size (warm-pool volumes, ...)
    min_nodes: int
    max_nodes: int  # the ceiling in force
    has_price: bool
    level: Slo = field(default_factory=Slo)  # the SLO its engine runs at (the strictest it serves)

    @property
    def key(self) -> tuple[str, str, Slo]:
        return self.model, self.shape, self.level

    def usd(self, nodes: int) -> float:
        return self.fixed_usd + self.node_usd * nodes if nodes else 0.0


@dataclass(frozen=True)
class Candidate:
    """One option of one workload."""

    workload: str
    target: str  # a model or frontier entry name
    kind: OptionKind
    shape: str  # model options: the GPU shape (one candidate per shape of an `auto` pool); "" for APIs
    verdict: Verdict
    call_usd: float  # per call, beyond nodes (tokens, NAT bytes, log lines), its fallback's share included
    load: float  # model options: nodes the workload's busiest minute keeps busy (0 for APIs)
    level: Slo = field(default_factory=Slo)  # model options: the SLO the model's engine runs at
    misfit: str = ""  # model options that fit no node: what sizing says, for a located error

    @property
    def eligible(self) -> bool:
        return self.verdict.eligible

    @property
    def key(self) -> tuple[str, str, Slo]:
        return self.target, self.shape, self.level


@dataclass(frozen=True)
class Options:
    """Everything the solver chooses from, for one stack."""

    candidates: tuple[Candidate, ...]
    pools: tuple[PoolOption, ...]
    calls: dict[str, float]  # workload -> calls per month
    mixes: dict[str, TokenMix]  # model -> the token mix its engine is configured for
    slos: dict[str, Slo]  # workload -> its latency SLO

    def of(self, workload: str) -> tuple[Candidate, ...]:
        return self._by_workload.get(workload, ())

    @cached_property
    def _by_workload(self) -> dict[str, tuple[Candidate, ...]]:
        out: dict[str, list[Candidate]] = {}
        for c in self.candidates:
            out.setdefault(c.workload, []).append(c)
        return {w: tuple(cs) for w, cs in out.items()}

    def pool(self, model: str, shape: str, level: Slo) -> PoolOption:
        return next(p for p in self.pools if p.key == (model, shape, level))

    def candidate(self, workload: str, key: tuple[str, str, Slo]) -> Candidate | None:
        return next((c for c in self.of(workload) if c.key == key), None)


def api_kind(entry: Frontier, price: ApiPrice | None) -> OptionKind:
    """An open-model API provider, or an API row that serves an open model (Bedrock's), is `open_api`."""
    if entry.provider in OPEN_API_PROVIDERS or (price is not None and price.open_model):
        return "open_api"
    return "frontier"


def api_tier(catalog: Catalog, entry: Frontier, price: ApiPrice | None) -> int | None:
    """An open-model API takes its model's tier; a frontier model its own row's."""
    if price is not None and price.open_model:
        return catalog.tier(price.open_model)
    return catalog.tier(f"{entry.provider}/{entry.model}")


def _shapes(platform: Platform, catalog: Catalog, pool: Pool) -> list[tuple[InstanceEntry, GpuEntry]]:
    if pool.instance_type != AUTO:
        return [instance_of(platform, catalog, pool)]
    return [(i, catalog.gpus[i.gpu]) for i in catalog.instances.values() if i.gpu in catalog.gpus]


def _pool_option(
    platform: Platform, spec: Model, entry: ModelEntry, pool: Pool, instance: InstanceEntry, gpu: GpuEntry,
    price: PoolPrice,
) -> PoolOption:  # fmt: skip
    """Price the pool at one and two nodes: the difference is a node, the rest is the pool's own."""

    def sizing(nodes: int) -> PoolSizing:
        return PoolSizing(
            name=pool.name,
            instance_type=instance.instance_type,
            gpu=gpu.gpu,
            gpus_per_node=instance.gpus,
            nodes_needed=nodes,
            root_volume_gib=root_volume_gib([entry]),
            engine_slots=1,
            models=(spec.name,),
        )

    one, two = price(pool, sizing(max(1, pool.min_nodes))), price(pool, sizing(max(1, pool.min_nodes) + 1))
    ceiling = pool.max_nodes if pool.max_nodes is not None else platform.autoscaling.max_nodes_per_pool
    node = (two - one) if one is not None and two is not None else 0.0
    return PoolOption(
        model=spec.name,
        pool=pool.name,
        shape=instance.instance_type,
        node_usd=node,
        fixed_usd=(one - node * max(1, pool.min_nodes)) if one is not None else 0.0,
        min_nodes=pool.min_nodes,
        max_nodes=max(ceiling, pool.min_nodes),
        has_price=one is not None and two is not None,
    )


def levels(slos: Sequence[Slo]) -> list[Slo]:
    """The SLOs an engine shared by these workloads may run at: the strictest of some subset of them,
    i.e. every componentwise minimum of theirs (and none at all)."""
    found = {Slo()}
    for slo in slos:
        found |= {strictest_of(level, slo) for level in found}
    return sorted(
        found, key=lambda s: (s.ttft_ms is None, s.ttft_ms or 0.0, s.tpot_ms is None, s.tpot_ms or 0.0)
    )


def strictest_of(a: Slo, b: Slo) -> Slo:
    def low(x: float | None, y: float | None) -> float | None:
        return y if x is None else x if y is None else min(x, y)

    return Slo(low(a.ttft_ms, b.ttft_ms), low(a.tpot_ms, b.tpot_ms))


def admits(level: Slo, slo: Slo) -> bool:
    """An engine running at `level` meets `slo`: `level` is at least as strict on every target `slo` sets."""
    return (slo.ttft_ms is None or (level.ttft_ms is not None and level.ttft_ms <= slo.ttft_ms)) and (
        slo.tpot_ms is None or (level.tpot_ms is not None and level.tpot_ms <= slo.tpot_ms)
    )


def reference_mix(members: Sequence[Workload]) -> TokenMix:
    """The mix an engine is configured for: that of every workload that may use the model, by calls.

    It depends on who *may* use the model, never on who is routed there, so the engine (parallelism,
    batch slots) and each workload's share of it are the same in every assignment the solver compares
    and in the plan that is then sized: the decision's arithmetic and the plan's agree exactly.
    """
    calls = sum(w.calls_per_day for w in members)
    if calls <= 0:
        return DEFAULT_MIX
    return TokenMix(
        sum(w.calls_per_day * w.input_tokens for w in members) / calls,
        sum(w.calls_per_day * w.output_tokens for w in members) / calls,
    )


def model_candidates(
    platform: Platform,
    catalog: Catalog,
    book: PriceBook,
    price: PoolPrice,
    floors: dict[str, tuple[int | None, str]],
) -> tuple[list[Candidate], list[PoolOption], dict[str, TokenMix]]:
    """Every (workload, model, shape, SLO level) and (model, shape, level) pool of the stack, sized as the
    plan sizes it: one engine per model configured for its reference mix at the level it runs at, the
    same confidence and measured results (`sizing.replicas.adjustments`), each workload charged its own
    mix's share of a replica."""
    candidates: list[Candidate] = []
    pools: list[PoolOption] = []
    mixes: dict[str, TokenMix] = {}
    adjust = adjustments(platform, catalog)
    factors = builtin_efficiency()
    for spec in platform.models:
        entry, precision, context = catalog_model(platform, catalog, spec)
        pool = platform.pool(spec.pool)
        # The id the stack names first: ids sharing an architecture (V3 and R1) need not share a tier.
        tier = catalog.tier(spec.model) or catalog.tier(entry.id)
        base = {}
        for w in platform.workloads:
            floor, why = floors[w.name]
            base[w.name] = judge(
                [
                    data_flow(w, spec.name, platform),
                    context_fits(w, context, spec.name),
                    quality_floor(floor, tier, spec.name, why),
                ]
            )
        members = [w for w in platform.workloads if base[w.name].eligible or w.route == spec.name]
        mix = mixes[spec.name] = reference_mix(members)
        shaped = set()
        for instance, gpu in _shapes(platform, catalog, pool):
            option = _pool_option(platform, spec, entry, pool, instance, gpu, price)
            if pool.instance_type == AUTO and not option.has_price:
                continue  # auto never picks a shape the book cannot price
            scale = adjust.scale(spec.name, entry, gpu, factors)
            where = f"{spec.name} on {instance.instance_type}"
            for level in levels([slo_of(w) for w in members]):
                engine = size_model(
                    entry, gpu, instance.gpus, precision, mix, context, spec.gpu_memory_utilization, level,
                    factors=factors, scale=scale,
                )  # fmt: skip
                if not engine.fits:
                    verdict = Verdict(
                        False, f"'{spec.name}' does not fit on {instance.instance_type}: {engine.reason}"
                    )
                    misfit = (
                        f"{entry.id} ({precision}) does not fit on pool '{pool.name}' ({instance.instance_type}): "
                        f"{engine.reason}"
                    )
                    for w in members:
                        candidate = _model_candidate(
                            platform, book, w, spec, instance, level, verdict, math.inf
                        )
                        candidates.append(replace(candidate, misfit=misfit))
                    break  # no level makes it fit
                pools.append(replace(option, level=level))
                shaped.add(spec.name)
                for w in members:
                    if not admits(level, slo_of(w)):
                        continue
                    replica = replica_throughput(
                        entry, gpu, engine.quantization, engine.tensor_parallel, engine.memory.kv_cache_gib,
                        workload_mix(w), level, engine.kv_cache_dtype, max_num_seqs=max(1, engine.replica.batch),
                        factors=factors, scale=scale,
                    )  # fmt: skip
                    node = replica.calls_per_min * engine.replicas
                    meets = engine.meets_slo and replica.meets_slo
                    verdict = judge(
                        [
                            (base[w.name].eligible, base[w.name].reason),
                            latency(meets, where, engine.reason or f"TPOT {replica.tpot_ms:.0f} ms"),
                            priced(
                                option.has_price,
                                instance.instance_type,
                                "add catalog.instance_prices or cost.prices",
                            ),
                        ]
                    )
                    load = peak_calls_per_min(platform, w) / node if node > 0 else math.inf
                    candidates.append(
                        _model_candidate(platform, book, w, spec, instance, level, verdict, load)
                    )
        for w in platform.workloads:
            if w not in members:  # shown, with why it may not use the model
                candidates.append(
                    _model_candidate(platform, book, w, spec, None, Slo(), base[w.name], math.inf)
                )
    return candidates, pools, mixes


def slo_of(workload: Workload) -> Slo:
    slo = workload.latency_slo_ms
    return Slo() if slo is None else Slo(slo.ttft, slo.tpot)


def _model_candidate(
    platform: Platform, book: PriceBook, w: Workload, spec: Model, instance: InstanceEntry | None, level: Slo,
    verdict: Verdict, load: float,
) -> Candidate:  # fmt: skip
    return Candidate(
        workload=w.name,
        target=spec.name,
        kind="model",
        shape=instance.instance_type if instance is not None else "",
        verdict=verdict,
        call_usd=call_usd(platform, book, w, None, self_hosted=True),
        load=load,
        level=level,
    )


def api_candidates(
    platform: Platform, catalog: Catalog, book: PriceBook, floors: dict[str, tuple[int | None, str]]
) -> list[Candidate]:
    out = []
    for entry in platform.frontier:
        price = book.api(entry.provider, entry.model)
        tier = api_tier(catalog, entry, price)
        for w in platform.workloads:
            floor, why = floors[w.name]
            checks = [
                data_flow(w, entry.name, platform),
                context_fits(w, frontier_context_window(entry), entry.name),
                quality_floor(floor, tier, entry.name, why),
                priced(
                    price is not None,
                    entry.name,
                    f"add cost.prices api:{entry.provider}/{entry.model}:input|output",
                ),
            ]
            out.append(
                Candidate(
                    workload=w.name,
                    target=entry.name,
                    kind=api_kind(entry, price),
                    shape="",
                    verdict=judge(checks),
                    call_usd=call_usd(platform, book, w, price, self_hosted=False),
                    load=0.0,
                )
            )
    return out


def auto_fallback(
    candidates: Sequence[Candidate], route: str, built: Callable[[Candidate], bool]
) -> Candidate | None:
    """`fallback: auto`: the cheapest eligible API other than the route (it needs no planned capacity);
    where no API may take the data, the cheapest eligible self-hosted model that is built."""
    apis = [c for c in candidates if c.eligible and c.kind != "model" and c.target != route]
    if apis:
        return min(apis, key=lambda c: (c.call_usd, c.target))
    models = [c for c in candidates if c.eligible and c.kind == "model" and c.target != route and built(c)]
    return min(models, key=lambda c: (c.call_usd, c.target)) if models else None


def _with_fallbacks(platform: Platform, raw: list[Candidate]) -> list[Candidate]:
    """Each option's per-call price as the cost engine bills a workload with a fallback: (1 - rate) of
    its calls on the option, `fallback_rate` on the fallback (nothing where the router refuses it)."""
    out = []
    for w in platform.workloads:
        own = [c for c in raw if c.workload == w.name]
        rate = w.fallback_rate if w.fallback else 0.0
        for c in own:
            if rate <= 0:
                out.append(c)
                continue
            if w.fallback == AUTO:
                fb = auto_fallback(own, c.target, lambda _: True)
                fb_usd = fb.call_usd if fb is not None else 0.0
            else:
                declared = next((x for x in own if x.target == w.fallback), None)
                allowed = declared is not None and data_flow(w, declared.target, platform)[0]
                fb_usd = declared.call_usd if declared is not None and allowed else 0.0
            out.append(replace(c, call_usd=(1 - rate) * c.call_usd + rate * fb_usd))
    return out


def options(platform: Platform, catalog: Catalog, book: PriceBook, price: PoolPrice) -> Options:
    floors = {w.name: floor_of(w) for w in platform.workloads}
    models, pools, mixes = model_candidates(platform, catalog, book, price, floors)
    raw = [*models, *api_candidates(platform, catalog, book, floors)]
    return Options(
        candidates=tuple(_with_fallbacks(platform, raw)),
        pools=tuple(pools),
        calls={w.name: monthly_calls(platform, w.calls_per_day) for w in platform.workloads},
        mixes=mixes,
        slos={w.name: slo_of(w) for w in platform.workloads},
    )
