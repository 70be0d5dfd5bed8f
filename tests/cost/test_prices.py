"""The price book: catalog rows, regional estimates, overrides, API prices."""

from __future__ import annotations

import csv

import pytest

from inferplan.catalog import CATALOG_DIR
from inferplan.errors import UserError
from inferplan.pricebook import PriceBook


def test_every_price_file_row_has_source_and_as_of() -> None:
    for name in (
        "aws_prices.csv",
        "api_prices.csv",
        "region_price_factors.csv",
        "spot_discounts.csv",
        "cost_assumptions.csv",
        "commitments.csv",
        "owned_hardware.csv",
    ):
        with (CATALOG_DIR / name).open() as handle:
            rows = list(csv.DictReader(handle))
        assert rows, name
        assert all(row["source"].strip() and row["as_of"].strip() for row in rows), name


def test_service_price_in_its_region_and_estimated_elsewhere() -> None:
    assert PriceBook.builtin("us-east-1").service("nat_gateway").usd == pytest.approx(0.045)
    frankfurt = PriceBook.builtin("eu-central-1").service("nat_gateway")
    assert frankfurt.usd == pytest.approx(0.05625) and frankfurt.estimated


def test_region_without_a_factor_uses_us_east_1_and_says_so() -> None:
    price = PriceBook.builtin("ap-south-1").service("alb")
    assert price.usd == pytest.approx(0.0225) and price.estimated
    assert "no price factor for ap-south-1" in price.note


def test_eu_central_1_factor_is_what_the_instance_rows_say() -> None:
    book = PriceBook.builtin("eu-central-1")
    ratios = [
        p.usd_per_hour / us.usd_per_hour
        for (itype, region), p in book.catalog.instance_prices.items()
        if region == "eu-central-1" and (us := book.catalog.instance_price(itype, "us-east-1"))
    ]
    assert len(ratios) >= 10
    assert book.factor()[0] == pytest.approx(sum(ratios) / len(ratios), abs=0.005)


def test_instance_price_falls_back_to_us_east_1_times_factor() -> None:
    price = PriceBook.builtin("eu-central-1").instance_hour("p5.48xlarge")
    assert price is not None and price.estimated
    assert price.usd == pytest.approx(55.04 * 1.25)


def test_overrides_win_and_carry_their_source() -> None:
    book = PriceBook.builtin("eu-central-1", overrides={"nat_gateway": 0.052, "instance:p5.48xlarge": 70.0})
    assert book.service("nat_gateway").usd == 0.052 and not book.service("nat_gateway").estimated
    hour = book.instance_hour("p5.48xlarge")
    assert hour is not None and hour.usd == 70.0 and hour.source == "stack override (cost.prices)"


def test_a_misspelt_override_is_refused_with_a_suggestion() -> None:
    with pytest.raises(UserError, match="did you mean 'nat_gateway'"):
        PriceBook.builtin("us-east-1", overrides={"nat_gatway": 0.05})


def test_api_price_override_and_bedrock_mapping() -> None:
    book = PriceBook.builtin("us-east-1", overrides={"api:openai/gpt-5:output": 12.0})
    gpt = book.api("openai", "gpt-5")
    assert gpt is not None and (gpt.input_usd_per_mtok, gpt.output_usd_per_mtok) == (1.25, 12.0)
    # Bedrock's EU profile has its own row (10% over Anthropic's list price)...
    eu = book.api("bedrock", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert (
        eu is not None and not eu.estimated and (eu.input_usd_per_mtok, eu.output_usd_per_mtok) == (3.3, 16.5)
    )
    # ...an id without one is priced at the vendor's own list price, and says so.
    apac = book.api("bedrock", "apac.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert (
        apac is not None and apac.estimated and (apac.input_usd_per_mtok, apac.output_usd_per_mtok) == (3, 15)
    )
    assert book.api("openai", "no-such-model") is None


def test_spot_discount_default_row_and_override() -> None:
    assert PriceBook.builtin("us-east-1").spot_discount("g6e.xlarge").value == pytest.approx(0.5)
    book = PriceBook.builtin("us-east-1", overrides={"spot_discount:g6e.xlarge": 0.7})
    assert book.spot_discount("g6e.xlarge").value == pytest.approx(0.7)


def test_every_owned_hardware_power_figure_names_its_source_and_date() -> None:
    with (CATALOG_DIR / "owned_hardware.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert all(row["power_source"].strip() and row["power_as_of"].strip() for row in rows if row["power_kw"])
