"""The throughput model against measured tables: every row's error is printed, the fit must hold.

Fails if the median absolute error on the calibration rows exceeds 25% or any row is off by more
than 2x; the held-out rows (same TensorRT-LLM table, never fitted on) must stay within 2x too.
Run with `-s` to see the tables.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from inferplan.catalog.efficiency import FITTED_KEYS, builtin_efficiency
from inferplan.sizing import calibration
from inferplan.sizing.calibration import (
    VALIDATION_FILE,
    RowError,
    fit_efficiency,
    load_calibration_rows,
    median_absolute_error,
    row_errors,
    worst_ratio,
)

SIZING_DIR = Path(calibration.__file__).parent


def table(title: str, errors: tuple[RowError, ...]) -> str:
    lines = [title, f"{'row':60} {'measured':>9} {'predicted':>9} {'error':>7}"]
    for e in errors:
        lines.append(
            f"{e.row.label:60} {e.row.measured_tokens_per_s:9.0f} {e.predicted:9.0f} {e.relative_error:+7.1%}"
        )
    lines.append(f"median |error| {median_absolute_error(errors):.1%}, worst {worst_ratio(errors):.2f}x")
    return "\n".join(lines)


def test_every_calibration_row_within_2x_and_median_within_25_percent() -> None:
    errors = row_errors()
    report = table("calibration rows (output tokens/s, all GPUs)", errors)
    print("\n" + report)
    assert len(errors) == 15
    assert median_absolute_error(errors) <= 0.25, report
    assert worst_ratio(errors) <= 2.0, report


def test_held_out_rows_within_2x() -> None:
    errors = row_errors(load_calibration_rows(VALIDATION_FILE))
    report = table("held-out rows (never fitted on)", errors)
    print("\n" + report)
    assert worst_ratio(errors) <= 2.0, report


def test_stored_factors_are_the_fit_of_the_calibration_table() -> None:
    stored = builtin_efficiency()
    refit = fit_efficiency(start=stored)
    for key in FITTED_KEYS:
        assert getattr(refit, key) == pytest.approx(getattr(stored, key), rel=0.02), (
            f"{key}: efficiency.csv has {getattr(stored, key)}, the fit gives {getattr(refit, key)} "
            "(run python benchmarks/fit_throughput.py --write)"
        )


def test_vllm_is_predicted_slower_than_tensorrt_llm() -> None:
    assert builtin_efficiency().vllm_engine_factor < 1.0


@pytest.mark.parametrize(
    "module", sorted(p.name for p in SIZING_DIR.glob("*.py") if p.name != "calibration.py")
)
def test_the_sizing_engine_never_reads_measured_rows(module: str) -> None:
    """No lookup: only calibration.py (fit and report) may touch the measured tables."""
    tree = ast.parse((SIZING_DIR / module).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert "inferplan.sizing.calibration" not in imported
    assert not {"CALIBRATION_FILE", "VALIDATION_FILE", "load_calibration_rows"} & names
    assert "throughput_calibration" not in (SIZING_DIR / module).read_text()
