"""Policy rules: pure functions over a Plan or resource records, each returning `Finding`s.

Two entry points, run from three places (the gate in `__main__.py`, the `plan` command, the
CrossGuard pack in `policy/`):

* `evaluate_plan(plan, costs)` — the rules a spec can be judged on before anything is registered:
  budget-expected, budget-worst-case, autoscaler-bounded, autoscaler-capacity (advisory),
  residency-region, residency-dataflow, frontier-needs-egress, gateway-timeout (advisory),
  route-cost (advisory), image-reachable, endpoint-policies (on the registered resources when given,
  else on the planned intents).
* `evaluate_resources(records, plan_or_limits)` — the rules judged on the resources themselves:
  network-private, gateway-auth, secrets-encrypted.

Both apply the stack's waivers (`platform.policy.waivers`) when given a Plan, as far as the
organisation's allowances (`allowed`, from its policy config: `inferplan.policy_config`) let them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from inferplan.cost.model import Costs
from inferplan.plan import Plan
from inferplan.resources import ResourceRecord
from inferplan.rules.autoscaler import autoscaler_bounded, autoscaler_capacity, pools_from_plan
from inferplan.rules.budget import budget_expected, budget_worst_case
from inferplan.rules.endpoints import endpoint_policies
from inferplan.rules.findings import RULES, Finding, Limits, Severity, Status, blocking, finding
from inferplan.rules.gateway import gateway_auth, gateway_timeout
from inferplan.rules.images import image_reachable
from inferplan.rules.network import frontier_needs_egress, network_private
from inferplan.rules.residency import egress_resources, residency_dataflow, residency_region
from inferplan.rules.routes import route_cost
from inferplan.rules.secrets import secrets_encrypted
from inferplan.rules.waivers import Allowance, apply_waivers, unused_waivers

__all__ = [
    "RULES",
    "Finding",
    "Limits",
    "Severity",
    "Status",
    "blocking",
    "evaluate_plan",
    "evaluate_resources",
    "limits_for",
    "unused_waivers",
]


def limits_for(plan: Plan) -> Limits:
    """The limits a plan's own spec sets (the pack tightens them with an organisation's config)."""
    platform = plan.platform
    return Limits(
        stack=plan.stack,
        region=plan.region,
        allowed_regions=tuple(platform.residency.allowed_regions),
        max_nodes_per_pool=platform.autoscaling.max_nodes_per_pool,
        monthly_usd=platform.budget.monthly_usd,
        hard_cap_usd=platform.budget.hard_cap_usd,
        expects_gateway=True,  # Spec v1 requires a gateway
        expects_secrets=bool(platform.frontier),
    )


def evaluate_plan(
    plan: Plan,
    costs: Costs | None,
    records: Sequence[ResourceRecord] = (),
    today: date | None = None,
    allowed: Mapping[str, Allowance] | None = None,
) -> tuple[Finding, ...]:
    """The plan-level rules (waivers applied). `records`, when given, add each resource's own region."""
    limits = limits_for(plan)
    findings: list[Finding] = []
    if costs is None:
        for rule in ("budget-expected", "budget-worst-case"):
            findings.append(
                finding(rule, "warn", plan.stack, "no cost estimate available: budget not checked")
            )
    else:
        findings.append(budget_expected(costs, limits.monthly_usd, plan.stack))
        findings.append(budget_worst_case(costs, limits.hard_cap_usd, plan.stack))
    findings.extend(autoscaler_bounded(pools_from_plan(plan), limits.max_nodes_per_pool, plan.stack))
    findings.extend(autoscaler_capacity(plan.pools, plan.stack, plan.models))
    findings.extend(residency_region(plan, records))
    findings.extend(residency_dataflow(plan))
    findings.extend(egress_resources(plan, records))
    findings.extend(frontier_needs_egress(plan))
    findings.extend(gateway_timeout(plan))
    findings.extend(route_cost(plan.decision, plan.stack))
    findings.extend(image_reachable(plan))
    findings.extend(endpoint_policies(records or plan.intents, plan.stack))
    return apply_waivers(findings, plan.platform.policy.waivers, today, allowed)


def evaluate_resources(
    records: Sequence[ResourceRecord],
    context: Plan | Limits,
    today: date | None = None,
    allowed: Mapping[str, Allowance] | None = None,
) -> tuple[Finding, ...]:
    """The resource-level rules on registered (or previewed) resources; waivers applied for a Plan."""
    limits = limits_for(context) if isinstance(context, Plan) else context
    findings = (
        *network_private(records, limits.stack),
        *gateway_auth(records, limits.stack, limits.expects_gateway),
        *secrets_encrypted(records, limits.stack, limits.expects_secrets),
    )
    if isinstance(context, Plan):
        return apply_waivers(findings, context.platform.policy.waivers, today, allowed)
    return findings
