"""`vllm serve` arguments: exact flags, only documented ones, --quantization only where needed."""

from __future__ import annotations

from inferplan.catalog import Catalog, Precision
from inferplan.plan import VLLM_PORT
from inferplan.sizing.memory import KvCacheDtype
from inferplan.sizing.split import Sizing, size_model
from inferplan.sizing.throughput import Slo, TokenMix
from inferplan.sizing.vllm_args import quantization_flag, vllm_args
from tests.sizing.conftest import DEEPSEEK_V3, GPT_OSS_120B, LLAMA_8B, LLAMA_70B, gpu, model

# Flags of `vllm serve` (vLLM engine arguments, docs.vllm.ai "Engine Arguments"); values checked there:
# --quantization takes a QuantizationMethods name (fp8, awq_marlin, compressed-tensors, mxfp4, ...),
# --kv-cache-dtype takes auto|bfloat16|fp8|..., --data-parallel-size (-dp) runs DP engines behind one server.
DOCUMENTED_FLAGS = {
    "--served-model-name",
    "--tensor-parallel-size",
    "--data-parallel-size",
    "--max-model-len",
    "--gpu-memory-utilization",
    "--quantization",
    "--kv-cache-dtype",
    "--max-num-seqs",
    "--port",
}
QUANTIZATION_CHOICES = {"fp8", "awq_marlin", "compressed-tensors", "mxfp4"}


def sized(
    catalog: Catalog,
    model_id: str,
    gpu_name: str,
    gpus: int,
    precision: Precision,
    max_context: int,
    slo: Slo | None = None,
    kv_cache_dtype: KvCacheDtype = "auto",
) -> Sizing:
    m, g = model(catalog, model_id), gpu(catalog, gpu_name)
    return size_model(
        m, g, gpus, precision, TokenMix(1000, 200), max_context, slo=slo, kv_cache_dtype=kv_cache_dtype
    )


def as_dict(args: tuple[str, ...]) -> dict[str, str]:
    assert len(args) % 2 == 0, args  # every flag takes exactly one value
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    assert set(pairs) <= DOCUMENTED_FLAGS, set(pairs) - DOCUMENTED_FLAGS
    return pairs


def test_llama_70b_fp8_on_eight_h100s(catalog: Catalog) -> None:
    s = sized(catalog, LLAMA_70B, "H100", 8, "fp8", max_context=16384)
    args = vllm_args("llama-70b", model(catalog, LLAMA_70B), s)
    assert args == (
        "--served-model-name", "llama-70b",
        "--tensor-parallel-size", "2",
        "--data-parallel-size", "4",
        "--max-model-len", "16384",
        "--gpu-memory-utilization", "0.90",
        "--quantization", "fp8",
        "--max-num-seqs", str(s.replica.batch),
        "--port", str(VLLM_PORT),
    )  # fmt: skip
    as_dict(args)


def test_one_replica_has_no_data_parallel_flag(catalog: Catalog) -> None:
    s = sized(catalog, LLAMA_8B, "H100", 1, "bf16", max_context=8192)
    pairs = as_dict(vllm_args("llama-8b", model(catalog, LLAMA_8B), s))
    assert "--data-parallel-size" not in pairs and "--quantization" not in pairs
    assert pairs["--tensor-parallel-size"] == "1" and pairs["--port"] == "8000"


def test_quantization_flag_only_where_the_checkpoint_is_not_already_quantized(catalog: Catalog) -> None:
    llama, oss, deepseek = (
        model(catalog, LLAMA_70B),
        model(catalog, GPT_OSS_120B),
        model(catalog, DEEPSEEK_V3),
    )
    assert quantization_flag(llama, "bf16") is None
    assert quantization_flag(llama, "fp8") == "fp8"  # online dynamic FP8 of the bf16 weights
    assert quantization_flag(llama, "int4") == "awq_marlin"  # an AWQ checkpoint, Marlin kernels
    assert quantization_flag(llama, "int8") == "compressed-tensors"  # a W8A8 checkpoint
    assert quantization_flag(oss, "mxfp4") is None  # gpt-oss ships in MXFP4
    assert quantization_flag(deepseek, "fp8") is None  # DeepSeek-V3 ships in FP8
    assert {quantization_flag(llama, p) for p in ("fp8", "int4", "int8")} <= QUANTIZATION_CHOICES


def test_fp8_kv_cache_is_passed_when_chosen(catalog: Catalog) -> None:
    s = sized(catalog, LLAMA_8B, "L40S", 1, "fp8", max_context=8192, kv_cache_dtype="fp8")
    assert as_dict(vllm_args("llama-8b", model(catalog, LLAMA_8B), s))["--kv-cache-dtype"] == "fp8"


def test_max_num_seqs_is_the_slo_capped_batch(catalog: Catalog) -> None:
    free = sized(catalog, LLAMA_70B, "H100", 1, "int4", max_context=8192)
    capped = sized(catalog, LLAMA_70B, "H100", 1, "int4", max_context=8192, slo=Slo(tpot_ms=40))
    seqs = int(as_dict(vllm_args("m", model(catalog, LLAMA_70B), capped))["--max-num-seqs"])
    assert seqs == capped.replica.batch < free.replica.batch


def test_a_model_that_does_not_fit_gets_no_arguments(catalog: Catalog) -> None:
    s = sized(catalog, LLAMA_70B, "L4", 1, "bf16", max_context=4096)
    assert not s.fits and vllm_args("m", model(catalog, LLAMA_70B), s) == ()
