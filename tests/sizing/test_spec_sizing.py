"""The spec's sizing inputs reach the plan: `sizing.confidence`, `models[].config_json`, `models[].measured`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inferplan.catalog import builtin_catalog
from inferplan.catalog.efficiency import builtin_efficiency
from inferplan.errors import SpecInputError
from inferplan.plan import ModelPlan
from inferplan.sizing.measured import Measurement, load_result, replay
from inferplan.sizing.replicas import plan_models
from inferplan.spec import Platform
from tests.conftest import stack_config
from tests.sizing.conftest import LLAMA_8B
from tests.sizing.test_hf_config import QWEN25_7B
from tests.sizing.test_measured import bench_file


def dev_plan(edit: Any = None) -> ModelPlan:
    """The dev stack's one model (Llama 3.1 8B on one L40S), after `edit` of its spec."""
    spec = stack_config("dev")["inferplan:platform"]
    if edit is not None:
        edit(spec)
    platform = Platform.model_validate(spec)
    models, _ = plan_models(platform, builtin_catalog().with_overrides(platform.catalog))
    return models[0]


def test_p90_sizes_fewer_calls_per_node_than_p50() -> None:
    p50 = dev_plan()
    p90 = dev_plan(lambda s: s.update(sizing={"confidence": "p90"}))
    assert (p50.confidence, p90.confidence) == ("p50", "p90")
    assert p90.calls_per_min < 0.95 * p50.calls_per_min
    assert p50.throughput_basis == "modeled" and 0 < p50.throughput_error < 1


def test_a_model_outside_the_catalog_is_sized_from_its_config_json(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(QWEN25_7B))

    def private(spec: dict[str, Any]) -> None:
        spec["models"][0].update(model="acme/qwen-7b-support", config_json=str(config), quantization=None)

    plan = dev_plan(private)
    assert plan.model_id == "acme/qwen-7b-support" and plan.fits
    assert plan.weights_gib == pytest.approx(14.19, abs=0.02)  # Qwen2.5-7B's 7.62B parameters in bf16


def test_a_measured_result_resizes_its_model(tmp_path: Path) -> None:
    modeled = dev_plan()
    # A run on the pool's GPU (L40S) twice as fast as the model predicts for it.
    catalog = builtin_catalog()
    probe = Measurement(load_result(bench_file(tmp_path, 1.0)), catalog.gpus["L40S"], 1, "bf16")
    predicted = replay(catalog.models[LLAMA_8B], probe, 1.0, builtin_efficiency())
    path = bench_file(tmp_path, 2 * predicted)

    def measured(spec: dict[str, Any]) -> None:
        spec["models"][0]["measured"] = str(path)

    plan = dev_plan(measured)
    assert plan.throughput_basis == "measured"
    assert plan.calls_per_min > 1.3 * modeled.calls_per_min


def test_a_bad_measured_file_is_located_in_the_spec(tmp_path: Path) -> None:
    def missing(spec: dict[str, Any]) -> None:
        spec["models"][0]["measured"] = {"file": str(tmp_path / "nope.json"), "gpu": "L40S"}

    with pytest.raises(SpecInputError) as error:
        dev_plan(missing)
    assert error.value.path == ("models", 0, "measured", "file")
    assert "cannot read" in error.value.message
