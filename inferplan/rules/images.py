"""`image-reachable`: every container image the stack runs can be pulled over the network it runs on.

The router tasks reach every registry with `network.egress: nat`. The GPU nodes reach no internet with
any egress (their security group opens only the VPC's endpoints and the S3 prefix list), and without
egress neither do the router tasks: such an image must live in ECR in the stack's region (the
`ecr.api` and `ecr.dkr` interface endpoints and the S3 gateway endpoint, which serves the layers). A
public registry (ghcr.io, Docker Hub, quay.io, public.ecr.aws) or another region's ECR can never be
pulled there: the router tasks or GPU nodes would fail to start, whatever the plan says about them.
"""

from __future__ import annotations

from inferplan.images import ImagePlan
from inferplan.plan import Plan
from inferplan.rules.findings import Finding, finding

RULE = "image-reachable"
ECR_ENDPOINTS = ("ecr.api", "ecr.dkr")


def stack_images(plan: Plan) -> list[tuple[str, ImagePlan, bool]]:
    """(subject, image, reaches the internet) of everything the stack runs: the router and each served
    model's vLLM (the nodes never reach the internet)."""
    images = [("router", plan.front_door.router.image, plan.network.egress)]
    images += [(service.model.name, service.image, False) for service in plan.services]
    return images


def why_unreachable(image: ImagePlan, plan: Plan, internet: bool) -> str | None:
    """None when a runner with (or without) `internet` in the stack's network can pull `image`, else why not."""
    if internet:
        return None
    if not image.is_ecr:
        no_internet = (
            "network.egress is none (no NAT)"
            if not plan.network.egress
            else "the GPU nodes reach no internet (only the VPC's endpoints)"
        )
        return f"{image.describe()} is a public registry and {no_internet}"
    if image.ecr_region != plan.region:
        return (
            f"{image.describe()} is ECR in {image.ecr_region}; without egress the VPC reaches ECR only through "
            f"its endpoints in {plan.region}"
        )
    missing = [e for e in ECR_ENDPOINTS if e not in plan.network.interface_endpoints]
    if "s3" not in plan.network.gateway_endpoints:
        missing.append("s3 (gateway, serves the image layers)")
    if missing:
        return f"{image.describe()} needs the VPC endpoints {', '.join(missing)}"
    return None


def how(image: ImagePlan, internet: bool) -> str:
    if image.created_by_stack:
        return f"the stack creates it; copy {image.mirror_of} into it once it exists"
    if internet:
        return "through NAT"
    return "through the ECR interface endpoints"


def image_reachable(plan: Plan) -> list[Finding]:
    out = []
    for subject, image, internet in stack_images(plan):
        problem = why_unreachable(image, plan, internet)
        if problem is None:
            out.append(
                finding(RULE, "pass", subject, f"{subject} pulls {image.describe()} ({how(image, internet)})")
            )
            continue
        fix = (
            "set router.registry: ecr (the stack creates the repository; docs/front-door.md shows the copy "
            "step) or router.image to an ECR image in this region, or give the stack egress"
            if subject == "router"
            else "mirror the image into this account's ECR in the stack's region"
        )
        out.append(finding(RULE, "fail", subject, f"{subject} cannot start: {problem}; {fix}"))
    return out
