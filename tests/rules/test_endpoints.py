"""`endpoint-policies`: every VPC endpoint keeps the stack's data in its account (planned and registered)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from inferplan.resources import ResourceRecord
from inferplan.rules import evaluate_plan
from inferplan.rules.endpoints import VPC_ENDPOINT, endpoint_policies
from inferplan.rules.findings import UNKNOWN_SENTINELS
from tests.conftest import EXAMPLE_STACKS
from tests.rules.conftest import failures, only, plan_of, rec

ACCOUNT = "123456789012"


def endpoint(policy: Any, name: str = "dev-s3-gateway-endpoint") -> ResourceRecord:
    inputs = {"serviceName": "com.amazonaws.us-east-1.s3", "vpcEndpointType": "Gateway"}
    if policy is not None:
        inputs["policy"] = policy if isinstance(policy, str) else json.dumps(policy)
    return rec(VPC_ENDPOINT, name, **inputs)


def allow(**statement: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", **statement}]}


def in_account(key: str = "aws:PrincipalAccount", value: Any = ACCOUNT) -> dict[str, Any]:
    return {"StringEquals": {key: value}}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_planned_and_the_registered_endpoints_of_every_example_stack_pass(stack, recorded):
    plan = plan_of(stack)
    planned = only(evaluate_plan(plan, None), "endpoint-policies")
    registered = endpoint_policies(recorded[stack], stack)
    for result in (planned, registered):
        [verdict] = result
        assert verdict.status == "pass", verdict.message
    count = len(plan.network.interface_endpoints) + len(plan.network.gateway_endpoints)
    assert registered[0].message.startswith(f"{count} VPC endpoints")


def test_an_endpoint_without_a_policy_fails():
    [found] = endpoint_policies([endpoint(None)], "dev")
    assert (found.status, found.subject) == ("fail", "dev-s3-gateway-endpoint")
    assert "no policy" in found.message


@pytest.mark.parametrize(
    "statement",
    [
        {"Action": "s3:*", "Resource": "*"},  # the AWS default: anyone, anything
        {"Action": "s3:*", "Resource": "*", "Condition": in_account(value="*")},  # a wildcard account
        {"Action": "s3:*", "Resource": "*", "Condition": in_account("aws:SourceVpc", "vpc-1")},
        {"Action": "s3:PutObject", "Resource": "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"},
        {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::someone-elses-bucket/*"},
        {
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*",
            "NotResource": "x",
        },
    ],
)
def test_an_allow_for_anyone_outside_the_account_fails(statement):
    [found] = endpoint_policies([endpoint(allow(**statement))], "dev")
    assert found.status == "fail" and "without an aws:PrincipalAccount" in found.message


def test_principal_written_as_a_map_counts_as_anyone():
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "*", "Resource": "*"}]}
    [found] = endpoint_policies([endpoint(policy)], "dev")
    assert found.status == "fail"


@pytest.mark.parametrize(
    "statement",
    [
        {"Action": "s3:*", "Resource": "*", "Condition": in_account()},
        {"Action": "s3:*", "Resource": "*", "Condition": in_account("aws:ResourceAccount", [ACCOUNT])},
        {"Action": "s3:GetObject", "Resource": ["arn:aws:s3:::amazoncloudwatch-agent-eu-west-1/*"]},
    ],
)
def test_an_account_condition_or_a_read_of_aws_s_own_buckets_passes(statement):
    [found] = endpoint_policies([endpoint(allow(**statement))], "dev")
    assert found.status == "pass"


def test_a_policy_unknown_at_preview_warns_and_junk_fails():
    unknown = sorted(UNKNOWN_SENTINELS)[0]
    [warned] = endpoint_policies([endpoint(unknown)], "dev")
    assert warned.status == "warn"
    [junk] = endpoint_policies([endpoint("not json")], "dev")
    assert junk.status == "fail" and "not a JSON policy" in junk.message


def test_the_gate_blocks_a_plan_whose_intents_hold_an_open_endpoint():
    plan = plan_of("sovereign")
    opened = tuple(
        replace(r, inputs={k: v for k, v in r.inputs.items() if k != "policy"})
        if r.type == VPC_ENDPOINT and r.name.endswith("s3-gateway-endpoint")
        else r
        for r in plan.intents
    )
    [failed] = failures(evaluate_plan(replace(plan, intents=opened), None), "endpoint-policies")
    assert failed.blocking and failed.subject == "sovereign-s3-gateway-endpoint"
