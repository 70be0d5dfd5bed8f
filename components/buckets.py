"""The one way a component makes a private bucket: owner-enforced, no public access, SSE-KMS, versioned.

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
    key_arn: pulumi.Input[str],
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
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=key_arn
                ),
                bucket_key_enabled=True,  # one data key per bucket, not a KMS call per object
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
