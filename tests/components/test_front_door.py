"""The front door under Pulumi mocks: gateway, router and fallback secrets, as the program registers them.

ARNs in recorded inputs are the recorder's placeholders, `arn:aws:<service>:<region>:<account>:<name>`,
so a test can tell which resource an ARN input points at.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from inferplan.front_door import CONFIG_OBJECT_KEY, GUARD_OBJECT_KEY, HEALTH_PATH
from inferplan.images import LITELLM_IMAGE, LITELLM_VERSION
from inferplan.plan import (
    MODEL_HEADER,
    MODELS_LISTENER_PORT,
    ROUTER_LISTENER_PORT,
    ROUTER_PORT,
)
from inferplan.planner import build_plan
from inferplan.router_config import GUARD_ENV, MASTER_KEY_ENV, env_vars, router_config
from inferplan.router_guard import CALLER_HEADER, WORKLOAD_HEADER, WORKLOADS_ENV
from inferplan.spec import Platform
from offline.recorder import ACCOUNT_ID
from offline.recorder import record as run_program
from tests.conftest import ROOT, stack_config
from tests.recordings import recording

CANARY = "sk-ant-canary-0123456789"  # a key value that must never reach a recorded input


def of_type(recording: Any, token: str) -> list[Any]:
    return [r for r in recording.resources if r.type == token]


def one(recording: Any, token: str, name: str) -> Any:
    [found] = [r for r in of_type(recording, token) if r.name == name]
    return found


def arn(recording: Any, token: str, name: str) -> str:
    """The placeholder ARN the mocks give the resource `name` of type `token` (which must exist)."""
    one(recording, token, name)
    service = token.split(":")[1].split("/")[0]
    return f"arn:aws:{service}:{recording_region(recording)}:{ACCOUNT_ID}:{name}"


def recording_region(recording: Any) -> str:
    """The stack's region, from a subnet's availability zone (`eu-central-1a` -> `eu-central-1`)."""
    subnet = of_type(recording, "aws:ec2/subnet:Subnet")[0]
    return str(subnet.inputs["availabilityZone"])[:-1]


def statements(policy: str) -> list[dict[str, Any]]:
    document = json.loads(policy)
    return list(document["Statement"])


def plan_of(stack: str, config: dict[str, Any]) -> Any:
    return build_plan(stack, Platform.model_validate(config["inferplan:platform"]))


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, leaf-or-mapping) in a recorded input tree, JSON strings included."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")
    elif isinstance(value, str) and value[:1] in "[{":
        try:
            parsed = json.loads(value)
        except ValueError:
            return
        yield from walk(parsed, f"{path}<json>")


@pytest.fixture(scope="module")
def prod() -> Any:
    return recording("prod-eu")


def container(recording: Any, stack: str) -> dict[str, Any]:
    task = one(recording, "aws:ecs/taskDefinition:TaskDefinition", f"{stack}-router")
    [definition] = json.loads(task.inputs["containerDefinitions"])
    return dict(definition)


# --- gateway -----------------------------------------------------------------------------------------


def integration_of(recording: Any, route: Any) -> Any:
    """The integration a route targets (`integrations/<id>`; the mocks' id is `<name>-id`)."""
    name = route.inputs["target"].removeprefix("integrations/").removesuffix("-id")
    return one(recording, "aws:apigatewayv2/integration:Integration", name)


def test_one_route_per_workload_with_the_jwt_authorizer_and_the_workload_scopes(prod):
    spec = stack_config("prod-eu")["inferplan:platform"]
    jwt = spec["gateway"]["jwt"]
    [authorizer] = of_type(prod, "aws:apigatewayv2/authorizer:Authorizer")
    assert authorizer.inputs["authorizerType"] == "JWT"
    assert authorizer.inputs["identitySources"] == ["$request.header.Authorization"]
    assert authorizer.inputs["jwtConfiguration"] == {"issuer": jwt["issuer"], "audiences": jwt["audience"]}
    routes = {r.inputs["routeKey"]: r for r in of_type(prod, "aws:apigatewayv2/route:Route")}
    # prod-eu declares no `callers`: each workload's route requires the default scope inferplan/<name>.
    assert {key: r.inputs["authorizationScopes"] for key, r in routes.items()} == {
        f"POST /{w['name']}/v1/chat/completions": [f"inferplan/{w['name']}"] for w in spec["workloads"]
    }
    for route in routes.values():
        assert route.inputs["authorizationType"] == "JWT"
        assert route.inputs["authorizerId"] == f"{authorizer.name}-id"
    [api] = of_type(prod, "aws:apigatewayv2/api:Api")
    assert api.inputs["protocolType"] == "HTTP"
    assert "target" not in api.inputs  # quick create would add a route without the authorizer


def test_declared_callers_are_the_route_scopes(record):
    config = stack_config("dev")
    config["inferplan:platform"]["workloads"][0]["callers"] = ["support/triage", "ops.admin"]
    [route] = of_type(record("dev", config), "aws:apigatewayv2/route:Route")
    assert route.inputs["authorizationScopes"] == ["support/triage", "ops.admin"]


def test_stage_throttles_from_the_spec_and_logs_json_to_an_encrypted_log_group(prod):
    limit = stack_config("prod-eu")["inferplan:platform"]["gateway"]["rate_limit"]
    [stage] = of_type(prod, "aws:apigatewayv2/stage:Stage")
    assert stage.inputs["name"] == "$default" and stage.inputs["autoDeploy"] is True
    settings = stage.inputs["defaultRouteSettings"]
    assert settings["throttlingRateLimit"] == limit["requests_per_second"]
    assert settings["throttlingBurstLimit"] == limit["burst"]
    logs = one(prod, "aws:cloudwatch/logGroup:LogGroup", "prod-eu-gateway-logs")
    assert stage.inputs["accessLogSettings"]["destinationArn"] == arn(
        prod, "aws:cloudwatch/logGroup:LogGroup", "prod-eu-gateway-logs"
    )
    fields = json.loads(stage.inputs["accessLogSettings"]["format"])
    assert {"requestId", "status", "subject", "routeKey"} <= set(fields)
    assert logs.inputs["name"] == "/inferplan/prod-eu/gateway"
    assert logs.inputs["retentionInDays"] > 0
    assert logs.inputs["kmsKeyId"] == arn(prod, "aws:kms/key:Key", "prod-eu-key")


def test_each_route_integration_names_its_workload_to_the_router_over_the_vpc_link(prod):
    listener = arn(prod, "aws:lb/listener:Listener", "prod-eu-alb-router")
    routes = of_type(prod, "aws:apigatewayv2/route:Route")
    assert len(of_type(prod, "aws:apigatewayv2/integration:Integration")) == len(routes)
    for route in routes:
        workload = route.inputs["routeKey"].split("/")[1]
        integration = integration_of(prod, route)
        assert integration.inputs["integrationType"] == "HTTP_PROXY"
        assert integration.inputs["connectionType"] == "VPC_LINK"
        assert integration.inputs["connectionId"] == "prod-eu-gateway-vpc-link-id"
        assert integration.inputs["integrationUri"] == listener
        assert integration.inputs["requestParameters"] == {
            "overwrite:path": "/v1/chat/completions",
            f"overwrite:header.{WORKLOAD_HEADER}": workload,  # whatever the client sent is replaced
            f"overwrite:header.{CALLER_HEADER}": "$context.authorizer.claims.sub",
            f"remove:header.{MODEL_HEADER.lower()}": "''",
        }
    [link] = of_type(prod, "aws:apigatewayv2/vpcLink:VpcLink")
    private = {
        f"{s.name}-id" for s in of_type(prod, "aws:ec2/subnet:Subnet") if s.tag("inferplan:tier") == "private"
    }
    assert set(link.inputs["subnetIds"]) == private


def test_a_workload_whose_route_the_policy_refuses_gets_no_gateway_route(record):
    config = stack_config("dev")
    config["inferplan:platform"]["workloads"].append(
        {**config["inferplan:platform"]["workloads"][0], "name": "public-faq", "sensitivity": "public"}
    )
    keys = sorted(
        r.inputs["routeKey"] for r in of_type(record("dev", config), "aws:apigatewayv2/route:Route")
    )
    assert keys == ["POST /public-faq/v1/chat/completions", "POST /ticket-triage/v1/chat/completions"]
    plan = plan_of("dev", config)
    workloads = dict(plan.front_door.router.environment)[WORKLOADS_ENV]
    assert workloads == "ticket-triage,public-faq"


def test_vpc_link_may_only_open_the_router_listener_of_the_alb(prod):
    group = one(prod, "aws:ec2/securityGroup:SecurityGroup", "prod-eu-gateway-vpc-link-sg")
    assert not group.inputs.get("ingress")
    [egress] = group.inputs["egress"]
    assert (egress["fromPort"], egress["toPort"]) == (ROUTER_LISTENER_PORT, ROUTER_LISTENER_PORT)
    assert egress["securityGroups"] == ["prod-eu-alb-sg-id"] and not egress.get("cidrBlocks")
    rule = one(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "prod-eu-alb-from-gateway")
    assert rule.inputs["securityGroupId"] == "prod-eu-alb-sg-id"
    assert rule.inputs["referencedSecurityGroupId"] == "prod-eu-gateway-vpc-link-sg-id"
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (ROUTER_LISTENER_PORT, ROUTER_LISTENER_PORT)


def test_custom_domain_with_its_certificate_replaces_the_default_endpoint(record):
    config = stack_config("dev")
    certificate = f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/abc"
    config["inferplan:platform"]["gateway"]["domain"] = {
        "name": "llm.example.com",
        "certificate_arn": certificate,
    }
    recording = record("dev", config)
    [domain] = of_type(recording, "aws:apigatewayv2/domainName:DomainName")
    assert domain.inputs["domainName"] == "llm.example.com"
    assert domain.inputs["domainNameConfiguration"]["certificateArn"] == certificate
    assert domain.inputs["domainNameConfiguration"]["securityPolicy"] == "TLS_1_2"
    [mapping] = of_type(recording, "aws:apigatewayv2/apiMapping:ApiMapping")
    assert mapping.inputs["stage"] == "$default"
    [api] = of_type(recording, "aws:apigatewayv2/api:Api")
    assert api.inputs["disableExecuteApiEndpoint"] is True
    assert of_type(recording, "aws:acm/certificate:Certificate") == []


def test_custom_domain_without_a_certificate_gets_a_dns_validated_one(record):
    config = stack_config("dev")
    config["inferplan:platform"]["gateway"]["domain"] = {"name": "llm.example.com"}
    recording = record("dev", config)
    [certificate] = of_type(recording, "aws:acm/certificate:Certificate")
    assert certificate.inputs["validationMethod"] == "DNS"
    assert len(of_type(recording, "aws:acm/certificateValidation:CertificateValidation")) == 1
    assert len(of_type(recording, "aws:apigatewayv2/domainName:DomainName")) == 1


def test_no_domain_keeps_the_execute_api_endpoint(prod):
    [api] = of_type(prod, "aws:apigatewayv2/api:Api")
    assert api.inputs["disableExecuteApiEndpoint"] is False
    assert of_type(prod, "aws:apigatewayv2/domainName:DomainName") == []


# --- fallback secrets ----------------------------------------------------------------------------------


MASTER_KEY = "inferplan/prod-eu/router-master-key"


def test_each_frontier_key_and_the_master_key_is_a_secret_on_the_rotating_stack_key(prod):
    config = stack_config("prod-eu")
    names = {f"inferplan/prod-eu/{f['secret']}" for f in config["inferplan:platform"]["frontier"]}
    secrets = of_type(prod, "aws:secretsmanager/secret:Secret")
    assert {s.inputs["name"] for s in secrets} == names | {MASTER_KEY}
    assert all(s.inputs["kmsKeyId"] == arn(prod, "aws:kms/key:Key", "prod-eu-key") for s in secrets)
    assert {s.tag("inferplan:component") for s in secrets} == {"secrets", "router"}
    [key] = of_type(prod, "aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True


def test_secret_policies_name_only_the_router_execution_role_as_reader(prod):
    router_role = arn(prod, "aws:iam/role:Role", "prod-eu-router-execution")
    policies = of_type(prod, "aws:secretsmanager/secretPolicy:SecretPolicy")
    assert len(policies) == len(of_type(prod, "aws:secretsmanager/secret:Secret"))
    for policy in policies:
        assert policy.inputs["blockPublicPolicy"] is True
        body = statements(policy.inputs["policy"])
        allows = [s for s in body if s["Effect"] == "Allow"]
        assert [s["Principal"] for s in allows] == [{"AWS": router_role}]
        assert all(s["Action"] == ["secretsmanager:GetSecretValue"] for s in allows)
        [deny] = [s for s in body if s["Effect"] == "Deny"]
        assert deny["Principal"] == "*" and "secretsmanager:GetSecretValue" in deny["Action"]
        exempt = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        if policy.name == "prod-eu-router-master-key-policy":
            # pulumi up writes the generated value and reads it back: spared the deny, granted nothing.
            assert exempt == [router_role, f"arn:aws:iam::{ACCOUNT_ID}:user/mock"]
        else:
            assert exempt == [router_role]


def test_the_master_key_is_generated_once_as_a_pulumi_secret(prod):
    [version] = [
        v
        for v in of_type(prod, "aws:secretsmanager/secretVersion:SecretVersion")
        if v.inputs["secretId"] == "prod-eu-router-master-key-id"
    ]
    assert version.inputs["secretString"] == {"secret": True}  # the recorder's mark for a secret value


def test_two_frontier_entries_sharing_a_key_share_one_secret(record):
    config = stack_config("dev")
    frontier = config["inferplan:platform"]["frontier"]
    frontier.append({**frontier[0], "name": "claude-sonnet", "model": "claude-sonnet-4-5"})
    secrets = of_type(record("dev", config), "aws:secretsmanager/secret:Secret")
    assert sorted(s.inputs["name"] for s in secrets) == [
        "inferplan/dev/anthropic-api-key",
        "inferplan/dev/router-master-key",
    ]


def test_no_frontier_key_value_is_recorded_unless_the_stack_opts_in(record):
    config = stack_config("prod-eu")
    config["inferplan:anthropic-api-key"] = CANARY  # set, but the stack did not opt in: never read
    recording = record("prod-eu", config)
    versions = of_type(recording, "aws:secretsmanager/secretVersion:SecretVersion")
    assert [v.inputs["secretId"] for v in versions] == ["prod-eu-router-master-key-id"]
    for resource in recording.resources:
        for path, value in walk(dict(resource.inputs)):
            assert not (isinstance(value, str) and CANARY in value), (resource.name, path)


def test_opted_in_stack_puts_the_config_secret_in_a_secret_marked_version(record):
    config = stack_config("prod-eu")
    config["inferplan:platform"]["router"] = {"secrets_in_state": True}
    config["inferplan:anthropic-api-key"] = CANARY
    recording = record("prod-eu", config)
    assert not recording.failed, recording.errors
    [version] = [
        v
        for v in of_type(recording, "aws:secretsmanager/secretVersion:SecretVersion")
        if v.inputs["secretId"] == "prod-eu-anthropic-api-key-id"
    ]
    assert version.inputs["secretString"] == {"secret": True}  # the recorder's mark for a secret value
    assert CANARY not in json.dumps([r.to_json() for r in recording.resources])
    # The deployer must read back the version it writes; it is spared the deny, not granted a read.
    policy = one(
        recording, "aws:secretsmanager/secretPolicy:SecretPolicy", "prod-eu-anthropic-api-key-policy"
    )
    [deny] = [s for s in statements(policy.inputs["policy"]) if s["Effect"] == "Deny"]
    exempt = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert exempt == [
        arn(recording, "aws:iam/role:Role", "prod-eu-router-execution"),
        f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
    ]
    allows = [s for s in statements(policy.inputs["policy"]) if s["Effect"] == "Allow"]
    assert len(allows) == 1


def test_opting_in_without_the_config_secret_says_which_command_to_run(record):
    config = stack_config("dev")
    config["inferplan:platform"]["router"] = {"secrets_in_state": True}
    recording = record("dev", config)
    assert recording.failed
    assert any("pulumi config set --secret anthropic-api-key" in e for e in recording.errors)


def test_a_stack_without_frontier_entries_injects_only_the_master_key(record):
    recording = record("sovereign")
    assert [s.inputs["name"] for s in of_type(recording, "aws:secretsmanager/secret:Secret")] == [
        "inferplan/sovereign/router-master-key"
    ]
    assert [s["name"] for s in container(recording, "sovereign")["secrets"]] == [MASTER_KEY_ENV]


# --- router --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod-eu", "sovereign"])
def test_router_runs_the_planned_tasks_and_size_in_the_private_subnets(record, stack):
    recording = record(stack)
    sizing = plan_of(stack, stack_config(stack)).front_door.router.sizing
    [service] = of_type(recording, "aws:ecs/service:Service")
    network = service.inputs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    private = [s for s in of_type(recording, "aws:ec2/subnet:Subnet") if s.tag("inferplan:tier") == "private"]
    assert sorted(network["subnets"]) == sorted(f"{s.name}-id" for s in private)
    assert len({s.inputs["availabilityZone"] for s in private}) == len(private)  # one per AZ: tasks spread
    assert network["securityGroups"] == [f"{stack}-router-sg-id"]
    assert service.inputs["launchType"] == "FARGATE"
    assert service.inputs["desiredCount"] == sizing.tasks
    assert service.tag("inferplan:component") == "router"
    task = one(recording, "aws:ecs/taskDefinition:TaskDefinition", f"{stack}-router")
    assert (task.inputs["cpu"], task.inputs["memory"]) == (str(sizing.cpu_units), str(sizing.memory_mib))
    command = container(recording, stack)["command"]
    assert command[:4] == ["--port", str(ROUTER_PORT), "--num_workers", str(sizing.workers_per_task)]
    # several workers: uvicorn must wait for a worker still importing LiteLLM (tests/router/test_proxy_process)
    assert command[4:] == (["--timeout_worker_healthcheck", "60"] if sizing.workers_per_task > 1 else [])


def test_spec_router_tasks_raises_the_floor(record):
    config = stack_config("dev")
    config["inferplan:platform"]["router"] = {"tasks": 3}
    [service] = of_type(record("dev", config), "aws:ecs/service:Service")
    assert service.inputs["desiredCount"] == 3


def test_task_definition_injects_the_router_secrets_and_no_key_values(prod):
    config = stack_config("prod-eu")
    plan = plan_of("prod-eu", config)
    definition = container(prod, "prod-eu")
    expected = {
        env: arn(prod, "aws:secretsmanager/secret:Secret", f"prod-eu-{name.rsplit('/', 1)[1]}")
        for env, name in env_vars(plan).items()
    }
    assert expected  # prod-eu routes two internal workloads and a public one to Anthropic
    expected[MASTER_KEY_ENV] = arn(prod, "aws:secretsmanager/secret:Secret", "prod-eu-router-master-key")
    assert {s["name"]: s["valueFrom"] for s in definition["secrets"]} == expected
    environment = {e["name"]: e["value"] for e in definition["environment"]}
    assert not set(environment) & set(expected)
    assert set(environment) == {  # plain settings only: every key comes in through `secrets`
        "AWS_DEFAULT_REGION",
        "INFERPLAN_CONFIG_SHA256",
        "INFERPLAN_GUARD_SHA256",
        GUARD_ENV,
        WORKLOADS_ENV,
        "LITELLM_CONFIG_BUCKET_NAME",
        "LITELLM_CONFIG_BUCKET_OBJECT_KEY",
        "LITELLM_CONFIG_BUCKET_TYPE",
        "LITELLM_LOCAL_MODEL_COST_MAP",
        "VLLM_BASE_URL",
    }
    assert environment["VLLM_BASE_URL"] == (
        f"http://internal-prod-eu-alb.eu-central-1.elb.amazonaws.com:{MODELS_LISTENER_PORT}/v1"
    )
    bucket = f"prod-eu-router-config-{ACCOUNT_ID}"
    assert environment[GUARD_ENV] == f"s3://{bucket}/litellm/inferplan_guard.user_api_key_auth"
    assert environment[WORKLOADS_ENV] == ",".join(w.name for w in plan.platform.workloads)
    task = one(prod, "aws:ecs/taskDefinition:TaskDefinition", "prod-eu-router")
    assert task.inputs["requiresCompatibilities"] == ["FARGATE"]
    assert task.inputs["executionRoleArn"] == arn(prod, "aws:iam/role:Role", "prod-eu-router-execution")
    assert task.inputs["taskRoleArn"] == arn(prod, "aws:iam/role:Role", "prod-eu-router-task")


def test_the_container_is_the_pinned_litellm_loading_its_config_from_the_bucket(prod):
    definition = container(prod, "prod-eu")
    assert definition["image"] == LITELLM_IMAGE == f"ghcr.io/berriai/litellm:v{LITELLM_VERSION}"
    environment = {e["name"]: e["value"] for e in definition["environment"]}
    assert environment["LITELLM_CONFIG_BUCKET_NAME"] == f"prod-eu-router-config-{ACCOUNT_ID}"
    assert environment["LITELLM_CONFIG_BUCKET_OBJECT_KEY"] == CONFIG_OBJECT_KEY
    assert environment["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert definition["portMappings"] == [{"containerPort": ROUTER_PORT, "protocol": "tcp", "name": "http"}]
    assert HEALTH_PATH in " ".join(definition["healthCheck"]["command"])
    log = definition["logConfiguration"]
    assert log["logDriver"] == "awslogs" and log["options"]["awslogs-group"] == "/inferplan/prod-eu/router"
    logs = one(prod, "aws:cloudwatch/logGroup:LogGroup", "prod-eu-router-logs")
    assert logs.inputs["kmsKeyId"] == arn(prod, "aws:kms/key:Key", "prod-eu-key")
    assert logs.inputs["retentionInDays"] > 0


def test_the_pinned_image_matches_the_litellm_the_tests_run():
    pins = [
        re.match(r"litellm(\[[^\]]*\])?==([0-9][^\s#]*)", line)
        for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
    ]
    assert [m.group(2) for m in pins if m] == [LITELLM_VERSION]
    assert importlib.metadata.version("litellm") == LITELLM_VERSION


def test_config_and_admission_check_objects_are_the_plan_s_encrypted_with_the_stack_key(prod):
    plan = plan_of("prod-eu", stack_config("prod-eu"))
    config = one(prod, "aws:s3/bucketObjectv2:BucketObjectv2", "prod-eu-router-config-object")
    guard = one(prod, "aws:s3/bucketObjectv2:BucketObjectv2", "prod-eu-router-config-guard")
    assert config.inputs["content"] == router_config(plan).to_yaml()
    assert (config.inputs["key"], guard.inputs["key"]) == (CONFIG_OBJECT_KEY, GUARD_OBJECT_KEY)
    assert guard.inputs["content"] == (ROOT / "inferplan" / "router_guard.py").read_text()
    for obj in (config, guard):
        assert obj.inputs["serverSideEncryption"] == "aws:kms"
        assert obj.inputs["kmsKeyId"] == arn(prod, "aws:kms/key:Key", "prod-eu-key")
    block = one(
        prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "prod-eu-router-config-public-access"
    )
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(block.inputs[f] is True for f in flags)


def test_only_the_task_role_reads_the_config_and_only_over_tls(prod):
    task_role = arn(prod, "aws:iam/role:Role", "prod-eu-router-task")
    bucket = arn(prod, "aws:s3/bucket:Bucket", "prod-eu-router-config")
    policy = one(prod, "aws:s3/bucketPolicy:BucketPolicy", "prod-eu-router-config-policy")
    body = {s["Sid"]: s for s in statements(policy.inputs["policy"])}
    assert body["DenyInsecureTransport"]["Effect"] == "Deny"
    assert body["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    readers = body["OnlyTheRouterTaskReads"]
    assert readers["Effect"] == "Deny" and readers["Action"] == "s3:GetObject*"
    assert readers["Condition"]["ArnNotLike"]["aws:PrincipalArn"][0] == task_role
    assert not [s for s in body.values() if s["Effect"] == "Allow"]
    grants = one(prod, "aws:iam/rolePolicy:RolePolicy", "prod-eu-router-task-policy")
    reads = [s for s in statements(grants.inputs["policy"]) if "s3:GetObject" in json.dumps(s["Action"])]
    assert [s["Resource"] for s in reads] == [
        [f"{bucket}/{CONFIG_OBJECT_KEY}", f"{bucket}/{GUARD_OBJECT_KEY}"]
    ]


def test_execution_role_reads_exactly_the_injected_secrets(prod):
    plan = plan_of("prod-eu", stack_config("prod-eu"))
    policy = one(prod, "aws:iam/rolePolicy:RolePolicy", "prod-eu-router-execution-policy")
    body = {s["Sid"]: s for s in statements(policy.inputs["policy"])}
    secrets = sorted(
        arn(prod, "aws:secretsmanager/secret:Secret", f"prod-eu-{name.rsplit('/', 1)[1]}")
        for name in [*env_vars(plan).values(), MASTER_KEY]
    )
    assert sorted(body["ReadRouterSecrets"]["Resource"]) == secrets
    assert body["DecryptRouterSecrets"]["Resource"] == arn(prod, "aws:kms/key:Key", "prod-eu-key")
    assert body["WriteLogs"]["Resource"].startswith(
        arn(prod, "aws:cloudwatch/logGroup:LogGroup", "prod-eu-router-logs")
    )
    assert "EcrLogin" not in body  # the default image is on ghcr.io


def test_router_security_group_admits_only_the_alb_and_the_alb_admits_the_router_on_the_models_port(prod):
    group = one(prod, "aws:ec2/securityGroup:SecurityGroup", "prod-eu-router-sg")
    [ingress] = group.inputs["ingress"]
    assert (ingress["fromPort"], ingress["toPort"]) == (ROUTER_PORT, ROUTER_PORT)
    assert ingress["securityGroups"] == ["prod-eu-alb-sg-id"] and not ingress.get("cidrBlocks")
    rule = one(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "prod-eu-alb-from-router")
    assert rule.inputs["securityGroupId"] == "prod-eu-alb-sg-id"
    assert rule.inputs["referencedSecurityGroupId"] == "prod-eu-router-sg-id"
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (MODELS_LISTENER_PORT, MODELS_LISTENER_PORT)


def test_router_listener_forwards_the_openai_api_to_the_router_target_group(prod):
    group = one(prod, "aws:lb/targetGroup:TargetGroup", "prod-eu-router-tg")
    assert group.inputs["targetType"] == "ip"
    assert group.inputs["port"] == ROUTER_PORT
    assert group.inputs["healthCheck"]["path"] == HEALTH_PATH == "/health/liveliness"
    rule = one(prod, "aws:lb/listenerRule:ListenerRule", "prod-eu-router-rule")
    assert rule.inputs["listenerArn"] == arn(prod, "aws:lb/listener:Listener", "prod-eu-alb-router")
    [action] = rule.inputs["actions"]
    assert action["type"] == "forward"
    assert action["targetGroupArn"] == arn(prod, "aws:lb/targetGroup:TargetGroup", "prod-eu-router-tg")
    assert rule.inputs["conditions"] == [{"pathPattern": {"values": ["/v1/chat/completions"]}}]
    [service] = of_type(prod, "aws:ecs/service:Service")
    [balancer] = service.inputs["loadBalancers"]
    assert balancer["targetGroupArn"] == action["targetGroupArn"]
    assert (balancer["containerName"], balancer["containerPort"]) == ("litellm", ROUTER_PORT)


def test_cluster_has_container_insights(prod):
    [cluster] = of_type(prod, "aws:ecs/cluster:Cluster")
    assert {"name": "containerInsights", "value": "enabled"} in cluster.inputs["settings"]


def test_sovereign_pulls_the_router_image_from_the_mirror_the_stack_creates(record):
    recording = record("sovereign")
    [repository] = [
        r for r in of_type(recording, "aws:ecr/repository:Repository") if r.parent == "sovereign-routing"
    ]
    assert repository.inputs["name"] == "sovereign/litellm"
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository.inputs["encryptionConfigurations"] == [
        {"encryptionType": "KMS", "kmsKey": arn(recording, "aws:kms/key:Key", "sovereign-key")}
    ]
    image = f"{ACCOUNT_ID}.dkr.ecr.eu-central-1.amazonaws.com/sovereign/litellm:v{LITELLM_VERSION}"
    assert container(recording, "sovereign")["image"] == image
    policy = one(recording, "aws:iam/rolePolicy:RolePolicy", "sovereign-router-execution-policy")
    body = {s["Sid"]: s for s in statements(policy.inputs["policy"])}
    assert (
        body["PullImage"]["Resource"] == f"arn:aws:ecr:eu-central-1:{ACCOUNT_ID}:repository/sovereign/litellm"
    )
    assert body["EcrLogin"]["Action"] == "ecr:GetAuthorizationToken"


def test_an_explicit_ecr_image_is_pulled_from_its_own_repository_and_no_mirror_is_made(record):
    config = stack_config("sovereign")
    image = f"{ACCOUNT_ID}.dkr.ecr.eu-central-1.amazonaws.com/mirror/litellm:v{LITELLM_VERSION}"
    config["inferplan:platform"]["router"] = {"image": image}
    recording = record("sovereign", config)
    # The only repository left is the nodes' vLLM mirror.
    assert [r.inputs["name"] for r in of_type(recording, "aws:ecr/repository:Repository")] == [
        "sovereign/vllm-openai"
    ]
    assert container(recording, "sovereign")["image"] == image
    policy = one(recording, "aws:iam/rolePolicy:RolePolicy", "sovereign-router-execution-policy")
    body = {s["Sid"]: s for s in statements(policy.inputs["policy"])}
    assert body["PullImage"]["Resource"] == f"arn:aws:ecr:eu-central-1:{ACCOUNT_ID}:repository/mirror/litellm"


def test_a_config_change_is_a_new_task_definition(record):
    before = container(record("dev"), "dev")
    config = stack_config("dev")
    config["inferplan:platform"]["workloads"][0]["latency_slo_ms"] = {"ttft": 900, "tpot": 40}
    after = container(record("dev", config), "dev")

    def digest(definition: dict[str, Any]) -> str:
        return next(e["value"] for e in definition["environment"] if e["name"] == "INFERPLAN_CONFIG_SHA256")

    assert digest(before) != digest(after)


# --- stack exports -------------------------------------------------------------------------------------


def exports(monkeypatch: pytest.MonkeyPatch, stack: str, config: dict[str, Any]) -> dict[str, Any]:
    """The stack outputs, resolved: `pulumi.export` is wrapped to keep each value once it is known."""
    import pulumi

    values: dict[str, Any] = {}

    def export(name: str, value: Any) -> None:
        pulumi.Output.from_input(value).apply(lambda v: values.__setitem__(name, v))

    monkeypatch.setattr(pulumi, "export", export)
    recording = run_program(stack, config, ROOT / "__main__.py")
    assert not recording.failed, recording.errors
    return values


def test_exports_the_gateway_url_and_each_workload_s_model_url_and_scopes(monkeypatch):
    config = stack_config("prod-eu")
    values = exports(monkeypatch, "prod-eu", config)
    url = "https://prod-eu-api.execute-api.eu-central-1.amazonaws.com"  # the mocks' apiEndpoint
    assert values["gateway_url"] == url
    aliases = router_config(plan_of("prod-eu", config)).aliases
    assert (
        sorted(values["workloads"])
        == sorted(aliases)
        == sorted(w["name"] for w in config["inferplan:platform"]["workloads"])
    )
    assert all(
        v == {"model": k, "url": f"{url}/{k}/v1/chat/completions", "scopes": [f"inferplan/{k}"]}
        for k, v in values["workloads"].items()
    )


def test_with_a_custom_domain_the_exported_url_is_the_domain(monkeypatch):
    config = stack_config("dev")
    config["inferplan:platform"]["gateway"]["domain"] = {
        "name": "llm.example.com",
        "certificate_arn": f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/abc",
    }
    values = exports(monkeypatch, "dev", config)
    assert values["gateway_url"] == "https://llm.example.com"
    assert (
        values["workloads"]["ticket-triage"]["url"]
        == "https://llm.example.com/ticket-triage/v1/chat/completions"
    )
