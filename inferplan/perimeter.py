"""The stack's data perimeter: what may pass each VPC endpoint, decided by the planner.

"No path to the internet" is not "no way out": an endpoint without a policy lets any principal reach
any account's resources of its service — a node could copy weights into another account's bucket
through the S3 gateway endpoint, or write prompts into another account's log group. Every endpoint
therefore gets a policy that admits only this account's principals (`aws:PrincipalAccount`) and,
where the service names its resources, only the stack's own: its buckets, log groups, key, secrets,
repositories and Auto Scaling groups.

The account, the partition and the key's ARN are known only at deploy time, so a grant's resources
are templates (`{partition}`, `{account}`, `{key_arn}`, `{bucket[<purpose>]}`) that
`EndpointPolicyPlan.document` fills in; the network component only renders what it returns, and the
`endpoint-policies` rule judges the rendered documents.

Two buckets AWS owns are read through the S3 endpoint without this account's conditions (their
owner is AWS, and ECR's layer downloads are pre-signed by ECR): the ECR layer bucket
`prod-<region>-starport-layer-bucket` and the CloudWatch agent's package bucket
`amazoncloudwatch-agent-<region>`. They get `s3:GetObject` on their objects and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from inferplan import names

ACCOUNT_KEYS = ("aws:PrincipalAccount", "aws:ResourceAccount")

# Buckets AWS owns that the nodes and the router tasks read through the S3 gateway endpoint.
AWS_OWNED_BUCKETS: dict[str, str] = {
    "prod-{region}-starport-layer-bucket": "ECR image layers (Amazon ECR interface VPC endpoints guide)",
    "amazoncloudwatch-agent-{region}": "the CloudWatch agent package (cloud_init.agent_script)",
}
AWS_OWNED_OBJECTS = re.compile(
    r"^arn:aws[a-z-]*:s3:::(prod-[a-z0-9-]+-starport-layer-bucket|amazoncloudwatch-agent-[a-z0-9-]+)/\*$"
)
AWS_OWNED_ACTIONS = ("s3:GetObject",)

# What Session Manager needs on an instance (AWS Systems Manager guide, "Step 2: Verify or add instance
# permissions for Session Manager"), plus ec2messages, which the SSM agent polls for Run Command and
# registration. No ssm:GetParameter*, no documents, no inventory: the AWS-managed
# AmazonSSMManagedInstanceCore would let the vLLM host read every SSM parameter of the account.
SESSION_MANAGER_REGISTRATION = "ssm:UpdateInstanceInformation"  # on the instance itself
SESSION_MANAGER_ACTIONS = (
    SESSION_MANAGER_REGISTRATION,
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
)

# Services whose calls from the VPC name no resource of ours (channels, metrics, instance
# registration): their endpoints admit this account's principals and nothing else.
ACCOUNT_ONLY_ACTIONS = {
    "ssm": "ssm:*",
    "ssmmessages": "ssmmessages:*",
    "ec2messages": "ec2messages:*",
    "monitoring": "cloudwatch:*",
}


@dataclass(frozen=True)
class DeployFacts:
    """What only the deployment knows: the account, the partition and the stack key's ARN."""

    account: str
    partition: str
    key_arn: str


def tls_only_statement(bucket_arn: str) -> dict[str, Any]:
    """Every bucket of the stack refuses plain HTTP, for every principal (its policy's first statement)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


# How intents and the gate render a policy before the account exists (the rule judges its shape).
PLANNED = DeployFacts(account="<account>", partition="aws", key_arn="<stack key>")


class _Buckets(dict[str, str]):
    """`{bucket[models]}` in a template: the stack's bucket of that purpose in the deploying account."""

    def __init__(self, stack: str, account: str) -> None:
        super().__init__()
        self.stack, self.account = stack, account

    def __missing__(self, purpose: str) -> str:
        return names.bucket_name(self.stack, purpose, self.account)


@dataclass(frozen=True)
class Grant:
    """One Allow statement of an endpoint policy, for any principal of the perimeter it names.

    `account`: only this account's principals (`aws:PrincipalAccount`), and with `resource_account`
    only this account's resources too; `aws-owned`: reads of AWS's own buckets, no account condition.
    """

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]  # templates, see the module docstring
    perimeter: Literal["account", "aws-owned"] = "account"
    resource_account: bool = False

    def statement(self, facts: DeployFacts, stack: str) -> dict[str, Any]:
        values = {
            "partition": facts.partition,
            "account": facts.account,
            "key_arn": facts.key_arn,
            "bucket": _Buckets(stack, facts.account),
        }
        out: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Principal": "*",
            "Action": list(self.actions),
            "Resource": [r.format_map(values) for r in self.resources],
        }
        if self.perimeter == "account":
            keys = ACCOUNT_KEYS if self.resource_account else ACCOUNT_KEYS[:1]
            out["Condition"] = {"StringEquals": {key: facts.account for key in keys}}
        return out


