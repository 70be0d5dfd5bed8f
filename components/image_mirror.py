"""An image mirror: the ECR repository a stack creates for an image it copies in once (inferplan.images).

Immutable tags (the mirrored tag is what was reviewed; it cannot move), scanned on push, encrypted with
the stack key. The copy step itself is documented (docs/security.md, docs/front-door.md): the stack
never pulls from the upstream registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from inferplan.images import ImagePlan


def mirror_repository(
    name: str, image: ImagePlan, key_arn: pulumi.Input[str], tags: Mapping[str, str], parent: pulumi.Resource
) -> aws.ecr.Repository:
    """The repository of one mirrored image, child of `parent`."""
    return aws.ecr.Repository(
        name,
        name=image.repository,
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
        encryption_configurations=[
            aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key_arn)
        ],
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass
class ImageMirrorArgs:
    image: ImagePlan  # created_by_stack: the repository and the upstream it mirrors
    key_arn: pulumi.Input[str]  # the stack key (components/encryption.py)
    tags: Mapping[str, str]  # the stack's (the mirror adds its component tag)


class ImageMirror(pulumi.ComponentResource):
    repository: aws.ecr.Repository

    def __init__(self, name: str, args: ImageMirrorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:ImageMirror", name, None, opts)
        tags = {**dict(args.tags), "inferplan:component": "images", "Name": args.image.repository}
        self.repository = mirror_repository(f"{name}-repository", args.image, args.key_arn, tags, self)
        self.register_outputs(
            {"repository_url": self.repository.repository_url, "mirror_of": args.image.mirror_of}
        )
