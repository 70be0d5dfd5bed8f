"""Autoscaler rules: every pool has a ceiling within the stack's limit, and that ceiling carries the peak.

`autoscaler-bounded` reads pool bounds, taken from the spec (gate, `plan`) or from the Auto Scaling
groups of a real preview (CrossGuard pack): the same function judges both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from inferplan.plan import ModelPlan, Plan, PoolPlan
from inferplan.resources import ResourceRecord
from inferplan.rules.findings import Finding, finding, is_unknown

ASG = "aws:autoscaling/group:Group"


@dataclass(frozen=True)
class PoolBounds:
    name: str  # the pool's name (spec) or the Auto Scaling group's pool tag / logical name
    min_nodes: int | None
    max_nodes: int | None  # None: no ceiling


def pools_from_plan(plan: Plan) -> tuple[PoolBounds, ...]:
    return tuple(PoolBounds(p.name, p.min_nodes, p.max_nodes) for p in plan.platform.pools)


def _count(value: object) -> int | None:
    if isinstance(value, bool) or value is None or is_unknown(value):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def pools_from_records(records: Iterable[ResourceRecord]) -> tuple[PoolBounds, ...]:
    """One bound per Auto Scaling group, named by its `inferplan:pool` tag when it has one."""
    return tuple(
        PoolBounds(r.tag("inferplan:pool") or r.name, _count(r.get("minSize")), _count(r.get("maxSize")))
        for r in records
        if r.type == ASG
    )


def autoscaler_bounded(
    pools: Sequence[PoolBounds], max_nodes_per_pool: int | None, stack: str
) -> tuple[Finding, ...]:
    """max_nodes is set, >= min_nodes and <= autoscaling.max_nodes_per_pool, for every pool."""
    rule = "autoscaler-bounded"
    if not pools:
        return (finding(rule, "pass", stack, "no GPU pools in this stack: nothing to bound"),)
    limit = f"autoscaling.max_nodes_per_pool ({max_nodes_per_pool})"
    out = []
    for pool in pools:
        low, high = pool.min_nodes or 0, pool.max_nodes
        if high is None:
            out.append(
                finding(
                    rule,
                    "fail",
                    pool.name,
                    f"pool '{pool.name}' has no max_nodes: an autoscaler without a ceiling has no cost "
                    f"ceiling either; set max_nodes (at most {max_nodes_per_pool or 'the stack limit'})",
                )
            )
        elif high < low:
            out.append(
                finding(
                    rule,
                    "fail",
                    pool.name,
                    f"pool '{pool.name}' has max_nodes {high} below min_nodes {low}; raise max_nodes to at "
                    f"least {low} or lower min_nodes",
                )
            )
        elif max_nodes_per_pool is not None and high > max_nodes_per_pool:
            out.append(
                finding(
                    rule,
                    "fail",
                    pool.name,
                    f"pool '{pool.name}' has max_nodes {high} above {limit}; lower max_nodes to "
                    f"{max_nodes_per_pool} or less, or raise the limit",
                )
            )
        else:
            within = f" ≤ {limit}" if max_nodes_per_pool is not None else " (no per-pool limit configured)"
            out.append(
                finding(rule, "pass", pool.name, f"pool '{pool.name}' scales {low}..{high} nodes{within}")
            )
    return tuple(out)


def _ceiling(pool: PoolPlan) -> str:
    """`max_nodes is 3`, and where it comes from when the pool declares none."""
    if pool.declared_max_nodes is None:
        return f"max_nodes is {pool.max_nodes} (autoscaling.max_nodes_per_pool: the pool declares none)"
    return f"max_nodes is {pool.max_nodes}"


def autoscaler_capacity(
    pools: Sequence[PoolPlan], stack: str, models: Sequence[ModelPlan] = ()
) -> tuple[Finding, ...]:
    """Advisory: max_nodes can carry the sized peak load of the models on each pool."""
    rule = "autoscaler-capacity"
    if not pools:
        return (finding(rule, "pass", stack, "no GPU pools in this stack: no load to carry"),)
    out = []
    for pool in pools:
        served = ", ".join(pool.models) or "no model"
        misfit = next((m for m in models if m.pool == pool.name and not m.fits), None)
        if misfit is not None:
            out.append(
                finding(
                    rule,
                    "fail",
                    pool.name,
                    f"model '{misfit.name}' does not fit on pool '{pool.name}' ({pool.instance_type})"
                    f"{': ' + misfit.reason if misfit.reason else ''}; no max_nodes can carry it — pick a "
                    "larger instance_type or a smaller quantization/max_context",
                )
            )
        elif pool.nodes_needed > pool.max_nodes:
            out.append(
                finding(
                    rule,
                    "fail",
                    pool.name,
                    f"pool '{pool.name}' needs {pool.nodes_needed} {pool.instance_type} nodes for the peak "
                    f"of {served} but {_ceiling(pool)}; raise max_nodes to "
                    f"{pool.nodes_needed}, pick a larger instance_type, or expect queueing and fallbacks",
                )
            )
        elif slow := next((m for m in models if m.pool == pool.name and not m.meets_slo), None):
            # More nodes add throughput, not speed: a single sequence already misses the latency SLO.
            out.append(
                finding(
                    rule,
                    "warn",
                    pool.name,
                    f"model '{slow.name}' misses the latency SLO of its workloads on {pool.instance_type} even "
                    f"one sequence at a time ({slow.reason or 'see the sizing section'}); pick a faster GPU, "
                    "a lower precision or more tensor parallelism, or relax the SLO",
                )
            )
        elif pool.nodes_needed >= pool.max_nodes:
            # At the ceiling already at the declared peak: a lost node or a burst above it queues calls.
            out.append(
                finding(
                    rule,
                    "warn",
                    pool.name,
                    f"pool '{pool.name}' needs all {pool.max_nodes} of its max_nodes {pool.instance_type} nodes "
                    f"at peak ({served}): no headroom for a failed node or a burst above the declared volume; "
                    f"raise max_nodes to {pool.max_nodes + 1}",
                )
            )
        else:
            out.append(
                finding(
                    rule,
                    "pass",
                    pool.name,
                    f"pool '{pool.name}' needs {pool.nodes_needed} of max {pool.max_nodes} "
                    f"{pool.instance_type} nodes at peak ({served})"
                    + ("" if pool.declared_max_nodes is not None else f"; {_ceiling(pool)}"),
                )
            )
    return tuple(out)
