"""Residency rules: where data is processed (`residency-region`) and where it can flow (`residency-dataflow`).

`residency-region` checks places: the stack region, each resource's own `region` input (pulumi-aws 7
lets one provider create resources in other regions; a bucket replica elsewhere would show up here),
and the processing regions of every frontier entry that confidential or regulated data is sent to.
`residency-dataflow` checks paths on the data-flow graph (`inferplan.graph`): no confidential or
regulated workload may reach, by route or fallback, an endpoint outside the allowed regions, and a
regulated workload may reach no frontier endpoint at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from inferplan.graph import paths_to_internet, reaches
from inferplan.plan import Plan
from inferplan.resources import ResourceRecord
from inferplan.rules.findings import Finding, finding, is_unknown
from inferplan.spec import SENSITIVITY_ORDER, Sensitivity

SENSITIVE: tuple[Sensitivity, ...] = SENSITIVITY_ORDER[SENSITIVITY_ORDER.index("confidential") :]


def _allowed(regions: Sequence[str]) -> str:
    return "[" + ", ".join(regions) + "]"


def resource_regions(records: Iterable[ResourceRecord], allowed: Sequence[str]) -> tuple[Finding, ...]:
    """A failure for every resource whose own `region` (or availability zone) lies outside `allowed`."""
    out = []
    for record in records:
        region = record.get("region")
        zone = record.get("availabilityZone")
        where = None
        if isinstance(region, str) and region and not is_unknown(region):
            where = region
        elif isinstance(zone, str) and zone and not is_unknown(zone):
            where = zone.rstrip("abcdefghijklmnopqrstuvwxyz") if zone[-1].isalpha() else zone
        if where is not None and where not in allowed:
            out.append(
                finding(
                    "residency-region",
                    "fail",
                    record.name,
                    f"{record.type} '{record.name}' is placed in {where}, outside residency.allowed_regions "
                    f"{_allowed(allowed)}; remove its region override or add {where} to allowed_regions",
                )
            )
    return tuple(out)


def region_checks(
    stack: str, region: str | None, allowed: Sequence[str], records: Sequence[ResourceRecord] = ()
) -> tuple[Finding, ...]:
    """The stack region and every resource's own region against `allowed` (also what the pack runs)."""
    rule = "residency-region"
    if not allowed:
        return (finding(rule, "pass", stack, "no allowed regions configured: nothing to check"),)
    out: list[Finding] = []
    placed = resource_regions(records, allowed)
    custom = sum(1 for r in records if r.custom)
    where = (
        f"{custom - len(placed)} of {custom} resources placed inside them (no model bucket replica elsewhere)"
        if records
        else "model bucket replicas: none in v1"
    )
    if region is not None and region not in allowed:
        out.append(
            finding(
                rule,
                "fail",
                stack,
                f"stack region {region} is outside residency.allowed_regions {_allowed(allowed)}; deploy to "
                "one of them (region and aws:region) or change allowed_regions",
            )
        )
    else:
        out.append(
            finding(
                rule,
                "pass",
                stack,
                f"stack region {region or '(provider default)'} lies in {_allowed(allowed)}; {where}",
            )
        )
    out.extend(placed)
    return tuple(out)


def residency_region(plan: Plan, records: Sequence[ResourceRecord] = ()) -> tuple[Finding, ...]:
    """Stack region, resources' own regions, and frontier processing regions used by sensitive data."""
    allowed = plan.platform.residency.allowed_regions
    out = list(region_checks(plan.stack, plan.region, allowed, records))
    users: dict[str, list[str]] = {}
    for route in plan.routes:
        if route.sensitivity not in SENSITIVE:
            continue
        for target, kind in ((route.target, route.target_kind), (route.fallback, route.fallback_kind)):
            if target and kind == "frontier":
                users.setdefault(target, []).append(f"{route.workload} ({route.sensitivity})")
    for entry in plan.platform.frontier:
        if entry.name not in users:
            continue
        outside = [r for r in entry.processing_regions if r not in allowed]
        who = ", ".join(users[entry.name])
        if outside:
            out.append(
                finding(
                    "residency-region",
                    "fail",
                    entry.name,
                    f"frontier entry '{entry.name}' processes in {', '.join(outside)}, outside "
                    f"residency.allowed_regions {_allowed(allowed)}, and receives sensitive data from {who}; "
                    "route those workloads to a self-hosted model",
                )
            )
        else:
            out.append(
                finding(
                    "residency-region",
                    "pass",
                    entry.name,
                    f"frontier entry '{entry.name}' processes in {', '.join(entry.processing_regions)}, "
                    f"inside {_allowed(allowed)} ({who})",
                )
            )
    return tuple(out)


