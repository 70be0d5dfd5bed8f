"""A Mermaid picture of the platform, which GitHub renders in a PR comment without any plugin.

Workloads (coloured by sensitivity) → the router → self-hosted models inside their GPU pools, in the
VPC of the stack region, or frontier endpoints with the regions where they process data; fallbacks are
dotted. One renderer reads a `Topology`; two thin adapters build it from a `Plan` (for `plan --format
markdown`) and from Plan JSON (for `diff`, which only has files), using whatever keys the JSON has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inferplan.plan import Plan
from inferplan.rules.egress import fallback_allowed

SENSITIVITIES = ("public", "internal", "confidential", "regulated")
# fill, stroke, text: green → blue → amber → red as the data gets more sensitive.
SENSITIVITY_STYLE = {
    "public": "fill:#dcfce7,stroke:#15803d,color:#14532d",
    "internal": "fill:#dbeafe,stroke:#1d4ed8,color:#1e3a8a",
    "confidential": "fill:#fef3c7,stroke:#b45309,color:#78350f",
    "regulated": "fill:#fee2e2,stroke:#b91c1c,color:#7f1d1d",
}
OTHER_STYLE = {
    "router": "fill:#f3f4f6,stroke:#374151,color:#111827",
    "model": "fill:#ede9fe,stroke:#6d28d9,color:#2e1065",
    "frontier": "fill:#fff7ed,stroke:#c2410c,color:#431407,stroke-dasharray:4 3",
}
REFUSED_STYLE = "stroke:#b91c1c,stroke-width:2px,color:#b91c1c"  # an edge the router refuses
MAX_EDGE_LABEL_NAMES = 3
MAX_WORKLOAD_NODES = 40  # more workloads are drawn as one node per sensitivity level  # an edge label lists at most this many workloads, then "+N more"


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


class _Ids:
    """Mermaid node ids: letters, digits and underscores, unique, never a keyword like `end`."""

    def __init__(self) -> None:
        self.taken: dict[tuple[str, str], str] = {}
        self.used: set[str] = set()

    def __call__(self, prefix: str, name: str) -> str:
        if (prefix, name) in self.taken:
            return self.taken[(prefix, name)]
        base = f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"
        ident, n = base, 2
        while ident in self.used:
            ident, n = f"{base}_{n}", n + 1
        self.used.add(ident)
        self.taken[(prefix, name)] = ident
        return ident


def _text(value: str) -> str:
    """Label text that cannot break out of a quoted Mermaid string."""
    return (
        value.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("|", "#124;")
        .replace("\n", " ")
    )


def _label(*lines: str) -> str:
    return '"' + "<br/>".join(_text(line) for line in lines if line) + '"'


def _edge_label(workloads: Sequence[str], fallback: bool, allowed: bool) -> str:
    names = list(workloads[:MAX_EDGE_LABEL_NAMES])
    if len(workloads) > MAX_EDGE_LABEL_NAMES:
        names.append(f"+{len(workloads) - MAX_EDGE_LABEL_NAMES} more")
    text = ", ".join(names)
    role = "fallback" if fallback else "route"
    if not allowed:
        return _label(f"refused {role}: {text}")
    return _label(f"fallback: {text}" if fallback else text)


def render_mermaid(topology: Topology) -> str:
    """`flowchart LR` source (no fences): classDef per sensitivity level, sanitised ids, dotted fallbacks."""
    ids = _Ids()
    lines = ["flowchart LR"]
    for level in SENSITIVITIES:
        lines.append(f"  classDef {level} {SENSITIVITY_STYLE[level]}")
    for kind, style in OTHER_STYLE.items():
        lines.append(f"  classDef {kind} {style}")

    # Past MAX_WORKLOAD_NODES one node per sensitivity level stands for its workloads: a picture of a
    # thousand boxes says nothing, and GitHub refuses diagrams over 50,000 characters.
    grouped_by_level = len(topology.workloads) > MAX_WORKLOAD_NODES
    sources: dict[str, str] = {}  # workload -> the node that draws it
    if topology.workloads:
        lines.append(f"  subgraph {ids('g', 'workloads')}[{_label('workloads')}]")
        if grouped_by_level:
            counts: dict[str, int] = {}
            for w in topology.workloads:
                counts[w.sensitivity] = counts.get(w.sensitivity, 0) + 1
                sources[w.name] = ids("level", w.sensitivity)
            for level, count in counts.items():
                css = f":::{level}" if level in SENSITIVITY_STYLE else ""
                label = _label(f"{count} {level} workload{'s' if count > 1 else ''}")
                lines.append(f"    {ids('level', level)}[{label}]{css}")
        else:
            for w in topology.workloads:
                level = w.sensitivity if w.sensitivity in SENSITIVITY_STYLE else ""
                css = f":::{level}" if level else ""
                sources[w.name] = ids("w", w.name)
                lines.append(f"    {sources[w.name]}[{_label(w.name, w.sensitivity)}]{css}")
        lines.append("  end")

    router = ids("router", "router")
    region = f"stack region {topology.region}" if topology.region else "stack region"
    lines.append(f"  subgraph {ids('g', 'vpc')}[{_label(f'VPC · {region}')}]")
    lines.append(f"    {router}{{{{{_label('router', 'LiteLLM')}}}}}:::router")
    by_pool: dict[str, list[ModelNode]] = {}
    for m in topology.models:
        by_pool.setdefault(m.pool, []).append(m)
    for pool in topology.pools:
        title = " · ".join(x for x in (f"pool {pool.name}", pool.instance_type, pool.nodes) if x)
        lines.append(f"    subgraph {ids('p', pool.name)}[{_label(title)}]")
        for m in by_pool.pop(pool.name, []):
            lines.append(f"      {ids('m', m.name)}[{_label(m.name, m.detail)}]:::model")
        lines.append("    end")
    for models in by_pool.values():  # models whose pool the JSON does not describe
        for m in models:
            lines.append(f"    {ids('m', m.name)}[{_label(m.name, m.detail)}]:::model")
    lines.append("  end")

    if topology.frontier:
        lines.append(f"  subgraph {ids('g', 'frontier')}[{_label('frontier APIs')}]")
        for f in topology.frontier:
            where = ", ".join(f.regions) if f.regions else "region unknown"
            detail = f"{f.provider} · {where}" if f.provider else where
            lines.append(f"    {ids('f', f.name)}([{_label(f.name, detail)}]):::frontier")
        lines.append("  end")

    edges = 0  # Mermaid numbers edges in the order they are written (for linkStyle)
    for source in dict.fromkeys(sources.values()):
        lines.append(f"  {source} --> {router}")
        edges += 1
    refused: list[int] = []
    grouped: dict[tuple[str, str, bool, bool], list[str]] = {}
    for flow in topology.flows:
        grouped.setdefault((flow.kind, flow.target, flow.fallback, flow.allowed), []).append(flow.workload)
    for (kind, target, fallback, allowed), workloads in grouped.items():
        node = ids("m" if kind == "model" else "f", target)
        # dotted: a fallback; a cross at the end: the router refuses to send these calls there
        arrow = ("-.-" if fallback else "--") + ("x" if not allowed else ">")
        lines.append(f"  {router} {arrow}|{_edge_label(workloads, fallback, allowed)}| {node}")
        if not allowed:
            refused.append(edges)
        edges += 1
    if refused:
        lines.append(f"  linkStyle {','.join(map(str, refused))} {REFUSED_STYLE}")
    return "\n".join(lines)


def mermaid_block(topology: Topology) -> str:
    """The picture as a fenced block for Markdown (GitHub renders ```mermaid fences)."""
    return "```mermaid\n" + render_mermaid(topology) + "\n```"


def render_markdown(plan: Plan) -> str:
    """The `plan --format markdown` section."""
    topology = topology_from_plan(plan)
    if not topology.workloads and not topology.models:
        return ""
    return "### Platform\n\n" + mermaid_block(topology)
