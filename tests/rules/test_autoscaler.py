"""autoscaler-bounded and autoscaler-capacity (advisory): pass and fail, from the spec and from ASG records."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inferplan.cost import estimate
from inferplan.rules import evaluate_plan
from inferplan.rules.autoscaler import (
    PoolBounds,
    autoscaler_bounded,
    autoscaler_capacity,
    pools_from_plan,
    pools_from_records,
)
from tests.conftest import EXAMPLE_STACKS
from tests.rules.conftest import failures, only, plan_of, rec


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_pools_are_bounded(stack):
    plan = plan_of(stack)
    found = autoscaler_bounded(pools_from_plan(plan), plan.platform.autoscaling.max_nodes_per_pool, stack)
    assert found and all(f.status == "pass" for f in found)
    assert {f.subject for f in found} == {p.name for p in plan.platform.pools}


def test_max_nodes_above_the_stack_limit_fails_for_that_pool():
    plan = plan_of("prod-eu", lambda p: p["pools"][1].update(max_nodes=9))
    found = evaluate_plan(plan, estimate(plan))
    bad = failures(found, "autoscaler-bounded")
    assert [(f.rule, f.subject) for f in bad] == [("autoscaler-bounded", "h200")]
    assert "max_nodes 9" in bad[0].message and "max_nodes_per_pool (4)" in bad[0].message
    assert bad[0].blocking


def test_a_pool_without_max_nodes_fails():
    plan = plan_of("dev", lambda p: p["pools"][0].pop("max_nodes"))
    bad = failures(autoscaler_bounded(pools_from_plan(plan), 2, "dev"))
    assert [(f.rule, f.subject) for f in bad] == [("autoscaler-bounded", "l40s")]
    assert "no max_nodes" in bad[0].message


def test_max_below_min_fails():
    bad = failures(autoscaler_bounded([PoolBounds("a100", 3, 2)], 8, "dev"))
    assert [(f.rule, f.subject) for f in bad] == [("autoscaler-bounded", "a100")]
    assert "below min_nodes 3" in bad[0].message


def test_bounds_from_auto_scaling_groups_use_the_pool_tag():
    tags = [{"key": "inferplan:pool", "value": "h100", "propagateAtLaunch": True}]
    records = [
        rec("aws:autoscaling/group:Group", "prod-eu-h100-asg", minSize=1.0, maxSize=12.0, tags=tags),
        rec("aws:autoscaling/group:Group", "hand-made-asg", minSize=0, maxSize=2),
    ]
    found = autoscaler_bounded(pools_from_records(records), 4, "prod-eu")
    assert [(f.subject, f.status) for f in found] == [("h100", "fail"), ("hand-made-asg", "pass")]


def test_capacity_passes_when_max_nodes_carries_the_peak():
    plan = plan_of("prod-eu")
    found = autoscaler_capacity(plan.pools, plan.stack, plan.models)
    assert [f.status for f in found] == ["pass", "pass"]
    assert all(f.severity == "advisory" for f in found)


def test_capacity_fails_as_advisory_when_the_peak_needs_more_nodes():
    plan = plan_of("dev")
    pool = replace(plan.pools[0], nodes_needed=5)
    found = autoscaler_capacity([pool], plan.stack, plan.models)
    assert [(f.rule, f.status, f.subject) for f in found] == [("autoscaler-capacity", "fail", "l40s")]
    assert "needs 5" in found[0].message and "max_nodes is 2" in found[0].message
    assert found[0].severity == "advisory" and not found[0].blocking


def test_capacity_fails_when_a_model_does_not_fit_its_pool():
    plan = plan_of("dev")
    model = replace(plan.models[0], fits=False, reason="weights need 140 GiB, the node has 48")
    found = autoscaler_capacity(plan.pools, plan.stack, [model])
    assert [(f.status, f.subject) for f in found] == [("fail", "l40s")]
    assert "does not fit" in found[0].message


def test_evaluate_plan_reports_capacity_as_advisory():
    plan = plan_of("sovereign")
    found = only(evaluate_plan(plan, estimate(plan)), "autoscaler-capacity")
    assert found and {f.severity for f in found} == {"advisory"}


def test_capacity_warns_when_a_model_misses_its_slo_one_sequence_at_a_time():
    plan = plan_of("dev")
    model = replace(plan.models[0], meets_slo=False, reason="TTFT 900 ms > 500 ms")
    found = autoscaler_capacity(plan.pools, plan.stack, [model])
    assert [(f.status, f.subject) for f in found] == [("warn", "l40s")]
    assert "misses the latency SLO" in found[0].message and "TTFT 900 ms" in found[0].message
