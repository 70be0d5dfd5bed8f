"""Measured throughput rows, the model's prediction for each, the fit of the efficiency classes and its validation.

The sizing engine never reads these rows; only `benchmarks/fit_throughput.py` and
`benchmarks/sizing_accuracy.py` (which write `efficiency.csv` and `throughput_accuracy.csv`) and the
tests do. A row describes a public measurement the way its source ran it: engine and version, GPUs
and tensor parallelism, precision, the average prompt and completion (from the run's own totals where
it reports them), how many requests were in flight at most, and the memory share the engine used.

Fitting is least squares of log(predicted / measured) over the rows, plus a weak prior that keeps
class factors near neutral where few rows speak for them, with Nelder-Mead (deterministic, no
dependency) in log-parameter space within `FIT_BOUNDS`. The physical work of each row (bytes, FLOPs,
steps at its batch) does not depend on the fitted factors, so it is computed once per row and a loss
evaluation is only the rate arithmetic of `cycle_seconds` — the very function the planner uses.
"""

from __future__ import annotations

import csv
import hashlib
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from inferplan.catalog import CATALOG_DIR, Catalog, ModelEntry, Precision, builtin_catalog
from inferplan.catalog.efficiency import FIT_BOUNDS, FITTED_KEYS, Efficiency, Engine, builtin_efficiency
from inferplan.sizing.memory import KvCacheDtype, runtime_overhead_gib, weights
from inferplan.sizing.throughput import CycleWork, TokenMix, batch_size, cycle_seconds, cycle_work, rates

CALIBRATION_FILE = "throughput_calibration.csv"
MemoryBasis = Literal["total", "free"]


@dataclass(frozen=True)
class CalibrationRow:
    model: str
    gpu: str
    gpus: int  # GPUs the measured throughput is summed over (gpus / tensor_parallel replicas)
    tensor_parallel: int
    quantization: Precision
    kv_cache_dtype: KvCacheDtype
    engine: Engine
    engine_version: str
    input_tokens: float  # average prompt
    output_tokens: float  # average completion
    requests: int | None  # requests in the run (caps the batch when few), None: steady state
    concurrency: int | None  # most requests in flight the client allowed, None: unlimited
    arrival: Literal["burst", "mixed"]  # burst: equal requests sent at once run in lockstep
    max_num_seqs: int  # the engine's batch cap in that run
    memory_fraction: float  # gpu_memory_utilization (of total) or kv fraction (of free memory)
    memory_basis: MemoryBasis
    measured_tokens_per_s: float  # output tokens/s over all `gpus`
    token_mix: str
    source: str
    as_of: str

    @property
    def label(self) -> str:
        short = self.model.split("/")[-1]
        limit = f" c{self.concurrency}" if self.concurrency else ""
        return (
            f"{short} {self.gpu}x{self.gpus} TP{self.tensor_parallel} {self.quantization} "
            f"{self.engine} {self.input_tokens:.0f}/{self.output_tokens:.0f}{limit}"
        )

    @property
    def replicas(self) -> int:
        return self.gpus // self.tensor_parallel


def _optional_int(text: str) -> int | None:
    return int(text) if text.strip() else None


def load_calibration_rows(name: str = CALIBRATION_FILE) -> tuple[CalibrationRow, ...]:
    with (CATALOG_DIR / name).open(newline="") as handle:
        return tuple(
            CalibrationRow(
                model=row["model"],
                gpu=row["gpu"],
                gpus=int(row["gpus"]),
                tensor_parallel=int(row["tensor_parallel"]),
                quantization=cast(Precision, row["quantization"]),
                kv_cache_dtype=cast(KvCacheDtype, row["kv_cache_dtype"]),
                engine=cast(Engine, row["engine"]),
                engine_version=row["engine_version"],
                input_tokens=float(row["input_tokens"]),
                output_tokens=float(row["output_tokens"]),
                requests=_optional_int(row["requests"]),
                concurrency=_optional_int(row["concurrency"]),
                arrival=cast(Literal["burst", "mixed"], row["arrival"]),
                max_num_seqs=int(row["max_num_seqs"]),
                memory_fraction=float(row["memory_fraction"]),
                memory_basis=cast(MemoryBasis, row["memory_basis"]),
                measured_tokens_per_s=float(row["output_tokens_per_s"]),
                token_mix=row["token_mix"],
                source=row["source"],
                as_of=row["as_of"],
            )
            for row in csv.DictReader(handle)
        )


