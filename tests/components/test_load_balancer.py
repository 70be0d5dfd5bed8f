"""InternalLoadBalancer: an internal ALB in the private subnets, two HTTP listeners, an SG others open."""

from __future__ import annotations

import pytest

from components.load_balancer import InternalLoadBalancer, InternalLoadBalancerArgs
from inferplan.names import fit_name
from inferplan.plan import MODELS_LISTENER_PORT, ROUTER_LISTENER_PORT, LoadBalancerPlan
from tests.components.recorded import named, of_type, record_components, recorded
from tests.conftest import EXAMPLE_STACKS, stack_config


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_alb_is_internal_application_in_the_private_subnets(stack):
    records = recorded(stack)
    [alb] = of_type(records, "aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["loadBalancerType"] == "application"
    assert alb.inputs["internal"] is True
    assert alb.inputs["dropInvalidHeaderFields"] is True
    # Access logs to the stack's access-log bucket, under their own prefix, once its policy exists.
    assert alb.inputs["accessLogs"] == {
        "bucket": f"{stack}-access-logs-123456789012",
        "prefix": "alb",
        "enabled": True,
    }
    assert f"{stack}-access-logs-policy" in alb.depends_on
    # Deletion protection in prod only (a dev stack is torn down freely).
    prod = stack_config(stack)["inferplan:platform"]["environment"] == "prod"
    assert alb.inputs["enableDeletionProtection"] is prod
    zones = stack_config(stack)["inferplan:platform"]["network"]["availability_zones"]
    assert len(alb.inputs["subnets"]) == zones
    assert all("-private-" in subnet for subnet in alb.inputs["subnets"])
    assert alb.inputs["securityGroups"] == [f"{stack}-alb-sg-id"]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_alb_security_group_has_no_inline_rules_and_reaches_only_the_vpc(stack):
    records = recorded(stack)
    group = named(records, f"{stack}-alb-sg")
    assert "ingress" not in group.inputs and "egress" not in group.inputs
    cidr = stack_config(stack)["inferplan:platform"]["network"]["cidr"]
    egress = [
        r
        for r in of_type(records, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if r.inputs["securityGroupId"] == f"{group.name}-id"
    ]
    assert egress and all(r.inputs["cidrIpv4"] == cidr for r in egress)


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_router_listener_answers_503_and_models_listener_404_until_rules_exist(stack):
    records = recorded(stack)
    listeners = {r.inputs["port"]: r for r in of_type(records, "aws:lb/listener:Listener")}
    expected = {ROUTER_LISTENER_PORT: "503", MODELS_LISTENER_PORT: "404"}
    for port, status in expected.items():
        listener = listeners[port]
        assert listener.inputs["protocol"] == "HTTP"
        assert listener.inputs["loadBalancerArn"].endswith(f":{stack}-alb")
        [action] = listener.inputs["defaultActions"]
        assert action["type"] == "fixed-response"
        assert action["fixedResponse"]["statusCode"] == status
    body = listeners[ROUTER_LISTENER_PORT].inputs["defaultActions"][0]["fixedResponse"]["messageBody"]
    assert body == "router not deployed yet"


def test_access_logs_when_a_bucket_is_given():
    def build():
        InternalLoadBalancer(
            "t-lb",
            InternalLoadBalancerArgs(
                balancer=LoadBalancerPlan("t", "t-alb", "10.0.0.0/16", {"inferplan:stack": "t"}),
                vpc_id="vpc-1",
                subnet_ids=["subnet-a", "subnet-b"],
                access_logs_bucket="central-elb-logs",
            ),
        )

    [alb] = of_type(record_components(build), "aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["accessLogs"] == {"bucket": "central-elb-logs", "prefix": "t", "enabled": True}


def test_names_over_the_aws_limit_are_shortened_stably_and_distinctly():
    assert fit_name("prod-eu-alb", 32) == "prod-eu-alb"
    a = fit_name("a-very-long-stack-name-for-testing-alb", 32)
    b = fit_name("a-very-long-stack-name-for-testing-alx", 32)
    assert len(a) <= 32 and len(b) <= 32 and a != b
    assert a == fit_name("a-very-long-stack-name-for-testing-alb", 32)
