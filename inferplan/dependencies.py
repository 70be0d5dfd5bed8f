"""The dependency graph of a plan's resources, read from Plan JSON `resources`.

A reviewer asks "what else does this change touch?": in Pulumi a change flows from a resource to
everything that consumes its outputs (`depends_on`, which the offline recorder captures from each
registration) and from a component to the resources it creates (`parent`). Depending on a component
means depending on everything inside it, as Pulumi expands it. Edges point from a resource to the
resources that depend on it, so "downstream" is the set of descendants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

COMPONENT_PREFIX = "inferplan:components:"  # type token of this project's ComponentResources (DESIGN.md)


@dataclass(frozen=True, order=True)
class ResourceKey:
    """A resource's identity across two plans: its Pulumi type token and logical name."""

    type: str
    name: str

    def __str__(self) -> str:
        return f"{self.type} {self.name}"


def is_component(resource: Mapping[str, Any]) -> bool:
    """Component resources own others but are not created in AWS (not counted, not priced)."""
    custom = resource.get("custom")
    if isinstance(custom, bool):
        return not custom
    return str(resource.get("type", "")).startswith(COMPONENT_PREFIX)


def key_of(resource: Mapping[str, Any]) -> ResourceKey:
    return ResourceKey(str(resource["type"]), str(resource["name"]))


def resource_graph(resources: Sequence[Mapping[str, Any]]) -> nx.DiGraph:
    """Nodes are `ResourceKey`s (attribute `component`); an edge u → v means a change to u reaches v."""
    graph = nx.DiGraph()
    by_name: dict[str, list[ResourceKey]] = {}
    for resource in resources:
        key = key_of(resource)
        graph.add_node(key, component=is_component(resource))
        by_name.setdefault(key.name, []).append(key)
    children: dict[str, list[ResourceKey]] = {}
    for resource in resources:
        parent = resource.get("parent")
        if isinstance(parent, str) and parent:
            children.setdefault(parent, []).append(key_of(resource))

    def members(name: str) -> Iterable[ResourceKey]:
        """A name's resources and, for a component, everything inside it (what depending on it means)."""
        stack, seen = list(by_name.get(name, ())), set()
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            yield key
            if graph.nodes[key]["component"]:
                stack.extend(children.get(key.name, ()))

    for resource in resources:
        key = key_of(resource)
        parent = resource.get("parent")
        if isinstance(parent, str) and parent:
            for owner in by_name.get(parent, ()):
                graph.add_edge(owner, key)
        for dependency in resource.get("depends_on") or ():
            for upstream in members(str(dependency)):
                if upstream != key:
                    graph.add_edge(upstream, key)
    return graph


def downstream(graph: nx.DiGraph, key: ResourceKey, *, custom_only: bool = True) -> tuple[ResourceKey, ...]:
    """Every resource that depends, directly or transitively, on `key` (sorted; not `key` itself)."""
    if key not in graph:
        return ()
    found = nx.descendants(graph, key)
    if custom_only:
        found = {k for k in found if not graph.nodes[k]["component"]}
    return tuple(sorted(found))
