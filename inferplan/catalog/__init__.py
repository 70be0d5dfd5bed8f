"""The catalog: models, GPUs, EC2 shapes and their prices, read from the CSV files beside this module.

Code never holds a spec-sheet number or a price; it reads them here. Every row carries `source` and
`as_of` so a reviewer can tell where a figure came from and how old it is. A stack adds or replaces
rows through its `catalog:` section (see `Catalog.with_overrides`).

Models are described by their architecture (the fields of a Hugging Face `config.json` that decide
memory and FLOPs), not by a parameter count: `inferplan.sizing.architecture` derives the counts. Ids
that share an architecture (base/Instruct, Llama 3.1/3.3 70B, DeepSeek V3/R1, `-FP8` checkpoints)
are rows of `model_aliases.csv` and resolve to a copy of the entry under their own id (the id vLLM
downloads), with their own native precision or context where it differs.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CATALOG_DIR = Path(__file__).resolve().parent

Precision = Literal["bf16", "fp8", "int8", "int4", "awq", "mxfp4", "nvfp4"]
Generation = Literal["ampere", "ada", "hopper", "blackwell"]


class NotInCatalog(LookupError):
    """A model id or GPU name the catalog cannot resolve; the message says what would."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def suggestion(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close name exists, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    source: str = "stack override"
    as_of: str = "unspecified"


class ModelEntry(_Row):
    """Architecture of one open-weight model (Hugging Face id): what memory and roofline math need.

    Field meanings follow config.json: `intermediate` is the FFN width of dense layers; `moe_layers`
    of the `layers` have routed experts of width `moe_intermediate` instead (plus `shared_experts`
    always-on experts of width `shared_intermediate`). Windowed layers (`sliding_layers`) keep at most
    `sliding_window` tokens of KV (sliding or chunked attention). MLA models cache one latent of
    `kv_lora_rank + qk_rope_head_dim` values per layer.
    """

    id: str
    same_as: str = ""  # the catalog entry whose architecture this id shares ("" for an entry itself)
    hidden: int = Field(gt=0)
    layers: int = Field(gt=0)
    attention_heads: int = Field(gt=0)
    kv_heads: int = Field(ge=0)
    head_dim: int = Field(ge=0)
    intermediate: int = Field(ge=0)
    vocab_size: int = Field(gt=0)
    tied_embeddings: bool = False
    max_context: int = Field(gt=0)
    attention: Literal["gqa", "mla"] = "gqa"
    sliding_window: int = Field(default=0, ge=0)
    sliding_layers: int = Field(default=0, ge=0)
    q_lora_rank: int = Field(default=0, ge=0)  # MLA only (0: queries are not low-rank)
    kv_lora_rank: int = Field(default=0, ge=0)  # MLA only
    qk_nope_head_dim: int = Field(default=0, ge=0)  # MLA only
    qk_rope_head_dim: int = Field(default=0, ge=0)  # MLA only
    v_head_dim: int = Field(default=0, ge=0)  # MLA only
    moe_layers: int = Field(default=0, ge=0)
    moe_experts: int = Field(default=0, ge=0)  # routed experts per MoE layer
    moe_active_experts: int = Field(default=0, ge=0)  # routed experts each token uses
    moe_intermediate: int = Field(default=0, ge=0)
    shared_experts: int = Field(default=0, ge=0)
    shared_intermediate: int = Field(default=0, ge=0)  # width of one shared expert
    native_precision: Precision = "bf16"
    quantizations: tuple[Precision, ...] = ("bf16",)
    notes: str = ""

    @property
    def is_moe(self) -> bool:
        return self.moe_layers > 0 and self.moe_experts > 0

    @property
    def architecture_id(self) -> str:
        """The entry whose measurements describe this id (itself unless it is an alias)."""
        return self.same_as or self.id


