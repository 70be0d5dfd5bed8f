"""Fit the throughput model's efficiency factors on the calibration table and (with --write) store them.

    python benchmarks/fit_throughput.py            # fit, print per-row and leave-one-out errors
    python benchmarks/fit_throughput.py --write    # ... and rewrite the fitted rows of efficiency.csv

Fitted: compute_efficiency, bandwidth_efficiency, overlap_exponent on the TensorRT-LLM rows (least
squares of log(predicted/measured)), then vllm_engine_factor on the vLLM row(s). The leave-one-out
column refits without each TensorRT-LLM row and predicts it: how the model does on a row it has not
seen, which is the honest measure of generalisation for a 3-parameter fit on 14 rows.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inferplan.catalog import CATALOG_DIR
from inferplan.catalog.efficiency import EFFICIENCY_FILE, FITTED_KEYS, Efficiency
from inferplan.sizing.calibration import (
    fit_efficiency,
    load_calibration_rows,
    median_absolute_error,
    predict,
    row_errors,
    worst_ratio,
)


def write_fitted(factors: Efficiency) -> None:
    path = CATALOG_DIR / EFFICIENCY_FILE
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
        fields = list(rows[0].keys())
    stamp = date.today().strftime("%Y-%m")
    for row in rows:
        if row["key"] in FITTED_KEYS:
            row["value"] = f"{getattr(factors, row['key']):.4f}"
            row["as_of"] = stamp
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the fitted factors in efficiency.csv")
    args = parser.parse_args()

    rows = load_calibration_rows()
    fitted = fit_efficiency(rows)
    errors = row_errors(rows, fitted)
    print("fitted: " + ", ".join(f"{k}={getattr(fitted, k):.4f}" for k in FITTED_KEYS))
    print(f"{'row':58} {'measured':>9} {'predicted':>9} {'error':>7} {'leave-one-out':>13}")
    loo: list[float] = []
    for error in errors:
        row = error.row
        if row.engine == "trtllm":
            without = fit_efficiency([r for r in rows if r is not row], fitted)
            held_out = predict(row, without) / row.measured_tokens_per_s - 1
            loo.append(abs(held_out))
            loo_text = f"{held_out:+.1%}"
        else:
            loo_text = "(fit on it)"
        print(
            f"{row.label:58} {row.measured_tokens_per_s:9.0f} {error.predicted:9.0f} "
            f"{error.relative_error:+7.1%} {loo_text:>13}"
        )
    print(f"median |error| {median_absolute_error(errors):.1%}, worst ratio {worst_ratio(errors):.2f}x")
    print(f"leave-one-out median |error| {statistics.median(loo):.1%}, worst {max(loo):.1%}")
    if args.write:
        write_fitted(fitted)
        print(f"wrote {CATALOG_DIR / EFFICIENCY_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
