"""The data-flow graph of a plan: where each workload's data can go, and over which network path.

Two families of edges, kept apart on purpose:

* **flow** edges say where the router sends a workload's calls (its route and its fallback):
  `workload:W → router → model:M → pool:P` and `router → frontier:F`. They carry the workloads that
  use them, so each workload's reach is its own.
* **network** edges say what the network lets through, whatever the router is configured to do:
  `workload:W → router`, `router → nat → internet → frontier:F` — the NAT node exists only when the
  plan has NAT gateways (`network.egress: nat`). The internet is reachable through NAT only.

Every endpoint node carries `regions`: where it processes data (the stack region for the router,
models and pools; `processing_regions` for a frontier entry; nothing known for the internet).
`residency-dataflow` reads the flow edges; `paths_to_internet` reads the network edges, so a stack
with `egress: none` can show that no path exists — residency verified, not asserted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx

from inferplan.egress import fallback_allowed
from inferplan.plan import Plan

ROUTER = "router"
NAT = "nat"
INTERNET = "internet"

Role = Literal["route", "fallback"]


def workload_node(name: str) -> str:
    return f"workload:{name}"


def model_node(name: str) -> str:
    return f"model:{name}"


def pool_node(name: str) -> str:
    return f"pool:{name}"


def frontier_node(name: str) -> str:
    return f"frontier:{name}"


@dataclass(frozen=True)
class Reach:
    """One endpoint a workload's data reaches by its route or fallback."""

    workload: str
    endpoint: str  # model or frontier entry name
    kind: Literal["model", "frontier"]
    role: Role
    regions: tuple[str, ...]  # where the endpoint processes data
    path: tuple[str, ...]  # the flow path, node names from the workload to the endpoint's last hop
    reachable: bool  # False when the network has no path to it (a frontier entry without NAT)
    allowed: bool = True  # whether the router config sends this workload's calls there at all
    why: str = ""  # the router's reason (`egress.fallback_allowed`)


def dataflow_graph(plan: Plan) -> Any:
    """A networkx DiGraph of the plan's data flows (see the module docstring for its two edge families)."""
    platform = plan.platform
    region = (plan.region,)
    graph: Any = nx.DiGraph(stack=plan.stack, allowed_regions=tuple(platform.residency.allowed_regions))
    graph.add_node(ROUTER, kind="router", regions=region)
    for pool in platform.pools:
        graph.add_node(pool_node(pool.name), kind="pool", regions=region, instance_type=pool.instance_type)
    for model in platform.models:
        graph.add_node(model_node(model.name), kind="model", regions=region)
        graph.add_edge(model_node(model.name), pool_node(model.pool), family="flow", workloads={})
    for entry in platform.frontier:
        graph.add_node(
            frontier_node(entry.name),
            kind="frontier",
            regions=tuple(entry.processing_regions),
            provider=entry.provider,
        )
    if plan.network.egress:
        graph.add_node(NAT, kind="egress", regions=region, gateways=plan.network.nat_gateways)
        graph.add_node(INTERNET, kind="internet", regions=())
        graph.add_edge(ROUTER, NAT, family="network")
        graph.add_edge(NAT, INTERNET, family="network")
        for entry in platform.frontier:
            graph.add_edge(INTERNET, frontier_node(entry.name), family="network")

    workloads = {w.name: w for w in platform.workloads}
    for route in plan.routes:
        source = workload_node(route.workload)
        graph.add_node(source, kind="workload", sensitivity=route.sensitivity, regions=region)
        graph.add_edge(source, ROUTER, family="network")
        hops: list[tuple[str, Role, str]] = [(route.target, "route", route.target_kind)]
        if route.fallback and route.fallback_kind:
            hops.append((route.fallback, "fallback", route.fallback_kind))
        for target, role, kind in hops:
            node = model_node(target) if kind == "model" else frontier_node(target)
            if not graph.has_edge(ROUTER, node):
                graph.add_edge(ROUTER, node, family="flow", workloads={}, decisions={})
            edge = graph.edges[ROUTER, node]
            edge["workloads"][route.workload] = role
            edge["decisions"][route.workload] = fallback_allowed(workloads[route.workload], target, platform)
    return graph


