"""`preflight --refresh-prices`: recorded Price List answers on loopback, spot history from moto, the cache
the cost engine reads back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inferplan.catalog import builtin_catalog
from inferplan.errors import UserError
from inferplan.preflight.aws import on_demand_usd_per_hour
from inferplan.preflight.prices_cache import (
    ON_DEMAND_SOURCE,
    SpotPriceRow,
    load_price_cache,
    price_cache_path,
    write_price_cache,
)
from tests.preflight.conftest import RECORDED, FakeAws, Outcome

Run = Callable[..., Outcome]
Project = Callable[..., str]


def refresh(preflight: Run, stack: str, moto_url: str, fake: FakeAws, *extra: str) -> Outcome:
    return preflight(
        "--stack", stack, "--endpoint-url", moto_url, "--pricing-endpoint-url", fake.url, "--refresh-prices", *extra
    )  # fmt: skip


def test_refresh_writes_price_list_and_spot_prices_with_the_date(
    aws_env: Path, moto_url: str, fake_aws: FakeAws, project: Project, preflight: Run
) -> None:
    fake_aws.product("g6e.xlarge", "us-east-1")
    out = refresh(preflight, project("dev"), moto_url, fake_aws, "--format", "json")

    today = datetime.now(UTC).date().isoformat()
    cache = load_price_cache(aws_env / "cache" / "prices.json")
    price = cache.instance_price("g6e.xlarge", "us-east-1")
    assert price is not None
    assert (price.usd_per_hour, price.source, price.as_of) == (1.861, ON_DEMAND_SOURCE, today)
    assert [p.instance_type for p in cache.on_demand] == ["g6e.xlarge"]  # only the recorded shape has a price
    assert ("us-east-1", "p5.48xlarge") in cache.missing
    # moto's spot history: one row per shape and AZ it offers.
    spot = cache.spot_price("g6e.xlarge", "us-east-1")
    assert spot is not None and spot.as_of == today
    assert {s.availability_zone for s in cache.spot if s.instance_type == "g6e.xlarge"} == {
        "us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d",
    }  # fmt: skip

    report = out.json()["prices"]
    assert report["fetched_at"].startswith(today)
    assert report["on_demand"] == [
        {"instance_type": "g6e.xlarge", "usd_per_hour": 1.861, "source": ON_DEMAND_SOURCE, "as_of": today}
    ]
    # The Price List API was asked for the plain on-demand Linux price, shape by shape, from us-east-1.
    asked = [body for target, body in fake_aws.requests if target == "AWSPriceListService.GetProducts"]
    assert len(asked) == len(builtin_catalog().instances)
    filters = {f["Field"]: f["Value"] for f in asked[0]["Filters"]}
    assert filters == {
        "instanceType": filters["instanceType"],
        "regionCode": "us-east-1",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    assert asked[0]["ServiceCode"] == "AmazonEC2"


def test_refresh_of_another_region_keeps_the_first(
    aws_env: Path, moto_url: str, fake_aws: FakeAws, project: Project, preflight: Run
) -> None:
    fake_aws.product("g6e.xlarge", "us-east-1")
    fake_aws.product("g6e.xlarge", "eu-central-1")
    stack = project("dev")
    refresh(preflight, stack, moto_url, fake_aws)
    out = refresh(preflight, stack, moto_url, fake_aws, "--region", "eu-central-1")

    assert "prices: 1 on-demand (AWS Price List API)" in out.out
    assert "written to " + str(aws_env / "cache" / "prices.json") in out.out
    cache = load_price_cache(aws_env / "cache" / "prices.json")
    assert {(p.region, p.usd_per_hour) for p in cache.on_demand} == {
        ("us-east-1", 1.861),
        ("eu-central-1", 2.327),
    }
    assert [region for region, _ in cache.fetched_at] == ["eu-central-1", "us-east-1"]


def test_cached_prices_replace_catalog_rows(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    builtin = builtin_catalog()
    shape, region = next(iter(builtin.instance_prices))
    row = SpotPriceRow(shape, f"{region}a", 1.5, "2026-03-01T11:00:00+00:00")
    write_price_cache(path, region, {shape: 12.5, "g6.xlarge": None}, [row], when)

    catalog = load_price_cache(path).apply(builtin)

    price = catalog.instance_price(shape, region)
    assert price is not None
    assert (price.usd_per_hour, price.source, price.as_of) == (12.5, ON_DEMAND_SOURCE, "2026-03-01")
    assert len(catalog.instance_prices) == len(builtin.instance_prices)  # replaced, not added


def test_missing_cache_is_empty_and_a_corrupt_one_is_one_error(tmp_path: Path) -> None:
    assert load_price_cache(tmp_path / "none.json").on_demand == ()
    broken = tmp_path / "prices.json"
    broken.write_text("{not json")
    with pytest.raises(UserError, match="not a readable price cache"):
        load_price_cache(broken)


def test_cache_path_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INFERPLAN_PRICE_CACHE", str(tmp_path / "x.json"))
    assert price_cache_path() == tmp_path / "x.json"
    monkeypatch.delenv("INFERPLAN_PRICE_CACHE")
    assert price_cache_path(tmp_path) == tmp_path / ".inferplan-cache" / "prices.json"


def test_price_list_parsing_skips_capacity_blocks_and_zero_prices() -> None:
    recorded = json.loads((RECORDED / "get_products_g6e.xlarge_us-east-1.json").read_text())
    item: dict[str, Any] = json.loads(recorded["PriceList"][0])
    block = json.loads(json.dumps(item))
    block["product"]["attributes"]["marketoption"] = "CapacityBlock"
    for term in block["terms"]["OnDemand"].values():
        for dim in term["priceDimensions"].values():
            dim["pricePerUnit"]["USD"] = "0.5000000000"
    assert on_demand_usd_per_hour([json.dumps(block), json.dumps(item)]) == 1.861
    assert on_demand_usd_per_hour([json.dumps(block)]) is None
    assert on_demand_usd_per_hour([]) is None
