"""The one way a component makes a log group: the planned name, retention and tags, on the stack key."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from inferplan import names
from inferplan.plan import LOG_RETENTION_DAYS, LogGroupPlan


def log_group(
    plan: LogGroupPlan, key_arn: pulumi.Input[str], parent: pulumi.Resource
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        plan.resource_name,
        name=plan.name,
        retention_in_days=plan.retention_days,
        kms_key_id=key_arn,
        tags=dict(plan.tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def stack_log_group(
    resource_name: str,
    stack: str,
    what: str,
    key_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.cloudwatch.LogGroup:
    """The router's and the gateway's log groups, until their sub-plans carry a LogGroupPlan."""
    plan = LogGroupPlan(resource_name, names.log_group_name(stack, what), LOG_RETENTION_DAYS, tags)
    return log_group(plan, key_arn, parent)
