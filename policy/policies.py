"""The CrossGuard adapters: each inferplan rule wrapped as a Pulumi policy over the resources of a preview.

No rule is written here. A policy turns what CrossGuard hands it (type, name, camelCase props) into
`ResourceRecord`s and calls the same function the gate and `plan` call, then reports each failure.
What the pack adds is reach: it sees every resource of the stack, including any built around the
planner, and an organisation can tighten the caps with `--policy-pack-config` without editing code.

The stack's spec (`inferplan:platform`) is read from the stack config when the CLI passes it to the
pack; then the spec-level rules run too and the stack's waivers apply. Without it, rules that need
the spec report "not applicable" and the caps come from the pack config alone.

Importable without side effects (constructing `PolicyPack` starts a server and never returns; only
`__main__.py` does that), so tests call each policy's `validate` directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from inferplan.cost import Costs, PricingContext, estimate, price_resources
from inferplan.errors import UserError
from inferplan.plan import Plan
from inferplan.planner import build_plan
from inferplan.resources import ResourceRecord
from inferplan.rules import RULES, Finding, Limits, limits_for
from inferplan.rules.autoscaler import ASG, autoscaler_bounded, autoscaler_capacity, pools_from_records
from inferplan.rules.budget import budget_expected, budget_worst_case
from inferplan.rules.endpoints import endpoint_policies
from inferplan.rules.gateway import gateway_auth, gateway_timeout
from inferplan.rules.images import image_reachable
from inferplan.rules.network import frontier_needs_egress, network_private
from inferplan.rules.residency import egress_resources, region_checks, residency_dataflow, residency_region
from inferplan.rules.routes import route_cost
from inferplan.rules.secrets import secrets_encrypted
from inferplan.rules.waivers import WAIVABLE, Allowance, allowance, apply_waivers
from inferplan.spec import Platform, Residency
from inferplan.stackfile import SpecErrors, load_stack, stack_file

PACK_NAME = "inferplan"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENFORCEMENT = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}

REGIONS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "minItems": 1,
    "description": "Regions data may be processed in; intersected with the stack's residency.allowed_regions.",
}
WAIVABLE_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "boolean", "const": True},
        {
            "type": "object",
            "properties": {"max_days": {"type": "integer", "minimum": 1, "maximum": 3650}},
            "additionalProperties": False,
        },
    ],
    "description": "Stacks may waive this rule in their own file, for at most max_days (default 90) from "
    "the day of the preview; a residency or security rule cannot be waived without this.",
}
CAPS: dict[str, dict[str, dict[str, Any]]] = {
    "budget-expected": {
        "monthly_usd": {"type": "number", "exclusiveMinimum": 0, "description": "Cap on the expected month."}
    },
    "budget-worst-case": {
        "hard_cap_usd": {"type": "number", "exclusiveMinimum": 0, "description": "Cap on the worst month."}
    },
    "autoscaler-bounded": {
        "max_nodes_per_pool": {
            "type": "integer",
            "minimum": 1,
            "description": "Ceiling of every pool's maxSize.",
        }
    },
    "residency-region": {"allowed_regions": REGIONS_SCHEMA},
    "residency-dataflow": {"allowed_regions": REGIONS_SCHEMA},
}
# Every policy takes `waivable` (the organisation's waiver allowance); some take caps too.
CONFIG_SCHEMAS: dict[str, PolicyConfigSchema] = {
    rule: PolicyConfigSchema({**CAPS.get(rule, {}), WAIVABLE: WAIVABLE_SCHEMA}) for rule in RULES
}


@dataclass(frozen=True)
class StackContext:
    """What the pack knows about the stack under preview beyond its resources."""

    stack: str
    plan: Plan | None = None  # None: the CLI did not pass the stack's config to the pack
    region: str | None = None  # aws:region


def stack_context() -> StackContext:
    """The stack's name, region and plan: from the stack config the CLI passes, else from its stack file."""
    try:
        stack = pulumi.get_stack()
    except Exception:  # outside a Pulumi run there is no stack
        stack = "stack"
    region = pulumi.Config("aws").get("region")
    raw = pulumi.Config("inferplan").get("platform")
    if raw:
        return StackContext(stack=stack, plan=_plan(stack, raw), region=region)
    # The pack sits in the project; `stacks/Pulumi.<stack>.yaml` is the very file the CLI read.
    if stack_file(stack, PROJECT_ROOT).is_file():
        try:
            loaded = load_stack(stack, PROJECT_ROOT)
        except SpecErrors:
            return StackContext(stack=stack, region=region)  # the program's own validation reports these
        plan = _plan(stack, json.dumps(loaded.platform.model_dump(mode="json")))
        return StackContext(stack=stack, plan=plan, region=region or loaded.aws_region)
    return StackContext(stack=stack, region=region)


