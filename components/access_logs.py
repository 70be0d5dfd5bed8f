"""The stack's access-log bucket: evidence of who called the ALB and who read the stack's buckets.

Built from `AccessLogPlan`: a private bucket (owner-enforced, public access blocked, versioned) with
SSE-S3 — the only encryption ALB access log delivery supports — TLS only, and a lifecycle that expires
logs after the planned retention. Its policy lets exactly two writers in, each under its own prefix:
the region's Elastic Load Balancing log delivery (`<alb prefix>/AWSLogs/<account>/`) and S3 server
access logging (`s3/<purpose>/`) for this account's buckets only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.buckets import PrivateBucket, private_bucket
from inferplan import names
from inferplan.perimeter import tls_only_statement
from inferplan.plan import AccessLogPlan

NONCURRENT_DAYS = 30  # an overwritten or deleted log stays recoverable this long
INCOMPLETE_UPLOAD_DAYS = 7


@dataclass
class AccessLogBucketArgs:
    logs: AccessLogPlan


class AccessLogBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    policy: aws.s3.BucketPolicy  # the ALB checks it when access logging is turned on: depend on it

    def __init__(
        self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("inferplan:components:AccessLogBucket", name, None, opts)
        self._plan = plan = args.logs
        invoke = pulumi.InvokeOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        prefix = plan.resource_prefix
        store = private_bucket(
            f"{prefix}-access-logs",
            account.apply(lambda a: names.bucket_name(prefix, plan.bucket_purpose, a)),
            None,  # SSE-S3: ALB log delivery supports nothing else
            {**dict(plan.tags), "Name": f"{prefix}-access-logs"},
            self,
        )
        self.bucket = store.bucket
        self._lifecycle(store)
        self.policy = aws.s3.BucketPolicy(
            f"{prefix}-access-logs-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, account, partition).apply(
                lambda a: json.dumps(access_log_policy(plan, a[0], a[1], a[2]))
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[store.public_block, store.ownership]),
        )
        self.register_outputs({"bucket": self.bucket.bucket, "bucket_arn": self.bucket.arn})

    def _lifecycle(self, store: PrivateBucket) -> None:
        """Logs expire after the planned retention; replaced ones a month later; stray uploads after a week."""
        rules = aws.s3  # the argument types' names are long enough without the module path
        aws.s3.BucketLifecycleConfiguration(
            f"{self._plan.resource_prefix}-access-logs-lifecycle",
            bucket=self.bucket.id,
            rules=[
                rules.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=rules.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=rules.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=self._plan.expiry_days
                    ),
                    noncurrent_version_expiration=rules.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=NONCURRENT_DAYS
                    ),
                    abort_incomplete_multipart_upload=rules.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=INCOMPLETE_UPLOAD_DAYS
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[store.versioning]),
        )


def elb_principal(plan: AccessLogPlan, partition: str) -> dict[str, str]:
    """Who delivers the ALB's logs in the stack's region: its ELB account, or the log delivery service."""
    if plan.elb_account is None:
        return {"Service": names.ELB_LOG_DELIVERY_SERVICE}
    return {"AWS": f"arn:{partition}:iam::{plan.elb_account}:root"}


def access_log_policy(plan: AccessLogPlan, bucket_arn: str, account: str, partition: str) -> dict[str, Any]:
    """TLS only; ALB log delivery and S3 server access logging of this account's buckets may write."""
    sources = [
        f"arn:{partition}:s3:::{names.bucket_name(plan.resource_prefix, purpose, account)}"
        for purpose in plan.logged_buckets
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [
            tls_only_statement(bucket_arn),
            {
                "Sid": "AlbAccessLogDelivery",
                "Effect": "Allow",
                "Principal": elb_principal(plan, partition),
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{plan.alb_prefix}/AWSLogs/{account}/*",
            },
            {
                "Sid": "S3ServerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": names.S3_LOG_DELIVERY_SERVICE},
                "Action": "s3:PutObject",
                "Resource": [f"{bucket_arn}/{plan.s3_prefix(purpose)}*" for purpose in plan.logged_buckets],
                "Condition": {
                    "ArnLike": {"aws:SourceArn": sources},
                    "StringEquals": {"aws:SourceAccount": account},
                },
            },
        ],
    }