def publisher(source: str) -> str:
    """Who published a row: the repository owner (owner/repo ...), or the benchmark's name (MLPerf ...)."""
    first = source.split()[0]
    return first.split("/")[0] if "/" in first else first


def calibration_digest(name: str = CALIBRATION_FILE) -> str:
    """Short hash of the table, stamped into what is fitted or validated on it (a stale file shows)."""
    return hashlib.sha256((CATALOG_DIR / name).read_bytes()).hexdigest()[:12]


def kv_cache_gib(row: CalibrationRow, model: ModelEntry, gpu_memory_gib: float, factors: Efficiency) -> float:
    """KV budget of one replica the way the row's engine sizes it."""
    tp = row.tensor_parallel
    fixed = weights(model, row.quantization).gib + runtime_overhead_gib(model, tp, factors) * tp
    total = tp * gpu_memory_gib
    if row.memory_basis == "free":
        return row.memory_fraction * (total - fixed)
    return total * row.memory_fraction - fixed


@dataclass(frozen=True)
class RowSetup:
    """Everything about a row that the fitted factors cannot change: its work at its batch."""

    row: CalibrationRow
    model: ModelEntry
    gpu_name: str
    batch: int
    work: CycleWork


def setup(row: CalibrationRow, factors: Efficiency, catalog: Catalog | None = None) -> RowSetup:
    cat = catalog or builtin_catalog()
    model, gpu = cat.find_model(row.model), cat.find_gpu(row.gpu)
    mix = TokenMix(row.input_tokens, row.output_tokens)
    limit = min(x for x in (row.concurrency, row.requests, row.max_num_seqs) if x is not None)
    kv = kv_cache_gib(row, model, gpu.memory_gib, factors)
    share = 1.0 if row.arrival == "burst" else None
    batch = batch_size(
        model,
        kv,
        mix,
        row.tensor_parallel,
        row.kv_cache_dtype,
        row.engine,
        row.max_num_seqs,
        limit,
        factors,
        share,
    )
    size = max(batch.size, 0)
    work = cycle_work(
        model, row.quantization, row.tensor_parallel, row.kv_cache_dtype, max(size, 1), mix, factors
    )
    return RowSetup(row, model, gpu.gpu, size, work)


def predict_setup(s: RowSetup, factors: Efficiency, catalog: Catalog | None = None) -> float:
    """Output tokens/s the sizing model predicts for the row's setup, over all its GPUs."""
    if s.batch < 1:
        return 0.0
    cat = catalog or builtin_catalog()
    r = rates(cat.gpus[s.gpu_name], s.row.quantization, s.row.tensor_parallel, s.row.engine, factors)
    seconds = cycle_seconds(s.work, r)
    return s.batch * s.row.output_tokens / seconds * s.row.replicas


def predict(row: CalibrationRow, factors: Efficiency | None = None, catalog: Catalog | None = None) -> float:
    f = factors or builtin_efficiency()
    return predict_setup(setup(row, f, catalog), f, catalog)


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
    f = factors or builtin_efficiency()
    return tuple(RowError(row, predict(row, f)) for row in (rows or load_calibration_rows()))


def median_absolute_error(errors: Sequence[RowError]) -> float:
    return statistics.median(abs(e.relative_error) for e in errors)


def worst_ratio(errors: Sequence[RowError]) -> float:
    """The worst factor by which a prediction misses (>= 1; 2.0 means off by 2x either way)."""
    return max(max(e.ratio, 1 / e.ratio) if e.ratio > 0 else math.inf for e in errors)


