"""`route-cost` (advisory): a declared route should not cost more than the best option its rules allow.

The decision engine prices every eligible option of every workload at its marginal monthly cost given
all the other workloads' choices (`inferplan.decide`); a workload that names its route is held to it,
and this rule says what naming it costs. `route: auto` workloads take the best option by construction.
"""

from __future__ import annotations

from inferplan.decide.types import Decision
from inferplan.rules.findings import Finding, finding

RULE = "route-cost"
# Differences below this are noise against the precision of the prices (a month of log lines).
TOLERANCE_USD = 1.0


def route_cost(decision: Decision, stack: str) -> tuple[Finding, ...]:
    declared = [d for d in decision.workloads if not d.auto]
    if not declared:
        return (
            finding(RULE, "pass", stack, "every workload lets the planner choose its route (route: auto)"),
        )
    out = []
    for d in declared:
        own = next((o for o in d.options if o.target == d.chosen), None)
        best = min(
            (o for o in d.options if o.eligible and o.monthly_usd is not None and o.target != d.chosen),
            key=lambda o: (o.monthly_usd or 0.0, o.target),
            default=None,
        )
        if own is None or own.monthly_usd is None or best is None or best.monthly_usd is None:
            out.append(
                finding(
                    RULE,
                    "pass",
                    d.workload,
                    f"declared route {d.chosen}: no other eligible option to compare",
                )
            )
            continue
        saving = own.monthly_usd - best.monthly_usd
        also = (
            " (it is the fallback too: name another fallback, or none)"
            if best.target == d.declared_fallback
            else ""
        )
        if saving > TOLERANCE_USD:
            out.append(
                finding(
                    RULE,
                    "warn",
                    d.workload,
                    f"declared route {d.chosen} adds ${own.monthly_usd:,.0f}/month; {best.target} ({best.kind}"
                    f"{', ' + best.shape if best.shape else ''}) would add ${best.monthly_usd:,.0f} (marginal "
                    "costs, every other workload's route as it is): "
                    f"${saving:,.0f}/month less — set route: {best.target}{also} or route: auto "
                    f"(eligible: {best.reason})",
                )
            )
        else:
            out.append(
                finding(
                    RULE,
                    "pass",
                    d.workload,
                    f"declared route {d.chosen} (adds ${own.monthly_usd:,.0f}/month) is the cheapest eligible option"
                    f"{'' if saving >= -TOLERANCE_USD else f'; next: {best.target} at ${best.monthly_usd:,.0f}'}",
                )
            )
    return tuple(out)
