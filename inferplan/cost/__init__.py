"""The cost engine: resources priced once per type, usage, API-only alternative, break-even.

Public API (others call these names):
    estimate(plan, records=None) -> Costs             everything a plan costs (its intents or recorded resources)
    price_resources(records, plan_or_context) -> Costs  resource lines only (CrossGuard: PricingContext)
    PricingContext.from_plan(plan, records) / PricingContext.for_records(records, region)

The price book itself is `inferplan.pricebook.PriceBook` (one per plan: `plan.prices`).
"""

from inferplan.cost.breakeven import PoolStep, VolumeModel
from inferplan.cost.engine import breakeven_model, estimate
from inferplan.cost.model import BUCKETS, Bucket, CostLine, Costs, OutcomeCost
from inferplan.cost.pricing import REGISTRY, PricingContext, price_record, price_resources, prices

__all__ = [
    "BUCKETS",
    "REGISTRY",
    "Bucket",
    "CostLine",
    "Costs",
    "OutcomeCost",
    "PoolStep",
    "PricingContext",
    "VolumeModel",
    "breakeven_model",
    "estimate",
    "price_record",
    "price_resources",
    "prices",
]
