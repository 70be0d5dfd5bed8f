"""The CrossGuard pack's policies, called directly on the resources each example stack registers under mocks.

No CLI: a preview hands CrossGuard camelCase props per resource, which is what the recorder keeps; we
build `ResourceValidationArgs` / `StackValidationArgs` from them and call each policy's `validate`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from inferplan.resources import ResourceRecord
from inferplan.rules import RULES
from policy.policies import CONFIG_SCHEMAS, StackContext, build_policies
from tests.conftest import EXAMPLE_STACKS
from tests.rules.conftest import plan_of

REGION = {"dev": "us-east-1", "prod-eu": "eu-central-1", "sovereign": "eu-central-1", "hybrid": "us-east-1"}


def opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def urn(stack: str, record: ResourceRecord) -> str:
    return f"urn:pulumi:{stack}::inferplan::{record.type}::{record.name}"


def provider(stack: str) -> PolicyProviderResource:
    return PolicyProviderResource(
        "pulumi:providers:aws", {"region": REGION[stack]}, f"urn:{stack}:aws", "default"
    )


def resources(stack: str, records: list[ResourceRecord]) -> list[PolicyResource]:
    return [
        PolicyResource(
            r.type,
            unknown_checking_proxy(dict(r.inputs)),
            urn(stack, r),
            r.name,
            opts(),
            provider(stack),
            None,
            [],
            {},
        )
        for r in records
    ]


class Violations(list):
    def __call__(self, message: str, urn: str | None = None) -> None:
        self.append((message, urn))


def policies(context: StackContext) -> dict[str, Any]:
    return {p.name: p for p in build_policies(lambda: context)}


def run(
    stack: str,
    records: list[ResourceRecord],
    *,
    context: StackContext | None = None,
    config: dict[str, dict[str, Any]] | None = None,
    only: str | None = None,
) -> dict[str, Violations]:
    """Every policy (or `only` one) on the records: {policy name: its violations}; not-applicable is skipped."""
    context = context or StackContext(stack=stack, plan=plan_of(stack), region=REGION[stack])
    out: dict[str, Violations] = {}
    for name, policy in policies(context).items():
        if only and name != only:
            continue
        found = out.setdefault(name, Violations())
        cfg = (config or {}).get(name)
        try:
            if isinstance(policy, StackValidationPolicy):
                policy.validate(StackValidationArgs(resources(stack, records), cfg), found)
            else:
                for res in resources(stack, records):
                    args = ResourceValidationArgs(
                        res.resource_type, res.props, res.urn, res.name, opts(), None, cfg
                    )
                    policy.validate(args, found)
        except _NotApplicableError:
            del out[name]
    return out


def with_inputs(records: list[ResourceRecord], type_: str, **changes: Any) -> list[ResourceRecord]:
    """The records with the first resource of `type_` changed (a hand-broken resource)."""
    out, done = [], False
    for r in records:
        if r.type == type_ and not done:
            r = replace(r, inputs={**r.inputs, **changes})
            done = True
        out.append(r)
    assert done, f"no {type_} among the records"
    return out


def test_one_policy_per_rule_with_its_enforcement_level():
    found = policies(StackContext(stack="dev"))
    assert list(found) == list(RULES)
    for name, policy in found.items():
        level = EnforcementLevel.MANDATORY if RULES[name] == "mandatory" else EnforcementLevel.ADVISORY
        assert policy.enforcement_level == level
    assert isinstance(found["network-private"], ResourceValidationPolicy)
    assert isinstance(found["budget-worst-case"], StackValidationPolicy)


def test_the_caps_have_a_config_schema():
    assert CONFIG_SCHEMAS["autoscaler-bounded"].properties["max_nodes_per_pool"]["type"] == "integer"
    assert "monthly_usd" in CONFIG_SCHEMAS["budget-expected"].properties
    assert "hard_cap_usd" in CONFIG_SCHEMAS["budget-worst-case"].properties
    assert CONFIG_SCHEMAS["residency-region"].properties["allowed_regions"]["type"] == "array"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_stacks_pass_every_policy(stack, recorded):
    found = run(stack, list(recorded[stack]))
    assert set(found) == set(RULES)  # with the spec, every policy applies
    assert {name: list(v) for name, v in found.items() if v} == {}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_stacks_pass_without_the_spec(stack, recorded):
    """A CLI that does not pass the stack config: spec rules are not applicable, the rest still pass."""
    found = run(stack, list(recorded[stack]), context=StackContext(stack=stack, region=REGION[stack]))
    assert {
        "network-private",
        "secrets-encrypted",
        "autoscaler-bounded",
        "gateway-auth",
        "residency-region",
    } <= set(found)
    assert "residency-dataflow" not in found and "frontier-needs-egress" not in found
    assert {name: list(v) for name, v in found.items() if v} == {}


def test_public_ip_on_a_gpu_launch_template_is_a_violation(recorded):
    broken = with_inputs(
        list(recorded["dev"]),
        "aws:ec2/launchTemplate:LaunchTemplate",
        networkInterfaces=[{"deviceIndex": 0, "associatePublicIpAddress": "true"}],
    )
    (violation,) = run("dev", broken, only="network-private")["network-private"]
    assert "associatePublicIpAddress" in violation[0]


def test_open_security_group_is_a_violation(recorded):
    broken = with_inputs(
        list(recorded["prod-eu"]),
        "aws:ec2/securityGroup:SecurityGroup",
        ingress=[{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}],
    )
    assert len(run("prod-eu", broken, only="network-private")["network-private"]) == 1


def test_secret_on_the_aws_managed_key_is_a_violation():
    secret = ResourceRecord(
        "aws:secretsmanager/secret:Secret", "dev-anthropic-api-key", {"kmsKeyId": "alias/aws/secretsmanager"}
    )
    (violation,) = run("dev", [secret], only="secrets-encrypted")["secrets-encrypted"]
    assert "dev-anthropic-api-key" in violation[0]


def test_a_key_unknown_at_preview_is_not_a_violation_and_does_not_raise():
    secret = ResourceRecord(
        "aws:secretsmanager/secret:Secret", "dev-anthropic-api-key", {"kmsKeyId": UNKNOWN_STRING_VALUE}
    )
    assert run("dev", [secret], only="secrets-encrypted")["secrets-encrypted"] == []


def test_asg_above_the_stack_limit_is_a_violation_on_that_resource(recorded):
    broken = with_inputs(list(recorded["prod-eu"]), "aws:autoscaling/group:Group", maxSize=12.0)
    (violation,) = run("prod-eu", broken, only="autoscaler-bounded")["autoscaler-bounded"]
    asg = next(r for r in broken if r.type == "aws:autoscaling/group:Group")
    assert "max_nodes 12" in violation[0]
    assert violation[1] == urn("prod-eu", asg)


def test_the_organisation_can_tighten_max_nodes_per_pool(recorded):
    config = {"autoscaler-bounded": {"max_nodes_per_pool": 1}}
    found = run("prod-eu", list(recorded["prod-eu"]), config=config, only="autoscaler-bounded")[
        "autoscaler-bounded"
    ]
    assert len(found) == 2  # h100 (max 3) and h200 (max 2), though the spec allows 4
    assert all("max_nodes_per_pool (1)" in message for message, _ in found)


def test_the_organisation_config_cannot_loosen_the_stack_limit(recorded):
    broken = with_inputs(list(recorded["prod-eu"]), "aws:autoscaling/group:Group", maxSize=6.0)
    config = {"autoscaler-bounded": {"max_nodes_per_pool": 10}}
    assert len(run("prod-eu", broken, config=config, only="autoscaler-bounded")["autoscaler-bounded"]) == 1


def test_budget_caps_from_the_pack_config_price_the_real_resources(recorded):
    config = {"budget-expected": {"monthly_usd": 100}, "budget-worst-case": {"hard_cap_usd": 1000}}
    found = run("sovereign", list(recorded["sovereign"]), config=config)
    (expected,) = found["budget-expected"]
    (worst,) = found["budget-worst-case"]
    assert "exceeds budget.monthly_usd $100" in expected[0]
    assert "largest contributors" in worst[0] and "g6e.12xlarge" in worst[0]


def test_budget_without_the_spec_prices_the_resources_alone(recorded):
    context = StackContext(stack="sovereign", region="eu-central-1")
    config = {"budget-worst-case": {"hard_cap_usd": 1000}}
    (worst,) = run("sovereign", list(recorded["sovereign"]), context=context, config=config)[
        "budget-worst-case"
    ]
    assert "g6e.12xlarge" in worst[0]


def test_resource_in_another_region_is_a_residency_violation(recorded):
    broken = [
        *recorded["sovereign"],
        ResourceRecord("aws:s3/bucket:Bucket", "sovereign-replica", {"region": "us-east-1"}),
    ]
    (violation,) = run("sovereign", broken, only="residency-region")["residency-region"]
    assert "sovereign-replica" in violation[0] and violation[1] == urn("sovereign", broken[-1])


def test_the_organisation_can_narrow_the_allowed_regions(recorded):
    config = {"residency-region": {"allowed_regions": ["eu-west-1"]}}
    found = run("prod-eu", list(recorded["prod-eu"]), config=config, only="residency-region")[
        "residency-region"
    ]
    messages = [message for message, _ in found]
    assert any("stack region eu-central-1 is outside" in m for m in messages)
    subnets = [r for r in recorded["prod-eu"] if r.type == "aws:ec2/subnet:Subnet"]
    assert {u for _, u in found} >= {urn("prod-eu", s) for s in subnets}  # each subnet sits in eu-central-1


def test_a_nat_gateway_added_to_sovereign_breaks_the_dataflow_rule(recorded):
    nat = ResourceRecord(
        "aws:ec2/natGateway:NatGateway", "sovereign-sneaky-nat", {"connectivityType": "public"}
    )
    (violation,) = run("sovereign", [*recorded["sovereign"], nat], only="residency-dataflow")[
        "residency-dataflow"
    ]
    assert "sovereign-sneaky-nat" in violation[0]


def test_frontier_without_egress_is_a_violation(recorded):
    plan = plan_of("dev", lambda p: p["network"].update(egress="none"))
    context = StackContext(stack="dev", plan=plan, region="us-east-1")
    (violation,) = run("dev", list(recorded["dev"]), context=context, only="frontier-needs-egress")[
        "frontier-needs-egress"
    ]
    assert "claude-haiku" in violation[0]


def test_unauthenticated_route_is_a_gateway_violation(recorded):
    route = ResourceRecord(
        "aws:apigatewayv2/route:Route",
        "dev-open-route",
        {"routeKey": "$default", "authorizationType": "NONE"},
    )
    found = run("dev", [*recorded["dev"], route], only="gateway-auth")["gateway-auth"]
    assert any("dev-open-route" in message for message, _ in found)


def test_capacity_reads_the_real_asg_ceiling_and_is_advisory(recorded):
    broken = with_inputs(list(recorded["dev"]), "aws:autoscaling/group:Group", maxSize=0.0)
    found = run("dev", broken, only="autoscaler-capacity")["autoscaler-capacity"]
    assert len(found) == 1 and "max_nodes is 0" in found[0][0]


def test_the_stacks_waivers_apply_in_the_pack(recorded):
    broken = with_inputs(list(recorded["prod-eu"]), "aws:autoscaling/group:Group", maxSize=12.0)
    asg = next(r for r in broken if r.type == "aws:autoscaling/group:Group")
    subject = asg.tag("inferplan:pool")
    waiver = {
        "rule": "autoscaler-bounded",
        "subject": subject,
        "reason": "burst test",
        "expires": "2999-01-01",
    }
    plan = plan_of("prod-eu", lambda p: p.update(policy={"waivers": [waiver]}))
    context = StackContext(stack="prod-eu", plan=plan, region="eu-central-1")
    assert run("prod-eu", broken, context=context, only="autoscaler-bounded")["autoscaler-bounded"] == []


def test_a_spec_that_cannot_be_planned_leaves_the_pack_the_resources_alone():
    """A pool on an unpriced shape: the program refuses the spec; the pack judges what it is handed."""
    import json

    from policy.policies import _plan
    from tests.conftest import stack_config

    platform = stack_config("dev")["inferplan:platform"]
    platform["pools"][0]["instance_type"] = "p5e.48xlarge"
    assert _plan("dev", json.dumps(platform)) is None
    assert _plan("dev", json.dumps(stack_config("dev")["inferplan:platform"])) is not None


def test_an_endpoint_open_to_other_accounts_is_a_violation_on_that_endpoint(recorded):
    broken = with_inputs(
        list(recorded["sovereign"]),
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        policy='{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}',
    )
    (violation,) = run("sovereign", broken, only="endpoint-policies")["endpoint-policies"]
    endpoint = next(r for r in broken if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint.name in violation[0]  # a resource policy: CrossGuard attaches it to the resource
    assert "without an aws:PrincipalAccount or aws:ResourceAccount condition" in violation[0]
