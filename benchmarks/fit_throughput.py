"""Fit the throughput model's efficiency classes on the calibration table and (with --write) store them.

    python benchmarks/fit_throughput.py            # fit, print every row's in-sample error
    python benchmarks/fit_throughput.py --write    # ... and rewrite the fitted rows of efficiency.csv

Fitted (efficiency.FIT_BOUNDS): compute and bandwidth efficiency, the overlap exponent, one factor per
GPU generation, per engine and per engine's MoE kernels, the per-step and per-sequence overheads and
the link efficiency of NVLink and PCIe — least squares of log(predicted / measured) over every row,
from a neutral start. How the fit does on rows it has not seen is `benchmarks/sizing_accuracy.py`.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inferplan.catalog import CATALOG_DIR
from inferplan.catalog.efficiency import EFFICIENCY_FILE, FITTED_KEYS, Efficiency
from inferplan.sizing.calibration import (
    CALIBRATION_FILE,
    calibration_digest,
    fit_efficiency,
    load_calibration_rows,
    median_absolute_error,
    row_errors,
    worst_ratio,
)


def write_fitted(factors: Efficiency) -> None:
    path = CATALOG_DIR / EFFICIENCY_FILE
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
        fields = list(rows[0].keys())
    stamp = date.today().strftime("%Y-%m")
    source = f"fitted by benchmarks/fit_throughput.py on {CALIBRATION_FILE} (digest {calibration_digest()})"
    for row in rows:
        if row["key"] in FITTED_KEYS:
            row["value"] = f"{getattr(factors, row['key']):.4f}"
            row["source"] = source
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
    start = time.perf_counter()
    fitted = fit_efficiency(rows)
    seconds = time.perf_counter() - start
    errors = row_errors(rows, fitted)
    print(f"fitted on {len(rows)} rows in {seconds:.1f} s:")
    for key in FITTED_KEYS:
        print(f"  {key:28} {getattr(fitted, key):.4f}")
    print(f"\n{'row':72} {'measured':>9} {'predicted':>9} {'error':>7}")
    for error in errors:
        row = error.row
        print(
            f"{row.label:72} {row.measured_tokens_per_s:9.1f} {error.predicted:9.1f} {error.relative_error:+7.1%}"
        )
    print(f"in-sample median |error| {median_absolute_error(errors):.1%}, worst {worst_ratio(errors):.2f}x")
    if args.write:
        write_fitted(fitted)
        print(f"wrote {CATALOG_DIR / EFFICIENCY_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
