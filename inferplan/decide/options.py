"""Every way a workload could be served, priced per call and per node, and judged eligible or not.

Self-hosted options are a model of the stack on one GPU shape (the pool's, or every catalog shape
when the pool says `auto`): a workload's busiest minute occupies `load` nodes there — its peak over
what one node does for its own token mix under the SLO in force, the share
`sizing.replicas.replica_load` charges when the plan is sized — and a pool costs
`fixed_usd + node_usd x nodes` a month, priced by the cost engine's own functions in the plan's
price book. API options (frontier and open-model entries) cost their tokens per call plus what the
call moves through NAT. Each option is judged by `inferplan.rules.eligibility`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from inferplan.catalog import Catalog, GpuEntry, InstanceEntry, ModelEntry
from inferplan.catalog.quality import floor_of, tier_of
from inferplan.cost.usage import call_usd, monthly_calls
from inferplan.decide.types import OptionKind
from inferplan.pricebook import ApiPrice, PriceBook
from inferplan.router_config import frontier_context_window
from inferplan.rules.eligibility import (
    Check,
    Verdict,
    context_fits,
    data_flow,
    judge,
    latency,
    priced,
    quality_floor,
)
from inferplan.sizing.replicas import (
    PoolSizing,
    catalog_model,
    instance_of,
    peak_calls_per_min,
    root_volume_gib,
    strictest,
    workload_mix,
)
from inferplan.sizing.split import size_model
from inferplan.spec import AUTO, Frontier, Model, Platform, Pool

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
    tier: int | None

    @property
    def eligible(self) -> bool:
        return self.verdict.eligible

    @property
    def key(self) -> tuple[str, str]:
        return self.target, self.shape


@dataclass(frozen=True)
class Options:
    """Everything the solver chooses from, for one stack."""

    candidates: tuple[Candidate, ...]
    pools: tuple[PoolOption, ...]
    calls: dict[str, float]  # workload -> calls per month
    floors: dict[str, tuple[int | None, str]]  # workload -> (quality floor, where it comes from)

    def of(self, workload: str) -> tuple[Candidate, ...]:
        return self._by_workload.get(workload, ())

    @cached_property
    def _by_workload(self) -> dict[str, tuple[Candidate, ...]]:
        out: dict[str, list[Candidate]] = {}
        for c in self.candidates:
            out.setdefault(c.workload, []).append(c)
        return {w: tuple(cs) for w, cs in out.items()}

    def pool(self, model: str, shape: str) -> PoolOption:
        return next(p for p in self.pools if p.model == model and p.shape == shape)

    def shapes(self, model: str) -> tuple[PoolOption, ...]:
        return tuple(p for p in self.pools if p.model == model)


def api_kind(entry: Frontier, price: ApiPrice | None) -> OptionKind:
    """An open-model API provider, or an API row that serves an open model (Bedrock's), is `open_api`."""
    if entry.provider in OPEN_API_PROVIDERS or (price is not None and price.open_model):
        return "open_api"
    return "frontier"


def api_tier(entry: Frontier, price: ApiPrice | None) -> int | None:
    """An open-model API takes its model's tier; a frontier model its own row's."""
    if price is not None and price.open_model:
        return tier_of(price.open_model)
    return tier_of(f"{entry.provider}/{entry.model}")


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


def model_candidates(
    platform: Platform,
    catalog: Catalog,
    book: PriceBook,
    price: PoolPrice,
    floors: dict[str, tuple[int | None, str]],
) -> tuple[list[Candidate], list[PoolOption]]:
    """Every (workload, model, shape) and every (model, shape) pool of the stack."""
    candidates: list[Candidate] = []
    pools: list[PoolOption] = []
    for spec in platform.models:
        entry, precision, context = catalog_model(platform, catalog, spec)
        pool = platform.pool(spec.pool)
        tier = tier_of(entry.id)
        pinned = [w.latency_slo_ms for w in platform.workloads if w.route == spec.name]
        for instance, gpu in _shapes(platform, catalog, pool):
            option = _pool_option(platform, spec, entry, pool, instance, gpu, price)
            if pool.instance_type == AUTO and not option.has_price:
                continue  # auto never picks a shape the book cannot price
            pools.append(option)
            for w in platform.workloads:
                slo = strictest([w.latency_slo_ms, *pinned])
                sized = size_model(
                    entry, gpu, instance.gpus, precision, workload_mix(w), context, spec.gpu_memory_utilization, slo
                )  # fmt: skip
                node = sized.calls_per_min
                floor, why = floors[w.name]
                where = f"{spec.name} on {instance.instance_type}"
                checks: list[Check] = [
                    data_flow(w, spec.name, platform),
                    context_fits(w, context, spec.name),
                    (sized.fits, f"'{spec.name}' does not fit on {instance.instance_type}: {sized.reason}"),
                    latency(sized.meets_slo, where, sized.reason) if sized.fits else (True, ""),
                    quality_floor(floor, tier, spec.name, why),
                    priced(
                        option.has_price, instance.instance_type, "add catalog.instance_prices or cost.prices"
                    ),
                ]
                candidates.append(
                    Candidate(
                        workload=w.name,
                        target=spec.name,
                        kind="model",
                        shape=instance.instance_type,
                        verdict=judge(checks),
                        call_usd=call_usd(platform, book, w, None, self_hosted=True),
                        load=peak_calls_per_min(platform, w) / node if sized.fits and node > 0 else math.inf,
                        tier=tier,
                    )
                )
    return candidates, pools


def api_candidates(
    platform: Platform, book: PriceBook, floors: dict[str, tuple[int | None, str]]
) -> list[Candidate]:
    out = []
    for entry in platform.frontier:
        price = book.api(entry.provider, entry.model)
        tier = api_tier(entry, price)
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
                    tier=tier,
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
    models, pools = model_candidates(platform, catalog, book, price, floors)
    raw = [*models, *api_candidates(platform, book, floors)]
    return Options(
        candidates=tuple(_with_fallbacks(platform, raw)),
        pools=tuple(pools),
        calls={w.name: monthly_calls(platform, w.calls_per_day) for w in platform.workloads},
        floors=floors,
    )