class GpuEntry(_Row):
    """One accelerator: usable memory, HBM bandwidth, dense tensor throughput and GPU-to-GPU link."""

    gpu: str
    generation: Generation
    memory_gib: float = Field(gt=0)
    memory_bandwidth_tb_s: float = Field(gt=0)
    bf16_dense_tflops: float = Field(gt=0)
    fp8_dense_tflops: float | None = Field(default=None, gt=0)
    int8_dense_tops: float | None = Field(default=None, gt=0)
    fp4_dense_tflops: float | None = Field(default=None, gt=0)
    interconnect_gb_s: float = Field(gt=0)  # GPU-to-GPU, both directions
    interconnect: Literal["nvlink", "pcie"]


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


class ModelAlias(_Row):
    """Another id of a catalog architecture, with what differs (checkpoint precision, context)."""

    id: str
    same_as: str
    native_precision: Precision | None = None
    max_context: int | None = Field(default=None, gt=0)


class GpuAlias(_Row):
    """A common spelling of a catalog GPU; a spelling listed for two GPUs is ambiguous."""

    alias: str
    gpu: str


class QualityTier(_Row):
    """Where one model stands among the five quality tiers (5 the strongest), and on what evidence."""

    model: str  # a Hugging Face id, or provider/model for an API-only model
    tier: int = Field(ge=1, le=5)
    evidence: str = "stack override"


class CatalogOverrides(BaseModel):
    """What a stack may add to or replace in the built-in catalog (`catalog:` in the spec)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: tuple[ModelEntry, ...] = Field(
        default=(), max_length=1000, description="Model architectures (rows of catalog/models.csv)."
    )
    gpus: tuple[GpuEntry, ...] = Field(
        default=(), max_length=1000, description="GPUs (rows of catalog/gpus.csv)."
    )
    instances: tuple[InstanceEntry, ...] = Field(
        default=(), max_length=1000, description="Instance shapes (rows of catalog/instances.csv)."
    )
    instance_prices: tuple[InstancePrice, ...] = Field(
        default=(),
        max_length=10000,
        description="On-demand prices per region (rows of catalog/aws_prices.csv).",
    )
    quality_tiers: tuple[QualityTier, ...] = Field(
        default=(),
        max_length=10000,
        description="Quality tiers, e.g. your own evaluation of a fine-tune (rows of catalog/quality_tiers.csv).",
    )


def gpu_key(name: str) -> str:
    """Spelling-insensitive key of a GPU name: `H100-SXM`, `h100 sxm`, `NVIDIA H100_SXM` are one key."""
    return re.sub(r"[^a-z0-9]", "", name.lower()).removeprefix("nvidia")


class Catalog(BaseModel):
    """The merged catalog a plan is computed against (built-in rows, then the stack's overrides)."""

    model_config = ConfigDict(frozen=True)

    models: dict[str, ModelEntry]  # entries and their aliases, keyed by id
    gpus: dict[str, GpuEntry]
    instances: dict[str, InstanceEntry]
    instance_prices: dict[tuple[str, str], InstancePrice]
    gpu_aliases: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # gpu_key -> GPU names
    quality_tiers: dict[str, QualityTier] = Field(default_factory=dict)  # lower-cased model id -> tier

    def tier(self, model: str) -> int | None:
        """The quality tier of a model id (case-insensitive), None when nothing places it."""
        row = self.quality_tiers.get(model.lower())
        return row.tier if row else None

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
            gpu_aliases=self.gpu_aliases,
            quality_tiers={**self.quality_tiers, **{t.model.lower(): t for t in overrides.quality_tiers}},
        )

    def instance_price(self, instance_type: str, region: str) -> InstancePrice | None:
        return self.instance_prices.get((instance_type, region))

    def find_model(self, model_id: str) -> ModelEntry:
        """The entry of `model_id` (exact, else case-insensitive); NotInCatalog says what is close."""
        entry = self.models.get(model_id)
        if entry is not None:
            return entry
        folded = {key.lower(): value for key, value in self.models.items()}
        entry = folded.get(model_id.lower())
        if entry is not None:
            return entry
        # An id typed without its suffix ("-Instruct", "-v0.1") names the one it starts.
        longer = sorted((k for k in folded if k.startswith(model_id.lower())), key=len)
        close = f" (did you mean '{folded[longer[0]].id}'?)" if longer else ""
        hint = close or suggestion(model_id, self.models)
        raise NotInCatalog(f"unknown model '{model_id}'{hint}")

    def find_gpu(self, name: str) -> GpuEntry:
        """The GPU `name` spells (exact, any common spelling); an ambiguous spelling names the choices."""
        if name in self.gpus:
            return self.gpus[name]
        key = gpu_key(name)
        own = [g for g in self.gpus if gpu_key(g) == key]
        matches = tuple(dict.fromkeys([*own, *self.gpu_aliases.get(key, ())]))
        matches = tuple(m for m in matches if m in self.gpus)
        if len(matches) == 1:
            return self.gpus[matches[0]]
        if len(matches) > 1:
            raise NotInCatalog(f"'{name}' is ambiguous: say which of {' or '.join(matches)}")
        by_key = {gpu_key(g): g for g in self.gpus}
        close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.6)
        hint = f" (did you mean '{by_key[close[0]]}'?)" if close else ""
        raise NotInCatalog(f"unknown GPU '{name}'{hint} (known: {', '.join(self.gpus)})")


