"""The shapes the cost engine returns: cost lines, the four buckets, and the totals of a plan.

Buckets follow seed 003 (Fig. 02): `api` (tokens), `cloud_gpu` (hourly rate, storage, networking,
orchestration), `owned_hardware` (0 in the deployed plan, which rents on AWS; `cost.buy` prices the
scenario where the pools' nodes are bought instead, `Costs.buy`), and
`operations` (the stack's declared staff/ops overhead plus the AWS services that monitor and secure
the platform: logs, keys, secrets, the router).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # both build on CostLine, defined here
    from inferplan.cost.buy import BuyScenario
    from inferplan.cost.unit import UnitEconomics

Bucket = Literal["api", "cloud_gpu", "owned_hardware", "operations"]
BUCKETS: tuple[Bucket, ...] = ("api", "cloud_gpu", "owned_hardware", "operations")

# How a line moves when the call volume changes (the break-even curve reads this):
# fixed — does not move; nodes — per node of `pool`; calls — in proportion to calls.
Scaling = Literal["fixed", "nodes", "calls"]


@dataclass(frozen=True)
class CostLine:
    """One named cost component of one resource (or of usage): quantity x unit price, per month."""

    item: str  # what is charged, e.g. "p5.48xlarge on-demand"
    unit: str  # e.g. "node-hour", "GB-month", "million requests"
    quantity: float  # expected quantity per month
    unit_usd: float
    monthly_usd: float  # expected
    worst_case_usd: float  # the ceiling (>= monthly_usd)
    bucket: Bucket
    resource_type: str = ""  # Pulumi type token; "" for usage lines (API tokens, operations)
    resource_name: str = ""
    source: str = ""
    as_of: str = ""
    estimated: bool = False  # some input was derived (regional factor, assumed traffic), not read
    note: str = ""
    pool: str = ""  # the GPU pool the line belongs to, if any
    scales: Scaling = "fixed"
    worst_quantity: float | None = None  # when the ceiling is a different quantity (max nodes, rate limit)
    priced: bool = True  # False: no price was found; the line shows the quantity and counts 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "item": self.item,
            "unit": self.unit,
            "quantity": round(self.quantity, 6),
            "unit_usd": self.unit_usd,
            "monthly_usd": round(self.monthly_usd, 2),
            "worst_case_usd": round(self.worst_case_usd, 2),
            "bucket": self.bucket,
            "type": self.resource_type,
            "name": self.resource_name,
            "source": self.source,
            "as_of": self.as_of,
            "estimated": self.estimated,
        }
        if self.worst_quantity is not None:
            out["worst_quantity"] = round(self.worst_quantity, 6)
        if self.pool:
            out["pool"] = self.pool
        if not self.priced:
            out["priced"] = False
        if self.note:
            out["note"] = self.note
        return out


def line(
    item: str,
    unit: str,
    quantity: float,
    unit_usd: float,
    bucket: Bucket,
    *,
    worst_quantity: float | None = None,
    worst_unit_usd: float | None = None,
    **extra: Any,
) -> CostLine:
    """A line whose money follows from quantity x price; the ceiling never falls below the expectation."""
    monthly = quantity * unit_usd
    worst_q = quantity if worst_quantity is None else worst_quantity
    worst = max(monthly, worst_q * (unit_usd if worst_unit_usd is None else worst_unit_usd))
    return CostLine(
        item=item,
        unit=unit,
        quantity=quantity,
        unit_usd=unit_usd,
        monthly_usd=monthly,
        worst_case_usd=worst,
        bucket=bucket,
        worst_quantity=worst_quantity,
        **extra,
    )


@dataclass(frozen=True)
class OutcomeCost:
    """Seed 003, Fig. 01: what one *accepted* outcome costs on each path, human rework included.

    cost per accepted outcome = cost per call + (1 - success_rate) x rework_usd
    (every call is paid; each rejected one is fixed by a person, after which it is accepted).
    """

    workload: str
    rework_usd: float
    per_target: Mapping[str, float]  # target name -> USD per accepted outcome (targets with a success_rate)
    per_call: Mapping[str, float]  # target name -> USD per call (compute or tokens only)
    routed_usd: float | None  # the declared route/fallback mix; None if a target has no success_rate

    def to_json(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "rework_usd": self.rework_usd,
            "per_call_usd": {k: round(v, 6) for k, v in self.per_call.items()},
            "per_accepted_outcome_usd": {k: round(v, 6) for k, v in self.per_target.items()},
            "routed_per_accepted_outcome_usd": None if self.routed_usd is None else round(self.routed_usd, 6),
        }


def _sum(lines: tuple[CostLine, ...], worst: bool) -> float:
    return sum(ln.worst_case_usd if worst else ln.monthly_usd for ln in lines)


@dataclass(frozen=True)
class Costs:
    """The money side of a plan (Plan JSON v1 `costs`)."""

    lines: tuple[CostLine, ...]
    api_only_monthly_usd: float = 0.0
    api_only_model: str = ""
    api_only_excluded: Mapping[str, str] = field(default_factory=dict)  # workload -> why no API may serve it
    calls_per_month: float = 0.0
    breakeven_calls_per_month: float | None = None
    outcomes: tuple[OutcomeCost, ...] = ()
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    unit: UnitEconomics | None = None  # per million tokens, per model, utilization (None: no plan)
    buy: BuyScenario | None = None  # `cost.buy`: the pools bought instead of rented

    @property
    def monthly_expected_usd(self) -> float:
        return _sum(self.lines, worst=False)

    @property
    def monthly_worst_case_usd(self) -> float:
        return max(_sum(self.lines, worst=True), self.monthly_expected_usd)

    @property
    def unpriced(self) -> tuple[str, ...]:
        """Lines with no price found: shown with their quantity, never silently zero."""
        return tuple(f"{ln.resource_name or ln.item}: {ln.note}" for ln in self.lines if not ln.priced)

    @property
    def buckets(self) -> dict[str, float]:
        return {b: sum(ln.monthly_usd for ln in self.lines if ln.bucket == b) for b in BUCKETS}

    @property
    def buckets_worst_case(self) -> dict[str, float]:
        return {b: sum(ln.worst_case_usd for ln in self.lines if ln.bucket == b) for b in BUCKETS}

    @property
    def per_1000_calls_self_hosted(self) -> float | None:
        """The planned (hybrid) stack's all-in cost per 1,000 calls at the declared volume."""
        if self.calls_per_month <= 0:
            return None
        return 1000 * self.monthly_expected_usd / self.calls_per_month

    @property
    def per_1000_calls_api(self) -> float | None:
        if self.calls_per_month <= 0:
            return None
        return 1000 * self.api_only_monthly_usd / self.calls_per_month

    def largest_contributors(self, n: int = 3, worst_case: bool = True) -> tuple[CostLine, ...]:
        """The n lines that weigh most (for a budget policy's message)."""
        key = (lambda ln: ln.worst_case_usd) if worst_case else (lambda ln: ln.monthly_usd)
        return tuple(sorted(self.lines, key=key, reverse=True)[:n])

    def to_json(self) -> dict[str, Any]:
        per_self, per_api = self.per_1000_calls_self_hosted, self.per_1000_calls_api
        return {
            "monthly_expected_usd": round(self.monthly_expected_usd, 2),
            "monthly_worst_case_usd": round(self.monthly_worst_case_usd, 2),
            "api_only_monthly_usd": round(self.api_only_monthly_usd, 2),
            "breakeven_calls_per_month": (
                None if self.breakeven_calls_per_month is None else round(self.breakeven_calls_per_month)
            ),
            "buckets": {k: round(v, 2) for k, v in self.buckets.items()},
            "buckets_worst_case": {k: round(v, 2) for k, v in self.buckets_worst_case.items()},
            "lines": [ln.to_json() for ln in self.lines],
            "api_only_model": self.api_only_model,
            "api_only_excluded": [
                {"workload": w, "reason": r} for w, r in sorted(self.api_only_excluded.items())
            ],
            "calls_per_month": round(self.calls_per_month, 1),
            "per_1000_calls_self_hosted_usd": None if per_self is None else round(per_self, 4),
            "per_1000_calls_api_usd": None if per_api is None else round(per_api, 4),
            "outcomes": [o.to_json() for o in self.outcomes],
            **(self.unit.to_json() if self.unit is not None else {}),
            "buy": None if self.buy is None else self.buy.to_json(),
            "unpriced": list(self.unpriced),
            "assumptions": list(self.assumptions),
            "notes": list(self.notes),
        }
