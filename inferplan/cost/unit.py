"""Unit economics: what a million tokens and a thousand calls cost, per model and both ways, and how
busy the GPUs the plan pays for are at the declared volume.

- Tokens are input + output tokens as declared (retries and cache shares change the bill, not the count).
- The plan's cost per million tokens is its whole expected month (all four buckets) over every
  workload's tokens; API-only's is its month over the tokens of the workloads it covers (a workload no
  API may serve is left out of both its cost and its tokens).
- A model's cost is its pool's expected lines (nodes and volumes), over the calls and tokens routed
  to it (fallback shares included).
- Utilization of a pool = the calls a minute it serves on average over the month / (the calls a
  minute one node carries for its token mix x the nodes the plan pays for): the busy share of the
  nodes. Nodes are sized for the busiest hour, so it is at most 1 / peak_to_average by design.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inferplan.cost.model import CostLine
from inferplan.cost.usage import ApiOnly, calls_per_month, pool_calls, target_calls
from inferplan.plan import Plan

MILLION = 1e6


def _per(usd: float, amount: float, unit: float) -> float | None:
    return usd / amount * unit if amount > 0 else None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class ModelEconomics:
    """What one self-hosted model costs by the call and by the token at the declared volume."""

    model: str
    pool: str
    calls_per_month: float
    tokens_per_month: float
    monthly_usd: float  # its pool's expected lines

    @property
    def usd_per_1000_calls(self) -> float | None:
        return _per(self.monthly_usd, self.calls_per_month, 1000)

    @property
    def usd_per_million_tokens(self) -> float | None:
        return _per(self.monthly_usd, self.tokens_per_month, MILLION)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "pool": self.pool,
            "calls_per_month": round(self.calls_per_month, 1),
            "tokens_per_month": round(self.tokens_per_month),
            "monthly_usd": round(self.monthly_usd, 2),
            "usd_per_1000_calls": _round(self.usd_per_1000_calls, 4),
            "usd_per_million_tokens": _round(self.usd_per_million_tokens, 4),
        }


@dataclass(frozen=True)
class UnitEconomics:
    plan_usd_per_million_tokens: float | None
    api_only_usd_per_million_tokens: float | None
    per_model: tuple[ModelEconomics, ...] = ()
    utilization: Mapping[str, float | None] = field(default_factory=dict)  # pool -> busy share (0-1)

    def to_json(self) -> dict[str, Any]:
        return {
            "usd_per_million_tokens": {
                "plan": _round(self.plan_usd_per_million_tokens, 4),
                "api_only": _round(self.api_only_usd_per_million_tokens, 4),
            },
            "per_model": [m.to_json() for m in self.per_model],
        }


def unit_economics(plan: Plan, lines: Sequence[CostLine], baseline: ApiOnly) -> UnitEconomics:
    workloads = plan.platform.workloads
    calls = {w.name: calls_per_month(plan, w.calls_per_day) for w in workloads}
    tokens = {w.name: w.input_tokens + w.output_tokens for w in workloads}
    every = sum(calls[w] * tokens[w] for w in calls)
    covered = sum(calls[w] * tokens[w] for w in calls if w in baseline.by_workload)
    routed = target_calls(plan)
    per_model = []
    for m in plan.models:
        by = routed.get(m.name, {})
        per_model.append(
            ModelEconomics(
                model=m.name,
                pool=m.pool,
                calls_per_month=sum(by.values()),
                tokens_per_month=sum(n * tokens[w] for w, n in by.items()),
                monthly_usd=sum(ln.monthly_usd for ln in lines if ln.pool == m.pool),
            )
        )
    minutes = plan.platform.cost.hours_per_month * 60
    served = pool_calls(plan)
    utilization: dict[str, float | None] = {}
    for pool in plan.pools:
        model = next((m for m in plan.models if m.pool == pool.name and m.fits), None)
        capacity = model.calls_per_min * pool.nodes_needed if model is not None else 0.0
        average = served.get(pool.name, 0.0) / minutes if minutes > 0 else 0.0
        utilization[pool.name] = average / capacity if capacity > 0 else None
    return UnitEconomics(
        plan_usd_per_million_tokens=_per(sum(ln.monthly_usd for ln in lines), every, MILLION),
        api_only_usd_per_million_tokens=_per(baseline.monthly_usd, covered, MILLION),
        per_model=tuple(per_model),
        utilization=utilization,
    )
