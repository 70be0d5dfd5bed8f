"""A plan's money: its resources priced, its usage priced, the API-only alternative and the break-even.

    monthly_expected_usd    pools at the nodes sizing needs, usage as declared, operations
    monthly_worst_case_usd  every pool at max nodes all month, every frontier entry at its cap,
                            request-linked items at the gateway's rate limit
    api_only_monthly_usd    every workload at the cheapest API its rules allow (cost.api_only_model when
                            set): tokens only, seed 003's "Monthly API cost = ... x model price";
                            workloads no API may serve are left out (api_only_excluded)

The self-hosted side counts all four buckets (operations included: "self-hosting looks great right
up until you add staff cost", seed 003); the API-only side counts tokens only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from inferplan.cost.billing import per_call_usd
from inferplan.cost.breakeven import PoolStep, VolumeModel
from inferplan.cost.buy import buy_scenario
from inferplan.cost.model import CostLine, Costs, OutcomeCost
from inferplan.cost.pricing import PricingContext, price_record, spot_statement
from inferplan.cost.unit import unit_economics
from inferplan.cost.usage import api_lines, api_only, calls_per_month, target_calls
from inferplan.plan import Plan
from inferplan.pricebook import PriceBook
from inferplan.resources import ResourceRecord


def operations_lines(plan: Plan) -> list[CostLine]:
    """The declared staff cost: one monthly figure, or engineers x what one costs a year / 12 (seed 004)."""
    ops = plan.platform.operations
    if ops.engineers is not None:
        if ops.annual_cost_usd is not None:
            annual, source, as_of = ops.annual_cost_usd, "platform.operations.annual_cost_usd", "stack"
        else:
            row = plan.prices.assumption("ops_engineer_annual_usd")
            annual, source, as_of = row.value, f"catalog ops_engineer_annual_usd ({row.source})", row.as_of
        usd = ops.engineers * annual / 12
        if usd <= 0:
            return []
        return [
            CostLine(
                item=f"{ops.engineers:g} engineers x ${annual:,.0f}/year / 12 (staff, on-call, upgrades)",
                unit="engineer-month",
                quantity=ops.engineers,
                unit_usd=annual / 12,
                monthly_usd=usd,
                worst_case_usd=usd,
                bucket="operations",
                source=f"platform.operations.engineers; {source}",
                as_of=as_of,
            )
        ]
    usd = ops.monthly_usd
    if usd <= 0:
        return []
    return [
        CostLine(
            item="staff, on-call, evaluation, upgrades (declared)",
            unit="month",
            quantity=1.0,
            unit_usd=usd,
            monthly_usd=usd,
            worst_case_usd=usd,
            bucket="operations",
            source="platform.operations.monthly_usd",
            as_of="stack",
        )
    ]


def total_calls(plan: Plan) -> float:
    return sum(calls_per_month(plan, w.calls_per_day) for w in plan.platform.workloads)


def _pool_cost(lines: Sequence[CostLine], pool: str, scales: str | None = None) -> float:
    return sum(ln.monthly_usd for ln in lines if ln.pool == pool and (scales is None or ln.scales == scales))


def volume_model(
    plan: Plan, ctx: PricingContext, lines: Sequence[CostLine], api_only_usd: float
) -> VolumeModel:
    """Both cost curves of the plan against call volume (token mix fixed, workloads scaled together)."""
    calls = total_calls(plan)
    fixed = sum(ln.monthly_usd for ln in lines if ln.scales == "fixed")
    per_call = sum(ln.monthly_usd for ln in lines if ln.scales == "calls") / calls if calls else 0.0
    steps = []
    for pool in plan.pools:
        if pool.purchase != "on_demand":
            # Committed min_nodes cost their rate, the nodes above them the on-demand (or spot) price: a node
            # more costs the latter, and the difference on the committed ones is a fixed part of the month.
            at = max(pool.nodes_needed, pool.min_nodes)
            here = _nodes_usd(ctx, pool.name, at)
            node_usd = _nodes_usd(ctx, pool.name, at + 1) - here
            fixed += here - node_usd * at
        else:
            node_usd = _pool_cost(lines, pool.name, "nodes") / pool.nodes_needed if pool.nodes_needed else 0.0
            if not node_usd:  # nothing running at the declared volume: price one node to learn its cost
                node_usd = _nodes_usd(ctx, pool.name, 1)
        model = next((m for m in plan.models if m.pool == pool.name), None)
        scales = model is not None and model.fits and model.calls_per_min > 0 and calls > 0
        steps.append(
            PoolStep(
                name=pool.name,
                node_usd=node_usd,
                min_nodes=pool.min_nodes,
                max_nodes=pool.max_nodes,
                peak_calls_per_min_per_call=(model.peak_calls_per_min / calls) if model and scales else 0.0,
                calls_per_min_per_node=model.calls_per_min if model and scales else 0.0,
                fixed_nodes=pool.nodes_needed,
            )
        )
    return VolumeModel(
        calls_per_month=calls,
        fixed_usd=fixed,
        per_call_usd=per_call,
        api_per_call_usd=api_only_usd / calls if calls else 0.0,
        pools=tuple(steps),
    )


def _nodes_usd(ctx: PricingContext, pool: str, nodes: int) -> float:
    """The pool's node-scaled lines with `nodes` nodes running, priced by the cost engine's own functions."""
    at = replace(ctx, pool_nodes={**ctx.pool_nodes, pool: nodes})
    return sum(
        ln.monthly_usd
        for r in ctx.records
        if r.tag("inferplan:pool") == pool
        for ln in price_record(r, at)
        if ln.scales == "nodes"
    )


def outcome_costs(plan: Plan, lines: Sequence[CostLine], prices: PriceBook) -> tuple[OutcomeCost, ...]:
    """Seed 003, Fig. 01: cost per accepted outcome where a workload declares success rates and rework.

    A self-hosted call costs its pool's expected monthly cost shared by tokens (input + output) over
    every call the pool serves; a frontier call costs its tokens at the entry's catalog price.
    """
    routed = target_calls(plan)
    tokens = {w.name: w.input_tokens + w.output_tokens for w in plan.platform.workloads}
    pool_tokens: dict[str, float] = {}
    for target, by_workload in routed.items():
        model = plan.platform.model(target)
        if model is not None:
            pool_tokens[model.pool] = pool_tokens.get(model.pool, 0.0) + sum(
                n * tokens[w] for w, n in by_workload.items()
            )
    out = []
    for w in plan.platform.workloads:
        if not w.success_rate or w.rework_usd is None:
            continue
        per_call: dict[str, float] = {}
        for target in w.success_rate:
            model = plan.platform.model(target)
            entry = plan.platform.frontier_entry(target)
            if model is not None and pool_tokens.get(model.pool):
                per_call[target] = _pool_cost(lines, model.pool) / pool_tokens[model.pool] * tokens[w.name]
            elif entry is not None:
                price = prices.api(entry.provider, entry.model)
                if price is not None:
                    per_call[target] = per_call_usd(price, w)
        per_target = {t: c + (1 - w.success_rate[t]) * w.rework_usd for t, c in per_call.items()}
        share = w.fallback_rate if w.fallback else 0.0
        mix = {w.route: 1 - share, **({w.fallback: share} if w.fallback and share else {})}
        routed_usd = (
            sum(weight * per_target[t] for t, weight in mix.items())
            if all(t in per_target for t in mix)
            else None
        )
        out.append(
            OutcomeCost(
                workload=w.name,
                rework_usd=w.rework_usd,
                per_target=per_target,
                per_call=per_call,
                routed_usd=routed_usd,
            )
        )
    return tuple(out)


def _assumptions(
    plan: Plan, prices: PriceBook, api_only_key: str, lines: Sequence[CostLine]
) -> tuple[str, ...]:
    hours = plan.platform.cost.hours_per_month
    out = [
        f"a month is {hours:g} hours; calls per month = calls_per_day x {hours / 24:.2f}",
        f"API-only: {api_only_key}, tokens only, billed as each workload declares (prompt-cache shares, "
        "batch API, retries); workloads no API may serve (sensitivity, quality floor, context window) are "
        "left out of the comparison",
        "each workload's route gets 1 - fallback_rate of its calls, its fallback gets fallback_rate",
        "worst case: pools at maxSize all month (spot hours at the on-demand price), frontier entries at "
        "monthly_cap_usd, request-linked items at the gateway rate limit all month",
        "break-even: the token mix is fixed and all workloads scale together; pools add nodes past max_nodes",
        "owned_hardware: this plan rents every node on AWS, so the bucket is 0"
        + (
            "; costs.buy prices the same pools bought instead (cost.buy)"
            if plan.platform.cost.buy is not None
            else " (cost.buy prices buying them instead)"
        ),
    ]
    for pool in plan.pools:
        if pool.capacity != "on_demand":
            out.append(f"pool {pool.name}: {spot_statement(prices, pool.instance_type)}")
        if pool.purchase != "on_demand":
            out.append(
                f"pool {pool.name}: its {pool.min_nodes} min_nodes node(s) under {pool.purchase}, paid every "
                "hour whether used or not (no upfront); nodes above them as capacity says"
            )
    if prices.cache_note:
        out.append(f"instance prices from the {prices.cache_note}, under the stack's own prices")
    if any(ln.estimated and "us-east-1 x" in ln.note for ln in lines):
        factor, why = prices.factor()
        out.append(f"prices with no {plan.region} row are us-east-1 x {factor:g} ({why})")
    return tuple(out)


def estimate(plan: Plan, records: Sequence[ResourceRecord] | None = None) -> Costs:
    """Everything the plan costs: its resources (its intents, or the recorded ones), usage and operations."""
    book = plan.prices
    recs = tuple(records) if records is not None else plan.intents
    ctx = PricingContext.from_plan(plan, recs)
    resource_lines = [ln for r in recs for ln in price_record(r, ctx)]
    usage_lines, notes = api_lines(plan, book)
    lines = (*resource_lines, *usage_lines, *operations_lines(plan))
    baseline = api_only(plan, book)
    model = volume_model(plan, ctx, lines, baseline.monthly_usd)
    bought = buy_scenario(plan, lines, baseline)
    return Costs(
        lines=lines,
        api_only_monthly_usd=baseline.monthly_usd,
        api_only_model=baseline.label,
        api_only_excluded=dict(baseline.excluded),
        calls_per_month=model.calls_per_month,
        # One stack-wide break-even only where API-only could carry every workload; otherwise the two
        # sides would not serve the same calls (the decision section has it per workload and model).
        breakeven_calls_per_month=model.breakeven()
        if model.calls_per_month > 0 and not baseline.excluded
        else None,
        outcomes=outcome_costs(plan, lines, book),
        assumptions=_assumptions(plan, book, baseline.label, lines) + (bought.assumptions if bought else ()),
        notes=tuple(notes),
        unit=unit_economics(plan, lines, baseline),
        buy=bought,
    )


def breakeven_model(plan: Plan, records: Sequence[ResourceRecord] | None = None) -> tuple[Costs, VolumeModel]:
    """The costs and the volume model behind the breakeven command and chart."""
    recs = tuple(records) if records is not None else plan.intents
    costs = estimate(plan, recs)
    ctx = PricingContext.from_plan(plan, recs)
    return costs, volume_model(plan, ctx, costs.lines, costs.api_only_monthly_usd)
