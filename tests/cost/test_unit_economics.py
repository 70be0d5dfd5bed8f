"""Unit economics in every report: per million tokens and per 1,000 calls, per model, GPU utilization."""

from __future__ import annotations

import pytest

from inferplan.cost import estimate
from inferplan.report import PlanReport, render, to_json
from tests.cost.conftest import hand_sized, plan_of

DAYS = 730 / 24  # a 730-hour month


def test_utilization_is_the_busy_share_of_the_nodes_paid_for() -> None:
    # dev: ticket-triage, 4,000 calls a day, 95% on llama-8b; hand-sized at 300 calls a minute a node -> 1 node.
    plan = hand_sized(plan_of("dev"), calls_per_min=300.0)
    unit = estimate(plan).unit
    assert unit is not None
    average = 4000 * 0.95 / 1440  # 2.639 calls a minute over the month
    assert unit.utilization["l40s"] == pytest.approx(average / 300)  # 0.88%


def test_per_million_tokens_for_the_plan_and_per_model() -> None:
    plan = hand_sized(plan_of("dev"), calls_per_min=300.0)
    costs = estimate(plan)
    unit = costs.unit
    assert unit is not None
    tokens = 4000 * DAYS * (600 + 80)  # 82.7 million a month
    assert unit.plan_usd_per_million_tokens == pytest.approx(costs.monthly_expected_usd / (tokens / 1e6))
    (llama,) = unit.per_model
    assert (llama.model, llama.pool) == ("llama-8b", "l40s")
    assert llama.calls_per_month == pytest.approx(4000 * 0.95 * DAYS)
    assert llama.tokens_per_month == pytest.approx(0.95 * tokens)
    pool = sum(ln.monthly_usd for ln in costs.lines if ln.pool == "l40s")
    assert llama.monthly_usd == pytest.approx(pool)
    assert llama.usd_per_1000_calls == pytest.approx(pool / (4000 * 0.95 * DAYS / 1000))


def test_api_only_per_million_tokens_counts_only_the_workloads_it_covers() -> None:
    # prod-eu: contract-extraction is confidential, so no API may serve it; the other three remain.
    costs = estimate(plan_of("prod-eu"))
    assert set(costs.api_only_excluded) == {"contract-extraction"}
    covered = DAYS * (200_000 * 1000 + 120_000 * 1750 + 500 * 3200) / 1e6  # 12,519.5 million tokens
    assert costs.unit is not None
    assert costs.unit.api_only_usd_per_million_tokens == pytest.approx(costs.api_only_monthly_usd / covered)


def test_plan_json_and_the_reports_carry_them() -> None:
    plan = hand_sized(plan_of("dev"), calls_per_min=300.0)
    report = PlanReport(plan=plan, resources=(), costs=estimate(plan))
    payload = to_json(report)
    assert set(payload["costs"]["usd_per_million_tokens"]) == {"plan", "api_only"}
    (model,) = payload["costs"]["per_model"]
    assert set(model) == {
        "model", "pool", "calls_per_month", "tokens_per_month", "monthly_usd", "usd_per_1000_calls",
        "usd_per_million_tokens",
    }  # fmt: skip
    (pool,) = payload["pools"]
    assert pool["utilization"] == pytest.approx(4000 * 0.95 / 1440 / 300, abs=1e-4)
    assert pool["purchase"] == "on_demand"
    text = render(report, "text")
    assert "per million tokens: this stack / API only" in text
    assert "model llama-8b (pool l40s):" in text and "GPU utilization 0.9%" in text
    markdown = render(report, "markdown")
    assert "| model | pool | calls / month |" in markdown and "| 0.9% |" in markdown
