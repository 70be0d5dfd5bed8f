"""The stack's S3 bucket for model weights: private, KMS-encrypted, versioned, TLS only, access-logged.

Nodes read `models/<model>/` through the VPC's S3 gateway endpoint. Object reads and writes are denied
to every principal except the pools' node roles, the stack's weights-admin role (assume it to upload
weights) and the account root; bucket configuration stays with IAM so `pulumi up` can manage it.
The deny names roles by ARN in a condition, so it can be written before the pools' roles exist.

Only named principals may assume the weights-admin role: `model_store.admins`, else the principal that
runs `pulumi up` (an assumed role's role, looked up with its path) — never the account root, which
would let in every principal of the account that may call sts:AssumeRole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.buckets import PrivateBucket, access_logging, private_bucket
from components.identity import assumed_role_name
from inferplan import names
from inferplan.perimeter import tls_only_statement
from inferplan.plan import ModelStorePlan

# Object-level actions only: bucket-level reads (HeadBucket, Get*Configuration) stay open to IAM so the
# deployer can refresh and update the bucket.
OBJECT_ACTIONS = ("s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject")
NONCURRENT_VERSION_DAYS = 30  # old weights are kept a month after being replaced, then expire
INCOMPLETE_UPLOAD_DAYS = 7


@dataclass
class ModelStoreArgs:
    store: ModelStorePlan
    key_arn: pulumi.Input[str]  # the stack key (components/encryption.py)
    access_log_bucket: pulumi.Input[str] | None = None  # the stack's access-log bucket (its name)


class ModelStore(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    admin_role: aws.iam.Role

    def __init__(self, name: str, args: ModelStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:ModelStore", name, None, opts)
        self._plan, self._key_arn = args.store, args.key_arn
        self._child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        # Output forms of the invokes: a blocking invoke per component costs O(pending work) each.
        self._identity = aws.get_caller_identity_output(opts=invoke)  # one invoke: account and deployer
        account = self._identity.account_id
        self._iam = pulumi.Output.all(aws.get_partition_output(opts=invoke).partition, account).apply(
            lambda a: f"arn:{a[0]}:iam::{a[1]}"
        )
        prefix = self._plan.resource_prefix
        store = private_bucket(
            f"{prefix}-models",
            account.apply(lambda a: names.bucket_name(prefix, self._plan.bucket_purpose, a)),
            args.key_arn,
            {**self._plan.tags, "Name": f"{prefix}-models"},
            self,
        )
        self.bucket = store.bucket
        self._lifecycle(store)
        if args.access_log_bucket is not None:
            access_logging(
                f"{prefix}-models", self.bucket, args.access_log_bucket, self._plan.access_log_prefix, self
            )
        self.admin_role = self._admin_role(self._admins(invoke))
        self._bucket_policy(store)
        self.register_outputs(
            {
                "bucket": self.bucket.bucket,
                "bucket_arn": self.bucket.arn,
                "admin_role_arn": self.admin_role.arn,
            }
        )

    def _lifecycle(self, store: PrivateBucket) -> None:
        """Replaced weights expire after a month; abandoned multipart uploads after a week."""
        aws.s3.BucketLifecycleConfiguration(
            f"{self._plan.resource_prefix}-models-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-replaced-weights",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=NONCURRENT_VERSION_DAYS
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=INCOMPLETE_UPLOAD_DAYS
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[store.versioning]),
        )

    def _admins(self, invoke: pulumi.InvokeOptions) -> pulumi.Output[list[str]]:
        """The planned admins, else the deployer: an IAM user as it is, an assumed role as its role's ARN
        (with its path, which a session ARN drops and a trust policy needs)."""
        if self._plan.admin_principal_arns:
            return pulumi.Output.from_input(list(self._plan.admin_principal_arns))
        caller = self._identity.arn

        def principal(arn: str) -> pulumi.Output[list[str]]:
            role = assumed_role_name(arn)
            if role is not None:
                return aws.iam.get_role_output(name=role, opts=invoke).arn.apply(lambda a: [a])
            if ":user/" not in arn:
                raise pulumi.RunError(
                    f"the deployer {arn} is neither an IAM user nor an assumed role, so it cannot be the "
                    "weights-admin role's principal; name the admins in model_store.admins"
                )
            return pulumi.Output.from_input([arn])

        return caller.apply(principal)

    def _admin_role(self, admins: pulumi.Output[list[str]]) -> aws.iam.Role:
        """Upload path for operators: assume this role and copy weights to s3://<bucket>/models/<model>/."""
        prefix = self._plan.resource_prefix
        role = aws.iam.Role(
            f"{prefix}-weights-admin",
            name=f"{prefix}-weights-admin",
            description=f"inferplan {prefix}: upload and manage model weights",
            assume_role_policy=admins.apply(
                lambda principals: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": sorted(principals)},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                )
            ),
            tags={**self._plan.tags, "Name": f"{prefix}-weights-admin"},
            opts=self._child,
        )
        aws.iam.RolePolicy(
            f"{prefix}-weights-admin-policy",
            role=role.id,
            policy=pulumi.Output.all(self.bucket.arn, self._key_arn).apply(
                lambda a: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": ["s3:ListBucket*"], "Resource": a[0]},
                            {
                                "Effect": "Allow",
                                "Action": ["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*"],
                                "Resource": f"{a[0]}/*",
                            },
                            {
                                "Effect": "Allow",
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                                "Resource": a[1],
                            },
                        ],
                    }
                )
            ),
            opts=self._child,
        )
        return role

    def _bucket_policy(self, store: PrivateBucket) -> None:
        """TLS only; object access only for the pools' node roles, the weights-admin role and the account."""
        plan = self._plan
        readers, admins = plan.reader_role_names, plan.admin_principal_arns

        def policy(bucket_arn: str, iam: str) -> str:
            allowed = sorted(
                {
                    *(f"{iam}:role/{role}" for role in readers),
                    f"{iam}:role/{plan.resource_prefix}-weights-admin",
                    f"{iam}:root",
                    *admins,
                }
            )
            return json.dumps(bucket_policy(bucket_arn, allowed))

        aws.s3.BucketPolicy(
            f"{plan.resource_prefix}-models-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, self._iam).apply(lambda a: policy(a[0], a[1])),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[store.public_block, store.ownership]),
        )


def bucket_policy(bucket_arn: str, allowed_principals: Sequence[str]) -> dict[str, object]:
    """TLS only for everyone; object reads and writes only for `allowed_principals` (by role/user ARN)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            tls_only_statement(bucket_arn),
            {
                "Sid": "DenyObjectAccessOutsideThePools",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(OBJECT_ACTIONS),
                "Resource": f"{bucket_arn}/*",
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": list(allowed_principals)}},
            },
        ],
    }
