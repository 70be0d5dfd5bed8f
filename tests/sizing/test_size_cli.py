"""`python -m inferplan size`: fields, exit codes, one-line errors, and the not-fitting case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inferplan.catalog import builtin_catalog
from inferplan.cli import main
from tests.sizing.conftest import LLAMA_8B, LLAMA_70B
from tests.sizing.test_hf_config import QWEN25_7B

FIELDS = {
    "fits",
    "tensor_parallel",
    "replicas",
    "weights_gib",
    "kv_cache_gib",
    "max_concurrency",
    "output_tokens_per_s",
    "calls_per_min",
}


def size_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["size", *argv, "--format", "json"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_issue_example_prints_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    doc = size_json(
        capsys, "--model", LLAMA_70B, "--gpu", "H100", "--gpus", "8", "--quantization", "fp8",
        "--input-tokens", "1000", "--output-tokens", "1000", "--max-context", "16384",
    )  # fmt: skip
    assert set(doc) >= FIELDS
    assert doc["fits"] is True and doc["tensor_parallel"] * doc["replicas"] == 8
    assert doc["tensor_parallel"] >= 2  # 67.7 GiB of fp8 weights do not fit one H100 with a KV cache
    assert doc["weights_gib"] > 60 and doc["kv_cache_gib"] > 0 and doc["max_concurrency"] >= 4
    assert doc["vllm_args"][:2] == ["--served-model-name", "llama-3.3-70b-instruct"]


def test_tp_is_the_smallest_with_a_useful_kv_budget(capsys: pytest.CaptureFixture[str]) -> None:
    # gpt-oss-120b's 60.6 GiB of weights leave one H100 7 GiB of KV: TP 1 would batch ~95 sequences.
    doc = size_json(
        capsys, "--model", "openai/gpt-oss-120b", "--gpu", "H100", "--gpus", "8", "--max-context", "32768"
    )
    options = {o["tensor_parallel"]: o for o in doc["tp_options"]}
    assert set(options) == {1, 2, 4, 8} and all(o["fits"] for o in options.values())
    best = max(o["output_tokens_per_s"] for o in options.values())
    assert options[1]["output_tokens_per_s"] < 0.5 * best  # KV-starved
    assert doc["tensor_parallel"] == 2
    assert doc["output_tokens_per_s"] == options[2]["output_tokens_per_s"] >= 0.9 * best


def test_totals_are_over_all_gpus(capsys: pytest.CaptureFixture[str]) -> None:
    one = size_json(capsys, "--model", LLAMA_8B, "--gpu", "H100", "--gpus", "1", "--max-context", "8192")
    eight = size_json(capsys, "--model", LLAMA_8B, "--gpu", "H100", "--gpus", "8", "--max-context", "8192")
    assert eight["replicas"] == 8 and eight["tensor_parallel"] == 1
    assert eight["output_tokens_per_s"] == pytest.approx(8 * one["output_tokens_per_s"], rel=1e-3)
    assert eight["calls_per_min"] == pytest.approx(8 * one["calls_per_min"], rel=1e-3)


def test_slo_flags_cap_the_batch(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--model", LLAMA_70B, "--gpu", "H100", "--quantization", "int4", "--max-context", "8192"]
    free = size_json(capsys, *base, "--input-tokens", "800", "--output-tokens", "200")
    slo = size_json(capsys, *base, "--input-tokens", "800", "--output-tokens", "200", "--tpot-ms", "40")
    assert slo["tpot_ms"] <= 40 < free["tpot_ms"] and slo["meets_slo"] is True
    assert 1 < slo["batch"] < free["batch"] and slo["batch_limit"] == "tpot-slo"
    assert slo["calls_per_min"] < free["calls_per_min"]


def test_an_slo_one_sequence_cannot_meet_is_reported_missed(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--model", LLAMA_70B, "--gpu", "H100", "--quantization", "int4", "--max-context", "8192"]
    doc = size_json(capsys, *base, "--input-tokens", "800", "--output-tokens", "200", "--tpot-ms", "5")
    assert doc["batch"] == 1 and doc["meets_slo"] is False and doc["tpot_ms"] > 5
    assert "even one sequence at a time" in doc["reason"]


def test_a_model_that_cannot_fit_says_so_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    doc = size_json(capsys, "--model", LLAMA_70B, "--gpu", "L4", "--gpus", "1", "--quantization", "bf16")
    assert doc["fits"] is False and doc["calls_per_min"] == 0 and doc["vllm_args"] == []
    assert doc["needed_gib_per_gpu"] > 131  # at least the bf16 weights
    assert "exceed" in doc["reason"]


def test_without_max_context_the_largest_that_fits_is_used_and_said(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 37.0 GiB of int4 weights + 5.3 GiB runtime leave 29 GiB of KV at 320 KiB/token: ~95K tokens.
    doc = size_json(capsys, "--model", LLAMA_70B, "--gpu", "H100", "--quantization", "int4")
    assert doc["fits"] is True and doc["context_lowered"] is True
    assert 90_000 < doc["max_context"] < 131072 == doc["model_max_context"]
    assert "the largest that fits" in doc["reason"]
    assert f"--max-model-len {doc['max_context']}" in " ".join(doc["vllm_args"])
    roomy = size_json(capsys, "--model", LLAMA_70B, "--gpu", "H200", "--quantization", "int4")
    assert roomy["context_lowered"] is False and roomy["max_context"] == 131072


def test_too_long_an_asked_context_names_the_one_that_fits(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--model", LLAMA_70B, "--gpu", "H100", "--quantization", "int4", "--max-context", "131072"]
    assert main(["size", *argv]) == 0
    out = capsys.readouterr().out
    assert "fits                 false" in out
    assert "one 131072-token sequence" in out and "max_context 94" in out
    assert "would fit: 2 x H100 in int4 (TP 2)" in out


def test_text_output_shows_the_vllm_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["size", "--model", LLAMA_8B, "--gpu", "L40S", "--max-context", "8192"]) == 0
    out = capsys.readouterr().out
    assert "calls_per_min" in out and f"vllm serve {LLAMA_8B} --served-model-name" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--model", "meta-llama/Llama-3.3-70B", "--gpu", "H100"],
            "did you mean 'meta-llama/Llama-3.3-70B-Instruct'",
        ),
        (["--model", LLAMA_70B, "--gpu", "H10"], "did you mean 'H100'"),
        (["--model", LLAMA_70B, "--gpu", "a100"], "'a100' is ambiguous: say which of A100-40GB or A100-80GB"),
        (
            ["--model", "openai/gpt-oss-120b", "--gpu", "H100", "--quantization", "fp8"],
            "not available in fp8",
        ),
        (
            ["--model", LLAMA_8B, "--gpu", "H100", "--max-context", "999999"],
            "exceeds the model's own maximum",
        ),
    ],
)
def test_invalid_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["size", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_python_dash_m_entry_point() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "inferplan", "size", "--model", "nope/model", "--gpu", "H100"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("error: --model: unknown model 'nope/model'")


@pytest.mark.parametrize(
    ("spelling", "gpu"),
    [("h100", "H100"), ("NVIDIA H100 80GB HBM3", "H100"), ("a100 80gb", "A100-80GB"), ("A10", "A10G")],
)
def test_common_gpu_spellings_are_accepted(
    capsys: pytest.CaptureFixture[str], spelling: str, gpu: str
) -> None:
    assert size_json(capsys, "--model", LLAMA_8B, "--gpu", spelling, "--max-context", "4096")["gpu"] == gpu


def test_ids_sharing_an_architecture_size_alike(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--gpu", "H100", "--gpus", "2", "--quantization", "fp8", "--max-context", "8192"]
    base = size_json(capsys, "--model", LLAMA_70B, *argv)
    alias = size_json(capsys, "--model", "meta-llama/llama-3.1-70b-instruct", *argv)  # any case
    assert alias["model"] == "meta-llama/Llama-3.1-70B-Instruct"
    assert (alias["weights_gib"], alias["output_tokens_per_s"]) == (
        base["weights_gib"],
        base["output_tokens_per_s"],
    )


def test_any_model_sizes_from_its_config_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(QWEN25_7B))
    doc = size_json(capsys, "--model", "me/qwen-7b-tune", "--model-config", str(config), "--gpu", "L4")
    # Qwen2.5-7B: 7.62B parameters in bf16 (14.2 GiB); 28 layers x 4 KV heads x 128 x 2 x 2 B per token.
    assert doc["model"] == "me/qwen-7b-tune" and doc["fits"] is True
    assert doc["weights_gib"] == pytest.approx(14.19, abs=0.02)
    assert doc["kv_bytes_per_token"] == 28 * 4 * 128 * 2 * 2
    assert main(["size", "--model-config", str(tmp_path / "nope.json"), "--gpu", "L4"]) == 2
    assert "--model-config: cannot read" in capsys.readouterr().err


def test_every_catalog_model_on_every_gpu_answers(capsys: pytest.CaptureFixture[str]) -> None:
    """Each pair on a full node either fits with a positive throughput or says why not and what would."""
    catalog = builtin_catalog()
    architectures = {m.architecture_id: m.id for m in catalog.models.values()}
    for model_id in architectures.values():
        context = str(min(8192, catalog.models[model_id].max_context))
        for gpu in catalog.gpus:
            doc = size_json(
                capsys, "--model", model_id, "--gpu", gpu, "--gpus", "8", "--max-context", context
            )
            if doc["fits"]:
                assert doc["output_tokens_per_s"] > 0 and doc["vllm_args"], (model_id, gpu)
            else:
                assert "exceed" in doc["reason"] and "would fit" in doc["reason"], (model_id, gpu)
