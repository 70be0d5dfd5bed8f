"""How well the throughput model predicts measurements it was not fitted on.

    python benchmarks/sizing_accuracy.py            # print the table
    python benchmarks/sizing_accuracy.py --write    # ... and store the class error bands the plan uses

For every row of `throughput_calibration.csv` the efficiency classes are refitted without the row's
model (leave-one-model-out: a model the calibration never saw) and, separately, without the row's GPU
kind (leave-one-GPU-out), and the row is predicted by those factors. Errors are predicted / measured
- 1. The table ends with the medians overall and per class (dense, MoE), per engine and per GPU, the
share of rows off by more than 2x, and the calibration set's coverage (rows, sources, GPUs, models).

`--write` stores, per class, the leave-one-model-out median |error| and 90th-percentile over-prediction
in `throughput_accuracy.csv`: the error band every plan reports and `sizing.confidence: p90` sizes at.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inferplan.catalog import CATALOG_DIR, builtin_catalog
from inferplan.catalog.efficiency import builtin_efficiency
from inferplan.sizing.calibration import (
    CALIBRATION_FILE,
    HeldOut,
    calibration_digest,
    fold,
    held_out,
    load_calibration_rows,
    miss,
    model_class,
    percentile,
    publisher,
)
from inferplan.sizing.confidence import ACCURACY_FILE

TARGET_MEDIAN = 0.15
TARGET_FOLD = 2.0


def summary(label: str, results: Sequence[HeldOut], pick: Callable[[HeldOut], float]) -> str:
    ratios = [pick(r) for r in results]
    over = sum(1 for r in ratios if fold(r) > TARGET_FOLD)
    return (
        f"{label:28} {len(ratios):4d} rows  median |error| {statistics.median(miss(r) for r in ratios):6.1%}  "
        f"p90 ratio {percentile(ratios, 0.9):5.2f}  worst {max(fold(r) for r in ratios):5.2f}x  "
        f">2x: {over}"
    )


def write_accuracy(results: Sequence[HeldOut]) -> None:
    catalog = builtin_catalog()
    stamp = date.today().strftime("%Y-%m")
    digest = calibration_digest()
    fields = [
        "class",
        "rows",
        "median_abs_error",
        "p90_ratio",
        "method",
        "calibration_digest",
        "source",
        "as_of",
    ]
    with (CATALOG_DIR / ACCURACY_FILE).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for cls in ("dense", "moe"):
            ratios = [r.leave_model_out for r in results if model_class(r.row, catalog) == cls]
            writer.writerow(
                {
                    "class": cls,
                    "rows": len(ratios),
                    "median_abs_error": f"{statistics.median(miss(r) for r in ratios):.4f}",
                    "p90_ratio": f"{percentile(ratios, 0.9):.4f}",
                    "method": "leave-one-model-out",
                    "calibration_digest": digest,
                    "source": f"benchmarks/sizing_accuracy.py --write on {CALIBRATION_FILE}",
                    "as_of": stamp,
                }
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help=f"store the class error bands in {ACCURACY_FILE}"
    )
    args = parser.parse_args()

    catalog = builtin_catalog()
    rows = load_calibration_rows()
    start = time.perf_counter()
    results = held_out(rows, builtin_efficiency(), progress=lambda m: print(f"  {m}", file=sys.stderr))
    seconds = time.perf_counter() - start

    print(f"{'row':70} {'source':12} {'measured':>9} {'fit':>7} {'LOMO':>7} {'LOGO':>7}")
    for r in results:
        row = r.row
        print(
            f"{row.label:70} {publisher(row.source)[:12]:12} {row.measured_tokens_per_s:9.1f} "
            f"{r.in_sample - 1:+7.1%} {r.leave_model_out - 1:+7.1%} {r.leave_gpu_out - 1:+7.1%}"
        )
    print()
    lomo, logo = (lambda r: r.leave_model_out), (lambda r: r.leave_gpu_out)
    for name, pick in (("leave-one-model-out", lomo), ("leave-one-GPU-out", logo)):
        print(name)
        print(summary("  all", results, pick))
        for cls in ("dense", "moe"):
            print(summary(f"  {cls}", [r for r in results if model_class(r.row, catalog) == cls], pick))
        for engine in sorted({r.row.engine for r in results}):
            print(summary(f"  engine {engine}", [r for r in results if r.row.engine == engine], pick))
        for gpu in sorted({catalog.find_gpu(r.row.gpu).gpu for r in results}):
            print(
                summary(f"  gpu {gpu}", [r for r in results if catalog.find_gpu(r.row.gpu).gpu == gpu], pick)
            )
    print(summary("in-sample (stored fit)", results, lambda r: r.in_sample))
    worst = sorted(results, key=lambda r: -max(fold(r.leave_model_out), fold(r.leave_gpu_out)))[:10]
    print("\nworst rows (held out):")
    for r in worst:
        print(f"  {r.row.label:70} LOMO {r.leave_model_out:5.2f}x  LOGO {r.leave_gpu_out:5.2f}x")
    models = {catalog.find_model(r.model).architecture_id for r in rows}
    moe = {m for m in models if catalog.models[m].is_moe}
    print(
        f"\ncalibration set: {len(rows)} rows, {len({publisher(r.source) for r in rows})} sources, "
        f"{len({catalog.find_gpu(r.gpu).gpu for r in rows})} GPU kinds, {len(models)} models ({len(moe)} MoE), "
        f"{sum(1 for r in rows if r.engine == 'vllm')} vLLM rows; engines {sorted({r.engine for r in rows})}"
    )
    overall = statistics.median(miss(r.leave_model_out) for r in results)
    print(
        f"target: median <= {TARGET_MEDIAN:.0%} (leave-one-model-out: {overall:.1%}), no row off by more than "
        f"{TARGET_FOLD:.0f}x ({sum(1 for r in results if fold(r.leave_model_out) > TARGET_FOLD)} are); "
        f"{seconds:.0f} s"
    )
    if args.write:
        write_accuracy(results)
        print(f"wrote {CATALOG_DIR / ACCURACY_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