def log_loss(errors: Sequence[RowError]) -> float:
    """Mean squared log error: symmetric in over- and under-prediction."""
    return statistics.fmean(math.log(e.ratio) ** 2 if e.ratio > 0 else 1e6 for e in errors)


def _nelder_mead(
    loss: Callable[[list[float]], float], start: list[float], step: float = 0.3, iterations: int = 2000
) -> list[float]:
    """Minimise `loss` from `start` (plain Nelder-Mead: deterministic, no dependency)."""
    n = len(start)
    simplex = [list(start)] + [[x + (step if j == i else 0.0) for j, x in enumerate(start)] for i in range(n)]
    scores = [loss(x) for x in simplex]
    for _ in range(iterations):
        order = sorted(range(n + 1), key=lambda k: scores[k])
        simplex, scores = [simplex[k] for k in order], [scores[k] for k in order]
        if scores[-1] - scores[0] < 1e-9:
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


# Where a fit starts when no start is given: mid-range values, not the stored ones, so that the test
# which refits from here proves the stored factors are the fit and not merely a fixed point near it.
NEUTRAL_START: dict[str, float] = {
    "compute_efficiency": 0.5,
    "bandwidth_efficiency": 0.6,
    "overlap_exponent": 2.0,
    "generation_ampere": 1.0,
    "generation_ada": 1.0,
    "generation_blackwell": 1.0,
    "engine_vllm": 0.8,
    "engine_vllm_v0": 0.8,
    "engine_sglang": 0.8,
    "moe_vllm": 0.5,
    "moe_vllm_v0": 0.5,
    "moe_sglang": 0.5,
    "moe_trtllm": 0.5,
    "step_overhead_ms": 1.0,
    "sequence_overhead_us_vllm": 20.0,
    "sequence_overhead_us_vllm_v0": 20.0,
    "sequence_overhead_us_sglang": 20.0,
    "sequence_overhead_us_trtllm": 20.0,
    "link_efficiency_nvlink": 0.8,
    "link_efficiency_pcie": 0.5,
}


# Class factors (a generation, an engine, an engine's MoE kernels) are pulled towards NEUTRAL_START
# by this weight per squared log-deviation, so that a class with few rows cannot swing far on them
# alone. 0.01 is the value of 0, 0.005, 0.01, 0.02 and 0.05 that left the fewest rows off by more than
# 2x held out (benchmarks/sizing_accuracy.py); it moves the in-sample median by under 0.2 points.
CLASS_PREFIXES = ("generation_", "engine_", "moe_")
PRIOR_WEIGHT = 0.01


def class_pull(factors: Efficiency) -> float:
    """Squared log-distance of the class factors from NEUTRAL_START (the fit's prior)."""
    return sum(
        math.log(getattr(factors, k) / NEUTRAL_START[k]) ** 2
        for k in FITTED_KEYS
        if k.startswith(CLASS_PREFIXES)
    )


def fit_loss(
    setups: Sequence[RowSetup], factors: Efficiency, catalog: Catalog, prior: float = PRIOR_WEIGHT
) -> float:
    """What the fit minimises: mean squared log(predicted / measured) plus the prior's pull."""
    total = 0.0
    for s in setups:
        p = predict_setup(s, factors, catalog)
        total += math.log(p / s.row.measured_tokens_per_s) ** 2 if p > 0 else 1e3
    return total / len(setups) + prior * class_pull(factors)


def _to_factors(base: Efficiency, values: Sequence[float], keys: Sequence[str]) -> Efficiency:
    update = {}
    for key, value in zip(keys, values, strict=True):
        low, high = FIT_BOUNDS[key]
        update[key] = round(min(max(math.exp(value), max(low, 1e-6)), high), 4)
    return base.model_copy(update=update)


