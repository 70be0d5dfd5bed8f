"""`preflight --refresh-prices`: current AWS prices in a local cache the cost engine prefers over the
built-in catalog.

The cache is JSON (default `.inferplan-cache/prices.json` in the project root, or `$INFERPLAN_PRICE_CACHE`),
one section per region with the time it was fetched; refreshing one region keeps the others. It is
read only when the user asks for it (`plan --prices-cache`, or `$INFERPLAN_USE_PRICE_CACHE` naming the
file for the Pulumi program): a file lying in the checkout never changes a figure by itself. Rows come
back as `InstancePrice` (source "AWS Price List API", as_of = fetch date) so they drop into
`Catalog.with_overrides`, and spot rows as `SpotPrice`.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inferplan.catalog import Catalog, CatalogOverrides, InstancePrice
from inferplan.errors import UserError
from inferplan.stackfile import project_root

CACHE_ENV = "INFERPLAN_PRICE_CACHE"  # where `preflight --refresh-prices` writes (and --prices-cache reads)
USE_ENV = "INFERPLAN_USE_PRICE_CACHE"  # the Pulumi program reads the cache only when this names it
CACHE_FORMAT = "inferplan.prices/v1"
ON_DEMAND_SOURCE = "AWS Price List API"
SPOT_SOURCE = "EC2 DescribeSpotPriceHistory (Linux/UNIX, latest in the last day)"


@dataclass(frozen=True)
class SpotPriceRow:
    """One spot price as DescribeSpotPriceHistory reported it (before it is cached)."""

    instance_type: str
    availability_zone: str
    usd_per_hour: float
    timestamp: str  # ISO 8601


class _OnDemandRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    instance_type: str
    usd_per_hour: float = Field(ge=0)


class _SpotRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    instance_type: str
    availability_zone: str
    usd_per_hour: float = Field(ge=0)
    timestamp: str


class _Region(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    fetched_at: datetime
    on_demand: tuple[_OnDemandRow, ...] = ()
    spot: tuple[_SpotRow, ...] = ()
    missing: tuple[str, ...] = ()  # shapes the Price List API had no on-demand Linux price for


class _CacheFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    format: str = CACHE_FORMAT
    regions: dict[str, _Region] = Field(default_factory=dict)


@dataclass(frozen=True)
class SpotPrice:
    instance_type: str
    region: str
    availability_zone: str
    usd_per_hour: float
    timestamp: str
    source: str = SPOT_SOURCE
    as_of: str = "unspecified"


@dataclass(frozen=True)
class PriceCache:
    path: Path
    on_demand: tuple[InstancePrice, ...] = ()
    spot: tuple[SpotPrice, ...] = ()
    fetched_at: tuple[tuple[str, datetime], ...] = ()  # (region, when), one per cached region
    missing: tuple[tuple[str, str], ...] = ()  # (region, instance_type) without an on-demand price

    def instance_price(self, instance_type: str, region: str) -> InstancePrice | None:
        return next(
            (p for p in self.on_demand if (p.instance_type, p.region) == (instance_type, region)), None
        )

    def spot_price(self, instance_type: str, region: str) -> SpotPrice | None:
        """The cheapest AZ's latest spot price (what a price-capacity-optimized pool tends toward)."""
        rows = [s for s in self.spot if (s.instance_type, s.region) == (instance_type, region)]
        return min(rows, key=lambda s: s.usd_per_hour) if rows else None

    def apply(self, catalog: Catalog) -> Catalog:
        """The catalog with cached on-demand prices replacing built-in rows of the same shape and region."""
        return catalog.with_overrides(CatalogOverrides(instance_prices=self.on_demand))


def price_cache_path(root: Path | None = None) -> Path:
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return (root or project_root()) / ".inferplan-cache" / "prices.json"


def _read(path: Path) -> _CacheFile:
    if not path.is_file():
        return _CacheFile()
    try:
        return _CacheFile.model_validate_json(path.read_bytes())
    except (ValidationError, OSError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        raise UserError(
            f"{path}: not a readable price cache ({first}); delete it and run "
            "`python -m inferplan preflight --stack <stack> --refresh-prices`"
        ) from None


def load_price_cache(path: Path | None = None) -> PriceCache:
    """Every cached price (empty when the file does not exist; UserError when it is unreadable)."""
    path = path or price_cache_path()
    data = _read(path)
    if data.format != CACHE_FORMAT:
        raise UserError(
            f"{path}: format {data.format!r} is not {CACHE_FORMAT!r}; refresh it with --refresh-prices"
        )
    on_demand: list[InstancePrice] = []
    spot: list[SpotPrice] = []
    for region, section in sorted(data.regions.items()):
        as_of = section.fetched_at.date().isoformat()
        on_demand += [
            InstancePrice(
                instance_type=r.instance_type,
                region=region,
                usd_per_hour=r.usd_per_hour,
                source=ON_DEMAND_SOURCE,
                as_of=as_of,
            )
            for r in section.on_demand
        ]
        spot += [
            SpotPrice(r.instance_type, region, r.availability_zone, r.usd_per_hour, r.timestamp, as_of=as_of)
            for r in section.spot
        ]
    return PriceCache(
        path=path,
        on_demand=tuple(on_demand),
        spot=tuple(spot),
        fetched_at=tuple((r, s.fetched_at) for r, s in sorted(data.regions.items())),
        missing=tuple((r, t) for r, s in sorted(data.regions.items()) for t in s.missing),
    )


def write_price_cache(
    path: Path,
    region: str,
    on_demand: dict[str, float | None],
    spot: Iterable[SpotPriceRow],
    fetched_at: datetime,
) -> PriceCache:
    """Replace one region's section (other regions stay) and write the file atomically."""
    data = _read(path)
    section = _Region(
        fetched_at=fetched_at,
        on_demand=tuple(
            _OnDemandRow(instance_type=t, usd_per_hour=p) for t, p in sorted(on_demand.items()) if p
        ),
        spot=tuple(
            _SpotRow(
                instance_type=s.instance_type,
                availability_zone=s.availability_zone,
                usd_per_hour=s.usd_per_hour,
                timestamp=s.timestamp,
            )
            for s in spot
        ),
        missing=tuple(sorted(t for t, p in on_demand.items() if not p)),
    )
    merged = _CacheFile(regions={**data.regions, region: section})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(path.name + ".tmp")
        scratch.write_text(json.dumps(merged.model_dump(mode="json"), indent=2) + "\n")
        scratch.replace(path)
    except OSError as exc:
        raise UserError(f"cannot write the price cache {path}: {exc.strerror or exc}") from None
    return load_price_cache(path)


def add_cache_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prices-cache",
        nargs="?",
        const="",
        metavar="PATH",
        help="price instances from the cache `preflight --refresh-prices` wrote (default path: "
        f"${CACHE_ENV} or .inferplan-cache/prices.json); without it, only the catalog and the stack's prices",
    )


def requested_cache(value: str | None) -> PriceCache | None:
    """The cache named by `--prices-cache [PATH]` (None when not asked for); a missing file is an error."""
    if value is None:
        return None
    path = Path(value).expanduser() if value else price_cache_path()
    if not path.is_file():
        raise UserError(
            f"--prices-cache: {path} does not exist (write it with "
            "`python -m inferplan preflight --stack <stack> --refresh-prices`)"
        )
    return load_price_cache(path)


def program_cache() -> PriceCache | None:
    """The cache the Pulumi program prices with: only the one `$INFERPLAN_USE_PRICE_CACHE` names."""
    value = os.environ.get(USE_ENV)
    return requested_cache(value) if value else None
