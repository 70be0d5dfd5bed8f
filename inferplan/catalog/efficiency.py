"""Engine constants and fitted efficiency factors of the sizing model, read from `efficiency.csv`.

The roofline in `inferplan.sizing.throughput` needs a handful of numbers that no spec sheet gives: how
much of peak FLOPs and bandwidth an inference engine reaches, how much memory vLLM keeps for itself,
and so on. They are data, like prices: each row says where it came from. Rows marked as fitted are
rewritten by `benchmarks/fit_throughput.py` from `throughput_calibration.csv`; the others are
documented constants.
"""

from __future__ import annotations

import csv
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from inferplan.catalog import CATALOG_DIR

EFFICIENCY_FILE = "efficiency.csv"
# Keys whose values benchmarks/fit_throughput.py owns.
FITTED_KEYS: tuple[str, ...] = (
    "compute_efficiency",
    "bandwidth_efficiency",
    "overlap_exponent",
    "vllm_engine_factor",
)


class Efficiency(BaseModel):
    """Every constant of the sizing model; field names are the `key` column of efficiency.csv."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Fitted on the calibration table (TensorRT-LLM rows; vLLM relative to them from the vLLM row).
    compute_efficiency: float = Field(gt=0, le=1)  # share of dense tensor peak reached by GEMMs
    bandwidth_efficiency: float = Field(gt=0, le=1)  # share of HBM bandwidth reached when streaming
    overlap_exponent: float = Field(ge=1)  # 1: compute and memory time add; large: they fully overlap
    vllm_engine_factor: float = Field(gt=0, le=1.5)  # vLLM throughput over TensorRT-LLM's, same hardware
    # Documented constants.
    non_torch_gib: float = Field(ge=0)  # CUDA context, cuBLAS workspaces: memory outside PyTorch, per GPU
    tp_extra_gib: float = Field(ge=0)  # NCCL / custom all-reduce buffers per GPU when TP > 1
    activation_hidden_multiple: float = Field(ge=0)  # activation peak = tokens x hidden x 2 B x this
    cuda_graph_gib: float = Field(ge=0)  # captured CUDA graphs, per GPU
    max_num_batched_tokens: int = Field(gt=0)  # vLLM scheduler token budget per step
    vllm_max_num_seqs: int = Field(gt=0)  # the largest --max-num-seqs the planner emits
    trtllm_max_batch_size: int = Field(gt=0)  # trtllm-bench default, for the calibration rows
    allreduce_latency_us: float = Field(ge=0)  # fixed cost of one small all-reduce inside a node
    step_overhead_ms: float = Field(ge=0)  # scheduler + sampling + launch cost per engine step
    useful_max_context_sequences: int = Field(gt=0)  # TP choice: KV room for this many full contexts
    tp_throughput_tolerance: float = Field(ge=0, lt=1)  # TP choice: smallest TP within this of the best
    container_image_gib: float = Field(ge=0)  # vllm/vllm-openai image, extracted
    root_volume_headroom_gib: float = Field(ge=0)  # AMI root filesystem, logs, compile caches


def read_efficiency_rows() -> list[dict[str, str]]:
    with (CATALOG_DIR / EFFICIENCY_FILE).open(newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def builtin_efficiency() -> Efficiency:
    """The shipped constants (read once per process)."""
    return Efficiency.model_validate({row["key"]: row["value"] for row in read_efficiency_rows()})
