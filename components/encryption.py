"""The stack's customer-managed KMS key: secrets, log groups and buckets of one stack encrypt with it.

One key per stack keeps the key policy reviewable: the account administers it, CloudWatch Logs in
the stack's region may use it for this stack's log groups only, and everything else is granted by
the IAM policies of the roles that need it (router task, node instance profile).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from inferplan.plan import KeyPlan


@dataclass
class StackKeyArgs:
    key: KeyPlan


class StackKey(pulumi.ComponentResource):
    key: aws.kms.Key

    def __init__(self, name: str, args: StackKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:StackKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        identity = aws.get_caller_identity(opts=invoke)
        partition = aws.get_partition(opts=invoke).partition  # aws, aws-cn, aws-us-gov
        plan = args.key
        account, region, prefix = identity.account_id, plan.region, plan.resource_prefix
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersTheKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "LogsOfThisStackOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account}:log-group:{plan.log_group_pattern}"
                        }
                    },
                },
                {
                    # Alarms publish to the stack's encrypted alert topic (AWS-managed SNS keys refuse them).
                    "Sid": "CloudWatchAlarmsToTheAlertTopic",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                },
            ],
        }
        self.key = aws.kms.Key(
            f"{prefix}-key",
            description=f"inferplan stack {prefix}: frontier secrets, logs, model and config buckets",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(policy),
            tags=dict(plan.tags),
            opts=child,
        )
        aws.kms.Alias(
            f"{prefix}-key-alias", name=f"alias/inferplan/{prefix}", target_key_id=self.key.id, opts=child
        )
        self.register_outputs({"key_arn": self.key.arn})
