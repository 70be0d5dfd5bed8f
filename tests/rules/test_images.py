"""image-reachable: the router's and the nodes' images can be pulled over the stack's own network."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest

from inferplan import cloud_init
from inferplan.images import LITELLM_IMAGE, image_from_uri
from inferplan.rules import evaluate_plan
from inferplan.rules.images import image_reachable
from tests.conftest import EXAMPLE_STACKS
from tests.rules.conftest import failures, plan_of

ACCOUNT = "123456789012"


def router_image(image: str | None = None, registry: str | None = None) -> Any:
    def edit(p: dict[str, Any]) -> None:
        p["router"] = {k: v for k, v in {"image": image, "registry": registry}.items() if v is not None}

    return edit


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_example_stacks_can_pull_every_image(stack: str) -> None:
    found = image_reachable(plan_of(stack))
    assert {f.subject for f in found} >= {"router"} and all(f.status == "pass" for f in found)


def test_sovereign_pulls_its_router_from_the_mirror_it_creates() -> None:
    [router] = [f for f in image_reachable(plan_of("sovereign")) if f.subject == "router"]
    assert "sovereign/litellm" in router.message and LITELLM_IMAGE in router.message


def test_without_egress_the_upstream_router_image_cannot_start_and_blocks_the_gate() -> None:
    plan = plan_of("sovereign", router_image(registry="upstream"))
    [bad] = failures(image_reachable(plan))
    assert bad.subject == "router" and "ghcr.io" in bad.message and "router.registry: ecr" in bad.message
    assert [f.rule for f in evaluate_plan(plan, None) if f.blocking] == ["image-reachable"]


@pytest.mark.parametrize(
    ("image", "reachable"),
    [
        (f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/mirror/litellm:v1", True),
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/mirror/litellm:v1", False),  # endpoints are regional
        ("public.ecr.aws/berriai/litellm:v1", False),
        ("litellm/litellm:v1", False),  # Docker Hub
    ],
)
def test_an_explicit_router_image_without_egress(image: str, reachable: bool) -> None:
    found = image_reachable(plan_of("sovereign", router_image(image=image)))
    assert (failures(found) == []) is reachable


def test_with_nat_a_public_registry_is_reachable() -> None:
    plan = plan_of("prod-eu", router_image(image="public.ecr.aws/berriai/litellm:v1"))
    assert failures(image_reachable(plan)) == []


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_stack_s_nodes_pull_vllm_from_the_mirror_it_creates(stack: str) -> None:
    plan = plan_of(stack)
    found = [f for f in image_reachable(plan) if f.subject != "router"]
    assert {f.subject for f in found} == {m.name for m in plan.models}
    for verdict in found:
        assert verdict.status == "pass"
        assert f"{stack}/vllm-openai" in verdict.message  # this account's ECR, whatever the egress
        assert f"docker.io/vllm/vllm-openai:{cloud_init.VLLM_TAG}" in verdict.message  # what to copy in


@pytest.mark.parametrize("stack", ["prod-eu", "sovereign"])
def test_a_vllm_image_on_docker_hub_fails_even_with_nat(stack: str) -> None:
    """The nodes reach no internet with any egress, so a public registry can never serve them."""
    plan = plan_of(stack)
    hub = image_from_uri(f"{cloud_init.VLLM_REPOSITORY}:{cloud_init.VLLM_TAG}")
    broken = replace(plan, services=tuple(replace(s, image=hub) for s in plan.services))
    bad = failures(image_reachable(broken))
    assert {f.subject for f in bad} == {m.name for m in plan.models}
    assert all("public registry" in f.message and "docker.io" in f.message for f in bad)


def test_the_vllm_image_judged_is_the_one_the_nodes_pull(recorded: Any) -> None:
    plan = plan_of("prod-eu")
    launched = {
        r.tag("inferplan:pool"): r.inputs["userData"]
        for r in recorded["prod-eu"]
        if r.type == "aws:ec2/launchTemplate:LaunchTemplate"
    }
    for service in plan.services:
        pool = plan.pool(service.model.pool)
        assert pool is not None
        user_data = base64.b64decode(launched[pool.name]).decode()
        assert f"docker pull {service.image.uri(ACCOUNT)}" in user_data


@pytest.mark.parametrize(
    ("uri", "host", "repository", "reference", "region"),
    [
        ("ghcr.io/berriai/litellm:v1.106.2", "ghcr.io", "berriai/litellm", ":v1.106.2", None),
        ("vllm/vllm-openai:v0.33.0", "docker.io", "vllm/vllm-openai", ":v0.33.0", None),
        (
            f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/a/b@sha256:ab",
            f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
            "a/b",
            "@sha256:ab",
            "eu-west-1",
        ),
        ("localhost:5000/x", "localhost:5000", "x", ":latest", None),
    ],
)
def test_image_references_are_parsed(
    uri: str, host: str, repository: str, reference: str, region: str | None
) -> None:
    image = image_from_uri(uri)
    assert (image.host, image.repository, image.reference, image.ecr_region) == (
        host,
        repository,
        reference,
        region,
    )
    assert image_from_uri(image.uri(ACCOUNT)) == image  # what is pulled is what was judged
