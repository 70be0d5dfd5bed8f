"""network-private (on resources) and frontier-needs-egress (on the plan): pass and fail cases."""

from __future__ import annotations

import pytest

from inferplan.rules.network import frontier_needs_egress, network_private
from tests.conftest import EXAMPLE_STACKS
from tests.rules.conftest import failures, plan_of, rec

LT = "aws:ec2/launchTemplate:LaunchTemplate"
SG = "aws:ec2/securityGroup:SecurityGroup"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_stacks_are_private(stack, recorded):
    found = network_private(recorded[stack], stack)
    assert [(f.rule, f.status, f.subject) for f in found] == [("network-private", "pass", stack)]


def test_gpu_launch_template_with_a_public_ip_fails():
    template = rec(
        LT, "dev-l40s-lt", networkInterfaces=[{"associatePublicIpAddress": "true", "deviceIndex": 0}]
    )
    bad = failures(network_private([template], "dev"))
    assert [(f.rule, f.subject) for f in bad] == [("network-private", "dev-l40s-lt")]
    assert "associatePublicIpAddress" in bad[0].message and "false" in bad[0].message


def test_launch_template_without_public_ip_passes():
    template = rec(LT, "dev-l40s-lt", networkInterfaces=[{"associatePublicIpAddress": "false"}])
    assert [f.status for f in network_private([template], "dev")] == ["pass"]


def test_subnet_mapping_public_ips_fails():
    bad = failures(
        network_private([rec("aws:ec2/subnet:Subnet", "dev-public-a", mapPublicIpOnLaunch=True)], "dev")
    )
    assert [(f.rule, f.subject) for f in bad] == [("network-private", "dev-public-a")]


@pytest.mark.parametrize(
    ("record", "open_cidr"),
    [
        (
            rec(
                SG,
                "open-sg",
                ingress=[{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}],
            ),
            "0.0.0.0/0",
        ),
        (rec(SG, "open-sg", ingress=[{"protocol": "-1", "ipv6CidrBlocks": ["::/0"]}]), "::/0"),
        (
            rec("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "open-sg", cidrIpv4="0.0.0.0/0"),
            "0.0.0.0/0",
        ),
        (
            rec(
                "aws:ec2/securityGroupRule:SecurityGroupRule",
                "open-sg",
                type="ingress",
                cidrBlocks=["0.0.0.0/0"],
            ),
            "0.0.0.0/0",
        ),
    ],
)
def test_security_group_ingress_from_anywhere_fails(record, open_cidr):
    bad = failures(network_private([record], "dev"))
    assert [(f.rule, f.subject) for f in bad] == [("network-private", "open-sg")]
    assert open_cidr in bad[0].message


def test_egress_to_anywhere_is_not_ingress():
    rule = rec(
        "aws:ec2/securityGroupRule:SecurityGroupRule", "egress", type="egress", cidrBlocks=["0.0.0.0/0"]
    )
    group = rec(SG, "sg", ingress=[{"cidrBlocks": ["10.0.0.0/16"]}], egress=[{"cidrBlocks": ["0.0.0.0/0"]}])
    assert [f.status for f in network_private([rule, group], "dev")] == ["pass"]


@pytest.mark.parametrize("cidrs", [{"cidrBlocks": ["0.0.0.0/0"]}, {"ipv6CidrBlocks": ["::/0"]}])
def test_a_gpu_node_security_group_open_to_the_internet_fails(cidrs):
    group = rec(
        SG,
        "dev-l40s-nodes-sg",
        ingress=[],
        egress=[{"protocol": "tcp", "fromPort": 443, "toPort": 443, **cidrs}],
        tags={"inferplan:component": "pool", "inferplan:pool": "l40s"},
    )
    [bad] = failures(network_private([group], "dev"))
    assert bad.subject == "dev-l40s-nodes-sg" and "lets GPU nodes out" in bad.message


def test_the_example_gpu_nodes_have_no_internet_egress(recorded):
    for stack, records in recorded.items():
        assert [f.status for f in network_private(records, stack)] == ["pass"], stack


def test_internet_facing_load_balancer_fails():
    lb = rec("aws:lb/loadBalancer:LoadBalancer", "dev-alb", loadBalancerType="application", internal=False)
    bad = failures(network_private([lb], "dev"))
    assert [(f.rule, f.subject) for f in bad] == [("network-private", "dev-alb")]


def test_frontier_with_egress_passes():
    found = frontier_needs_egress(plan_of("prod-eu"))
    assert [(f.rule, f.status, f.subject) for f in found] == [("frontier-needs-egress", "pass", "prod-eu")]


def test_sovereign_without_frontier_passes():
    assert [f.status for f in frontier_needs_egress(plan_of("sovereign"))] == ["pass"]


def test_frontier_entry_without_egress_fails_for_that_entry():
    plan = plan_of("dev", lambda p: p["network"].update(egress="none"))
    bad = failures(frontier_needs_egress(plan))
    assert [(f.rule, f.subject) for f in bad] == [("frontier-needs-egress", "claude-haiku")]
    assert "egress: nat" in bad[0].message and bad[0].blocking
