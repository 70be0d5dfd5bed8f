"""Cost against call volume: the API-only line and the self-hosted steps, and where they cross.

The stack's token mix is held fixed and every workload is scaled by the same factor, so volume is
one number: calls per month. Self-hosted cost at a volume is

    fixed + sum over pools (node price x nodes needed at that volume) + per-call x volume

where `fixed` holds everything that does not move with volume (network, gateway, router, keys,
warm-pool volumes, declared operations), `per-call` the usage that does (fallback and frontier
tokens, requests, logs, NAT data), and a pool needs max(min_nodes, ceil(peak calls/min / calls/min
per node)) nodes — nodes are added past max_nodes here, because break-even is a question about
economics, not about today's autoscaler limit (the chart marks where max_nodes binds).

The break-even volume is the one above which self-hosting *stays* cheaper than API-only; None when
it never does (the API costs less per call than a full node does at the margin).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

MAX_STEPS = 200_000  # step boundaries walked before giving up (a node per step)


@dataclass(frozen=True)
class PoolStep:
    """One GPU pool on the volume axis."""

    name: str
    node_usd: float  # monthly cost of one more node (instance hours + its volume)
    min_nodes: int
    max_nodes: int | None
    peak_calls_per_min_per_call: float  # busiest-minute demand per monthly call of the stack (0: fixed)
    calls_per_min_per_node: float  # capacity of one node for the routed token mix (0: fixed)
    fixed_nodes: int = 0  # nodes when the pool does not scale with volume (no capacity figure)

    @property
    def scales(self) -> bool:
        return self.peak_calls_per_min_per_call > 0 and self.calls_per_min_per_node > 0

    @property
    def calls_per_node(self) -> float:
        """Monthly calls one node carries (the volume per step)."""
        return self.calls_per_min_per_node / self.peak_calls_per_min_per_call if self.scales else math.inf

    def nodes(self, calls: float) -> int:
        if not self.scales:
            return max(self.min_nodes, self.fixed_nodes)
        needed = math.ceil(calls / self.calls_per_node - 1e-9) if calls > 0 else 0
        return max(self.min_nodes, needed)


@dataclass(frozen=True)
class VolumeModel:
    """Both cost curves of one stack as functions of calls per month."""

    calls_per_month: float  # the declared volume (where the plan sits)
    fixed_usd: float
    per_call_usd: float  # self-hosted side: usage that scales with calls
    api_per_call_usd: float  # API-only side, for the stack's token mix
    pools: tuple[PoolStep, ...] = ()

    def api_usd(self, calls: float) -> float:
        return self.api_per_call_usd * calls

    def nodes(self, calls: float) -> dict[str, int]:
        return {p.name: p.nodes(calls) for p in self.pools}

    def self_hosted_usd(self, calls: float) -> float:
        nodes = sum(p.node_usd * p.nodes(calls) for p in self.pools)
        return self.fixed_usd + nodes + self.per_call_usd * calls

    @property
    def marginal_usd_per_call(self) -> float:
        """Self-hosted cost of one more call in the long run (nodes amortised over full capacity)."""
        return self.per_call_usd + sum(p.node_usd / p.calls_per_node for p in self.pools if p.scales)

    def steps(self, up_to: float) -> list[float]:
        """Volumes (<= up_to) at which some pool adds a node (right after each, one more node runs)."""
        edges: set[float] = set()
        for pool in self.pools:
            if not pool.scales:
                continue
            n = max(pool.min_nodes, 1)
            while n * pool.calls_per_node <= up_to and len(edges) < MAX_STEPS:
                edges.add(n * pool.calls_per_node)
                n += 1
        return sorted(edges)

    def breakeven(self) -> float | None:
        """Calls per month above which self-hosting stays cheaper than API-only; None if never."""
        slope = self.api_per_call_usd - self.per_call_usd  # what each call saves before node costs
        if self.api_per_call_usd <= self.marginal_usd_per_call or slope <= 0:
            return None
        # Walk the intervals between node steps: in (a, b] node counts are constant, so the gap
        # self - api = F_i - slope x V falls; it is largest just after each step. Remember the last
        # interval where self-hosting was still dearer somewhere, and where it stopped being so.
        scaling = [p for p in self.pools if p.scales]
        fixed_pools = sum(p.node_usd * p.nodes(0) for p in self.pools if not p.scales)
        count = {p.name: max(p.min_nodes, 1) for p in scaling}
        heap = [(count[p.name] * p.calls_per_node, i) for i, p in enumerate(scaling)]
        heapq.heapify(heap)
        # Once the sawtooth's top is below the API line for good, stop: bound from the long-run slope.
        top = self.fixed_usd + fixed_pools + sum(p.node_usd * (p.min_nodes + 1) for p in scaling)
        limit = top / (self.api_per_call_usd - self.marginal_usd_per_call)
        left, answer = 0.0, 0.0
        for _ in range(MAX_STEPS):
            right = heap[0][0] if heap else math.inf
            floor = self.fixed_usd + fixed_pools + sum(p.node_usd * count[p.name] for p in scaling)
            crossing = floor / slope  # where F_i - slope V = 0
            if crossing > left * (1 + 1e-9):  # dearer at the start of this interval (ties count as even)
                answer = min(crossing, right)
            if right > limit or not heap:
                break
            while heap and heap[0][0] <= right:
                _, i = heapq.heappop(heap)
                pool = scaling[i]
                count[pool.name] += 1
                heapq.heappush(heap, (count[pool.name] * pool.calls_per_node, i))
            left = right
        return answer