def reaches(plan: Plan, graph: Any | None = None) -> dict[str, tuple[Reach, ...]]:
    """Per workload, every endpoint its data reaches by route or fallback (flow edges only)."""
    graph = graph if graph is not None else dataflow_graph(plan)
    out: dict[str, tuple[Reach, ...]] = {}
    for route in plan.routes:
        found: list[Reach] = []
        for _, node, data in graph.out_edges(ROUTER, data=True):
            roles: Mapping[str, Role] = data.get("workloads") or {}
            if data.get("family") != "flow" or route.workload not in roles:
                continue
            attrs = graph.nodes[node]
            kind: Literal["model", "frontier"] = "frontier" if attrs["kind"] == "frontier" else "model"
            path: tuple[str, ...] = (workload_node(route.workload), ROUTER, node)
            regions = tuple(attrs["regions"])
            if kind == "model":
                for _, pool in graph.out_edges(node):
                    path += (pool,)
                    regions = tuple(dict.fromkeys(regions + tuple(graph.nodes[pool].get("regions", ()))))
                reachable = True
            else:
                reachable = nx.has_path(_network(graph), ROUTER, node)
            allowed, why = (data.get("decisions") or {}).get(route.workload, (True, ""))
            found.append(
                Reach(
                    workload=route.workload,
                    endpoint=node.split(":", 1)[1],
                    kind=kind,
                    role=roles[route.workload],
                    regions=regions,
                    path=path,
                    reachable=reachable,
                    allowed=allowed,
                    why=why,
                )
            )
        out[route.workload] = tuple(sorted(found, key=lambda r: (r.role != "route", r.endpoint)))
    return out


def _network(graph: Any) -> Any:
    return nx.subgraph_view(graph, filter_edge=lambda u, v: graph.edges[u, v].get("family") == "network")


def paths_to_internet(plan: Plan, graph: Any | None = None) -> dict[str, tuple[str, ...]]:
    """Per workload, the shortest network path from it to the internet; workloads with none are absent.

    This is what the network permits, not what the router is configured to do: with NAT, every
    workload's calls pass a router that could reach the internet; without NAT, none can.
    """
    graph = graph if graph is not None else dataflow_graph(plan)
    network = _network(graph)
    out: dict[str, tuple[str, ...]] = {}
    if INTERNET not in graph:
        return out
    for route in plan.routes:
        source = workload_node(route.workload)
        if nx.has_path(network, source, INTERNET):
            out[route.workload] = tuple(nx.shortest_path(network, source, INTERNET))
    return out


def internet_summary(plan: Plan, graph: Any | None = None) -> str:
    """One line for reports: whether any workload can reach the internet, and how."""
    paths = paths_to_internet(plan, graph)
    workloads = [r.workload for r in plan.routes]
    if not workloads:
        return "no workloads declared: no data flows to check"
    if not paths:
        how = "egress: none — no NAT gateway, no internet gateway"
        return f"no path exists from any workload ({', '.join(workloads)}) to the internet ({how})"
    sample = next(iter(paths.values()))
    return (
        f"{len(paths)} of {len(workloads)} workloads can reach the internet through "
        f"{plan.network.nat_gateways} NAT gateway(s) ({' → '.join(sample)}); the router's routes decide "
        "which calls go there"
    )


def to_json(plan: Plan) -> dict[str, Any]:
    """Plan JSON v1 `dataflow`: per workload, its endpoints and its network path to the internet (or null)."""
    graph = dataflow_graph(plan)
    paths = paths_to_internet(plan, graph)
    return {
        "internet_reachable": bool(paths),
        "summary": internet_summary(plan, graph),
        "workloads": [
            {
                "workload": workload,
                "path_to_internet": list(paths[workload]) if workload in paths else None,
                "reaches": [
                    {
                        "endpoint": r.endpoint,
                        "kind": r.kind,
                        "role": r.role,
                        "regions": list(r.regions),
                        "reachable": r.reachable,
                        "router_allows": r.allowed,
                    }
                    for r in found
                ],
            }
            for workload, found in reaches(plan, graph).items()
        ],
    }
