"""The planned bill of materials: what the components will register, priced before anything exists.

The gate in `__main__.py` prices `plan.intents`; the `plan` command prices the resources the
program actually registers under mocks. Both must give the same money, type by type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from inferplan.cost import PricingContext, estimate, price_record
from inferplan.cost.pricing import REGISTRY
from inferplan.plan import Plan
from inferplan.resources import ResourceRecord
from tests.conftest import EXAMPLE_STACKS, stack_config
from tests.cost.conftest import plan_of


def by_type(plan: Plan, records: Sequence[ResourceRecord]) -> dict[str, tuple[float, float, int]]:
    ctx = PricingContext.from_plan(plan, records)
    out: dict[str, tuple[float, float, int]] = {}
    for record in records:
        if record.type not in REGISTRY or not record.custom:
            continue
        lines = price_record(record, ctx)
        monthly, worst, count = out.get(record.type, (0.0, 0.0, 0))
        out[record.type] = (
            monthly + sum(ln.monthly_usd for ln in lines),
            worst + sum(ln.worst_case_usd for ln in lines),
            count + (1 if lines else 0),
        )
    return out


def test_prod_eu_bom_follows_the_network_plan_and_the_pools() -> None:
    plan = plan_of("prod-eu")
    kinds = Counter(r.type for r in plan.intents)
    assert kinds["aws:ec2/natGateway:NatGateway"] == 3  # one per AZ in prod
    assert (
        kinds["aws:ec2/vpcEndpoint:VpcEndpoint"] == 11
    )  # 8 node + secretsmanager + autoscaling (warm pool) + S3
    assert kinds["aws:autoscaling/group:Group"] == kinds["aws:ec2/launchTemplate:LaunchTemplate"] == 2
    assert kinds["aws:secretsmanager/secret:Secret"] == 2  # the Anthropic key and the router master key
    groups = [r for r in plan.intents if r.type == "aws:autoscaling/group:Group"]
    # on-demand pools take the launch template directly (AWS allows no warm pool with a mixed policy)
    assert all("mixedInstancesPolicy" not in g.inputs and g.get("launchTemplate") for g in groups)
    templates = [r for r in plan.intents if r.type == "aws:ec2/launchTemplate:LaunchTemplate"]
    assert {t.tag("inferplan:pool"): t.get("instanceType") for t in templates} == {
        "h100": "p5.48xlarge",
        "h200": "p5en.48xlarge",
    }
    assert {g.tag("inferplan:pool") for g in groups} == {"h100", "h200"}


def test_sovereign_bom_has_no_nat_and_no_frontier_key() -> None:
    kinds = Counter(r.type for r in plan_of("sovereign").intents)
    assert kinds["aws:ec2/natGateway:NatGateway"] == 0
    assert kinds["aws:secretsmanager/secret:Secret"] == 1  # the router's master key only


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_bom_prices_like_the_resources_the_program_registers(stack: str, record: Callable[..., Any]) -> None:
    recording = record(stack, stack_config(stack))
    assert not recording.failed, recording.errors
    plan = plan_of(stack)
    planned, registered = by_type(plan, plan.intents), by_type(plan, recording.resources)
    assert set(planned) == set(registered)
    for token in planned:
        assert planned[token][:2] == pytest.approx(registered[token][:2], abs=0.01), token
    assert estimate(plan).monthly_expected_usd == pytest.approx(
        estimate(plan, recording.resources).monthly_expected_usd, abs=0.05
    )
    assert estimate(plan).monthly_worst_case_usd == pytest.approx(
        estimate(plan, recording.resources).monthly_worst_case_usd, abs=0.05
    )
