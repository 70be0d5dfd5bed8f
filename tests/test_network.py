"""The network component's real properties, asserted on the resources the program registers under mocks."""

from __future__ import annotations

import ipaddress

import pytest

from tests.conftest import stack_config


def of_type(recording, token):
    return [r for r in recording.resources if r.type == token]


@pytest.mark.parametrize("stack", ["dev", "prod-eu", "sovereign"])
def test_no_subnet_maps_public_ips(record, stack):
    subnets = of_type(record(stack), "aws:ec2/subnet:Subnet")
    assert subnets
    assert all(s.inputs.get("mapPublicIpOnLaunch") is False for s in subnets)


@pytest.mark.parametrize("stack", ["dev", "prod-eu", "sovereign"])
def test_one_private_subnet_per_az_inside_the_vpc(record, stack):
    config = stack_config(stack)
    network = config["inferplan:platform"]["network"]
    recording = record(stack, config)
    private = [s for s in of_type(recording, "aws:ec2/subnet:Subnet") if s.tag("inferplan:tier") == "private"]
    assert len(private) == network["availability_zones"]
    assert len({s.inputs["availabilityZone"] for s in private}) == network["availability_zones"]
    vpc = ipaddress.ip_network(network["cidr"])
    blocks = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in private]
    assert all(b.subnet_of(vpc) for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


def test_egress_none_builds_no_nat_and_no_internet_gateway(record):
    recording = record("sovereign")
    assert of_type(recording, "aws:ec2/natGateway:NatGateway") == []
    assert of_type(recording, "aws:ec2/internetGateway:InternetGateway") == []
    assert of_type(recording, "aws:ec2/eip:Eip") == []
    routes = of_type(recording, "aws:ec2/route:Route")
    assert all(r.inputs.get("destinationCidrBlock") != "0.0.0.0/0" for r in routes)


def test_egress_none_still_reaches_s3_and_aws_apis_through_endpoints(record):
    endpoints = of_type(record("sovereign"), "aws:ec2/vpcEndpoint:VpcEndpoint")
    kinds = {e.inputs["serviceName"].rsplit(".", 1)[-1]: e.inputs["vpcEndpointType"] for e in endpoints}
    assert kinds["s3"] == "Gateway"
    assert {"logs", "monitoring", "ssm", "dkr"} <= set(kinds)
    interface = [e for e in endpoints if e.inputs["vpcEndpointType"] == "Interface"]
    assert all(e.inputs["privateDnsEnabled"] is True and len(e.inputs["subnetIds"]) == 2 for e in interface)


def test_prod_gets_one_nat_per_az_dev_shares_one(record):
    assert len(of_type(record("prod-eu"), "aws:ec2/natGateway:NatGateway")) == 3
    assert len(of_type(record("dev"), "aws:ec2/natGateway:NatGateway")) == 1


def test_private_route_tables_send_internet_traffic_to_nat_only(record):
    recording = record("prod-eu")
    defaults = [r for r in of_type(recording, "aws:ec2/route:Route") if "private" in r.name]
    assert len(defaults) == 3
    assert all(r.inputs.get("natGatewayId") and not r.inputs.get("gatewayId") for r in defaults)


def test_endpoint_security_group_admits_https_from_the_vpc_only(record):
    config = stack_config("dev")
    recording = record("dev", config)
    [group] = [
        g
        for g in of_type(recording, "aws:ec2/securityGroup:SecurityGroup")
        if g.name.endswith("endpoints-sg")
    ]
    [rule] = group.inputs["ingress"]
    assert rule["cidrBlocks"] == [config["inferplan:platform"]["network"]["cidr"]]
    assert (rule["fromPort"], rule["toPort"]) == (443, 443)


def test_autoscaling_endpoint_only_where_a_warm_pool_must_report_ready(record):
    def services(stack):
        return {
            e.inputs["serviceName"].rsplit(".", 1)[-1]
            for e in of_type(record(stack), "aws:ec2/vpcEndpoint:VpcEndpoint")
        }

    assert "autoscaling" in services("sovereign")  # warm_pool: 1, and no internet to reach the API
    assert "autoscaling" not in services("dev")
