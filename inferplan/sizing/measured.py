"""Measured beats modeled: a `vllm bench serve --save-result` JSON re-fits one model x GPU's efficiency.

The result file holds what the run did (`completed`, `total_input_tokens`, `total_output_tokens`,
`max_concurrency`, `num_prompts`, `output_throughput`, `mean_ttft_ms`, ...). Together with the GPU
and tensor parallelism it ran on, the model replays that run — same average prompt and completion, same concurrency limit, same number
of requests — and solves for the one scale of its rates (bandwidth and FLOPs of that model on that GPU)
that reproduces the measured output throughput. That scale then applies to every token mix and every
TP of the model on that GPU, so the measurement moves the predictions for other workloads too.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inferplan.catalog import GpuEntry, ModelEntry, Precision
from inferplan.catalog.efficiency import Efficiency, builtin_efficiency
from inferplan.sizing.memory import KvCacheDtype, plan_memory
from inferplan.sizing.throughput import TokenMix, replica_throughput

# The scale is searched in this range: a measurement 20x off the model is not a re-fit but a mistake.
SCALE_RANGE = (0.05, 20.0)


class MeasurementError(ValueError):
    """A result file the planner cannot use; the message says what is wrong with it."""


class BenchResult(BaseModel):
    """The fields of `vllm bench serve --save-result` the re-fit needs (the file has many more)."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)

    completed: int = Field(gt=0)
    total_input_tokens: int = Field(gt=0)
    total_output_tokens: int = Field(gt=0)
    output_throughput: float = Field(gt=0)
    num_prompts: int | None = Field(default=None, gt=0)
    max_concurrency: int | None = Field(default=None, gt=0)
    mean_ttft_ms: float | None = None
    mean_tpot_ms: float | None = None

    @property
    def mix(self) -> TokenMix:
        return TokenMix(self.total_input_tokens / self.completed, self.total_output_tokens / self.completed)

    @property
    def requests(self) -> int:
        return self.num_prompts or self.completed


def load_result(path: Path) -> BenchResult:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MeasurementError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MeasurementError(f"{path} is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise MeasurementError(f"{path} holds {type(data).__name__}, not a vllm bench serve result")
    try:
        return BenchResult.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise MeasurementError(
            f"{path}: {field}: {first['msg']} (expected the JSON `vllm bench serve --save-result` writes)"
        ) from None


@dataclass(frozen=True)
class Measurement:
    """One measured run and the hardware it ran on."""

    result: BenchResult
    gpu: GpuEntry
    tensor_parallel: int
    quantization: Precision
    kv_cache_dtype: KvCacheDtype = "auto"
    gpu_memory_utilization: float = 0.90
    max_num_seqs: int | None = None  # the server's cap; None: vLLM's default for the GPU


def vllm_default_max_num_seqs(gpu: GpuEntry, factors: Efficiency) -> int:
    """vLLM's default --max-num-seqs: the large one on 70+ GiB GPUs other than A100, else the small one."""
    big = gpu.memory_gib >= 70 and not gpu.gpu.startswith("A100")
    return factors.vllm_max_num_seqs if big else factors.vllm_small_max_num_seqs


def replay(model: ModelEntry, m: Measurement, scale: float, factors: Efficiency) -> float:
    """Output tokens/s the model predicts for the measured run at a given rate scale."""
    memory = plan_memory(
        model,
        m.gpu,
        m.quantization,
        m.tensor_parallel,
        max_context=math.ceil(m.result.mix.input_tokens + m.result.mix.output_tokens),
        gpu_memory_utilization=m.gpu_memory_utilization,
        kv_cache_dtype=m.kv_cache_dtype,
        factors=factors,
    )
    limit = min(x for x in (m.result.max_concurrency, m.result.requests) if x is not None)
    replica = replica_throughput(
        model,
        m.gpu,
        m.quantization,
        m.tensor_parallel,
        memory.kv_cache_gib,
        m.result.mix,
        kv_cache_dtype=m.kv_cache_dtype,
        max_num_seqs=m.max_num_seqs or vllm_default_max_num_seqs(m.gpu, factors),
        factors=factors,
        concurrency=limit,
        scale=scale,
    )
    return replica.output_tokens_per_s


def refit_scale(model: ModelEntry, m: Measurement, factors: Efficiency | None = None) -> float:
    """The rate scale at which the model reproduces the measured output throughput (bisection in log space)."""
    f = factors or builtin_efficiency()
    target = m.result.output_throughput
    low, high = SCALE_RANGE
    if replay(model, m, low, f) <= 0:
        raise MeasurementError(
            f"{model.id} does not fit {m.tensor_parallel} x {m.gpu.gpu} in {m.quantization}: "
            "the measurement cannot be replayed (check the GPU, tensor_parallel and quantization)"
        )
    if not replay(model, m, low, f) <= target <= replay(model, m, high, f):
        raise MeasurementError(
            f"{target:.0f} output tokens/s is more than {high:.0f}x away from what {model.id} on "
            f"{m.tensor_parallel} x {m.gpu.gpu} can be: check the GPU, tensor_parallel and quantization"
        )
    for _ in range(60):
        mid = math.sqrt(low * high)
        if replay(model, m, mid, f) < target:
            low = mid
        else:
            high = mid
    return math.sqrt(low * high)
