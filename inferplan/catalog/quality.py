"""Quality as data: a tier per model (open and frontier) and the floor each kind of task needs.

`quality_tiers.csv` places models in tiers 1 (small) … 5 (the strongest frontier models) from public
evaluations, each row with its evidence and source; `task_tiers.csv` maps a workload's `task` to the
lowest tier that does it well enough, with the evidence (docs/decision.md explains the scale). A
workload's explicit `quality.min_tier` wins over its task. Open-model API entries take the tier of
the open model they serve (`api_prices.csv` names it in `open_model`).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from inferplan.catalog import read_rows
from inferplan.spec import Workload


class TierRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str  # a Hugging Face id, or provider/model for an API-only model
    tier: int = Field(ge=1, le=5)
    evidence: str
    source: str
    as_of: str


class TaskRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    min_tier: int = Field(ge=1, le=5)
    evidence: str
    source: str
    as_of: str


@lru_cache(maxsize=1)
def model_tiers() -> dict[str, TierRow]:
    return {r.model.lower(): r for r in map(TierRow.model_validate, read_rows("quality_tiers.csv"))}


@lru_cache(maxsize=1)
def task_tiers() -> dict[str, TaskRow]:
    return {r.task: r for r in map(TaskRow.model_validate, read_rows("task_tiers.csv"))}


def tier_of(model: str) -> int | None:
    """The catalog tier of a model id (case-insensitive), None when the catalog does not place it."""
    row = model_tiers().get(model.lower())
    return row.tier if row else None


def floor_of(workload: Workload) -> tuple[int | None, str]:
    """A workload's quality floor and where it comes from (None: any model will do)."""
    if workload.quality is not None:
        return workload.quality.min_tier, "quality.min_tier"
    if workload.task is not None:
        row = task_tiers().get(workload.task)
        if row is not None:
            return row.min_tier, f"task {workload.task}"
    return None, ""
