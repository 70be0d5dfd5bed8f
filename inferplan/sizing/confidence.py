"""How far a predicted throughput can be trusted, and how the plan sizes for it.

Every prediction carries the validation error of its class (dense or MoE models), measured on public
rows the fit did not see (leave-one-model-out, `benchmarks/sizing_accuracy.py`, stored in
`throughput_accuracy.csv`). `sizing.confidence: p50` sizes replicas on the prediction as it is (the
median case); `p90` slows the model's rates by the class's 90th-percentile over-prediction, so that
nine in ten held-out measurements reached at least the throughput the replicas are sized for.

A model with a measured result (`models[].measured`) is sized on its re-fitted rates instead: measured
beats modeled, and no class derating applies to it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from inferplan.catalog import CATALOG_DIR, GpuEntry, ModelEntry
from inferplan.catalog.efficiency import Efficiency
from inferplan.sizing.measured import Measurement, refit_scale

ACCURACY_FILE = "throughput_accuracy.csv"
Confidence = Literal["p50", "p90"]
ModelClass = Literal["dense", "moe"]


@dataclass(frozen=True)
class ClassAccuracy:
    """Held-out error of one class of models (what `benchmarks/sizing_accuracy.py --write` stores)."""

    model_class: ModelClass
    rows: int
    median_abs_error: float  # median |predicted / measured - 1|
    p90_ratio: float  # 90th percentile of predicted / measured
    method: str  # how the rows were held out
    calibration_digest: str  # the calibration table the numbers were computed on


def model_class(model: ModelEntry) -> ModelClass:
    return "moe" if model.is_moe else "dense"


@lru_cache(maxsize=1)
def builtin_accuracy() -> dict[str, ClassAccuracy]:
    with (CATALOG_DIR / ACCURACY_FILE).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["class"]: ClassAccuracy(
            model_class=row["class"],  # type: ignore[arg-type]
            rows=int(row["rows"]),
            median_abs_error=float(row["median_abs_error"]),
            p90_ratio=float(row["p90_ratio"]),
            method=row["method"],
            calibration_digest=row["calibration_digest"],
        )
        for row in rows
    }


def confidence_scale(model: ModelEntry, confidence: Confidence, accuracy: dict[str, ClassAccuracy]) -> float:
    """Rate scale for `confidence`: 1 at p50; 1 / (90th-percentile over-prediction) at p90, never above 1."""
    if confidence == "p50":
        return 1.0
    return 1.0 / max(accuracy[model_class(model)].p90_ratio, 1.0)


@dataclass
class Adjustments:
    """Per plan: the confidence the spec asks for and the measured results of its models."""

    confidence: Confidence = "p50"
    measured: dict[str, Measurement] = field(default_factory=dict)  # by spec model name
    accuracy: dict[str, ClassAccuracy] = field(default_factory=builtin_accuracy)
    _refits: dict[tuple[str, str], float] = field(default_factory=dict)

    def measured_on(self, name: str, gpu: GpuEntry) -> Measurement | None:
        """The measurement of model `name` if it ran on this GPU kind (one on another GPU does not apply)."""
        m = self.measured.get(name)
        return m if m is not None and m.gpu.gpu == gpu.gpu else None

    def scale(self, name: str, model: ModelEntry, gpu: GpuEntry, factors: Efficiency) -> float:
        m = self.measured_on(name, gpu)
        if m is None:
            return confidence_scale(model, self.confidence, self.accuracy)
        key = (name, gpu.gpu)
        if key not in self._refits:
            self._refits[key] = refit_scale(model, m, factors)
        return self._refits[key]

    def error_band(self, model: ModelEntry) -> float:
        """Median held-out |error| of the model's class."""
        return self.accuracy[model_class(model)].median_abs_error
