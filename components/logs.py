"""The one way a component makes a log group: the stack's naming, retention and KMS key."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from inferplan.plan import LOG_RETENTION_DAYS, log_group_name


def stack_log_group(
    resource_name: str,
    stack: str,
    what: str,
    key_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=log_group_name(stack, what),
        retention_in_days=LOG_RETENTION_DAYS,
        kms_key_id=key_arn,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
