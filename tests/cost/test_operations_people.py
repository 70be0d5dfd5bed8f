"""Operations from people (seed 004: "20% of an ML engineer's time"), or one monthly figure as before."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from inferplan.cost import estimate
from inferplan.report import costs as costs_section
from inferplan.stackfile import SpecErrors, read_stack
from tests.conftest import stack_config
from tests.cost.conftest import plan_of


def with_operations(**operations: Any) -> dict[str, Any]:
    config = stack_config("dev")
    config["inferplan:platform"]["operations"] = operations
    return config


def staff(config: dict[str, Any]):
    costs = estimate(plan_of("dev", config))
    declared = [ln for ln in costs.lines if ln.bucket == "operations" and not ln.resource_type]
    return costs, declared


def test_a_fifth_of_an_engineer_at_200k_is_3333_a_month() -> None:
    costs, (line,) = staff(with_operations(engineers=0.2, annual_cost_usd=200_000))
    assert line.monthly_usd == pytest.approx(3_333.33, abs=0.01)
    assert line.item.startswith("0.2 engineers x $200,000/year / 12")
    assert "platform.operations.annual_cost_usd" in line.source
    aws_services = sum(ln.monthly_usd for ln in costs.lines if ln.bucket == "operations" and ln.resource_type)
    assert costs.buckets["operations"] == pytest.approx(3_333.33 + aws_services, abs=0.01)
    assert costs_section.warnings(costs) == []  # staff is counted: no "operations is 0" warning


def test_engineers_alone_are_costed_at_the_catalogs_seed_004_salary() -> None:
    _, (line,) = staff(with_operations(engineers=0.2))
    assert line.monthly_usd == pytest.approx(0.2 * 135_000 / 12)  # $2,250
    assert "ops_engineer_annual_usd" in line.source and "seed 004" in line.source


def test_monthly_usd_as_before() -> None:
    _, (line,) = staff(with_operations(monthly_usd=4_000))
    assert line.monthly_usd == 4_000 and line.source == "platform.operations.monthly_usd"


def errors(config: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecErrors) as caught:
        read_stack(yaml.safe_dump({"config": config}), "stacks/Pulumi.dev.yaml", "dev")
    return [f"{e.path}: {e.message}" for e in caught.value.errors]


def test_both_a_monthly_figure_and_engineers_is_refused() -> None:
    (error,) = errors(with_operations(monthly_usd=500, engineers=0.5))
    assert error.startswith("operations.engineers: set monthly_usd or engineers, not both")


def test_a_salary_without_engineers_is_refused() -> None:
    (error,) = errors(with_operations(annual_cost_usd=150_000))
    assert error == "operations.annual_cost_usd: is set but engineers is not"
