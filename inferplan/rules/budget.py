"""Budget rules: the expected month under `budget.monthly_usd`, the worst month under `budget.hard_cap_usd`.

Both read a `Costs` from the cost engine — built from the plan by the gate and the `plan` command,
or from the priced resources of a real preview by the CrossGuard pack — so the verdict and the
figures in the report are the same numbers.
"""

from __future__ import annotations

from inferplan.cost.model import CostLine, Costs
from inferplan.rules.findings import Finding, Status, finding


def _usd(value: float) -> str:
    return f"${value:,.0f}"


def _contributors(lines: tuple[CostLine, ...], worst_case: bool) -> str:
    parts = []
    for ln in lines:
        usd = ln.worst_case_usd if worst_case else ln.monthly_usd
        where = ln.pool or ln.resource_name
        parts.append(f"{ln.item}{f' ({where})' if where and where not in ln.item else ''} {_usd(usd)}")
    return ", ".join(parts)


def _unpriced(costs: Costs) -> str:
    if not costs.unpriced:
        return ""
    shown = ", ".join(costs.unpriced[:3]) + (" …" if len(costs.unpriced) > 3 else "")
    return f"; {len(costs.unpriced)} item(s) have no price and are not counted ({shown})"


def _unpriced_nodes(costs: Costs, rule: str, stack: str) -> Finding | None:
    """GPU nodes with no price are the bulk of the bill: a budget judged without them fails closed."""
    missing = [
        ln for ln in costs.lines if not ln.priced and ln.bucket == "cloud_gpu" and ln.scales == "nodes"
    ]
    if not missing:
        return None
    names = ", ".join(f"{ln.item} ({ln.pool})" if ln.pool else ln.item for ln in missing)
    return finding(
        rule,
        "fail",
        stack,
        f"cannot check the budget: {names} have no price in the catalog; add `cost.prices` "
        "instance:<type> or a `catalog.instance_prices` row for the stack's region",
    )


def budget_expected(costs: Costs, monthly_usd: float | None, stack: str) -> Finding:
    """Expected monthly cost (all four buckets) <= budget.monthly_usd."""
    rule = "budget-expected"
    expected = costs.monthly_expected_usd
    if monthly_usd is not None and (closed := _unpriced_nodes(costs, rule, stack)):
        return closed
    if monthly_usd is None:
        return finding(rule, "pass", stack, f"no monthly budget configured; expected {_usd(expected)}/month")
    if expected > monthly_usd:
        top = _contributors(costs.largest_contributors(3, worst_case=False), worst_case=False)
        return finding(
            rule,
            "fail",
            stack,
            f"expected {_usd(expected)}/month exceeds budget.monthly_usd {_usd(monthly_usd)} by "
            f"{_usd(expected - monthly_usd)}; largest: {top}. Lower min_nodes, pick a cheaper "
            "instance_type or capacity (spot), route less to frontier APIs, or raise budget.monthly_usd"
            + _unpriced(costs),
        )
    share = 100 * expected / monthly_usd
    status: Status = "warn" if costs.unpriced else "pass"
    return finding(
        rule,
        status,
        stack,
        f"expected {_usd(expected)}/month is within budget.monthly_usd {_usd(monthly_usd)} ({share:.0f}%)"
        + _unpriced(costs),
    )


def budget_worst_case(costs: Costs, hard_cap_usd: float | None, stack: str) -> Finding:
    """Worst month (every pool at max_nodes, every frontier entry at its cap) <= budget.hard_cap_usd."""
    rule = "budget-worst-case"
    worst = costs.monthly_worst_case_usd
    if hard_cap_usd is not None and (closed := _unpriced_nodes(costs, rule, stack)):
        return closed
    top = _contributors(costs.largest_contributors(3, worst_case=True), worst_case=True)
    if hard_cap_usd is None:
        return finding(rule, "pass", stack, f"no hard cap configured; worst case {_usd(worst)}/month")
    if worst > hard_cap_usd:
        return finding(
            rule,
            "fail",
            stack,
            f"worst case {_usd(worst)}/month (every pool at max_nodes, every frontier entry at its "
            f"monthly_cap_usd) exceeds budget.hard_cap_usd {_usd(hard_cap_usd)} by "
            f"{_usd(worst - hard_cap_usd)}; largest contributors: {top}. Lower max_nodes or "
            "monthly_cap_usd of those, or raise budget.hard_cap_usd" + _unpriced(costs),
        )
    status: Status = "warn" if costs.unpriced else "pass"
    return finding(
        rule,
        status,
        stack,
        f"worst case {_usd(worst)}/month is within budget.hard_cap_usd {_usd(hard_cap_usd)} "
        f"({100 * worst / hard_cap_usd:.0f}%); largest contributors: {top or 'none'}" + _unpriced(costs),
    )
