"""Container images as the planner decides them: where each is pulled from, so a rule can tell whether
the stack's network can reach it (`image-reachable`) before anything is built.

An image lives either in a public registry (ghcr.io, Docker Hub, quay.io, public.ecr.aws — reachable
only through NAT) or in an ECR registry. The stack's own ECR is reached without internet through the
`ecr.api`/`ecr.dkr` interface endpoints and the S3 gateway endpoint (layers), but only in the stack's
region; its account is known only at deploy time, so such an image is planned as `this_account` and
its URI resolved by the component.

The router's image is the pinned LiteLLM release. `router.registry: ecr` plans a mirror instead: a
repository `<stack>/litellm` the stack creates in its own ECR (immutable tags, scanned on push), filled
once with the documented copy step (docs/front-door.md) — chosen over an ECR pull-through cache rule
because ghcr.io caches need a GitHub token stored in the account, a cache re-syncs mutable upstream tags
into a regulated stack without review, and the first pull through a cache needs `ecr:CreateRepository`
and `ecr:BatchImportUpstreamImage` on the task's execution role.

The GPU nodes' vLLM image is always such a mirror, `<stack>/vllm-openai`, whatever the stack's egress:
the nodes reach no internet (their security group opens only the VPC's endpoints and the S3 prefix
list), so they pull through the ECR endpoints. The same reasons rule out a pull-through cache, plus
one of Docker Hub's own: its cache rule needs Docker Hub credentials stored in Secrets Manager.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inferplan import cloud_init

# Pinned to the LiteLLM the tests run as a real proxy (requirements-dev.txt); release images are tagged
# `v<version>` on ghcr.io.
LITELLM_VERSION = "1.106.2"
LITELLM_REPOSITORY = "berriai/litellm"
LITELLM_REGISTRY = "ghcr.io"
LITELLM_IMAGE = f"{LITELLM_REGISTRY}/{LITELLM_REPOSITORY}:v{LITELLM_VERSION}"
DOCKER_HUB = "docker.io"
ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


@dataclass(frozen=True)
class ImagePlan:
    """One container image: registry host, repository and tag (or `@sha256:` digest)."""

    host: str  # "" for this stack's own ECR registry (its account is known at deploy time)
    repository: str
    reference: str  # ":v1.106.2" or "@sha256:..."
    ecr_region: str | None = None  # the registry's region when it is ECR
    mirror_of: str | None = None  # the upstream image the stack's repository is filled from

    @property
    def this_account(self) -> bool:
        return self.host == ""

    @property
    def is_ecr(self) -> bool:
        return self.ecr_region is not None

    @property
    def created_by_stack(self) -> bool:
        """The stack creates the (mirror) repository itself."""
        return self.mirror_of is not None

    def uri(self, account: str) -> str:
        """The pullable reference; `account` fills in this stack's ECR registry."""
        host = self.host or cloud_init.ecr_registry(account, self.ecr_region or "")
        return f"{host}/{self.repository}{self.reference}"

    def describe(self) -> str:
        if self.this_account:
            return f"this account's ECR in {self.ecr_region}: {self.repository}{self.reference}"
        return f"{self.host}/{self.repository}{self.reference}"


def image_from_uri(uri: str) -> ImagePlan:
    """Parse `host/repo:tag`, `repo:tag` (Docker Hub) or an ECR URI."""
    first, _, rest = uri.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        host, path = DOCKER_HUB, uri  # Docker Hub short form: vllm/vllm-openai:v0.10
    else:
        host, path = first, rest
    if "@" in path:
        repository, digest = path.split("@", 1)
        reference = "@" + digest
    elif ":" in path.rsplit("/", 1)[-1]:
        repository, tag = path.rsplit(":", 1)
        reference = ":" + tag
    else:
        repository, reference = path, ":latest"
    ecr = ECR_HOST.match(host)
    return ImagePlan(
        host=host, repository=repository, reference=reference, ecr_region=ecr.group(2) if ecr else None
    )


def mirror_repository(stack: str) -> str:
    """The ECR repository a stack creates for its router image mirror."""
    return f"{stack}/litellm"


def router_image(stack: str, region: str, image: str | None, registry: str) -> ImagePlan:
    """`router.image` when given; else the pinned release, upstream or mirrored into this account's ECR."""
    if image is not None:
        return image_from_uri(image)
    if registry == "ecr":
        return ImagePlan(
            host="",
            repository=mirror_repository(stack),
            reference=f":v{LITELLM_VERSION}",
            ecr_region=region,
            mirror_of=LITELLM_IMAGE,
        )
    return image_from_uri(LITELLM_IMAGE)


VLLM_UPSTREAM = f"{DOCKER_HUB}/{cloud_init.VLLM_REPOSITORY}:{cloud_init.VLLM_TAG}"


def vllm_mirror_repository(stack: str) -> str:
    """The ECR repository a stack creates for the GPU nodes' vLLM image."""
    return f"{stack}/vllm-openai"


def vllm_image(stack: str, region: str) -> ImagePlan:
    """What the GPU nodes pull: the pinned vLLM release, mirrored into this account's ECR in `region`."""
    return ImagePlan(
        host="",
        repository=vllm_mirror_repository(stack),
        reference=f":{cloud_init.VLLM_TAG}",
        ecr_region=region,
        mirror_of=VLLM_UPSTREAM,
    )
