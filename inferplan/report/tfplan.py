"""`plan --format tfplan-json`: the planned resources as a Terraform JSON plan, for Terraform-plan tools.

Checkov, OPA/conftest and similar tools read `terraform show -json` output. This renders the
resources the Pulumi program registered (under mocks) in that shape: `planned_values`,
`resource_changes` (every action `create`), and `configuration` with the references between
resources, so graph checks can link a bucket to its public-access block or a VPC to its subnets.

The translation from Pulumi to Terraform: the type token becomes the Terraform resource type
(`TERRAFORM_TYPES`, the pulumi-aws provider's own mapping), camelCase inputs become snake_case
attributes, the few inputs pulumi-aws renamed from Terraform get their Terraform names back
(`RENAMED`), and nested blocks become lists of objects the way Terraform shows them (a Pulumi
object `metadataOptions: {...}` is `metadata_options: [{...}]`), while maps (`tags`) stay maps.
What stays approximate is listed in docs/tfplan-json.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from inferplan import __version__

if TYPE_CHECKING:
    from inferplan.report import PlanReport
    from inferplan.resources import ResourceRecord

FORMAT_VERSION = "1.2"  # the Terraform JSON plan format this follows
TERRAFORM_VERSION = "1.9.0"  # the Terraform release whose `show -json` output it matches
PROVIDER = "registry.terraform.io/hashicorp/aws"
UNKNOWN = "<unknown at preview>"  # offline/recorder.py's marker for a value known only after apply
ACCOUNT_ID = "123456789012"  # the placeholder account of the offline run

# Pulumi type token -> Terraform resource type (pulumi-aws 7 / terraform-provider-aws 6).
TERRAFORM_TYPES: dict[str, str] = {
    "aws:apigatewayv2/api:Api": "aws_apigatewayv2_api",
    "aws:apigatewayv2/authorizer:Authorizer": "aws_apigatewayv2_authorizer",
    "aws:apigatewayv2/integration:Integration": "aws_apigatewayv2_integration",
    "aws:apigatewayv2/route:Route": "aws_apigatewayv2_route",
    "aws:apigatewayv2/stage:Stage": "aws_apigatewayv2_stage",
    "aws:apigatewayv2/vpcLink:VpcLink": "aws_apigatewayv2_vpc_link",
    "aws:autoscaling/group:Group": "aws_autoscaling_group",
    "aws:autoscaling/policy:Policy": "aws_autoscaling_policy",
    "aws:budgets/budget:Budget": "aws_budgets_budget",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": "aws_ecr_pull_through_cache_rule",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
    "aws:ecs/service:Service": "aws_ecs_service",
    "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
    "aws:iam/instanceProfile:InstanceProfile": "aws_iam_instance_profile",
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:lb/listener:Listener": "aws_lb_listener",
    "aws:lb/listenerRule:ListenerRule": "aws_lb_listener_rule",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:lb/targetGroup:TargetGroup": "aws_lb_target_group",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketObjectv2:BucketObjectv2": "aws_s3_object",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "aws_secretsmanager_secret_policy",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
}

# Inputs pulumi-aws named differently from the Terraform attribute or block (mostly pluralised
# repeatable blocks), by Terraform type and then by the snake_case Pulumi name within a block path.
RENAMED: dict[str, dict[str, str]] = {
    "aws_autoscaling_group": {
        "tags": "tag",
        "vpc_zone_identifiers": "vpc_zone_identifier",
        "initial_lifecycle_hooks": "initial_lifecycle_hook",
    },
    "aws_budgets_budget": {"cost_filters": "cost_filter", "notifications": "notification"},
    "aws_ecs_cluster": {"settings": "setting"},
    "aws_ecs_task_definition": {"volumes": "volume"},
    "aws_ecr_repository": {"encryption_configurations": "encryption_configuration"},
    "aws_ecs_service": {
        "load_balancers": "load_balancer",
        "ordered_placement_strategies": "ordered_placement_strategy",
    },
    "aws_lb_listener": {"default_actions": "default_action"},
    "aws_lb_listener_rule": {"actions": "action", "conditions": "condition"},
    "aws_route_table": {"routes": "route"},
    "aws_s3_bucket_lifecycle_configuration": {"rules": "rule"},
    "aws_s3_bucket_server_side_encryption_configuration": {"rules": "rule"},
    "aws_iam_role": {"inline_policies": "inline_policy"},
}

# Object-valued attributes that are maps in Terraform (kept as maps with their keys as written);
# every other object is a nested block, shown as a list of one object.
MAPS = frozenset({"tags", "tags_all", "request_parameters", "stage_variables", "response_parameters_map"})
MAPS_BY_TYPE: dict[str, frozenset[str]] = {"aws_cloudwatch_metric_alarm": frozenset({"dimensions"})}

# Security group rules (`ingress`/`egress` of aws_security_group): Terraform lists every field.
RULE_DEFAULTS: dict[str, Any] = {
    "cidr_blocks": [],
    "description": "",
    "ipv6_cidr_blocks": [],
    "prefix_list_ids": [],
    "security_groups": [],
    "self": False,
}

# Attributes Terraform shows as null when unset (framework resources list every attribute); tools
# read "no CIDR" from an explicit null.
NULL_DEFAULTS: dict[str, tuple[str, ...]] = {
    "aws_vpc_security_group_ingress_rule": (
        "cidr_ipv4",
        "cidr_ipv6",
        "description",
        "prefix_list_id",
        "referenced_security_group_id",
    ),
    "aws_vpc_security_group_egress_rule": (
        "cidr_ipv4",
        "cidr_ipv6",
        "description",
        "prefix_list_id",
        "referenced_security_group_id",
    ),
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    """`httpPutResponseHopLimit` -> `http_put_response_hop_limit`."""
    return _CAMEL.sub("_", name).lower()


def terraform_type(token: str) -> str:
    """The Terraform resource type of a Pulumi type token (a best guess for tokens not in the table)."""
    if token in TERRAFORM_TYPES:
        return TERRAFORM_TYPES[token]
    package, module, kind = [*token.split(":"), "", ""][:3]
    service = module.split("/")[0]
    return f"{package}_{service}_{snake(kind)}"


def terraform_name(name: str, taken: set[str]) -> str:
    """A Terraform resource name from a Pulumi logical name: letters, digits and `_`, unique per type."""
    text = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not text or not (text[0].isalpha() or text[0] == "_"):
        text = f"r_{text}"
    candidate, number = text, 2
    while candidate in taken:
        candidate, number = f"{text}_{number}", number + 1
    taken.add(candidate)
    return candidate


def _attributes(tf_type: str, inputs: Mapping[str, Any], top: bool = True) -> dict[str, Any]:
    renamed = RENAMED.get(tf_type, {}) if top else {}
    maps = MAPS | MAPS_BY_TYPE.get(tf_type, frozenset()) if top else MAPS
    out: dict[str, Any] = {}
    for key, value in inputs.items():
        name = snake(key)
        name = renamed.get(name, name)
        if isinstance(value, Mapping) and value.get("secret") is True and len(value) == 1:
            continue  # a secret: its value is not in the plan (see after_sensitive)
        if isinstance(value, Mapping):
            out[name] = dict(value) if name in maps else [_attributes(tf_type, value, top=False)]
        elif isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            blocks = [_attributes(tf_type, v, top=False) if isinstance(v, Mapping) else v for v in value]
            if tf_type in ("aws_security_group", "aws_default_security_group") and name in (
                "ingress",
                "egress",
            ):
                blocks = [{**RULE_DEFAULTS, **b} if isinstance(b, dict) else b for b in blocks]
            out[name] = blocks
        else:
            out[name] = value
    return out


def _without_unknowns(value: Any) -> tuple[Any, Any]:
    """(the value with unknowns removed, Terraform's `after_unknown` for it)."""
    if value == UNKNOWN:
        return None, True
    if isinstance(value, dict):
        known, unknown = {}, {}
        for key, item in value.items():
            kept, marks = _without_unknowns(item)
            if marks is True:
                unknown[key] = True
                continue
            known[key] = kept
            if marks:
                unknown[key] = marks
        return known, unknown
    if isinstance(value, list):
        pairs = [_without_unknowns(item) for item in value]
        if any(marks for _, marks in pairs):
            return [kept for kept, _ in pairs], [marks or False for _, marks in pairs]
        return [kept for kept, _ in pairs], None
    return value, None


def _outputs(record: ResourceRecord, region: str) -> dict[str, str]:
    """The values other resources receive from this one in the offline run: its id and ARN."""
    service = record.type.split(":")[1].split("/")[0] if ":" in record.type else ""
    return {
        f"{record.name}-id": "id",
        f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{record.name}": "arn",
    }


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _references(
    record: ResourceRecord, outputs: Mapping[str, list[tuple[str, str, str]]]
) -> dict[str, list[str]]:
    """Per Pulumi input, the `type.name.attribute` references (and `type.name`) its value was made from.

    `outputs` maps a Pulumi logical name to (value, address, attribute) of what it hands to others; only
    the record's own dependencies are searched, so a coincidental string never becomes a reference.
    """
    tokens = [t for name in record.depends_on for t in outputs.get(name, [])]
    found: dict[str, list[str]] = {}
    for key, value in record.inputs.items():
        refs: list[str] = []
        for text in _strings(value):
            for token, address, attribute in tokens:
                if token in text:
                    refs.extend(r for r in (f"{address}.{attribute}", address) if r not in refs)
        if refs:
            found[key] = refs
    return found


def _expressions(attributes: Mapping[str, Any], references: Mapping[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if key in references:
            out[key] = {"references": references[key]}
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out[key] = [_expressions(v, {}) for v in value]
        else:
            out[key] = {"constant_value": value}
    return out


def to_tfplan(report: PlanReport) -> dict[str, Any]:
    """The Terraform JSON plan document of a planned stack (every resource to be created)."""
    plan = report.plan
    records = [r for r in report.resources if r.custom]
    names: dict[str, set[str]] = {}
    addresses: dict[str, str] = {}
    for record in records:
        tf_type = terraform_type(record.type)
        addresses[record.name + "\x00" + record.type] = (
            f"{tf_type}.{terraform_name(record.name, names.setdefault(tf_type, set()))}"
        )
    outputs: dict[str, list[tuple[str, str, str]]] = {}
    for record in records:
        address = addresses[record.name + "\x00" + record.type]
        for token, attribute in _outputs(record, plan.region).items():
            outputs.setdefault(record.name, []).append((token, address, attribute))

    planned, changes, configured = [], [], []
    for record in records:
        address = addresses[record.name + "\x00" + record.type]
        tf_type, name = address.split(".", 1)
        attributes = {**dict.fromkeys(NULL_DEFAULTS.get(tf_type, ())), **_attributes(tf_type, record.inputs)}
        after, unknown = _without_unknowns(attributes)
        after_unknown = {"id": True, **(unknown or {})}
        sensitive = {
            snake(k): True
            for k, v in record.inputs.items()
            if isinstance(v, Mapping) and v.get("secret") is True and len(v) == 1
        }
        after_unknown.update(sensitive)
        renamed = RENAMED.get(tf_type, {})
        references = {
            renamed.get(snake(k), snake(k)): refs for k, refs in _references(record, outputs).items()
        }
        base = {
            "address": address,
            "mode": "managed",
            "type": tf_type,
            "name": name,
            "provider_name": PROVIDER,
        }
        planned.append({**base, "schema_version": 0, "values": after, "sensitive_values": sensitive})
        changes.append(
            {
                **base,
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": after,
                    "after_unknown": after_unknown,
                    "before_sensitive": False,
                    "after_sensitive": sensitive,
                },
            }
        )
        configured.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf_type,
                "name": name,
                "provider_config_key": "aws",
                "expressions": _expressions(after, references),
                "schema_version": 0,
                **({"depends_on": explicit} if (explicit := _depends(record, addresses, references)) else {}),
            }
        )
    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {
                "aws": {
                    "name": "aws",
                    "full_name": PROVIDER,
                    "expressions": {"region": {"constant_value": plan.region}},
                }
            },
            "root_module": {"resources": configured},
        },
        "applyable": not report.blocked,
        "complete": True,
        "errored": False,
        # Not part of Terraform's format (tools ignore it): who wrote this file, from what.
        "inferplan": {
            "version": __version__,
            "stack": plan.stack,
            "source": "pulumi program under mocks (python -m inferplan plan --format tfplan-json)",
            "placeholder_account_id": ACCOUNT_ID,
        },
    }


def _depends(
    record: ResourceRecord, addresses: Mapping[str, str], references: Mapping[str, list[str]]
) -> list[str]:
    """Dependencies no attribute refers to: Terraform's explicit `depends_on`."""
    by_name = {key.split("\x00")[0]: address for key, address in addresses.items()}
    referred = {ref for refs in references.values() for ref in refs}
    return sorted({by_name[n] for n in record.depends_on if n in by_name and by_name[n] not in referred})


def render_tfplan(report: PlanReport) -> str:
    return json.dumps(to_tfplan(report), indent=2, sort_keys=True, allow_nan=False) + "\n"
