"""The platform as a graph of boxes: workloads, the router, models in their pools, frontier endpoints.

Built from a `Plan` (for `plan --format markdown`) or from Plan JSON (for `diff`, which only has files,
using whatever keys the JSON has); `inferplan.report.mermaid` draws it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from inferplan.egress import fallback_allowed
from inferplan.plan import Plan


@dataclass(frozen=True)
class WorkloadNode:
    name: str
    sensitivity: str


@dataclass(frozen=True)
class PoolBox:
    name: str
    instance_type: str  # "" when unknown
    nodes: str  # e.g. "1–3 nodes"; "" when unknown


@dataclass(frozen=True)
class ModelNode:
    name: str
    pool: str  # "" when the JSON does not say
    detail: str = ""  # e.g. the model id


@dataclass(frozen=True)
class FrontierNode:
    name: str
    provider: str  # "" when unknown
    regions: tuple[str, ...]


@dataclass(frozen=True)
class Flow:
    """One workload's calls from the router to an endpoint (its route, or its fallback when dotted)."""

    workload: str
    target: str
    kind: str  # model | frontier
    fallback: bool
    allowed: bool = True  # False: the router refuses it (e.g. confidential data to a frontier API)


@dataclass(frozen=True)
class Topology:
    stack: str
    region: str
    workloads: tuple[WorkloadNode, ...]
    pools: tuple[PoolBox, ...]
    models: tuple[ModelNode, ...]
    frontier: tuple[FrontierNode, ...]
    flows: tuple[Flow, ...]


def _nodes_label(min_nodes: Any, max_nodes: Any) -> str:
    if min_nodes is None and max_nodes is None:
        return ""
    if max_nodes is None:
        return f"{min_nodes}+ nodes"
    return f"{min_nodes}–{max_nodes} nodes"


def _flows(
    routes: Iterable[Mapping[str, Any]], refused: Callable[[str, str], bool] = lambda w, t: False
) -> tuple[Flow, ...]:
    flows: list[Flow] = []
    for route in routes:
        workload, target = str(route["workload"]), str(route["target"])
        kind = str(route.get("target_kind") or "model")
        flows.append(Flow(workload, target, kind, False, not refused(workload, target)))
        if route.get("fallback"):
            target, kind = str(route["fallback"]), str(route.get("fallback_kind") or "frontier")
            flows.append(Flow(workload, target, kind, True, not refused(workload, target)))
    return tuple(flows)


def topology_from_plan(plan: Plan) -> Topology:
    """The picture of a planned stack: pools with their resolved shapes when sizing ran."""
    platform = plan.platform
    sized = {p.name: p for p in plan.pools}
    pools = []
    for pool in platform.pools:
        resolved = sized.get(pool.name)
        pools.append(
            PoolBox(
                name=pool.name,
                instance_type=resolved.instance_type if resolved else pool.instance_type,
                nodes=_nodes_label(pool.min_nodes, pool.max_nodes),
            )
        )
    routes = [
        {
            "workload": r.workload,
            "target": r.target,
            "target_kind": r.target_kind,
            "fallback": r.fallback,
            "fallback_kind": r.fallback_kind,
        }
        for r in plan.routes
    ]
    workloads = {w.name: w for w in platform.workloads}

    def refused(workload: str, target: str) -> bool:
        return workload in workloads and not fallback_allowed(workloads[workload], target, platform)[0]

    return Topology(
        stack=plan.stack,
        region=plan.region,
        workloads=tuple(WorkloadNode(r.workload, r.sensitivity) for r in plan.routes),
        pools=tuple(pools),
        models=tuple(ModelNode(m.name, m.pool, m.model) for m in platform.models),
        frontier=tuple(
            FrontierNode(f.name, f.provider, tuple(f.processing_regions)) for f in platform.frontier
        ),
        flows=_flows(routes, refused),
    )


def _list(doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = doc.get(key)
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def topology_from_json(doc: Mapping[str, Any]) -> Topology:
    """The same picture from Plan JSON: `routes`, plus `models`, `pools` and `dataflow` when present."""
    routes = [r for r in _list(doc, "routes") if "workload" in r and "target" in r]
    # What the router refuses, as the data-flow graph recorded it (`router_allows`).
    refusals: set[tuple[str, str]] = set()
    dataflow = doc.get("dataflow")
    regions: dict[str, tuple[str, ...]] = {}  # where each frontier endpoint processes data
    if isinstance(dataflow, Mapping):
        for workload in _list(dataflow, "workloads"):
            for reach in _list(workload, "reaches"):
                if reach.get("router_allows") is False:
                    refusals.add((str(workload.get("workload")), str(reach.get("endpoint"))))
                if reach.get("kind") == "frontier" and isinstance(reach.get("regions"), list):
                    regions[str(reach["endpoint"])] = tuple(str(r) for r in reach["regions"])
    flows = _flows(routes, lambda w, t: (w, t) in refusals)
    models_json = {str(m["name"]): m for m in _list(doc, "models") if "name" in m}
    pools_json = {str(p["name"]): p for p in _list(doc, "pools") if "name" in p}

    model_names = list(dict.fromkeys([*models_json, *(f.target for f in flows if f.kind == "model")]))
    models = tuple(
        ModelNode(
            name,
            str(models_json.get(name, {}).get("pool") or ""),
            str(models_json.get(name, {}).get("model_id") or ""),
        )
        for name in model_names
    )
    pool_names = list(dict.fromkeys([*pools_json, *(m.pool for m in models if m.pool)]))
    pools = []
    for name in pool_names:
        pool = pools_json.get(name, {})
        shape = pool.get("instance_type") or next(
            (m.get("instance_type") for m in models_json.values() if m.get("pool") == name), ""
        )
        pools.append(
            PoolBox(name, str(shape or ""), _nodes_label(pool.get("min_nodes"), pool.get("max_nodes")))
        )
    frontier_names = list(dict.fromkeys(f.target for f in flows if f.kind == "frontier"))
    return Topology(
        stack=str(doc.get("stack") or ""),
        region=str(doc.get("region") or ""),
        workloads=tuple(WorkloadNode(str(r["workload"]), str(r.get("sensitivity") or "")) for r in routes),
        pools=tuple(pools),
        models=models,
        frontier=tuple(FrontierNode(name, "", regions.get(name, ())) for name in frontier_names),
        flows=flows,
    )