_PLANS: dict[tuple[str, str], Plan | None] = {}


def _plan(stack: str, raw: str) -> Plan | None:
    """Plans are cached per spec text: one preview calls every policy, and sizing is not free.

    A spec that cannot be planned (a pool with no price, a model that fits no node) gives no plan: the
    program's own build reports why, and the rules judge the resources alone (unpriced lines shown)."""
    key = (stack, raw)
    if key not in _PLANS:
        try:
            _PLANS[key] = build_plan(stack, Platform.model_validate(json.loads(raw)))
        except UserError:
            _PLANS[key] = None
    return _PLANS[key]


ContextSource = Callable[[], StackContext]


# -- props → records ----------------------------------------------------------------------------


def _raw(value: Any) -> Any:
    """Plain values from CrossGuard's unknown-checking proxies; unknowns stay as Pulumi's sentinels."""
    if isinstance(value, Mapping):
        try:
            target = value["__target"]
        except (KeyError, TypeError):
            target = value
        return {str(k): _raw(v) for k, v in dict(target).items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        try:
            items = value["__target"]  # type: ignore[call-overload]
        except (KeyError, TypeError, IndexError):
            items = value
        return [_raw(v) for v in list(items)]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    inner = getattr(value, "value", None)  # pulumi_policy.secret.Secret
    return _raw(inner) if inner is not None else str(value)


def record_of(
    resource_type: str, name: str, props: Mapping[str, Any], parent: str | None = None
) -> ResourceRecord:
    return ResourceRecord(type=resource_type, name=name, inputs=_raw(props), parent=parent)


def records_of(resources: Iterable[PolicyResource]) -> tuple[ResourceRecord, ...]:
    out = []
    for r in resources:
        parent = r.parent.name if r.parent is not None else None
        custom = not r.resource_type.startswith(("inferplan:components:", "pulumi:"))
        out.append(replace(record_of(r.resource_type, r.name, r.props, parent), custom=custom))
    return tuple(out)


def provider_region(resources: Iterable[PolicyResource]) -> str | None:
    for r in resources:
        if r.provider is not None:
            region = _raw(r.provider.props).get("region")
            if isinstance(region, str) and region:
                return region
    return None


# -- reporting ----------------------------------------------------------------------------------


def _limits(context: StackContext, config: Mapping[str, Any]) -> Limits:
    base = limits_for(context.plan) if context.plan else Limits(stack=context.stack, region=context.region)
    return base.tightened(config)


def allowed_by(rule: str, config: Mapping[str, Any]) -> dict[str, Allowance]:
    """The organisation's allowance for the policy's own rule, from its pack config entry."""
    found = allowance(config)
    return {rule: found} if found is not None else {}


def report(
    findings: Iterable[Finding],
    context: StackContext,
    report_violation: ReportViolation,
    urns: Mapping[str, str] | None = None,
    allowed: Mapping[str, Allowance] | None = None,
) -> None:
    """Report every failure nobody waived (waivers from the stack's spec, as far as the organisation's
    config allows them), on its resource when it has one."""
    items = tuple(findings)
    if context.plan is not None:
        items = apply_waivers(items, context.plan.platform.policy.waivers, allowed=allowed)
    for item in items:
        if item.status == "fail" and not item.waived:
            urn = (urns or {}).get(item.subject)
            report_violation(f"[{item.subject}] {item.message}", urn)


def _resource_policy(
    rule: str,
    description: str,
    check: Callable[[ResourceRecord, StackContext, Limits], Iterable[Finding]],
    source: ContextSource,
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        context = source()
        record = record_of(args.resource_type, args.name, args.props)
        config = args.get_config()
        report(
            check(record, context, _limits(context, config)),
            context,
            report_violation,
            allowed=allowed_by(rule, config),
        )

    return ResourceValidationPolicy(
        name=rule,
        description=description,
        validate=validate,
        enforcement_level=ENFORCEMENT[RULES[rule]],
        config_schema=CONFIG_SCHEMAS.get(rule),
    )


StackCheck = Callable[
    [tuple[ResourceRecord, ...], StackContext, Limits, StackValidationArgs], Iterable[Finding]
]


def _stack_policy(
    rule: str, description: str, check: StackCheck, source: ContextSource
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        context = source()
        if context.region is None:
            context = replace(context, region=provider_region(args.resources))
        records = records_of(args.resources)
        urns = {r.name: r.urn for r in args.resources}
        # Pool findings name the pool; point them at its Auto Scaling group.
        urns.update({r.tag("inferplan:pool") or r.name: urns[r.name] for r in records if r.type == ASG})
        config = args.get_config()
        report(
            check(records, context, _limits(context, config), args),
            context,
            report_violation,
            urns,
            allowed=allowed_by(rule, config),
        )

    return StackValidationPolicy(
        name=rule,
        description=description,
        validate=validate,
        enforcement_level=ENFORCEMENT[RULES[rule]],
        config_schema=CONFIG_SCHEMAS.get(rule),
    )


def _needs_plan(context: StackContext, args: StackValidationArgs) -> Plan:
    if context.plan is None:
        args.not_applicable(
            "needs the stack's inferplan:platform config, which the CLI did not pass to the pack"
        )
    assert context.plan is not None
    return context.plan


# -- the checks: each calls the rule function the gate and `plan` call ---------------------------


def _costs(records: tuple[ResourceRecord, ...], context: StackContext, args: StackValidationArgs) -> Costs:
    """With the spec: the real resources priced plus the plan's usage; without: the resources alone."""
    if context.plan is not None:
        return estimate(context.plan, records)
    if context.region is None:
        args.not_applicable("no AWS region known: cannot price the resources")
    return price_resources(records, PricingContext.for_records(records, str(context.region)))


def _budget_expected(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    if limits.monthly_usd is None:
        args.not_applicable(
            "no monthly budget: set monthly_usd in the pack config or budget.monthly_usd in the spec"
        )
    return [budget_expected(_costs(records, context, args), limits.monthly_usd, limits.stack)]


def _budget_worst_case(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    if limits.hard_cap_usd is None:
        args.not_applicable(
            "no hard cap: set hard_cap_usd in the pack config or budget.hard_cap_usd in the spec"
        )
    return [budget_worst_case(_costs(records, context, args), limits.hard_cap_usd, limits.stack)]


def _autoscaler_bounded(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    return autoscaler_bounded(pools_from_records(records), limits.max_nodes_per_pool, limits.stack)


def _autoscaler_capacity(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    plan = _needs_plan(context, args)
    ceilings = {b.name: b.max_nodes for b in pools_from_records(records)}
    # The ceiling that counts is the Auto Scaling group's own maxSize, whatever the spec says.
    pools = [replace(p, max_nodes=_or(ceilings.get(p.name), p.max_nodes)) for p in plan.pools]
    return autoscaler_capacity(pools, plan.stack, plan.models)


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _residency_region(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    if context.plan is None:
        return region_checks(limits.stack, context.region, limits.allowed_regions, records)
    plan = _tightened(context.plan, limits)
    return residency_region(plan, records)


def _residency_dataflow(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    plan = _tightened(_needs_plan(context, args), limits)
    return (*residency_dataflow(plan), *egress_resources(plan, records))


def _frontier_needs_egress(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    return frontier_needs_egress(_needs_plan(context, args))


def _gateway_timeout(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    return gateway_timeout(_needs_plan(context, args))


def _route_cost(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    plan = _needs_plan(context, args)
    return route_cost(plan.decision, plan.stack)


def _image_reachable(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    return image_reachable(_needs_plan(context, args))


def _gateway_auth(
    records: tuple[ResourceRecord, ...], context: StackContext, limits: Limits, args: StackValidationArgs
) -> Iterable[Finding]:
    return gateway_auth(records, limits.stack, limits.expects_gateway)


def _tightened(plan: Plan, limits: Limits) -> Plan:
    """The plan with the organisation's (intersected) allowed regions, so its rules judge against them."""
    if tuple(plan.platform.residency.allowed_regions) == limits.allowed_regions or not limits.allowed_regions:
        return plan
    platform = plan.platform.model_copy(
        update={"residency": Residency(allowed_regions=limits.allowed_regions)}
    )
    return replace(plan, platform=platform)


def _network_private(record: ResourceRecord, context: StackContext, limits: Limits) -> Iterable[Finding]:
    return network_private([record], limits.stack)


def _secrets_encrypted(record: ResourceRecord, context: StackContext, limits: Limits) -> Iterable[Finding]:
    return secrets_encrypted([record], limits.stack)


def _endpoint_policies(record: ResourceRecord, context: StackContext, limits: Limits) -> Iterable[Finding]:
    return endpoint_policies([record], limits.stack)


DESCRIPTIONS = {
    "budget-expected": "Expected monthly cost stays within the budget (budget.monthly_usd or monthly_usd).",
    "budget-worst-case": "Worst-case month (pools at maxSize, frontier at its caps) stays within the hard cap.",
    "autoscaler-bounded": "Every GPU Auto Scaling group has maxSize >= minSize and <= max_nodes_per_pool.",
    "autoscaler-capacity": "Each pool's maxSize can carry the sized peak load of its models.",
    "residency-region": "The stack region, every resource's own region and sensitive frontier use lie in allowed regions.",
    "residency-dataflow": "No confidential+ workload reaches an endpoint outside the allowed regions; regulated reaches no frontier.",
    "frontier-needs-egress": "A stack without egress declares no frontier entry.",
    "network-private": "No public IPs, nothing internet-facing, no security group ingress from 0.0.0.0/0 or ::/0.",
    "gateway-auth": "Every API route has an authorizer; the stage throttles and writes access logs.",
    "gateway-timeout": "No workload's latency SLO lets a call run past the gateway's 30 s integration limit.",
    "secrets-encrypted": "Every secret is encrypted with a customer-managed KMS key.",
    "route-cost": "A declared route costs no more than the cheapest option the workload's rules allow.",
    "image-reachable": "Every container image (router, vLLM) can be pulled over the stack's own network.",
    "endpoint-policies": "Every VPC endpoint has a policy limited to this account's principals and resources.",
}


def build_policies(
    source: ContextSource = stack_context,
) -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """Every rule of `inferplan.rules.RULES` as one policy named by its rule id."""
    stack_checks: dict[str, StackCheck] = {
        "budget-expected": _budget_expected,
        "budget-worst-case": _budget_worst_case,
        "autoscaler-bounded": _autoscaler_bounded,
        "autoscaler-capacity": _autoscaler_capacity,
        "residency-region": _residency_region,
        "residency-dataflow": _residency_dataflow,
        "frontier-needs-egress": _frontier_needs_egress,
        "gateway-auth": _gateway_auth,
        "gateway-timeout": _gateway_timeout,
        "route-cost": _route_cost,
        "image-reachable": _image_reachable,
    }
    resource_checks = {
        "network-private": _network_private,
        "secrets-encrypted": _secrets_encrypted,
        "endpoint-policies": _endpoint_policies,
    }
    policies: list[ResourceValidationPolicy | StackValidationPolicy] = []
    for rule in RULES:
        if rule in resource_checks:
            policies.append(_resource_policy(rule, DESCRIPTIONS[rule], resource_checks[rule], source))
        else:
            policies.append(_stack_policy(rule, DESCRIPTIONS[rule], stack_checks[rule], source))
    return policies
