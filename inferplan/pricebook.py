"""The price book: every figure the planner multiplies by, with where it came from and when.

One book per plan (`PriceBook.for_stack`, built by the planner): everything that compares money —
`instance_type: auto`, the cost engine, break-even — prices through it, so two answers about one
stack can never rest on two different prices.

Prices are data (inferplan/catalog/*.csv); this module only looks them up. A lookup for a region
with no row of its own falls back to the us-east-1 row times the region's factor and says so
(`estimated`). A stack replaces any price through `cost.prices` ({item: usd}); keys:

- a service item of aws_prices.csv, e.g. `nat_gateway: 0.052` (USD per its unit, in the stack's region)
- `instance:<instance_type>`: on-demand USD per node-hour, e.g. `instance:p5e.48xlarge: 39.80`
- `spot_discount:<instance_type>`: fraction off on-demand (0.6 = 60% off)
- `api:<provider>/<model>:input` / `api:<provider>/<model>:output`: USD per million tokens
- `commit:<purchase>:<instance_type>`: a commitment's USD per node-hour (purchase: reserved_1y,
  reserved_3y, savings_plan_1y, savings_plan_3y or capacity_block), e.g. `commit:reserved_1y:p5.48xlarge: 34.0`

Instance prices fetched by `preflight --refresh-prices` (the local price cache, dated) are read only
when the user asks for them (`plan --prices-cache`): then they replace the built-in rows, a stack's
own `catalog.instance_prices` and `cost.prices` still win over them, cached spot prices replace the
spot-discount assumption, and the book names the cache and its date (`cache_note`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from inferplan.catalog import Catalog, CatalogOverrides, InstancePrice, builtin_catalog, read_rows
from inferplan.errors import SpecInputError, UserError
from inferplan.preflight.prices_cache import PriceCache
from inferplan.spec import PURCHASES

BASE_REGION = "us-east-1"
OVERRIDE_SOURCE = "stack override (cost.prices)"
INSTANCE_PREFIX = "instance:"
SPOT_PREFIX = "spot_discount:"
API_PREFIX = "api:"
COMMIT_PREFIX = "commit:"
COMMITMENTS = tuple(p for p in PURCHASES if p != "on_demand")
SCALED_COMMITMENTS = tuple(p for p in COMMITMENTS if p != "capacity_block")  # blocks have no regional scaling


@dataclass(frozen=True)
class Price:
    """One unit price in one region."""

    item: str
    unit: str
    usd: float
    source: str
    as_of: str
    region: str
    estimated: bool = False  # not read for this region: the base-region row times a regional factor
    note: str = ""
    min_hours: float = 0.0  # billed at least this many hours a month (an EC2 Capacity Block's minimum)


@dataclass(frozen=True)
class ApiPrice:
    """Per-token prices of one API model (USD per million tokens)."""

    provider: str
    model: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    source: str
    as_of: str
    estimated: bool = False
    note: str = ""
    open_model: str = ""  # the open-weight model an open-model API serves (Hugging Face id), else ""
    region: str = ""  # Bedrock: the Region (or us/eu/global inference profile) the price is for
    cache_read_usd_per_mtok: float | None = None  # prompt caching, where the provider bills it
    cache_write_usd_per_mtok: float | None = None
    batch_discount: float | None = None  # fraction off for the provider's batch API
    context_window: int | None = None
    processing_regions: tuple[
        str, ...
    ] = ()  # where the provider says it processes (global, us, eu, a Region)

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.model}"

    def per_call(self, input_tokens: float, output_tokens: float) -> float:
        return (input_tokens * self.input_usd_per_mtok + output_tokens * self.output_usd_per_mtok) / 1e6


@dataclass(frozen=True)
class Assumption:
    """A non-price number the estimates rest on (bytes per token, LCU dimensions, a spot discount)."""

    name: str
    value: float
    unit: str
    source: str
    as_of: str


@dataclass(frozen=True)
class SpotDiscount(Assumption):
    """A spot discount with how often AWS takes such instances back (Spot Advisor's bucket)."""

    interruption: str = "unknown"  # e.g. "<5%": share of instances interrupted in a month


@dataclass(frozen=True)
class Commitment:
    """One commitment rate of the catalog (commitments.csv)."""

    instance_type: str
    region: str
    purchase: str
    usd_per_hour: float
    min_hours: float
    source: str
    as_of: str


@dataclass(frozen=True)
class OwnedHardware:
    """What buying one node of an EC2 shape's kind costs and draws (owned_hardware.csv)."""

    instance_type: str
    node_price_usd: float
    server: str
    source: str
    as_of: str
    power_kw: float | None
    power_source: str
    power_as_of: str


@dataclass(frozen=True)
class _Factor:
    factor: float
    source: str


def _load_services() -> dict[tuple[str, str], Price]:
    return {
        (r["item"], r["region"]): Price(
            item=r["item"],
            unit=r["unit"],
            usd=float(r["usd"]),
            source=r["source"],
            as_of=r["as_of"],
            region=r["region"],
        )
        for r in read_rows("aws_prices.csv")
    }


def _optional(row: dict[str, str], key: str) -> float | None:
    return float(row[key]) if key in row else None


@lru_cache(maxsize=1)
def _load_api() -> dict[str, tuple[ApiPrice, ...]]:
    """provider/model -> its rows (Bedrock has one per Region or inference-profile geography)."""
    out: dict[str, list[ApiPrice]] = {}
    for r in read_rows("api_prices.csv"):
        price = ApiPrice(
            provider=r["provider"],
            model=r["model"],
            input_usd_per_mtok=float(r["input_usd_per_mtok"]),
            output_usd_per_mtok=float(r["output_usd_per_mtok"]),
            source=r["source"],
            as_of=r["as_of"],
            open_model=r.get("open_model", ""),
            region=r.get("region", ""),
            cache_read_usd_per_mtok=_optional(r, "cache_read_usd_per_mtok"),
            cache_write_usd_per_mtok=_optional(r, "cache_write_usd_per_mtok"),
            batch_discount=_optional(r, "batch_discount"),
            context_window=int(r["context_window"]) if "context_window" in r else None,
            processing_regions=tuple(x for x in r.get("processing_regions", "").split(";") if x),
        )
        out.setdefault(price.key, []).append(price)
    return {key: tuple(rows) for key, rows in out.items()}


def _load_factors() -> dict[str, _Factor]:
    return {
        r["region"]: _Factor(float(r["factor"]), f"{r['source']} ({r['as_of']})")
        for r in read_rows("region_price_factors.csv")
    }


def _load_spot() -> dict[tuple[str, str], SpotDiscount]:
    return {
        (r["instance_type"], r["region"]): SpotDiscount(
            name=f"spot_discount:{r['instance_type']}",
            value=float(r["discount"]),
            unit="fraction off on-demand",
            source=r["source"],
            as_of=r["as_of"],
            interruption=r.get("interruption", "unknown"),
        )
        for r in read_rows("spot_discounts.csv")
    }


@lru_cache(maxsize=1)
def _load_commitments() -> dict[tuple[str, str, str], Commitment]:
    """(instance type, region, purchase) -> its rate."""
    return {
        (r["instance_type"], r["region"], r["purchase"]): Commitment(
            instance_type=r["instance_type"],
            region=r["region"],
            purchase=r["purchase"],
            usd_per_hour=float(r["usd_per_hour"]),
            min_hours=float(r.get("min_hours", 0)),
            source=r["source"],
            as_of=r["as_of"],
        )
        for r in read_rows("commitments.csv")
    }


@lru_cache(maxsize=1)
def _load_owned() -> dict[str, OwnedHardware]:
    return {
        r["instance_type"]: OwnedHardware(
            instance_type=r["instance_type"],
            node_price_usd=float(r["node_price_usd"]),
            server=r["server"],
            source=r["source"],
            as_of=r["as_of"],
            power_kw=_optional(r, "power_kw"),
            power_source=r.get("power_source", ""),
            power_as_of=r.get("power_as_of", ""),
        )
        for r in read_rows("owned_hardware.csv")
    }


def _load_assumptions() -> dict[str, Assumption]:
    return {
        r["name"]: Assumption(
            name=r["name"], value=float(r["value"]), unit=r["unit"], source=r["source"], as_of=r["as_of"]
        )
        for r in read_rows("cost_assumptions.csv")
    }


@dataclass(frozen=True)
class PriceBook:
    """All prices for one region: catalog rows, regional estimates, then the stack's overrides."""

    region: str
    catalog: Catalog
    services: Mapping[tuple[str, str], Price]
    api_prices: Mapping[str, tuple[ApiPrice, ...]]
    factors: Mapping[str, _Factor]
    spot: Mapping[tuple[str, str], SpotDiscount]
    assumptions: Mapping[str, Assumption]
    commitments: Mapping[tuple[str, str, str], Commitment] = field(default_factory=dict)
    owned: Mapping[str, OwnedHardware] = field(default_factory=dict)  # instance type -> bought node
    overrides: Mapping[str, float] = field(default_factory=dict)
    spot_prices: Mapping[str, Price] = field(default_factory=dict)  # instance type -> cached spot price
    cache_note: str = ""  # which price cache was read and when it was fetched ("" when none was asked for)

    @classmethod
    def for_stack(
        cls,
        region: str,
        catalog: Catalog,
        own_instance_prices: Sequence[InstancePrice] = (),
        overrides: Mapping[str, float] | None = None,
        cache: PriceCache | None = None,
    ) -> PriceBook:
        """The book of one stack: `catalog` (built-in rows merged with the stack's `catalog:` section)
        < the price cache, only when given < the stack's own `catalog.instance_prices` < `cost.prices`."""
        if cache is not None:
            catalog = cache.apply(catalog).with_overrides(
                CatalogOverrides(instance_prices=own_instance_prices)
            )
        book = cls.builtin(region, catalog, overrides, cache)
        if cache is None:
            return book
        fetched = dict(cache.fetched_at).get(region)
        when = f"fetched {fetched.date().isoformat()}" if fetched else f"no {region} section"
        return replace(book, cache_note=f"price cache {cache.path} ({when})")

    @classmethod
    def builtin(
        cls,
        region: str,
        catalog: Catalog | None = None,
        overrides: Mapping[str, float] | None = None,
        cache: PriceCache | None = None,
    ) -> PriceBook:
        """The shipped price files for `region`; `overrides` as in the stack's `cost.prices`.

        `cache` contributes spot prices here; its on-demand rows are layered into `catalog` by the caller
        (under the stack's own rows: see `pricing.price_book`).
        """
        catalog = catalog or builtin_catalog()
        spot: dict[str, Price] = {}
        if cache is not None:
            for itype in {s.instance_type for s in cache.spot if s.region == region}:
                row = cache.spot_price(itype, region)
                if row is not None:
                    spot[itype] = Price(
                        item=SPOT_PREFIX + itype,
                        unit="node-hour",
                        usd=row.usd_per_hour,
                        source=f"{row.source}, cheapest AZ ({row.availability_zone})",
                        as_of=row.as_of,
                        region=region,
                    )
        book = cls(
            region=region,
            catalog=catalog,
            services=_load_services(),
            api_prices=_load_api(),
            factors=_load_factors(),
            spot=_load_spot(),
            assumptions=_load_assumptions(),
            commitments=_load_commitments(),
            owned=_load_owned(),
            overrides=dict(overrides or {}),
            spot_prices=spot,
        )
        book.check_overrides()
        return book

    # -- overrides ------------------------------------------------------------------------------

    def check_overrides(self) -> None:
        """A misspelt override must not be silently ignored: refuse keys that price nothing."""
        items = sorted({item for item, _ in self.services})
        for key in self.overrides:
            if key in items or key.startswith((INSTANCE_PREFIX, SPOT_PREFIX)):
                continue
            if key.startswith(COMMIT_PREFIX):
                purchase, _, itype = key.removeprefix(COMMIT_PREFIX).partition(":")
                if purchase in COMMITMENTS and itype:
                    continue
                raise SpecInputError(
                    ("cost", "prices", key),
                    f"prices nothing (use commit:<purchase>:<instance type> with purchase one of "
                    f"{', '.join(COMMITMENTS)}{_suggest(purchase, COMMITMENTS)})",
                )
            if key.startswith(API_PREFIX) and key.endswith((":input", ":output")) and "/" in key:
                continue
            close = difflib.get_close_matches(key, items, n=1, cutoff=0.6)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else (
                    "use a service item of inferplan/catalog/aws_prices.csv, instance:<type>, "
                    "spot_discount:<type>, commit:<purchase>:<type> or api:<provider>/<model>:input|output"
                )
            )
            raise SpecInputError(("cost", "prices", key), f"prices nothing ({hint})")

    def _override(self, key: str, unit: str) -> Price | None:
        if key not in self.overrides:
            return None
        return Price(
            item=key,
            unit=unit,
            usd=self.overrides[key],
            source=OVERRIDE_SOURCE,
            as_of="stack",
            region=self.region,
        )

    # -- regional lookup ------------------------------------------------------------------------

    def factor(self) -> tuple[float, str]:
        """Multiplier from a us-east-1 price to this region, with why; 1.0 (and said so) when unknown."""
        known = self.factors.get(self.region)
        if known is not None:
            return known.factor, known.source
        return 1.0, f"no price factor for {self.region} in region_price_factors.csv: us-east-1 price used"

    def service(self, item: str) -> Price:
        """The unit price of an AWS service item (aws_prices.csv) in this region."""
        base = self.services.get((item, BASE_REGION))
        unit = base.unit if base else ""
        override = self._override(item, unit)
        if override is not None:
            return override
        exact = self.services.get((item, self.region))
        if exact is not None:
            return exact
        if base is None:
            raise UserError(
                f"no price for '{item}' in inferplan/catalog/aws_prices.csv (add cost.prices.{item})"
            )
        factor, why = self.factor()
        return Price(
            item=item,
            unit=base.unit,
            usd=base.usd * factor,
            source=base.source,
            as_of=base.as_of,
            region=self.region,
            estimated=True,
            note=f"{BASE_REGION} x {factor:g}: {why}",
        )

    def instance_hour(self, instance_type: str) -> Price | None:
        """On-demand USD per node-hour: override, catalog row for the region, or us-east-1 x factor."""
        override = self._override(INSTANCE_PREFIX + instance_type, "node-hour")
        if override is not None:
            return override
        row = self.catalog.instance_price(instance_type, self.region)
        if row is not None:
            return Price(
                item=INSTANCE_PREFIX + instance_type,
                unit="node-hour",
                usd=row.usd_per_hour,
                source=row.source,
                as_of=row.as_of,
                region=self.region,
            )
        base = self.catalog.instance_price(instance_type, BASE_REGION)
        if base is None:
            return None
        factor, why = self.factor()
        return Price(
            item=INSTANCE_PREFIX + instance_type,
            unit="node-hour",
            usd=base.usd_per_hour * factor,
            source=base.source,
            as_of=base.as_of,
            region=self.region,
            estimated=True,
            note=f"{BASE_REGION} x {factor:g}: {why}",
        )

    def gpu_hour(self, instance_type: str) -> Price | None:
        """The node price pro-rated per GPU (seed 003's 1x/2x H200 figures on an 8-GPU shape)."""
        node = self.instance_hour(instance_type)
        shape = self.catalog.instances.get(instance_type)
        if node is None or shape is None:
            return None
        return Price(
            item=f"gpu:{instance_type}",
            unit="GPU-hour",
            usd=node.usd / shape.gpus,
            source=node.source,
            as_of=node.as_of,
            region=self.region,
            estimated=node.estimated,
            note=f"node price / {shape.gpus} GPUs" + (f"; {node.note}" if node.note else ""),
        )

    def spot_hour(self, instance_type: str) -> Price | None:
        """A cached spot price (preflight --refresh-prices), unless the stack overrides the discount."""
        if SPOT_PREFIX + instance_type in self.overrides:
            return None
        return self.spot_prices.get(instance_type)

    def spot_discount(self, instance_type: str) -> SpotDiscount:
        key = SPOT_PREFIX + instance_type
        if key in self.overrides:
            return SpotDiscount(key, self.overrides[key], "fraction off on-demand", OVERRIDE_SOURCE, "stack")
        for candidate in ((instance_type, self.region), (instance_type, "*"), ("*", self.region), ("*", "*")):
            if candidate in self.spot:
                return self.spot[candidate]
        return SpotDiscount(
            key, 0.0, "fraction off on-demand", "no spot discount row: priced as on-demand", ""
        )

    def commitment_hour(self, instance_type: str, purchase: str) -> Price | None:
        """A commitment's USD per node-hour (no upfront): override, the catalog row for the region, else
        (Reserved Instances and Savings Plans, never Capacity Blocks) the us-east-1 row scaled like the
        region's on-demand price; None when there is none."""
        item = f"{COMMIT_PREFIX}{purchase}:{instance_type}"
        blocks = [
            c.min_hours for (t, _, p), c in self.commitments.items() if (t, p) == (instance_type, purchase)
        ]
        min_hours = max(blocks, default=0.0)
        override = self._override(item, "node-hour")
        if override is not None:
            return replace(override, min_hours=min_hours)
        row = self.commitments.get((instance_type, self.region, purchase))
        if row is not None:
            return Price(
                item=item,
                unit="node-hour",
                usd=row.usd_per_hour,
                source=row.source,
                as_of=row.as_of,
                region=self.region,
                min_hours=row.min_hours,
            )
        base = self.commitments.get((instance_type, BASE_REGION, purchase))
        here, there = (
            self.instance_hour(instance_type),
            self.catalog.instance_price(instance_type, BASE_REGION),
        )
        if base is None or purchase not in SCALED_COMMITMENTS or here is None or there is None:
            return None
        ratio = here.usd / there.usd_per_hour
        return Price(
            item=item,
            unit="node-hour",
            usd=base.usd_per_hour * ratio,
            source=base.source,
            as_of=base.as_of,
            region=self.region,
            estimated=True,
            note=f"{BASE_REGION} {purchase} rate x {ratio:.4g}, the {self.region} on-demand price over "
            f"{BASE_REGION}'s" + (f" ({here.note})" if here.note else ""),
            min_hours=base.min_hours,
        )

    def owned_node(self, instance_type: str) -> OwnedHardware | None:
        """The catalog's purchase price and power of a node like this EC2 shape (owned_hardware.csv)."""
        return self.owned.get(instance_type)

    def assumption(self, name: str) -> Assumption:
        return self.assumptions[name]

    # -- API prices -----------------------------------------------------------------------------

    def _row(self, key: str) -> ApiPrice | None:
        """The row of this region: exact, then its geography's inference profile (us, eu), then global."""
        rows = self.api_prices.get(key, ())
        if len(rows) <= 1:
            return rows[0] if rows else None
        geography = self.region.split("-", 1)[0]
        for wanted in (self.region, geography, "global", ""):
            for row in rows:
                if row.region == wanted:
                    return row
        return rows[0]

    def api(self, provider: str, model: str) -> ApiPrice | None:
        """Per-token price of an API model; Bedrock ids without a row of their own map to their vendor's
        list price (estimated)."""
        found = self._row(f"{provider}/{model}")
        estimated, note = False, ""
        if found is None and provider == "bedrock":
            found = self._bedrock(model)
            estimated, note = True, "Bedrock on-demand priced at the vendor's own list price"
        key_in, key_out = f"{API_PREFIX}{provider}/{model}:input", f"{API_PREFIX}{provider}/{model}:output"
        if found is None and not (key_in in self.overrides and key_out in self.overrides):
            return None
        base = found or ApiPrice(provider, model, 0.0, 0.0, OVERRIDE_SOURCE, "stack")
        overridden = key_in in self.overrides or key_out in self.overrides
        return replace(
            base,
            provider=provider,
            model=model,
            input_usd_per_mtok=self.overrides.get(key_in, base.input_usd_per_mtok),
            output_usd_per_mtok=self.overrides.get(key_out, base.output_usd_per_mtok),
            source=OVERRIDE_SOURCE if overridden else base.source,
            as_of="stack" if overridden else base.as_of,
            estimated=estimated and not overridden,
            note=note if not overridden else "",
        )

    def api_as_logged(self, provider: str, model: str) -> ApiPrice | None:
        """The price of a model as usage logs name it: with a date or version after the catalog's name
        (`claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`) or a LiteLLM provider prefix (`openai/gpt-4o`)."""
        found = self.api(provider, model)
        if found is not None or provider == "bedrock":
            return found
        bare = model.split("/")[-1]
        names = [
            p.model
            for rows in self.api_prices.values()
            for p in rows
            if p.provider == provider and (bare == p.model or bare.startswith(f"{p.model}-"))
        ]
        return self.api(provider, max(names, key=len)) if names else None

    def _bedrock(self, model: str) -> ApiPrice | None:
        """`eu.anthropic.claude-sonnet-4-5-20250929-v1:0` -> the anthropic/claude-sonnet-4-5 row."""
        parts = model.split(".")
        name = parts[-1] if len(parts) > 1 else model
        vendor = parts[-2] if len(parts) > 1 else ""
        matches = [
            p
            for rows in self.api_prices.values()
            for p in rows
            if (not vendor or p.provider == vendor) and name.startswith(p.model)
        ]
        return max(matches, key=lambda p: len(p.model)) if matches else None


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def api_context_window(provider: str, model: str) -> int | None:
    """The context window api_prices.csv gives a provider's model (its first row that has one)."""
    return next(
        (r.context_window for r in _load_api().get(f"{provider}/{model}", ()) if r.context_window), None
    )
