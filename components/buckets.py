"""The one way a component makes a private bucket: owner-enforced, no public access, encrypted, versioned.

Encryption is SSE-KMS with the stack key, except for a bucket AWS services deliver logs to: ALB access
log delivery supports SSE-S3 only, so the access-log bucket passes no key and gets SSE-S3.

Resource names are `<name>`, `<name>-ownership`, `-public-access`, `-encryption`, `-versioning`; the
caller adds its own policy (who may read) and lifecycle rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass
class PrivateBucket:
    bucket: aws.s3.Bucket
    ownership: aws.s3.BucketOwnershipControls
    public_block: aws.s3.BucketPublicAccessBlock
    versioning: aws.s3.BucketVersioning


def private_bucket(
    name: str,
    physical_name: pulumi.Input[str],
    key_arn: pulumi.Input[str] | None,  # None: SSE-S3 (log delivery buckets)
    tags: dict[str, str],
    parent: pulumi.Resource,
    force_destroy: bool = False,
) -> PrivateBucket:
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(name, bucket=physical_name, force_destroy=force_destroy, tags=tags, opts=child)
    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=child,
    )
    public_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    by_default = (
        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=key_arn
        )
        if key_arn is not None
        else aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="AES256"
        )
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=by_default,
                # With KMS: one data key per bucket, not a KMS call per object.
                bucket_key_enabled=True if key_arn is not None else None,
            )
        ],
        opts=child,
    )
    versioning = aws.s3.BucketVersioning(  # replaced objects stay readable for a rollback
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=child,
    )
    return PrivateBucket(bucket, ownership, public_block, versioning)


def access_logging(
    name: str, bucket: aws.s3.Bucket, target_bucket: pulumi.Input[str], prefix: str, parent: pulumi.Resource
) -> aws.s3.BucketLogging:
    """S3 server access logs of `bucket`, into the stack's access-log bucket under `prefix`."""
    return aws.s3.BucketLogging(
        f"{name}-access-logging",
        bucket=bucket.id,
        target_bucket=target_bucket,
        target_prefix=prefix,
        opts=pulumi.ResourceOptions(parent=parent),
    )
