"""A Mermaid picture of the platform, which GitHub renders in a PR comment without any plugin.

Workloads (coloured by sensitivity) → the router → self-hosted models inside their GPU pools, in the
VPC of the stack region, or frontier endpoints with the regions where they process data; fallbacks are
dotted. One renderer reads a `Topology` (`inferplan.topology` builds it from a Plan or from Plan JSON).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from inferplan.plan import Plan
from inferplan.topology import (
    ModelNode,
    Topology,
    topology_from_plan,
)

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
