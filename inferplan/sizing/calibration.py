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


def _nelder_mead(
    loss: Callable[[list[float]], float], start: list[float], step: float = 0.1, iterations: int = 400
) -> list[float]:
    """Minimise `loss` from `start` (plain Nelder-Mead: deterministic, no dependency)."""
    n = len(start)
    simplex = [list(start)] + [
        [x + (step * max(abs(x), 0.1) if j == i else 0.0) for j, x in enumerate(start)] for i in range(n)
    ]
    scores = [loss(x) for x in simplex]
    for _ in range(iterations):
        order = sorted(range(n + 1), key=lambda k: scores[k])
        simplex, scores = [simplex[k] for k in order], [scores[k] for k in order]
        if scores[-1] - scores[0] < 1e-10:
            break
        centroid = [sum(x[j] for x in simplex[:-1]) / n for j in range(n)]
        worst = simplex[-1]

        def towards(t: float, w: list[float] = worst, c: list[float] = centroid) -> list[float]:
            return [cj + t * (wj - cj) for cj, wj in zip(c, w, strict=True)]

        reflected = towards(-1.0)
        r_score = loss(reflected)
        if r_score < scores[0]:
            expanded = towards(-2.0)
            e_score = loss(expanded)
            simplex[-1], scores[-1] = (expanded, e_score) if e_score < r_score else (reflected, r_score)
        elif r_score < scores[-2]:
            simplex[-1], scores[-1] = reflected, r_score
        else:
            contracted = towards(0.5)
            c_score = loss(contracted)
            if c_score < scores[-1]:
                simplex[-1], scores[-1] = contracted, c_score
            else:  # shrink towards the best point
                best = simplex[0]
                simplex = [best] + [
                    [b + 0.5 * (x - b) for b, x in zip(best, v, strict=True)] for v in simplex[1:]
                ]
                scores = [scores[0]] + [loss(v) for v in simplex[1:]]
    return simplex[min(range(n + 1), key=lambda k: scores[k])]


def with_value(base: Efficiency, key: str, value: float) -> Efficiency:
    return base.model_copy(update={key: round(value, 4)})


def _bounded(base: Efficiency, values: Sequence[float]) -> Efficiency:
    update = {}
    for (key, (low, high)), value in zip(FIT_BOUNDS.items(), values, strict=True):
        update[key] = round(min(max(value, low), high), 4)
    return base.model_copy(update=update)


def fit_efficiency(
    rows: Sequence[CalibrationRow] | None = None, start: Efficiency | None = None
) -> Efficiency:
    """Fit compute/bandwidth efficiency and the overlap exponent on the TensorRT-LLM rows (least squares
    of log(predicted/measured), Nelder-Mead within FIT_BOUNDS), then the vLLM factor on the vLLM rows."""
    all_rows = tuple(rows or load_calibration_rows())
    trt = [r for r in all_rows if r.engine == "trtllm"]
    vllm = [r for r in all_rows if r.engine == "vllm"]
    base = start or builtin_efficiency()

    def trt_loss(values: list[float]) -> float:
        return log_loss(row_errors(trt, _bounded(base, values)))

    best = _nelder_mead(trt_loss, [float(getattr(base, key)) for key in FIT_BOUNDS])
    fitted = _bounded(base, best)
    if vllm:

        def vllm_loss(values: list[float]) -> float:
            return log_loss(
                row_errors(vllm, with_value(fitted, "vllm_engine_factor", min(max(values[0], 0.2), 1.5)))
            )

        (factor,) = _nelder_mead(vllm_loss, [fitted.vllm_engine_factor])
        fitted = with_value(fitted, "vllm_engine_factor", min(max(factor, 0.2), 1.5))
    return fitted
