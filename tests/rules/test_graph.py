"""The data-flow graph: per-workload reach, and network paths to the internet only through NAT."""

from __future__ import annotations

from inferplan import graph
from tests.rules.conftest import plan_of


def test_sovereign_has_no_internet_node_and_no_path():
    plan = plan_of("sovereign")
    g = graph.dataflow_graph(plan)
    assert graph.INTERNET not in g and graph.NAT not in g
    assert graph.paths_to_internet(plan) == {}
    assert "no path exists from any workload" in graph.internet_summary(plan)
    assert graph.to_json(plan)["internet_reachable"] is False


def test_with_nat_the_internet_is_reached_only_through_nat():
    plan = plan_of("prod-eu")
    paths = graph.paths_to_internet(plan)
    assert set(paths) == {r.workload for r in plan.routes}
    assert all(path[-3:] == (graph.ROUTER, graph.NAT, graph.INTERNET) for path in paths.values())
    g = graph.dataflow_graph(plan)
    assert [u for u, _ in g.in_edges(graph.INTERNET)] == [graph.NAT]


def test_reach_is_per_workload_and_carries_processing_regions():
    plan = plan_of("prod-eu")
    found = graph.reaches(plan)
    contract = found["contract-extraction"]
    assert [(r.endpoint, r.kind, r.role, r.regions) for r in contract] == [
        ("qwen-235b", "model", "route", ("eu-central-1",))
    ]
    assert contract[0].path[-1] == "pool:h200"
    lead = found["lead-scoring"]
    assert [(r.endpoint, r.role, r.regions, r.reachable) for r in lead] == [
        ("llama-70b", "route", ("eu-central-1",), True),
        ("claude-sonnet", "fallback", ("us-east-1",), True),
    ]


def test_a_frontier_entry_without_egress_is_unreachable():
    plan = plan_of("dev", lambda p: p["network"].update(egress="none"))
    (fallback,) = [r for r in graph.reaches(plan)["ticket-triage"] if r.kind == "frontier"]
    assert (fallback.reachable, fallback.allowed) == (False, False)
