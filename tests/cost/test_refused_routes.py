"""Calls the router refuses are not priced: a confidential workload's frontier fallback costs nothing."""

from __future__ import annotations

from inferplan.cost import estimate
from inferplan.planner import build_plan
from inferplan.stackfile import load_stack


def prod_eu(**changes):
    loaded = load_stack("prod-eu")
    workloads = tuple(
        w.model_copy(update=changes) if w.name == "contract-extraction" else w
        for w in loaded.platform.workloads
    )
    return build_plan("prod-eu", loaded.platform.model_copy(update={"workloads": workloads}))


def frontier_spend(plan):
    return sum(
        ln.monthly_usd
        for ln in estimate(plan).lines
        if ln.bucket == "api" and "contract-extraction" in ln.item
    )


def test_a_refused_frontier_fallback_costs_nothing():
    refused = prod_eu(fallback="claude-sonnet", fallback_rate=0.2)  # confidential: the router drops it
    assert frontier_spend(refused) == 0


def test_an_allowed_frontier_fallback_is_priced():
    allowed = prod_eu(fallback="claude-sonnet", fallback_rate=0.2, sensitivity="internal")
    assert frontier_spend(allowed) > 1000  # 20% of 30,000 calls/day of 6,000 + 400 tokens on Sonnet
