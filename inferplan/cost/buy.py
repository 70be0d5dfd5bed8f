"""Buy instead of rent (seed 003's buy option): what owning each pool's nodes would cost a month.

Per pool that runs nodes, with `nodes` = the nodes sizing needs at peak (owned nodes do not scale down):

    depreciation = price / depreciation_months                  (straight line)
    power        = kW x hours a month x USD per kWh
    colocation   = kW x USD per kW-month                        (space and cooling are sold per kW)
    support      = price x support_share / 12                   (support_share is a year's)
    financing    = price x financing_rate / 12                  (simple interest on the whole price)
    monthly      = (sum of the above) x nodes

Payback is the purchase over what owning saves each month once running: against renting, the pool's
rent as the plan prices it (nodes and their volumes) less the owned nodes' running cost (power,
colocation, support, financing); against API-only, the API-only cost of the calls the pool serves less
the same running cost. No saving, no payback ("never").

Every default is a catalog row (owned_hardware.csv, cost_assumptions.csv); `cost.buy` overrides any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inferplan.cost.model import CostLine
from inferplan.cost.usage import ApiOnly, calls_per_month, target_calls
from inferplan.errors import SpecInputError
from inferplan.plan import Plan, PoolPlan
from inferplan.pricebook import PriceBook
from inferplan.spec import Buy, Platform, did_you_mean

STACK = "cost.buy"


@dataclass(frozen=True)
class Figure:
    """One number of the buy scenario with where it came from."""

    value: float
    source: str
    as_of: str

    def said(self) -> str:
        return f"{self.source}, {self.as_of}" if self.as_of != "stack" else self.source


def _setting(value: float | None, field: str, book: PriceBook, catalog_name: str) -> Figure:
    if value is not None:
        return Figure(value, f"{STACK}.{field}", "stack")
    row = book.assumption(catalog_name)
    return Figure(row.value, f"catalog {catalog_name} ({row.source})", row.as_of)


def node_price(buy: Buy, book: PriceBook, instance_type: str) -> Figure | None:
    if instance_type in buy.node_price_usd:
        return Figure(buy.node_price_usd[instance_type], f"{STACK}.node_price_usd", "stack")
    row = book.owned_node(instance_type)
    return None if row is None else Figure(row.node_price_usd, f"{row.server}: {row.source}", row.as_of)


def node_power(buy: Buy, book: PriceBook, instance_type: str) -> Figure | None:
    if instance_type in buy.power_kw_per_node:
        return Figure(buy.power_kw_per_node[instance_type], f"{STACK}.power_kw_per_node", "stack")
    row = book.owned_node(instance_type)
    if row is None or row.power_kw is None:
        return None
    return Figure(row.power_kw, row.power_source, row.power_as_of)


def buy_problems(platform: Platform, pools: Sequence[PoolPlan], book: PriceBook) -> list[SpecInputError]:
    """With `cost.buy`: a shape named that is no catalog shape, or a pool's shape with no purchase price
    or power draw to price it by — each a located error, so no buy figure rests on a missing number."""
    buy = platform.cost.buy
    if buy is None:
        return []
    known = sorted(book.catalog.instances)
    problems = [
        SpecInputError(
            ("cost", "buy", field, itype),
            f"'{itype}' is not an instance type of the catalog{did_you_mean(itype, known)}",
        )
        for field, given in (
            ("node_price_usd", buy.node_price_usd),
            ("power_kw_per_node", buy.power_kw_per_node),
        )
        for itype in given
        if itype not in book.catalog.instances
    ]
    shapes = dict.fromkeys(p.instance_type for p in pools if p.nodes_needed > 0)
    for itype in shapes:
        users = ", ".join(f"'{p.name}'" for p in pools if p.instance_type == itype)
        if node_price(buy, book, itype) is None:
            problems.append(
                SpecInputError(
                    ("cost", "buy", "node_price_usd"),
                    f"no purchase price for a node like {itype} (pool {users}; catalog/owned_hardware.csv has "
                    f"none): add {itype}: <USD per node>",
                )
            )
        elif node_power(buy, book, itype) is None:
            problems.append(
                SpecInputError(
                    ("cost", "buy", "power_kw_per_node"),
                    f"no power draw for a node like {itype} (pool {users}; catalog/owned_hardware.csv has "
                    f"none): add {itype}: <kW per node>",
                )
            )
    return problems


def _payback(purchase: float, saving: float | None) -> float | None:
    return purchase / saving if saving is not None and saving > 0 else None


@dataclass(frozen=True)
class OwnedPool:
    """One pool bought instead of rented, beside its rent and the API-only cost of what it serves."""

    pool: str
    instance_type: str
    nodes: int
    node_price: Figure
    power_kw: Figure
    purchase_usd: float  # every node
    depreciation_monthly_usd: float
    power_monthly_usd: float
    colo_monthly_usd: float
    support_monthly_usd: float
    financing_monthly_usd: float
    rent_monthly_usd: float  # the pool's expected cloud_gpu lines (nodes and volumes) as the plan prices them
    rent_parts: tuple[tuple[str, float], ...]  # (on-demand, reserved_1y, spot, volumes, ...) -> USD a month
    api_only_monthly_usd: float | None  # API-only cost of the calls it serves; None: no API may serve them

    @property
    def running_monthly_usd(self) -> float:
        """What owning costs a month besides depreciation: paid whether or not the purchase is written off."""
        return (
            self.power_monthly_usd
            + self.colo_monthly_usd
            + self.support_monthly_usd
            + self.financing_monthly_usd
        )

    @property
    def monthly_usd(self) -> float:
        return self.depreciation_monthly_usd + self.running_monthly_usd

    @property
    def payback_months(self) -> float | None:
        """Months until the purchase is paid back by not renting; None: renting costs less than running it."""
        return _payback(self.purchase_usd, self.rent_monthly_usd - self.running_monthly_usd)

    @property
    def payback_months_vs_api_only(self) -> float | None:
        if self.api_only_monthly_usd is None:
            return None
        return _payback(self.purchase_usd, self.api_only_monthly_usd - self.running_monthly_usd)

    def to_json(self) -> dict[str, Any]:
        def money(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        def months(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "pool": self.pool,
            "instance_type": self.instance_type,
            "nodes": self.nodes,
            "node_price_usd": self.node_price.value,
            "power_kw_per_node": self.power_kw.value,
            "purchase_usd": money(self.purchase_usd),
            "depreciation_monthly_usd": money(self.depreciation_monthly_usd),
            "power_monthly_usd": money(self.power_monthly_usd),
            "colo_monthly_usd": money(self.colo_monthly_usd),
            "support_monthly_usd": money(self.support_monthly_usd),
            "financing_monthly_usd": money(self.financing_monthly_usd),
            "monthly_usd": money(self.monthly_usd),
            "rent_monthly_usd": money(self.rent_monthly_usd),
            "rent_parts": [{"part": k, "monthly_usd": money(v)} for k, v in self.rent_parts],
            "api_only_monthly_usd": money(self.api_only_monthly_usd),
            "payback_months": months(self.payback_months),
            "payback_months_vs_api_only": months(self.payback_months_vs_api_only),
        }


@dataclass(frozen=True)
class BuyScenario:
    """Every pool bought: its owned-hardware cost, and the plan's month with those pools owned."""

    pools: tuple[OwnedPool, ...]
    plan_monthly_usd: float  # the plan's expected month with these pools bought instead of rented
    assumptions: tuple[str, ...]

    @property
    def monthly_usd(self) -> float:
        """The owned_hardware bucket of the buy scenario."""
        return sum(p.monthly_usd for p in self.pools)

    def to_json(self) -> dict[str, Any]:
        return {
            "monthly_usd": round(self.monthly_usd, 2),
            "plan_monthly_usd": round(self.plan_monthly_usd, 2),
            "pools": [p.to_json() for p in self.pools],
            "assumptions": list(self.assumptions),
        }


