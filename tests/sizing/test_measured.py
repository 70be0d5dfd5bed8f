"""Measured beats modeled: a `vllm bench serve --save-result` JSON re-fits one model x GPU and reproduces itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inferplan.catalog import Catalog
from inferplan.catalog.efficiency import builtin_efficiency
from inferplan.cli import main
from inferplan.sizing.confidence import Adjustments, confidence_scale
from inferplan.sizing.measured import Measurement, MeasurementError, load_result, refit_scale, replay
from tests.sizing.conftest import LLAMA_8B, LLAMA_70B, gpu, model

# 2000 prompts of 1000 in / 200 out at request rate inf: more than the KV cache holds at once, so the
# server runs as full as `size` assumes.
RUN = {
    "num_prompts": 2000,
    "completed": 2000,
    "total_input_tokens": 2_000_000,
    "total_output_tokens": 400_000,
}


def bench_file(tmp_path: Path, output_throughput: float, **extra: Any) -> Path:
    """A result the way `vllm bench serve --save-result` writes it (the fields the re-fit reads, and others)."""
    doc = {
        "date": "20250901-120000", "backend": "vllm", "model_id": LLAMA_8B, "request_rate": "inf",
        "burstiness": 1.0, "max_concurrency": None, "duration": 400_000 / output_throughput,
        "request_throughput": 2000 / (400_000 / output_throughput), "output_throughput": output_throughput,
        "total_token_throughput": 6 * output_throughput, "mean_ttft_ms": 900.0, "mean_tpot_ms": 40.0,
        **RUN, **extra,
    }  # fmt: skip
    path = tmp_path / "result.json"
    path.write_text(json.dumps(doc))
    return path


def measurement(catalog: Catalog, path: Path) -> Measurement:
    return Measurement(load_result(path), gpu(catalog, "H100"), 1, "bf16")


def modeled(catalog: Catalog, tmp_path: Path) -> float:
    """What the model predicts for RUN on one H100 before any measurement."""
    probe = measurement(catalog, bench_file(tmp_path, 1000.0))
    return replay(model(catalog, LLAMA_8B), probe, 1.0, builtin_efficiency())


def test_refit_reproduces_the_measured_run(catalog: Catalog, tmp_path: Path) -> None:
    base = modeled(catalog, tmp_path)
    m = measurement(catalog, bench_file(tmp_path, 1.3 * base))
    scale = refit_scale(model(catalog, LLAMA_8B), m)
    assert scale > 1.0
    again = replay(model(catalog, LLAMA_8B), m, scale, builtin_efficiency())
    assert again == pytest.approx(1.3 * base, rel=0.05)


def size_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["size", *argv, "--format", "json"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_size_with_measured_reproduces_the_file_and_moves_other_mixes(
    catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    measured = 1.3 * modeled(catalog, tmp_path)
    path = bench_file(tmp_path, measured)
    same = ["--model", LLAMA_8B, "--gpu", "H100", "--max-context", "1200"]
    run_mix = ["--input-tokens", "1000", "--output-tokens", "200"]
    with_file = size_json(capsys, *same, *run_mix, "--measured", str(path))
    assert with_file["throughput_basis"] == "measured"
    assert with_file["output_tokens_per_s"] == pytest.approx(measured, rel=0.05)
    # Another workload on the same model and GPU moves the same way.
    other = ["--input-tokens", "200", "--output-tokens", "800"]
    before = size_json(capsys, *same, *other)
    after = size_json(capsys, *same, *other, "--measured", str(path))
    assert before["throughput_basis"] == "modeled"
    assert after["output_tokens_per_s"] > 1.1 * before["output_tokens_per_s"]


def test_a_measurement_on_another_gpu_does_not_apply(catalog: Catalog, tmp_path: Path) -> None:
    m = measurement(catalog, bench_file(tmp_path, 5000.0))
    adjust = Adjustments(measured={"chat": m})
    llama, h200 = model(catalog, LLAMA_8B), gpu(catalog, "H200")
    assert adjust.measured_on("chat", h200) is None
    assert adjust.scale("chat", llama, h200, builtin_efficiency()) == 1.0  # p50, modeled
    assert adjust.measured_on("chat", gpu(catalog, "H100")) is m


def test_p90_sizes_below_p50_by_the_class_error(catalog: Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    llama = model(catalog, LLAMA_70B)
    accuracy = Adjustments().accuracy
    assert confidence_scale(llama, "p50", accuracy) == 1.0
    assert confidence_scale(llama, "p90", accuracy) == pytest.approx(1 / accuracy["dense"].p90_ratio)
    argv = ["--model", LLAMA_70B, "--gpu", "H100", "--gpus", "8", "--quantization", "fp8", "--max-context", "8192"]  # fmt: skip
    p50 = size_json(capsys, *argv)
    p90 = size_json(capsys, *argv, "--confidence", "p90")
    assert p90["confidence"] == "p90" and p90["output_tokens_per_s"] < 0.95 * p50["output_tokens_per_s"]
    assert p50["throughput_error"] == pytest.approx(accuracy["dense"].median_abs_error, abs=0.0005)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "is not JSON"),
        ("[1, 2]", "holds list, not a vllm bench serve result"),
        (
            json.dumps({"completed": 10, "total_input_tokens": 100, "total_output_tokens": 100}),
            "output_throughput",
        ),
    ],
)
def test_a_bad_result_file_is_one_located_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "result.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(MeasurementError, match=message):
        load_result(path)
    assert main(["size", "--model", LLAMA_8B, "--gpu", "H100", "--measured", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --measured: ") and message in err and len(err.strip().splitlines()) == 1


def test_a_measurement_far_from_any_plausible_rate_is_refused(catalog: Catalog, tmp_path: Path) -> None:
    m = measurement(catalog, bench_file(tmp_path, 100 * modeled(catalog, tmp_path)))
    with pytest.raises(MeasurementError, match="more than 20x away"):
        refit_scale(model(catalog, LLAMA_8B), m)
