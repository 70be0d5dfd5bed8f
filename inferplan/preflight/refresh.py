"""`preflight --refresh-prices`: fetch current on-demand and spot prices into the local price cache."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from inferplan.preflight.aws import Aws, on_demand_price, spot_prices
from inferplan.preflight.prices_cache import PriceCache, write_price_cache
from inferplan.progress import Progress


def refresh_prices(
    aws: Aws,
    instance_types: Iterable[str],
    region: str,
    path: Path,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> PriceCache:
    """Fetch on-demand (Price List API) and spot prices for the shapes in `region` into the cache."""
    shapes = sorted(set(instance_types))
    fetched_at = now or datetime.now(UTC)
    on_demand: dict[str, float | None] = {}
    for shape in shapes:
        if progress:
            progress.step(f"price of {shape}")
        on_demand[shape] = on_demand_price(aws, shape, region)
    if progress:
        progress.step("spot price history")
    spot = spot_prices(aws, shapes, now=fetched_at)
    return write_price_cache(path, region, on_demand, spot, fetched_at)