def read_rows(name: str) -> list[dict[str, str]]:
    """Rows of one catalog CSV; empty cells are dropped so model defaults apply."""
    with (CATALOG_DIR / name).open(newline="") as handle:
        return [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(handle)]


def _model(row: dict[str, str]) -> ModelEntry:
    quants = tuple(row.pop("quantizations", "bf16").split(";"))
    return ModelEntry.model_validate({**row, "quantizations": quants})


def alias_entry(entry: ModelEntry, alias: ModelAlias) -> ModelEntry:
    """`entry` under the alias's id, with the alias's checkpoint precision and context where given."""
    precision = alias.native_precision or entry.native_precision
    quants = entry.quantizations if precision in entry.quantizations else (precision, *entry.quantizations)
    return entry.model_copy(
        update={
            "id": alias.id,
            "same_as": entry.id,
            "native_precision": precision,
            "quantizations": quants,
            "max_context": alias.max_context or entry.max_context,
            "source": alias.source,
            "as_of": alias.as_of,
        }
    )


def with_aliases(entries: Sequence[ModelEntry], aliases: Sequence[ModelAlias]) -> dict[str, ModelEntry]:
    by_id = {e.id: e for e in entries}
    merged = dict(by_id)
    for alias in aliases:
        target = by_id.get(alias.same_as)
        if target is None:
            raise ValueError(f"model_aliases.csv: {alias.id} names unknown entry {alias.same_as}")
        merged[alias.id] = alias_entry(target, alias)
    return merged


def _gpu_aliases(rows: Sequence[GpuAlias]) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for row in rows:
        key = gpu_key(row.alias)
        table[key] = (*table.get(key, ()), row.gpu)
    return table


@lru_cache(maxsize=1)
def builtin_catalog() -> Catalog:
    """The catalog shipped with inferplan (read once per process)."""
    entries = [_model(r) for r in read_rows("models.csv")]
    aliases = [ModelAlias.model_validate(r) for r in read_rows("model_aliases.csv")]
    return Catalog(
        models=with_aliases(entries, aliases),
        gpus={g.gpu: g for g in map(GpuEntry.model_validate, read_rows("gpus.csv"))},
        instances={i.instance_type: i for i in map(InstanceEntry.model_validate, read_rows("instances.csv"))},
        instance_prices={
            (p.instance_type, p.region): p
            for p in map(InstancePrice.model_validate, read_rows("instance_prices.csv"))
        },
        gpu_aliases=_gpu_aliases([GpuAlias.model_validate(r) for r in read_rows("gpu_aliases.csv")]),
        quality_tiers={
            t.model.lower(): t for t in map(QualityTier.model_validate, read_rows("quality_tiers.csv"))
        },
    )