def rent_parts(lines: Sequence[CostLine], pool: PoolPlan) -> tuple[tuple[str, float], ...]:
    """A pool's rent by how it is paid: on-demand, a commitment, spot (node-hours), and its volumes."""
    parts: dict[str, float] = {}
    for ln in lines:
        if ln.pool != pool.name or ln.bucket != "cloud_gpu":
            continue
        key = ln.item.removeprefix(f"{pool.instance_type} ") if ln.unit == "node-hour" else "volumes"
        parts[key] = parts.get(key, 0.0) + ln.monthly_usd
    return tuple(parts.items())


def pool_shares(plan: Plan) -> dict[str, dict[str, float]]:
    """pool -> workload -> the share of the workload's calls the pool serves (its route, its fallback)."""
    out: dict[str, dict[str, float]] = {}
    calls = {w.name: calls_per_month(plan, w.calls_per_day) for w in plan.platform.workloads}
    for target, by_workload in target_calls(plan).items():
        model = plan.platform.model(target)
        if model is None:
            continue
        shares = out.setdefault(model.pool, {})
        for w, n in by_workload.items():
            if calls[w] > 0:
                shares[w] = shares.get(w, 0.0) + n / calls[w]
    return out


def buy_scenario(plan: Plan, lines: Sequence[CostLine], baseline: ApiOnly) -> BuyScenario | None:
    """The buy scenario of `cost.buy` beside the plan's `lines` and the API-only `baseline`; None without it."""
    buy = plan.platform.cost.buy
    if buy is None:
        return None
    api_only_by_workload = baseline.by_workload
    pool_share = pool_shares(plan)
    book, hours = plan.prices, plan.platform.cost.hours_per_month
    months = _setting(buy.depreciation_months, "depreciation_months", book, "buy_depreciation_months")
    kwh = _setting(buy.usd_per_kwh, "usd_per_kwh", book, "buy_usd_per_kwh")
    colo = _setting(buy.colo_usd_per_kw_month, "colo_usd_per_kw_month", book, "buy_colo_usd_per_kw_month")
    support = _setting(buy.support_share, "support_share", book, "buy_support_share")
    owned = []
    for pool in plan.pools:
        price, power = node_price(buy, book, pool.instance_type), node_power(buy, book, pool.instance_type)
        if pool.nodes_needed <= 0 or price is None or power is None:
            continue  # no nodes to buy (a missing price is a located error from build_plan)
        n = pool.nodes_needed
        parts = rent_parts(lines, pool)
        shares = pool_share.get(pool.name, {})
        covered = [api_only_by_workload[w][1] * s for w, s in shares.items() if w in api_only_by_workload]
        owned.append(
            OwnedPool(
                pool=pool.name,
                instance_type=pool.instance_type,
                nodes=n,
                node_price=price,
                power_kw=power,
                purchase_usd=price.value * n,
                depreciation_monthly_usd=price.value / months.value * n,
                power_monthly_usd=power.value * hours * kwh.value * n,
                colo_monthly_usd=power.value * colo.value * n,
                support_monthly_usd=price.value * support.value / 12 * n,
                financing_monthly_usd=price.value * buy.financing_rate / 12 * n,
                rent_monthly_usd=sum(v for _, v in parts),
                rent_parts=parts,
                api_only_monthly_usd=sum(covered) if covered else None,
            )
        )
    expected = sum(ln.monthly_usd for ln in lines)
    plan_usd = expected - sum(p.rent_monthly_usd for p in owned) + sum(p.monthly_usd for p in owned)
    financing = (
        f"financing: {buy.financing_rate:.2%} a year, simple interest on the whole price (price x rate / 12 a "
        "month, not an amortised loan)"
        if buy.financing_rate
        else "financing: none (cost.buy.financing_rate 0: paid in cash)"
    )
    assumptions = (
        "buy: owned nodes are sized at peak (nodes_needed: owned nodes do not scale down); rent is the plan's "
        "expected cost of the same pool, which holds the nodes sizing needs for the busiest hour all month "
        "(no demand profile beyond peak_to_average is declared, so no autoscaled-below-peak rent is modelled)",
        f"buy: depreciation straight line over {months.value:g} months ({months.said()})",
        f"buy: power at the node's maximum draw all month, ${kwh.value:g}/kWh ({kwh.said()}); "
        + "; ".join(f"{p.instance_type} {p.power_kw.value:g} kW ({p.power_kw.said()})" for p in owned),
        f"buy: colocation ${colo.value:,.2f} per kW-month of that draw ({colo.said()})",
        f"buy: support {support.value:.0%} of the purchase price a year ({support.said()})",
        f"buy: {financing}",
        "buy: purchase prices — "
        + "; ".join(f"{p.instance_type} ${p.node_price.value:,.0f} ({p.node_price.said()})" for p in owned),
        "buy: payback = purchase / (rent, or the API-only cost of the calls the pool serves, less the owned "
        "nodes' power, colocation, support and financing); never when that saving is not positive",
        "buy: not counted — networking, spare nodes, repairs, the staff to run a data-centre footprint "
        "(declare them under operations) and the opportunity cost of the capital (seed 003, Fig. 02)",
    )
    return BuyScenario(pools=tuple(owned), plan_monthly_usd=plan_usd, assumptions=assumptions)
