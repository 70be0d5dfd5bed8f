"""Every resource that accepts tags carries the stack's cost-allocation tags (AWS Budgets follow them)."""

from __future__ import annotations

import functools
import importlib
import inspect

import pytest

from tests.components.recorded import plan_of, recorded
from tests.conftest import EXAMPLE_STACKS


@functools.cache
def accepts_tags(token: str) -> bool:
    """Whether the pulumi-aws resource behind a type token (e.g. `aws:ec2/vpc:Vpc`) has a `tags` input."""
    provider, module_path, name = token.split(":")
    assert provider == "aws", token
    module = module_path.split("/")[0]
    package = importlib.import_module("pulumi_aws" if module == "index" else f"pulumi_aws.{module}")
    cls = getattr(package, name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def test_the_lookup_knows_which_resources_take_tags():
    assert accepts_tags("aws:ec2/vpc:Vpc")
    assert accepts_tags("aws:autoscaling/group:Group")
    assert not accepts_tags("aws:iam/rolePolicy:RolePolicy")
    assert not accepts_tags("aws:s3/bucketPolicy:BucketPolicy")


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_taggable_resource_carries_the_stack_tags(stack):
    plan = plan_of(stack)
    taggable = [r for r in recorded(stack) if r.custom and accepts_tags(r.type)]
    assert len(taggable) > 20
    missing = [
        f"{r.type} {r.name}: {dict(r.tags)}"
        for r in taggable
        if any(r.tag(key) != value for key, value in plan.tags.items()) or not r.tag("inferplan:component")
    ]
    assert missing == []


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_pool_and_model_resources_name_their_pool_and_model(stack):
    plan = plan_of(stack)
    pools = {p.name for p in plan.pools}
    models = {m.name for m in plan.models}
    pool_tagged = [
        r
        for r in recorded(stack)
        if r.custom and accepts_tags(r.type) and r.tag("inferplan:component") == "pool"
    ]
    assert pool_tagged
    for record in pool_tagged:
        assert record.tag("inferplan:pool") in pools, record.name
        assert record.tag("inferplan:model") in models, record.name
    # The Auto Scaling group passes its tags on to the instances and volumes it launches.
    groups = [r for r in pool_tagged if r.type == "aws:autoscaling/group:Group"]
    assert groups and all(t["propagateAtLaunch"] is True for g in groups for t in g.inputs["tags"])