@dataclass(frozen=True)
class EndpointPolicyPlan:
    """The policy of one VPC endpoint (`service` as in `com.amazonaws.<region>.<service>`)."""

    service: str
    stack: str
    grants: tuple[Grant, ...]

    @property
    def needs_key(self) -> bool:
        """Whether the document names the stack key (unknown until the key exists, e.g. at a first preview)."""
        return any("{key_arn}" in r for grant in self.grants for r in grant.resources)

    def document(self, facts: DeployFacts) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [grant.statement(facts, self.stack) for grant in self.grants],
        }


def aws_owned_objects(region: str) -> tuple[str, ...]:
    return tuple(f"arn:{{partition}}:s3:::{bucket.format(region=region)}/*" for bucket in AWS_OWNED_BUCKETS)


def _grants(
    service: str,
    stack: str,
    region: str,
    buckets: tuple[str, ...],
    repositories: tuple[str, ...],
) -> tuple[Grant, ...]:
    """What one endpoint admits; anything the planner has no rule for admits this account only."""
    if service == "s3":
        bucket_arns = tuple(f"arn:{{partition}}:s3:::{{bucket[{purpose}]}}" for purpose in buckets)
        return (
            # Nothing in the VPC writes to S3: the nodes read weights, the router reads its config.
            Grant(
                "StackBucketsReadOnly",
                ("s3:GetObject", "s3:ListBucket"),
                (*bucket_arns, *(f"{arn}/*" for arn in bucket_arns)),
                resource_account=True,
            ),
            Grant("AwsOwnedBucketsReadOnly", AWS_OWNED_ACTIONS, aws_owned_objects(region), "aws-owned"),
        )
    if service == "logs":
        pattern = names.log_group_name(stack, "*")
        return (
            Grant(
                "StackLogGroups",
                ("logs:*",),
                (f"arn:{{partition}}:logs:{region}:{{account}}:log-group:{pattern}",),
            ),
        )
    if service == "kms":
        return (Grant("StackKey", ("kms:*",), ("{key_arn}",)),)
    if service == "secretsmanager":
        secrets = names.secret_name(stack, "*")
        return (
            Grant(
                "StackSecrets",
                ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
                (f"arn:{{partition}}:secretsmanager:{region}:{{account}}:secret:{secrets}",),
            ),
        )
    if service in ("ecr.api", "ecr.dkr"):
        return (
            Grant("EcrLogin", ("ecr:GetAuthorizationToken",), ("*",)),
            Grant(
                "PullStackImages",
                ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"),
                repositories,
            ),
        )
    if service == "autoscaling":
        group = names.group_name(stack, "*")
        return (
            Grant(
                "CompleteStackLaunchHooks",
                ("autoscaling:CompleteLifecycleAction",),
                (
                    f"arn:{{partition}}:autoscaling:{region}:{{account}}:autoScalingGroup:*:autoScalingGroupName/{group}",
                ),
            ),
        )
    if service in ACCOUNT_ONLY_ACTIONS:
        return (Grant("ThisAccountOnly", (ACCOUNT_ONLY_ACTIONS[service],), ("*",)),)
    return (Grant("ThisAccountOnly", ("*",), ("*",), resource_account=True),)


def endpoint_policies(
    stack: str,
    region: str,
    services: tuple[str, ...],
    buckets: tuple[str, ...],
    repositories: tuple[str, ...],
) -> tuple[EndpointPolicyPlan, ...]:
    """One policy per endpoint service: `buckets` are purposes (`models`), `repositories` ARN templates."""
    return tuple(
        EndpointPolicyPlan(service, stack, _grants(service, stack, region, buckets, repositories))
        for service in services
    )


def stack_repositories(stack: str, region: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """ECR repositories the stack pulls from: its own `<stack>/*` mirrors, plus `extra` ARN templates."""
    own = f"arn:{{partition}}:ecr:{region}:{{account}}:repository/{stack}/*"
    return (own, *(e for e in extra if e != own))
