"""API calls billed as billed: prompt-cache reads and writes, the batch discount, retries — one path."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from inferplan.cost import estimate
from inferplan.cost.billing import per_call_usd, token_charges
from inferplan.cost.engine import outcome_costs
from inferplan.cost.usage import api_only, call_usd
from inferplan.pricebook import ApiPrice, PriceBook
from inferplan.spec import Workload
from inferplan.stackfile import SpecErrors, read_stack
from tests.conftest import stack_config
from tests.cost.conftest import plan_of

SONNET = PriceBook.builtin("us-east-1").api("anthropic", "claude-sonnet-4-5")
CALLS = 500 * 730 / 24  # campaign-drafts: 500 calls a day


def workload(**fields: Any) -> Workload:
    base = {
        "name": "w",
        "calls_per_day": 1000,
        "input_tokens": 1000,
        "output_tokens": 200,
        "sensitivity": "public",
        "route": "x",
    }
    return Workload.model_validate({**base, **fields})


def test_the_catalog_row_the_hand_figures_below_use() -> None:
    assert SONNET is not None
    assert (SONNET.input_usd_per_mtok, SONNET.output_usd_per_mtok) == (3, 15)
    assert (SONNET.cache_read_usd_per_mtok, SONNET.cache_write_usd_per_mtok, SONNET.batch_discount) == (
        0.3,
        3.75,
        0.5,
    )


def test_cache_batch_and_retries_on_one_call_by_hand() -> None:
    """1,000 in / 200 out; 60% of the prompt read from the cache, 10% written; batch API; 5% retried."""
    assert SONNET is not None
    w = workload(prompt_cache={"read_share": 0.6, "write_share": 0.1}, batch=True, retry_share=0.05)
    charges = {c.kind: (c.tokens, c.usd_per_mtok) for c in token_charges(SONNET, w)}
    assert charges == {
        "input": (pytest.approx(300), 1.5),  # 3.00 at half price
        "cache_read": (600, 0.15),
        "cache_write": (100, 1.875),
        "output": (200, 7.5),
    }
    # 300 x 1.5 + 600 x 0.15 + 100 x 1.875 + 200 x 7.5 = 450 + 90 + 187.5 + 1,500 = 2,227.5 per million
    assert per_call_usd(SONNET, w) == pytest.approx(0.0022275 * 1.05)  # $0.002338875


def test_a_plain_call_is_the_list_price() -> None:
    assert SONNET is not None
    assert per_call_usd(SONNET, workload()) == pytest.approx((1000 * 3 + 200 * 15) / 1e6)
    assert [c.kind for c in token_charges(SONNET, workload())] == ["input", "output"]


def test_missing_cache_write_price_bills_the_input_price_and_says_so() -> None:
    gpt4o = PriceBook.builtin("us-east-1").api("openai", "gpt-4o")  # cache read 1.25, no write price
    assert gpt4o is not None
    w = workload(prompt_cache={"read_share": 0.5, "write_share": 0.5})
    charges = {c.kind: c for c in token_charges(gpt4o, w)}
    assert charges["cache_read"].usd_per_mtok == 1.25
    assert (
        charges["cache_write"].usd_per_mtok == 2.5 and "no cache-write price" in charges["cache_write"].note
    )
    assert per_call_usd(gpt4o, w) == pytest.approx((500 * 1.25 + 500 * 2.5 + 200 * 10) / 1e6)


def test_batch_without_a_batch_discount_is_list_price_with_a_note() -> None:
    price = ApiPrice("together", "some-model", 1.0, 2.0, "a source", "2026-01")
    (inp, out) = token_charges(price, workload(batch=True))
    assert (inp.usd_per_mtok, out.usd_per_mtok) == (1.0, 2.0)
    assert "no batch discount" in inp.note


def billed_prod_eu() -> dict[str, Any]:
    config = stack_config("prod-eu")
    drafts = next(w for w in config["inferplan:platform"]["workloads"] if w["name"] == "campaign-drafts")
    drafts.update(prompt_cache={"read_share": 0.5}, batch=True, retry_share=0.1)
    return config


# campaign-drafts: 2,000 in / 1,200 out on claude-sonnet-4-5: 1,000 uncached at 1.50, 1,000 cached at
# 0.15, 1,200 out at 7.50 = 10,650 per million; x 1.1 for retries = $0.011715 a call.
DRAFT_CALL = 0.011715


def test_the_plans_api_lines_carry_each_charge_kind() -> None:
    costs = estimate(plan_of("prod-eu", billed_prod_eu()))
    lines = {ln.item: ln for ln in costs.lines if ln.item.endswith("(campaign-drafts)")}
    assert set(lines) == {
        "anthropic/claude-sonnet-4-5 input tokens (campaign-drafts)",
        "anthropic/claude-sonnet-4-5 cache read tokens (campaign-drafts)",
        "anthropic/claude-sonnet-4-5 output tokens (campaign-drafts)",
    }
    cached = lines["anthropic/claude-sonnet-4-5 cache read tokens (campaign-drafts)"]
    assert cached.quantity == pytest.approx(CALLS * 1.1 * 1000 / 1e6) and cached.unit_usd == 0.15
    assert "batch API: 50% off" in cached.note and "retries: 10% of calls billed again" in cached.note
    assert sum(ln.monthly_usd for ln in lines.values()) == pytest.approx(CALLS * DRAFT_CALL)  # $178.17


def test_api_only_and_the_decisions_per_call_price_bill_the_same() -> None:
    plan = plan_of("prod-eu", billed_prod_eu())
    baseline = api_only(plan, plan.prices)
    assert baseline.by_workload["campaign-drafts"][1] == pytest.approx(CALLS * DRAFT_CALL)
    plain = plan_of("prod-eu")
    w_billed = plan.platform.workloads[3]
    w_plain = plain.platform.workloads[3]
    price = plan.prices.api("anthropic", "claude-sonnet-4-5")
    # NAT bytes are the same for both calls: the difference is the tokens alone.
    difference = call_usd(plain.platform, plain.prices, w_plain, price, False) - call_usd(
        plan.platform, plan.prices, w_billed, price, False
    )
    assert difference == pytest.approx((2000 * 3 + 1200 * 15) / 1e6 - DRAFT_CALL)


def test_cost_per_outcome_bills_the_frontier_call_as_billed() -> None:
    config = stack_config("prod-eu")
    lead = config["inferplan:platform"]["workloads"][0]  # 800 in / 200 out, success_rate on claude-sonnet
    lead.update(prompt_cache={"read_share": 0.5, "write_share": 0.25}, retry_share=0.2)
    plan = plan_of("prod-eu", config)
    (outcome,) = outcome_costs(plan, (), plan.prices)
    # 200 x 3 + 400 x 0.30 + 200 x 3.75 + 200 x 15 = 600 + 120 + 750 + 3,000 = 4,470 per million; x 1.2
    assert outcome.per_call["claude-sonnet"] == pytest.approx(0.004470 * 1.2)


def test_cache_shares_above_one_are_refused_where_they_are_written() -> None:
    config = stack_config("dev")
    config["inferplan:platform"]["workloads"][0]["prompt_cache"] = {"read_share": 0.7, "write_share": 0.4}
    with pytest.raises(SpecErrors) as caught:
        read_stack(yaml.safe_dump({"config": config}), "stacks/Pulumi.dev.yaml", "dev")
    (error,) = caught.value.errors
    assert error.path == "workloads[0].prompt_cache" and error.line > 1
    assert "read_share + write_share must be <= 1 (got 0.7 + 0.4)" in error.message
