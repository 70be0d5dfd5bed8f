"""The quality floor of each kind of task (`task_tiers.csv`); model tiers are `Catalog.tier`.

`quality_tiers.csv` places models in tiers 1 (tiny) … 5 (the strongest frontier models) from public
evaluations, each row with its evidence and source (a stack adds or replaces rows under
`catalog.quality_tiers`); `task_tiers.csv` maps a workload's `task` to the lowest tier that does it
well enough, with the evidence (docs/decision.md explains the scale). Open-model API entries take
the tier of the open model they serve (`api_prices.csv` names it in `open_model`).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from inferplan.catalog import read_rows
from inferplan.spec import Workload


class TaskRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    min_tier: int = Field(ge=1, le=5)
    evidence: str
    source: str
    as_of: str


@lru_cache(maxsize=1)
def task_tiers() -> dict[str, TaskRow]:
    return {r.task: r for r in map(TaskRow.model_validate, read_rows("task_tiers.csv"))}


def floor_of(workload: Workload) -> tuple[int | None, str]:
    """A workload's quality floor and where it comes from (None: any model will do)."""
    if workload.quality is not None:
        return workload.quality.min_tier, "quality.min_tier"
    if workload.task is not None:
        row = task_tiers().get(workload.task)
        if row is not None:
            return row.min_tier, f"task {workload.task}"
    return None, ""
