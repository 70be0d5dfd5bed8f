"""Network rules: nothing gets a public IP or open ingress, and no GPU node's security group lets it
out to the internet (`network-private`); a stack without egress declares no frontier entry it could
never reach (`frontier-needs-egress`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inferplan.plan import Plan
from inferplan.resources import ResourceRecord
from inferplan.rules.findings import Finding, finding, is_unknown, truthy

OPEN = ("0.0.0.0/0", "::/0")
SUBNET = "aws:ec2/subnet:Subnet"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
ECS_SERVICE = "aws:ecs/service:Service"
CHECKED = (
    SUBNET,
    LAUNCH_TEMPLATE,
    INSTANCE,
    SECURITY_GROUP,
    INGRESS_RULE,
    SG_RULE,
    LOAD_BALANCER,
    ECS_SERVICE,
)


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _open_cidrs(rule: Mapping[str, Any], v4: str, v6: str) -> list[str]:
    found = [c for c in _list(rule.get(v4)) if c in OPEN] + [c for c in _list(rule.get(v6)) if c in OPEN]
    return [str(c) for c in found]


def _problems(record: ResourceRecord) -> tuple[list[str], list[str]]:
    """(what is public, what cannot be known yet) for one resource."""
    public: list[str] = []
    unknown: list[str] = []

    def flag(value: Any, what: str) -> None:
        if is_unknown(value):
            unknown.append(what)
        elif truthy(value):
            public.append(what)

    if record.type == SUBNET:
        flag(record.get("mapPublicIpOnLaunch"), "mapPublicIpOnLaunch is true (set it to false)")
    elif record.type == LAUNCH_TEMPLATE:
        for index, nic in enumerate(_list(record.get("networkInterfaces"))):
            if isinstance(nic, Mapping):
                flag(
                    nic.get("associatePublicIpAddress"),
                    f"networkInterfaces[{index}].associatePublicIpAddress is true (set it to false)",
                )
    elif record.type == INSTANCE:
        flag(record.get("associatePublicIpAddress"), "associatePublicIpAddress is true (set it to false)")
    elif record.type == SECURITY_GROUP:
        for index, rule in enumerate(_list(record.get("ingress"))):
            if isinstance(rule, Mapping) and (cidrs := _open_cidrs(rule, "cidrBlocks", "ipv6CidrBlocks")):
                public.append(
                    f"ingress[{index}] admits {', '.join(cidrs)} (allow the VPC CIDR or a security group)"
                )
        if record.tag("inferplan:component") == "pool":  # GPU nodes: only the router needs the internet
            for index, rule in enumerate(_list(record.get("egress"))):
                if isinstance(rule, Mapping) and (cidrs := _open_cidrs(rule, "cidrBlocks", "ipv6CidrBlocks")):
                    public.append(
                        f"egress[{index}] lets GPU nodes out to {', '.join(cidrs)} (allow the VPC CIDR and the "
                        "S3 prefix list only: images come from the stack's ECR mirror)"
                    )
    elif record.type == INGRESS_RULE:
        cidrs = [c for c in (record.get("cidrIpv4"), record.get("cidrIpv6")) if c in OPEN]
        if cidrs:
            public.append(f"admits {', '.join(cidrs)} (allow the VPC CIDR or a security group)")
    elif record.type == SG_RULE:
        if record.get("type") == "ingress" and (
            cidrs := _open_cidrs(record.inputs, "cidrBlocks", "ipv6CidrBlocks")
        ):
            public.append(f"ingress admits {', '.join(cidrs)} (allow the VPC CIDR or a security group)")
    elif record.type == LOAD_BALANCER:
        internal = record.get("internal")
        if is_unknown(internal):
            unknown.append("internal")
        elif not truthy(internal):
            public.append("is internet-facing (set internal: true; the gateway reaches it by VPC link)")
    elif record.type == ECS_SERVICE:
        flag(
            record.get("networkConfiguration", "assignPublicIp"),
            "networkConfiguration.assignPublicIp is true (set it to false)",
        )
    return public, unknown


def network_private(records: Sequence[ResourceRecord], stack: str) -> tuple[Finding, ...]:
    """No public IP on nodes, subnets, tasks or load balancers; no security group open to 0.0.0.0/0 or ::/0
    (ingress; GPU nodes' egress too)."""
    rule = "network-private"
    out = []
    checked = [r for r in records if r.type in CHECKED]
    for record in checked:
        public, unknown = _problems(record)
        if public:
            out.append(
                finding(rule, "fail", record.name, f"{record.type} '{record.name}': " + "; ".join(public))
            )
        elif unknown:
            out.append(
                finding(
                    rule,
                    "warn",
                    record.name,
                    f"{record.type} '{record.name}': {', '.join(unknown)} cannot be known before deployment; "
                    "set it to a literal false",
                )
            )
    if not out:
        if not checked:
            message = "no subnets, instances, launch templates, security groups or load balancers to check"
        else:
            kinds = sorted({r.type.rsplit(":", 1)[-1] for r in checked})
            message = (
                f"{len(checked)} resources checked ({', '.join(kinds)}): no public IP, nothing internet-facing, "
                "no ingress from 0.0.0.0/0 or ::/0, no GPU node egress to the internet"
            )
        out.append(finding(rule, "pass", stack, message))
    return tuple(out)


def frontier_needs_egress(plan: Plan) -> tuple[Finding, ...]:
    """`network.egress: none` and a frontier entry contradict each other: the entry could never be reached."""
    rule = "frontier-needs-egress"
    frontier = plan.platform.frontier
    if not frontier:
        return (finding(rule, "pass", plan.stack, "no frontier entries: nothing needs to leave the VPC"),)
    if plan.network.egress:
        names = ", ".join(f.name for f in frontier)
        return (
            finding(
                rule,
                "pass",
                plan.stack,
                f"network.egress is nat: {names} reachable through {plan.network.nat_gateways} NAT gateway(s)",
            ),
        )
    return tuple(
        finding(
            rule,
            "fail",
            entry.name,
            f"network.egress is none, so frontier entry '{entry.name}' ({entry.provider}) can never be reached; "
            "remove it and the routes and fallbacks to it, or set network.egress: nat",
        )
        for entry in frontier
    )
