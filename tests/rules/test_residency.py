"""residency-region and residency-dataflow: pass and fail cases on edited example stacks and hand-made records."""

from __future__ import annotations

import pytest

from inferplan.rules.residency import residency_dataflow, residency_region
from tests.conftest import EXAMPLE_STACKS
from tests.rules.conftest import failures, plan_of, rec

BEDROCK_EU = {
    "name": "claude-eu",
    "provider": "bedrock",
    "model": "anthropic.claude-sonnet-4-5",
    "processing_regions": ["eu-central-1"],
    "secret": "bedrock-key",
    "monthly_cap_usd": 500,
}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_stacks_pass_residency_region(stack, recorded):
    found = residency_region(plan_of(stack), recorded[stack])
    assert found and all(f.status == "pass" for f in found)


def test_stack_region_outside_the_allowed_regions_fails():
    plan = plan_of("prod-eu", lambda p: p["residency"].update(allowed_regions=["eu-west-1"]))
    bad = failures(residency_region(plan))
    assert [(f.rule, f.subject) for f in bad] == [("residency-region", "prod-eu")]
    assert "eu-central-1 is outside" in bad[0].message


def test_frontier_entry_used_by_confidential_data_outside_the_allowed_regions_fails():
    plan = plan_of("prod-eu", lambda p: p["workloads"][2].update(fallback="claude-sonnet"))
    bad = failures(residency_region(plan))
    assert [(f.rule, f.subject) for f in bad] == [("residency-region", "claude-sonnet")]
    assert "us-east-1" in bad[0].message and "contract-extraction (confidential)" in bad[0].message


def test_frontier_entry_used_only_by_internal_data_is_not_a_residency_problem():
    found = residency_region(plan_of("prod-eu"))
    assert all(f.subject != "claude-sonnet" for f in found)


def test_a_resource_placed_in_another_region_fails_with_its_name():
    plan = plan_of("sovereign")
    records = [
        rec("aws:s3/bucket:Bucket", "sovereign-weights-replica", region="us-east-1"),
        rec("aws:ec2/subnet:Subnet", "sovereign-private-x", availabilityZone="eu-west-3a"),
        rec("aws:ec2/subnet:Subnet", "sovereign-private-a", availabilityZone="eu-central-1a"),
    ]
    bad = failures(residency_region(plan, records))
    assert [(f.rule, f.subject) for f in bad] == [
        ("residency-region", "sovereign-weights-replica"),
        ("residency-region", "sovereign-private-x"),
    ]
    assert "us-east-1" in bad[0].message and "eu-west-3" in bad[1].message


def test_sovereign_dataflow_passes_and_says_no_path_reaches_the_internet():
    found = residency_dataflow(plan_of("sovereign"))
    assert {f.subject for f in found} == {"clinical-notes", "claims-coding"}
    assert all(f.status == "pass" for f in found)
    assert all("no network path exists from it to the internet" in f.message for f in found)


def test_confidential_fallback_to_a_frontier_outside_the_allowed_regions_fails():
    plan = plan_of("prod-eu", lambda p: p["workloads"][2].update(fallback="claude-sonnet"))
    bad = failures(residency_dataflow(plan))
    assert [(f.rule, f.subject) for f in bad] == [("residency-dataflow", "contract-extraction")]
    assert "'claude-sonnet' by fallback" in bad[0].message and "us-east-1" in bad[0].message


def test_regulated_data_may_reach_no_frontier_even_inside_the_allowed_regions():
    def add(platform):
        platform["network"]["egress"] = "nat"
        platform["frontier"] = [BEDROCK_EU]
        platform["workloads"][0]["fallback"] = "claude-eu"

    bad = failures(residency_dataflow(plan_of("sovereign", add)))
    assert [(f.rule, f.subject) for f in bad] == [("residency-dataflow", "clinical-notes")]
    assert "regulated data may reach no frontier endpoint" in bad[0].message


def test_confidential_fallback_inside_the_allowed_regions_is_a_warning_because_the_router_drops_it():
    def add(platform):
        platform["frontier"].append(BEDROCK_EU)
        platform["workloads"][2]["fallback"] = "claude-eu"

    found = [f for f in residency_dataflow(plan_of("prod-eu", add)) if f.subject == "contract-extraction"]
    assert [(f.status, f.severity) for f in found] == [("warn", "mandatory")]
    assert "dropped by the router" in found[0].message and not found[0].blocking


def test_confidential_route_to_a_frontier_inside_the_allowed_regions_fails_because_the_router_refuses_it():
    # A fallback the router drops is a warning; a refused *route* leaves the workload with no alias at all.
    def add(platform):
        platform["frontier"].append(BEDROCK_EU)
        platform["workloads"][2]["route"] = "claude-eu"

    bad = failures(residency_dataflow(plan_of("prod-eu", add)))
    assert [(f.rule, f.subject) for f in bad] == [("residency-dataflow", "contract-extraction")]
    assert "which the router refuses" in bad[0].message and bad[0].blocking
