"""The catalog: models, GPUs, EC2 shapes and their prices, read from the CSV files beside this module.

Code never holds a spec-sheet number or a price; it reads them here. Every row carries `source` and
`as_of` so a reviewer can tell where a figure came from and how old it is. A stack adds or replaces
rows through its `catalog:` section (see `Catalog.with_overrides`).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CATALOG_DIR = Path(__file__).resolve().parent

Precision = Literal["bf16", "fp8", "int8", "int4", "awq", "mxfp4"]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    source: str = "stack override"
    as_of: str = "unspecified"


class ModelEntry(_Row):
    """Architecture facts of one open-weight model (Hugging Face id), enough for memory and roofline math."""

    id: str
    params_total_b: float = Field(gt=0)
    params_active_b: float = Field(gt=0)
    layers: int = Field(gt=0)
    attention_heads: int = Field(gt=0)
    kv_heads: int = Field(ge=0)
    head_dim: int = Field(ge=0)
    hidden: int = Field(gt=0)
    max_context: int = Field(gt=0)
    attention: Literal["gqa", "mla"] = "gqa"
    sliding_window: int = Field(default=0, ge=0)
    sliding_layers: int = Field(default=0, ge=0)
    kv_lora_rank: int = Field(default=0, ge=0)
    qk_rope_head_dim: int = Field(default=0, ge=0)
    # Sizing details (0 = unknown/not applicable); see inferplan/sizing/memory.py for how each is used.
    vocab_size: int = Field(default=0, ge=0)  # embeddings and lm_head stay unquantized
    tied_embeddings: bool = False
    moe_experts: int = Field(default=0, ge=0)  # routed experts per MoE layer
    moe_active_experts: int = Field(default=0, ge=0)  # routed experts each token uses
    expert_params_b: float = Field(default=0.0, ge=0)  # all routed-expert weights, billions
    qk_nope_head_dim: int = Field(default=0, ge=0)  # MLA only
    v_head_dim: int = Field(default=0, ge=0)  # MLA only
    native_precision: Precision = "bf16"
    quantizations: tuple[Precision, ...] = ("bf16",)
    notes: str = ""


class GpuEntry(_Row):
    """One accelerator: usable memory, HBM bandwidth and dense tensor throughput."""

    gpu: str
    memory_gib: float = Field(gt=0)
    memory_bandwidth_tb_s: float = Field(gt=0)
    bf16_dense_tflops: float | None = Field(default=None, gt=0)
    fp8_dense_tflops: float | None = Field(default=None, gt=0)
    int8_dense_tops: float | None = Field(default=None, gt=0)
    interconnect_gb_s: float = Field(default=64.0, gt=0)  # GPU-to-GPU, both directions (NVLink or PCIe)


class InstanceEntry(_Row):
    """One EC2 GPU shape and the vCPU quota codes that gate launching it."""

    instance_type: str
    gpu: str
    gpus: int = Field(gt=0)
    vcpus: int = Field(gt=0)
    memory_gib: float = Field(gt=0)
    quota_code_on_demand: str = ""
    quota_code_spot: str = ""

    @property
    def family(self) -> str:
        """Quota family: `P` for p-instances, `G` for g-instances (what Service Quotas counts vCPUs in)."""
        return "P" if self.instance_type.startswith("p") else "G"


class InstancePrice(_Row):
    """On-demand Linux price of one shape in one region."""

    instance_type: str
    region: str
    usd_per_hour: float = Field(ge=0)


class CatalogOverrides(BaseModel):
    """What a stack may add to or replace in the built-in catalog (`catalog:` in the spec)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: tuple[ModelEntry, ...] = ()
    gpus: tuple[GpuEntry, ...] = ()
    instances: tuple[InstanceEntry, ...] = ()
    instance_prices: tuple[InstancePrice, ...] = ()


class Catalog(BaseModel):
    """The merged catalog a plan is computed against (built-in rows, then the stack's overrides)."""

    model_config = ConfigDict(frozen=True)

    models: dict[str, ModelEntry]
    gpus: dict[str, GpuEntry]
    instances: dict[str, InstanceEntry]
    instance_prices: dict[tuple[str, str], InstancePrice]

    def with_overrides(self, overrides: CatalogOverrides) -> Catalog:
        """A new catalog where the stack's rows replace built-in rows of the same key."""
        return Catalog(
            models={**self.models, **{m.id: m for m in overrides.models}},
            gpus={**self.gpus, **{g.gpu: g for g in overrides.gpus}},
            instances={**self.instances, **{i.instance_type: i for i in overrides.instances}},
            instance_prices={
                **self.instance_prices,
                **{(p.instance_type, p.region): p for p in overrides.instance_prices},
            },
        )

    def instance_price(self, instance_type: str, region: str) -> InstancePrice | None:
        return self.instance_prices.get((instance_type, region))


def read_rows(name: str) -> list[dict[str, str]]:
    """Rows of one catalog CSV; empty cells are dropped so model defaults apply."""
    with (CATALOG_DIR / name).open(newline="") as handle:
        return [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(handle)]


def _model(row: dict[str, str]) -> ModelEntry:
    quants = tuple(row.pop("quantizations", "bf16").split(";"))
    return ModelEntry.model_validate({**row, "quantizations": quants})


@lru_cache(maxsize=1)
def builtin_catalog() -> Catalog:
    """The catalog shipped with inferplan (read once per process)."""
    return Catalog(
        models={m.id: m for m in map(_model, read_rows("models.csv"))},
        gpus={g.gpu: g for g in map(GpuEntry.model_validate, read_rows("gpus.csv"))},
        instances={i.instance_type: i for i in map(InstanceEntry.model_validate, read_rows("instances.csv"))},
        instance_prices={
            (p.instance_type, p.region): p
            for p in map(InstancePrice.model_validate, read_rows("instance_prices.csv"))
        },
    )
