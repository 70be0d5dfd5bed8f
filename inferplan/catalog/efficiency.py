"""Engine constants and fitted efficiency factors of the sizing model, read from `efficiency.csv`.

The roofline in `inferplan.sizing.throughput` needs numbers no spec sheet gives: how much of peak
FLOPs and bandwidth an inference engine reaches, how much memory vLLM keeps for itself, and so on.
They are data, like prices: each row says where it came from. Rows marked as fitted are rewritten by
`benchmarks/fit_throughput.py` from `throughput_calibration.csv`; the others are documented constants.

Fitted factors come in classes, never per measurement: one compute and one bandwidth efficiency, one
factor per GPU generation (Hopper is the reference, 1.0), one per engine (TensorRT-LLM is the
reference), and the efficiency of each engine's MoE expert kernels relative to its dense GEMMs.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from inferplan.catalog import CATALOG_DIR, Generation

EFFICIENCY_FILE = "efficiency.csv"
Engine = Literal["vllm", "vllm_v0", "sglang", "trtllm"]
ENGINES: tuple[Engine, ...] = ("vllm", "vllm_v0", "sglang", "trtllm")

# Keys whose values benchmarks/fit_throughput.py owns, with the range the fit may search.
FIT_BOUNDS: dict[str, tuple[float, float]] = {
    "compute_efficiency": (0.1, 1.0),
    "bandwidth_efficiency": (0.2, 1.0),
    "overlap_exponent": (1.0, 8.0),
    "generation_ampere": (0.3, 2.0),
    "generation_ada": (0.3, 2.0),
    "generation_blackwell": (0.3, 2.0),
    "engine_vllm": (0.2, 1.5),
    "engine_vllm_v0": (0.2, 1.5),
    "engine_sglang": (0.2, 1.5),
    "moe_vllm": (0.05, 1.5),
    "moe_vllm_v0": (0.05, 1.5),
    "moe_sglang": (0.05, 1.5),
    "moe_trtllm": (0.05, 1.5),
    "step_overhead_ms": (0.0, 20.0),
    "sequence_overhead_us_vllm": (0.0, 500.0),
    "sequence_overhead_us_vllm_v0": (0.0, 500.0),
    "sequence_overhead_us_sglang": (0.0, 500.0),
    "sequence_overhead_us_trtllm": (0.0, 500.0),
    "link_efficiency_nvlink": (0.1, 1.0),
    "link_efficiency_pcie": (0.02, 1.0),
}
FITTED_KEYS: tuple[str, ...] = tuple(FIT_BOUNDS)


class Efficiency(BaseModel):
    """Every constant of the sizing model; field names are the `key` column of efficiency.csv."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Fitted on the calibration table (benchmarks/fit_throughput.py).
    compute_efficiency: float = Field(gt=0, le=1)  # share of dense tensor peak GEMMs reach (reference engine)
    bandwidth_efficiency: float = Field(gt=0, le=1)  # share of HBM bandwidth reached when streaming
    overlap_exponent: float = Field(ge=1)  # 1: compute and memory time add; large: they fully overlap
    generation_ampere: float = Field(gt=0)  # kernels on this generation relative to Hopper
    generation_ada: float = Field(gt=0)
    generation_blackwell: float = Field(gt=0)
    engine_vllm: float = Field(gt=0)  # engine throughput relative to TensorRT-LLM, same hardware
    engine_vllm_v0: float = Field(gt=0)  # vLLM before its V1 engine (< 0.8): the calibration's older rows
    engine_sglang: float = Field(gt=0)
    moe_vllm: float = Field(gt=0)  # expert kernels relative to the engine's dense GEMMs
    moe_vllm_v0: float = Field(gt=0)
    moe_sglang: float = Field(gt=0)
    moe_trtllm: float = Field(gt=0)
    step_overhead_ms: float = Field(ge=0)  # scheduler + launch cost per engine step
    sequence_overhead_us_vllm: float = Field(ge=0)  # CPU cost per running sequence per step
    sequence_overhead_us_vllm_v0: float = Field(ge=0)
    sequence_overhead_us_sglang: float = Field(ge=0)
    sequence_overhead_us_trtllm: float = Field(ge=0)
    link_efficiency_nvlink: float = Field(gt=0, le=1)  # all-reduce bandwidth reached over NVLink
    link_efficiency_pcie: float = Field(gt=0, le=1)  # ... over PCIe (no NVLink: through the host)
    # Documented constants.
    generation_hopper: float = Field(gt=0)  # the reference generation (1.0)
    engine_trtllm: float = Field(gt=0)  # the reference engine (1.0)
    kv_output_share_vllm: float = Field(gt=0, le=1)  # share of the completion a running sequence holds
    kv_output_share_vllm_v0: float = Field(gt=0, le=1)
    kv_output_share_sglang: float = Field(gt=0, le=1)
    kv_output_share_trtllm: float = Field(gt=0, le=1)
    non_torch_gib: float = Field(ge=0)  # CUDA context, cuBLAS workspaces: memory outside PyTorch, per GPU
    tp_extra_gib: float = Field(ge=0)  # NCCL / custom all-reduce buffers per GPU when TP > 1
    activation_hidden_multiple: float = Field(ge=0)  # activation peak = tokens x hidden x 2 B x this
    cuda_graph_gib: float = Field(ge=0)  # captured CUDA graphs, per GPU
    max_num_batched_tokens: int = Field(gt=0)  # vLLM scheduler token budget per step
    vllm_max_num_seqs: int = Field(
        gt=0
    )  # the largest --max-num-seqs the planner emits (vLLM's default on big GPUs)
    vllm_small_max_num_seqs: int = Field(gt=0)  # vLLM's default --max-num-seqs on A100 and GPUs under 70 GiB
    allreduce_latency_us: float = Field(ge=0)  # fixed cost of one small all-reduce inside a node
    useful_max_context_sequences: int = Field(gt=0)  # TP choice: KV room for this many full contexts
    tp_throughput_tolerance: float = Field(ge=0, lt=1)  # TP choice: smallest TP within this of the best
    container_image_gib: float = Field(ge=0)  # vllm/vllm-openai image, extracted
    root_volume_headroom_gib: float = Field(ge=0)  # AMI root filesystem, logs, compile caches

    def generation_factor(self, generation: Generation) -> float:
        factor: float = getattr(self, f"generation_{generation}")
        return factor

    def engine_factor(self, engine: Engine) -> float:
        factor: float = getattr(self, f"engine_{engine}")
        return factor

    def moe_efficiency(self, engine: Engine) -> float:
        factor: float = getattr(self, f"moe_{engine}")
        return factor

    def sequence_overhead_us(self, engine: Engine) -> float:
        cost: float = getattr(self, f"sequence_overhead_us_{engine}")
        return cost

    def link_efficiency(self, interconnect: str) -> float:
        factor: float = getattr(self, f"link_efficiency_{interconnect}")
        return factor

    def kv_output_share(self, engine: Engine) -> float:
        share: float = getattr(self, f"kv_output_share_{engine}")
        return share


def read_efficiency_rows() -> list[dict[str, str]]:
    with (CATALOG_DIR / EFFICIENCY_FILE).open(newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def builtin_efficiency() -> Efficiency:
    """The shipped constants (read once per process)."""
    return Efficiency.model_validate({row["key"]: row["value"] for row in read_efficiency_rows()})