def _free_keys(rows: Sequence[CalibrationRow], catalog: Catalog) -> list[str]:
    """Factors the rows can determine: a class factor with no row of its class stays where it is."""
    generations = {catalog.find_gpu(r.gpu).generation for r in rows}
    engines = {r.engine for r in rows}
    moe_engines = {r.engine for r in rows if catalog.find_model(r.model).is_moe}
    links = {catalog.find_gpu(r.gpu).interconnect for r in rows if r.tensor_parallel > 1}
    keys = []
    for key in FITTED_KEYS:
        if key.startswith("generation_") and key.removeprefix("generation_") not in generations:
            continue
        if key.startswith("engine_") and key.removeprefix("engine_") not in engines:
            continue
        if key.startswith("moe_") and key.removeprefix("moe_") not in moe_engines:
            continue
        if (
            key.startswith("sequence_overhead_us_")
            and key.removeprefix("sequence_overhead_us_") not in engines
        ):
            continue
        if key.startswith("link_efficiency_") and key.removeprefix("link_efficiency_") not in links:
            continue
        keys.append(key)
    return keys


def fit_efficiency(
    rows: Sequence[CalibrationRow] | None = None,
    start: Efficiency | None = None,
    catalog: Catalog | None = None,
    restarts: int = 3,
    prior: float = PRIOR_WEIGHT,
) -> Efficiency:
    """The fitted classes that minimise `fit_loss` on `rows` (from NEUTRAL_START unless `start`)."""
    cat = catalog or builtin_catalog()
    all_rows = tuple(rows or load_calibration_rows())
    base = start or builtin_efficiency().model_copy(update=NEUTRAL_START)
    setups = [setup(r, base, cat) for r in all_rows]
    keys = _free_keys(all_rows, cat)

    def loss(values: list[float]) -> float:
        return fit_loss(setups, _to_factors(base, values, keys), cat, prior)

    point = [math.log(max(float(getattr(base, k)), 1e-3)) for k in keys]
    for _ in range(restarts):
        point = _nelder_mead(loss, point)
    return _to_factors(base, point, keys)


@dataclass(frozen=True)
class HeldOut:
    """A row predicted by factors fitted without its model (or without its GPU kind)."""

    row: CalibrationRow
    leave_model_out: float  # predicted / measured
    leave_gpu_out: float
    in_sample: float


def model_key(row: CalibrationRow, catalog: Catalog) -> str:
    return catalog.find_model(row.model).architecture_id


def gpu_key_of(row: CalibrationRow, catalog: Catalog) -> str:
    return catalog.find_gpu(row.gpu).gpu


def model_class(row: CalibrationRow, catalog: Catalog) -> str:
    return "moe" if catalog.find_model(row.model).is_moe else "dense"


def held_out(
    rows: Sequence[CalibrationRow] | None = None,
    fitted: Efficiency | None = None,
    catalog: Catalog | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[HeldOut, ...]:
    """Leave-one-model-out and leave-one-GPU-out ratios of every row (one refit per group left out)."""
    cat = catalog or builtin_catalog()
    all_rows = tuple(rows or load_calibration_rows())
    full = fitted or fit_efficiency(all_rows, catalog=cat)

    def out_of(group: Callable[[CalibrationRow, Catalog], str]) -> dict[int, float]:
        ratios: dict[int, float] = {}
        for key in sorted({group(r, cat) for r in all_rows}):
            rest = [r for r in all_rows if group(r, cat) != key]
            if progress:
                progress(f"refit without {key} ({len(all_rows) - len(rest)} rows)")
            factors = fit_efficiency(rest, start=full, catalog=cat, restarts=1)
            for index, row in enumerate(all_rows):
                if group(row, cat) == key:
                    ratios[index] = predict(row, factors, cat) / row.measured_tokens_per_s
        return ratios

    by_model, by_gpu = out_of(model_key), out_of(gpu_key_of)
    return tuple(
        HeldOut(row, by_model[i], by_gpu[i], predict(row, full, cat) / row.measured_tokens_per_s)
        for i, row in enumerate(all_rows)
    )


def miss(ratio: float) -> float:
    """|error| of a predicted/measured ratio, as a fraction of the measurement."""
    return abs(ratio - 1.0)


def fold(ratio: float) -> float:
    """How many times off a ratio is, either way (>= 1)."""
    return max(ratio, 1.0 / ratio) if ratio > 0 else math.inf


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..1) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
