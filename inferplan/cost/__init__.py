"""The cost engine: resources priced once per type, usage, API-only alternative, break-even.

Public API (others call these names):
    estimate(plan, records=None) -> Costs             everything a plan costs (BOM or recorded resources)
    price_resources(records, plan_or_context) -> Costs  resource lines only (CrossGuard: PricingContext)
    bill_of_materials(plan) -> tuple[ResourceRecord]  what the components will register, priced pre-gate
    PricingContext.from_plan(plan, records) / PricingContext.for_records(records, region)
    PriceBook.builtin(region, catalog, overrides)
"""

from inferplan.cost.bom import bill_of_materials
from inferplan.cost.breakeven import PoolStep, VolumeModel
from inferplan.cost.engine import breakeven_model, estimate
from inferplan.cost.model import BUCKETS, Bucket, CostLine, Costs, OutcomeCost
from inferplan.cost.prices import ApiPrice, Price, PriceBook
from inferplan.cost.pricing import REGISTRY, PricingContext, price_record, price_resources, prices

__all__ = [
    "BUCKETS",
    "REGISTRY",
    "ApiPrice",
    "Bucket",
    "CostLine",
    "Costs",
    "OutcomeCost",
    "PoolStep",
    "Price",
    "PriceBook",
    "PricingContext",
    "VolumeModel",
    "bill_of_materials",
    "breakeven_model",
    "estimate",
    "price_record",
    "price_resources",
    "prices",
]
