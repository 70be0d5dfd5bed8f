"""The calibration set is broad and sourced, the stored factors are its fit, and no code looks rows up.

How well the fit predicts rows it has not seen (leave-one-model-out, leave-one-GPU-out) is measured by
`benchmarks/sizing_accuracy.py`, not here: it refits once per model and per GPU kind (minutes).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from inferplan.catalog import Catalog
from inferplan.catalog.efficiency import (
    FIT_BOUNDS,
    FITTED_KEYS,
    Efficiency,
    builtin_efficiency,
    read_efficiency_rows,
)
from inferplan.sizing import calibration
from inferplan.sizing.calibration import (
    CalibrationRow,
    calibration_digest,
    fit_loss,
    load_calibration_rows,
    median_absolute_error,
    publisher,
    row_errors,
    setup,
    worst_ratio,
)
from inferplan.sizing.confidence import builtin_accuracy

SIZING_DIR = Path(calibration.__file__).parent
ROWS = load_calibration_rows()
REAL_DATE = re.compile(r"^20\d\d-(0[1-9]|1[0-2])(-\d\d)?$")


def test_the_calibration_set_is_broad() -> None:
    catalog_ = calibration.builtin_catalog()
    models = {catalog_.find_model(r.model) for r in ROWS}
    architectures = {m.architecture_id for m in models}
    moe = {m.architecture_id for m in models if m.is_moe}
    assert len(ROWS) >= 40
    assert len({publisher(r.source) for r in ROWS}) >= 6
    assert len({catalog_.find_gpu(r.gpu).gpu for r in ROWS}) >= 5
    assert len(architectures) >= 10 and len(moe) >= 3
    assert sum(1 for r in ROWS if r.engine == "vllm") >= 10


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.label)
def test_every_row_says_where_and_how_it_was_measured(row: CalibrationRow, catalog: Catalog) -> None:
    assert REAL_DATE.match(row.as_of), row.as_of
    assert row.source.strip() and row.engine_version.strip() and row.token_mix.strip()
    assert row.gpus % row.tensor_parallel == 0
    assert row.measured_tokens_per_s > 0 and row.input_tokens > 0 and row.output_tokens > 0
    # Every row names a model and GPU the catalog knows (through aliases and spellings).
    catalog.find_model(row.model)
    catalog.find_gpu(row.gpu)


def test_each_fitted_class_is_fitted_on_more_than_one_row(catalog: Catalog) -> None:
    """Factors are per class (engine, generation, MoE kernels), never per row."""
    assert len(FITTED_KEYS) < len(ROWS) / 5
    engines = [r.engine for r in ROWS]
    generations = [catalog.find_gpu(r.gpu).generation for r in ROWS]
    moe_engines = [r.engine for r in ROWS if catalog.find_model(r.model).is_moe]
    for key in FITTED_KEYS:
        for prefix, members in (("engine_", engines), ("generation_", generations), ("moe_", moe_engines)):
            if key.startswith(prefix):
                assert members.count(key.removeprefix(prefix)) >= 2, key  # type: ignore[arg-type]


def _loss(factors: Efficiency, catalog: Catalog) -> float:
    return fit_loss([setup(r, factors, catalog) for r in ROWS], factors, catalog)


def test_stored_factors_are_the_fit_of_the_calibration_table(catalog: Catalog) -> None:
    """No fitted factor can move 3% either way and lower the fit's loss, and the stamp names this table
    (a refit from a neutral start takes half a minute: this check proves the same in a second).

    A model or table change without `python benchmarks/fit_throughput.py --write` fails here.
    """
    stored = builtin_efficiency()
    digest = calibration_digest()
    fitted_rows = [row for row in read_efficiency_rows() if row["key"] in FITTED_KEYS]
    assert all(f"digest {digest}" in row["source"] for row in fitted_rows), "refit: table changed"
    best = _loss(stored, catalog)
    for key in FITTED_KEYS:
        low, high = FIT_BOUNDS[key]
        value = getattr(stored, key)
        for moved in (value * 0.97, value * 1.03):
            if not low <= moved <= high or value == 0:
                continue
            loss = _loss(stored.model_copy(update={key: moved}), catalog)
            assert loss >= best - 1e-4, f"{key}={moved:.4f} fits better than the stored {value:.4f}"


def test_the_fit_explains_its_own_table() -> None:
    """In-sample: what the stored factors reach on the rows they were fitted on (held-out: the benchmark)."""
    errors = row_errors(ROWS)
    assert median_absolute_error(errors) <= 0.15
    assert worst_ratio(errors) <= 3.0


def test_the_error_bands_the_plan_reports_were_measured_on_this_table() -> None:
    accuracy = builtin_accuracy()
    assert set(accuracy) == {"dense", "moe"}
    for band in accuracy.values():
        assert band.calibration_digest == calibration_digest(), "run benchmarks/sizing_accuracy.py --write"
        assert band.method == "leave-one-model-out" and band.rows >= 10


def test_vllm_is_fitted_slower_than_tensorrt_llm() -> None:
    f = builtin_efficiency()
    assert f.engine_vllm < f.engine_trtllm == 1.0


@pytest.mark.parametrize(
    "module", sorted(p.name for p in SIZING_DIR.glob("*.py") if p.name != "calibration.py")
)
def test_the_sizing_engine_never_reads_measured_rows(module: str) -> None:
    """No lookup: only calibration.py (fit and report) may touch the measured table."""
    text = (SIZING_DIR / module).read_text()
    tree = ast.parse(text)
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert "inferplan.sizing.calibration" not in imported
    assert not {"CALIBRATION_FILE", "load_calibration_rows"} & names
    assert "throughput_calibration" not in text