def residency_dataflow(plan: Plan) -> tuple[Finding, ...]:
    """No confidential+ workload reaches an endpoint outside the allowed regions; regulated reaches no frontier."""
    rule = "residency-dataflow"
    allowed = plan.platform.residency.allowed_regions
    if not plan.routes:
        return (finding(rule, "pass", plan.stack, "no workloads declared: no data flows to check"),)
    internet = paths_to_internet(plan)
    out = []
    for workload, found in reaches(plan).items():
        route = next(r for r in plan.routes if r.workload == workload)
        sensitivity = route.sensitivity
        problems: list[str] = []
        dropped: list[str] = []
        for reach in found:
            outside = [r for r in reach.regions if r not in allowed]
            how = f"by {reach.role}"
            if sensitivity == "regulated" and reach.kind == "frontier":
                problems.append(
                    f"regulated data reaches frontier entry '{reach.endpoint}' {how} "
                    f"(processing in {', '.join(reach.regions)}); regulated data may reach no frontier "
                    f"endpoint — remove that {reach.role}"
                )
            elif sensitivity in SENSITIVE and outside:
                problems.append(
                    f"{sensitivity} data reaches '{reach.endpoint}' {how}, which processes in "
                    f"{', '.join(outside)} outside {_allowed(allowed)}; remove that {reach.role} or use an "
                    "endpoint inside the allowed regions"
                )
            elif sensitivity in SENSITIVE and not reach.allowed and reach.role == "route":
                # The router refuses the workload's only route: it would get no alias, every call fails.
                problems.append(
                    f"{sensitivity} data is routed to '{reach.endpoint}', which the router refuses "
                    f"({reach.why}); route it to a self-hosted model"
                )
            elif sensitivity in SENSITIVE and not reach.allowed:
                dropped.append(
                    f"the {reach.role} to '{reach.endpoint}' will be dropped by the router ({reach.why}); "
                    "remove it from the spec"
                )
        if problems:
            out.append(finding(rule, "fail", workload, f"workload '{workload}': " + "; ".join(problems)))
            continue
        ends = ", ".join(f"{r.endpoint} ({'/'.join(r.regions)})" for r in found if r.allowed)
        frontier = [r.endpoint for r in found if r.allowed and r.kind == "frontier"]
        if workload not in internet:
            net = "no network path exists from it to the internet"
        elif frontier:
            net = f"it may leave the VPC only to {', '.join(frontier)}, through NAT"
        elif sensitivity in SENSITIVE:
            net = f"the router refuses every frontier API for {sensitivity} data; its calls stay in the VPC"
        else:
            net = "the router sends its calls to self-hosted models only; they stay in the VPC"
        if dropped:
            out.append(
                finding(
                    rule, "warn", workload, f"workload '{workload}' ({sensitivity}): " + "; ".join(dropped)
                )
            )
        else:
            out.append(
                finding(
                    rule,
                    "pass",
                    workload,
                    f"workload '{workload}' ({sensitivity}) reaches {ends or 'nothing'}; {net}",
                )
            )
    return tuple(out)


INTERNET_EXITS = (
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
)


def egress_resources(plan: Plan, records: Sequence[ResourceRecord]) -> tuple[Finding, ...]:
    """With `egress: none` the "no path to the internet" claim must hold for the real resources too."""
    if plan.network.egress:
        return ()
    out = []
    for record in records:
        default_route = record.type == "aws:ec2/route:Route" and (
            record.get("destinationCidrBlock") == "0.0.0.0/0"
            or record.get("destinationIpv6CidrBlock") == "::/0"
        )
        if record.type in INTERNET_EXITS or default_route:
            out.append(
                finding(
                    "residency-dataflow",
                    "fail",
                    record.name,
                    f"network.egress is none, yet {record.type} '{record.name}' opens a way to the internet; "
                    "remove it (or set network.egress: nat and accept that data can leave)",
                )
            )
    return tuple(out)
