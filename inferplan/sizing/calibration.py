"""Measured throughput rows and the model's prediction for each: what the efficiency factors are fitted on.

The sizing engine never reads these rows; only `benchmarks/fit_throughput.py` (which writes the fitted
factors to `efficiency.csv`) and `tests/sizing/test_calibration.py` (which reports every row's error) do.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from inferplan.catalog import CATALOG_DIR, Catalog, Precision, builtin_catalog
from inferplan.catalog.efficiency import Efficiency, builtin_efficiency
from inferplan.sizing.memory import KvCacheDtype, plan_memory
from inferplan.sizing.throughput import Engine, TokenMix, replica_throughput

CALIBRATION_FILE = "throughput_calibration.csv"
# More rows of the same TensorRT-LLM table, never fitted on: a check of how the model generalises.
VALIDATION_FILE = "throughput_validation.csv"
# The memory share the calibration runs gave the engine (trtllm-bench: 0.90-0.95 of free memory).
CALIBRATION_MEMORY_UTILIZATION = 0.90


@dataclass(frozen=True)
class CalibrationRow:
    model: str
    gpu: str
    gpus_total: int
    tensor_parallel: int
    quantization: Precision
    engine: Engine
    kv_cache_dtype: KvCacheDtype
    input_tokens: int
    output_tokens: int
    measured_tokens_per_s: float
    source: str

    @property
    def label(self) -> str:
        short = self.model.split("/")[-1]
        return (
            f"{short} {self.gpu}x{self.gpus_total} TP{self.tensor_parallel} {self.quantization} "
            f"{self.engine} {self.input_tokens}/{self.output_tokens}"
        )


def load_calibration_rows(name: str = CALIBRATION_FILE) -> tuple[CalibrationRow, ...]:
    """Rows of the calibration table (or, with VALIDATION_FILE, of the held-out table)."""
    with (CATALOG_DIR / name).open(newline="") as handle:
        return tuple(
            CalibrationRow(
                model=row["model"],
                gpu=row["gpu"],
                gpus_total=int(row["gpus_total"]),
                tensor_parallel=int(row["tensor_parallel"]),
                quantization=cast(Precision, row["quantization"]),
                engine=cast(Engine, row["engine"]),
                kv_cache_dtype=cast(KvCacheDtype, row["kv_cache_dtype"]),
                input_tokens=int(row["input_tokens"]),
                output_tokens=int(row["output_tokens"]),
                measured_tokens_per_s=float(row["output_tokens_per_s_total"]),
                source=row["source"],
            )
            for row in csv.DictReader(handle)
        )


def predict(row: CalibrationRow, factors: Efficiency | None = None, catalog: Catalog | None = None) -> float:
    """Output tokens/s the sizing model predicts for the row's setup, over all its GPUs."""
    cat = catalog or builtin_catalog()
    f = factors or builtin_efficiency()
    model, gpu = cat.models[row.model], cat.gpus[row.gpu]
    mix = TokenMix(row.input_tokens, row.output_tokens)
    memory = plan_memory(
        model,
        gpu,
        row.quantization,
        row.tensor_parallel,
        max_context=row.input_tokens + row.output_tokens,
        gpu_memory_utilization=CALIBRATION_MEMORY_UTILIZATION,
        kv_cache_dtype=row.kv_cache_dtype,
        factors=f,
    )
    replica = replica_throughput(
        model,
        gpu,
        row.quantization,
        row.tensor_parallel,
        memory.kv_cache_gib,
        mix,
        kv_cache_dtype=row.kv_cache_dtype,
        engine=row.engine,
        factors=f,
    )
    return replica.output_tokens_per_s * (row.gpus_total // row.tensor_parallel)


@dataclass(frozen=True)
class RowError:
    row: CalibrationRow
    predicted: float

    @property
    def ratio(self) -> float:
        return self.predicted / self.row.measured_tokens_per_s

    @property
    def relative_error(self) -> float:
        return self.ratio - 1.0


def row_errors(
    rows: Sequence[CalibrationRow] | None = None, factors: Efficiency | None = None
) -> tuple[RowError, ...]:
    return tuple(RowError(row, predict(row, factors)) for row in (rows or load_calibration_rows()))


def median_absolute_error(errors: Sequence[RowError]) -> float:
    return statistics.median(abs(e.relative_error) for e in errors)


def worst_ratio(errors: Sequence[RowError]) -> float:
    """The worst factor by which a prediction misses (>= 1; 2.0 means off by 2x either way)."""
    return max(max(e.ratio, 1 / e.ratio) if e.ratio > 0 else math.inf for e in errors)


def log_loss(errors: Sequence[RowError]) -> float:
    """Mean squared log error: symmetric in over- and under-prediction."""
    return statistics.fmean(math.log(e.ratio) ** 2 if e.ratio > 0 else 1e6 for e in errors)


# Search ranges of the fitted factors (physically plausible bounds, so the fit cannot run away).
FIT_BOUNDS: dict[str, tuple[float, float]] = {
    "compute_efficiency": (0.15, 0.95),
    "bandwidth_efficiency": (0.30, 0.95),
    "overlap_exponent": (1.0, 12.0),
}


def _golden_min(loss: Callable[[float], float], low: float, high: float, rounds: int = 40) -> float:
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = loss(c), loss(d)
    for _ in range(rounds):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = loss(d)
    return (a + b) / 2


def with_value(base: Efficiency, key: str, value: float) -> Efficiency:
    return base.model_copy(update={key: round(value, 4)})


def _loss_of(rows: Sequence[CalibrationRow], base: Efficiency, key: str) -> Callable[[float], float]:
    def loss(value: float) -> float:
        return log_loss(row_errors(rows, with_value(base, key, value)))

    return loss


def fit_efficiency(
    rows: Sequence[CalibrationRow] | None = None, start: Efficiency | None = None, sweeps: int = 6
) -> Efficiency:
    """Fit compute/bandwidth efficiency and the overlap exponent on the TensorRT-LLM rows (least squares
    in log space, coordinate-wise golden-section search), then the vLLM factor on the vLLM rows."""
    all_rows = tuple(rows or load_calibration_rows())
    trt = [r for r in all_rows if r.engine == "trtllm"]
    vllm = [r for r in all_rows if r.engine == "vllm"]
    current = start or builtin_efficiency()

    for _ in range(sweeps):
        for key, (low, high) in FIT_BOUNDS.items():
            best = _golden_min(_loss_of(trt, current, key), low, high)
            current = with_value(current, key, best)
    if vllm:
        best = _golden_min(_loss_of(vllm, current, "vllm_engine_factor"), 0.2, 1.5)
        current = with_value(current, "vllm_engine_factor", best)
    return current
