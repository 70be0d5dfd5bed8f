"""The endpoint policies the planner decides and the network component renders (inferplan.perimeter)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inferplan.perimeter import DeployFacts
from tests.components.recorded import named, plan_of, recorded
from tests.conftest import EXAMPLE_STACKS

FACTS = DeployFacts(
    account="210987654321", partition="aws", key_arn="arn:aws:kms:eu-central-1:210987654321:key/k"
)


def statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_s3_admits_reads_of_the_stack_s_buckets_in_its_account_and_of_the_ecr_layers_only():
    policy = plan_of("sovereign").network.endpoint_policy("s3").document(FACTS)
    own, aws_owned = statements(policy).values()
    assert own["Action"] == ["s3:GetObject", "s3:ListBucket"]  # nothing in the VPC writes to S3
    assert sorted(own["Resource"]) == sorted(
        f"arn:aws:s3:::sovereign-{purpose}-210987654321{objects}"
        for purpose in ("models", "router-config")
        for objects in ("", "/*")
    )
    assert own["Condition"] == {
        "StringEquals": {"aws:PrincipalAccount": "210987654321", "aws:ResourceAccount": "210987654321"}
    }
    assert aws_owned["Action"] == ["s3:GetObject"] and "Condition" not in aws_owned
    assert aws_owned["Resource"] == [
        "arn:aws:s3:::prod-eu-central-1-starport-layer-bucket/*",
        "arn:aws:s3:::amazoncloudwatch-agent-eu-central-1/*",
    ]


def test_logs_kms_secrets_and_hooks_are_the_stack_s_own():
    network = plan_of("prod-eu").network

    def resources(service: str) -> list[str]:
        [statement] = network.endpoint_policy(service).document(FACTS)["Statement"]
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "210987654321"}}
        return list(statement["Resource"])

    assert resources("logs") == ["arn:aws:logs:eu-central-1:210987654321:log-group:/inferplan/prod-eu/*"]
    assert resources("kms") == [FACTS.key_arn]
    assert resources("secretsmanager") == [
        "arn:aws:secretsmanager:eu-central-1:210987654321:secret:inferplan/prod-eu/*"
    ]
    assert resources("autoscaling") == [
        "arn:aws:autoscaling:eu-central-1:210987654321:autoScalingGroup:*:autoScalingGroupName/prod-eu-*-asg"
    ]
    assert resources("ssm") == ["*"]  # instance registration and channels name no resource of ours


def test_ecr_admits_the_stack_s_repositories_and_a_router_image_named_in_this_region():
    image = "111122223333.dkr.ecr.eu-central-1.amazonaws.com/platform/litellm:v1"
    plan = plan_of("sovereign", lambda p: p.setdefault("router", {}).update(image=image))
    login, pull = plan.network.endpoint_policy("ecr.dkr").document(FACTS)["Statement"]
    assert login["Action"] == ["ecr:GetAuthorizationToken"]
    assert pull["Resource"] == [
        "arn:aws:ecr:eu-central-1:210987654321:repository/sovereign/*",
        "arn:aws:ecr:eu-central-1:111122223333:repository/platform/litellm",
    ]


def test_only_the_kms_policy_waits_for_the_key():
    network = plan_of("dev").network
    assert [p.service for p in network.endpoint_policies if p.needs_key] == ["kms"]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_component_renders_each_planned_policy_with_the_deploying_account(stack):
    plan, records = plan_of(stack), recorded(stack)
    key = named(records, f"{stack}-key")
    facts = DeployFacts("123456789012", "aws", f"arn:aws:kms:{plan.region}:123456789012:{key.name}")
    for service in plan.network.interface_endpoints:
        record = named(records, f"{stack}-{service.replace('.', '-')}-endpoint")
        assert json.loads(record.inputs["policy"]) == plan.network.endpoint_policy(service).document(facts)
    gateway = named(records, f"{stack}-s3-gateway-endpoint")
    assert json.loads(gateway.inputs["policy"]) == plan.network.endpoint_policy("s3").document(facts)
