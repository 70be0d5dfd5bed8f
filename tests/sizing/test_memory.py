"""Memory math pinned to numbers worked out by hand from each model's config.json."""

from __future__ import annotations

import math

import pytest

from inferplan.catalog import Catalog
from inferplan.catalog.efficiency import builtin_efficiency
from inferplan.sizing.memory import (
    GIB,
    checkpoint_gib,
    kv_bytes_per_sequence,
    kv_bytes_per_token,
    plan_memory,
    runtime_overhead_gib,
    weights,
)
from tests.sizing.conftest import DEEPSEEK_V3, GPT_OSS_120B, LLAMA_8B, LLAMA_70B, QWEN_235B, SCOUT, gpu, model


def test_llama_8b_kv_is_128_kib_per_token_in_bf16(catalog: Catalog) -> None:
    # 2 (K and V) x 32 layers x 8 KV heads x 128 dims x 2 bytes
    assert kv_bytes_per_token(model(catalog, LLAMA_8B)) == 2 * 32 * 8 * 128 * 2 == 128 * 1024


def test_fp8_kv_cache_halves_it(catalog: Catalog) -> None:
    assert kv_bytes_per_token(model(catalog, LLAMA_8B), "fp8") == 64 * 1024


def test_llama_70b_kv_is_320_kib_per_token(catalog: Catalog) -> None:
    assert kv_bytes_per_token(model(catalog, LLAMA_70B)) == 2 * 80 * 8 * 128 * 2 == 320 * 1024


def test_deepseek_v3_caches_one_latent_per_layer(catalog: Catalog) -> None:
    # MLA: kv_lora_rank 512 + qk_rope_head_dim 64 values per layer per token, bf16, 61 layers
    assert kv_bytes_per_token(model(catalog, DEEPSEEK_V3)) == 61 * 576 * 2 == 70272


def test_mla_latent_is_replicated_on_every_tp_rank(catalog: Catalog) -> None:
    # vLLM keeps the whole latent on each rank: TP 8 holds 8 copies, it does not split it.
    assert kv_bytes_per_token(model(catalog, DEEPSEEK_V3), tp=8) == 8 * 61 * 576 * 2


def test_gqa_heads_are_replicated_when_tp_exceeds_them(catalog: Catalog) -> None:
    qwen = model(catalog, QWEN_235B)  # 4 KV heads, 94 layers
    assert kv_bytes_per_token(qwen, tp=2) == 2 * 94 * 4 * 128 * 2
    assert kv_bytes_per_token(qwen, tp=8) == 2 * 94 * 8 * 128 * 2  # each of 8 ranks holds one head


def test_gpt_oss_sliding_layers_stop_at_their_window(catalog: Catalog) -> None:
    oss = model(catalog, GPT_OSS_120B)  # 36 layers, 18 with a 128-token window; 8 KV heads x 64 dims
    per_layer = 2 * 8 * 64 * 2
    assert kv_bytes_per_token(oss) == 18 * per_layer  # only full-attention layers keep growing
    assert kv_bytes_per_sequence(oss, 100) == 36 * 100 * per_layer  # window not reached yet
    assert kv_bytes_per_sequence(oss, 131072) == per_layer * (18 * 131072 + 18 * 128)
    # About half of a model without windows: 131072 tokens take 4.5 GiB, not 9.
    assert kv_bytes_per_sequence(oss, 131072) / GIB == pytest.approx(4.504, abs=0.001)


def test_llama4_scout_chunked_layers_hold_at_most_one_chunk(catalog: Catalog) -> None:
    scout = model(catalog, SCOUT)  # 48 layers, 3 of 4 with chunked attention of 8192
    per_layer = 2 * 8 * 128 * 2
    assert kv_bytes_per_sequence(scout, 100_000) == per_layer * (12 * 100_000 + 36 * 8192)


def test_llama_8b_bf16_weights_match_vllms_log(catalog: Catalog) -> None:
    # 8.03e9 parameters x 2 bytes; vLLM logs "model weights take 14.96GiB" for Llama-3-8B.
    assert weights(model(catalog, LLAMA_8B), "bf16").gib == pytest.approx(8.03e9 * 2 / GIB)
    assert weights(model(catalog, LLAMA_8B), "bf16").gib == pytest.approx(14.96, abs=0.01)


def test_int4_keeps_embeddings_and_head_in_bf16_and_pays_for_group_scales(catalog: Catalog) -> None:
    embed_and_head = 2 * 128256 * 8192  # untied
    norms = (2 * 80 + 1) * 8192
    linear = 70.6e9 - embed_and_head - norms
    expected = (embed_and_head + norms) * 2 + linear * (4 + 20 / 128) / 8  # fp16 scale + 4-bit zero per 128
    assert weights(model(catalog, LLAMA_70B), "int4").total_bytes == pytest.approx(expected)
    assert weights(model(catalog, LLAMA_70B), "int4").gib == pytest.approx(37.06, abs=0.01)


def test_gpt_oss_quantizes_only_its_experts_to_mxfp4(catalog: Catalog) -> None:
    experts = 114.71e9 * 4.25 / 8  # 4 bits + one 8-bit scale per 32 values
    rest = (116.8e9 - 114.71e9) * 2  # attention, router, embeddings in bf16
    assert weights(model(catalog, GPT_OSS_120B), "mxfp4").total_bytes == pytest.approx(experts + rest)
    assert weights(model(catalog, GPT_OSS_120B), "mxfp4").gib == pytest.approx(60.65, abs=0.01)


def test_fp8_is_about_half_of_bf16(catalog: Catalog) -> None:
    llama = model(catalog, LLAMA_70B)
    ratio = weights(llama, "fp8").total_bytes / weights(llama, "bf16").total_bytes
    assert 0.5 < ratio < 0.53  # the bf16 embeddings and head keep it above one half


def test_checkpoint_size_is_the_native_precision(catalog: Catalog) -> None:
    assert checkpoint_gib(model(catalog, DEEPSEEK_V3)) == weights(model(catalog, DEEPSEEK_V3), "fp8").gib
    assert checkpoint_gib(model(catalog, LLAMA_70B)) == weights(model(catalog, LLAMA_70B), "bf16").gib


def test_runtime_overhead_grows_with_tp_and_hidden_size(catalog: Catalog) -> None:
    f = builtin_efficiency()
    small, big = model(catalog, LLAMA_8B), model(catalog, LLAMA_70B)
    assert runtime_overhead_gib(small, 2) - runtime_overhead_gib(small, 1) == pytest.approx(f.tp_extra_gib)
    assert runtime_overhead_gib(big, 1) > runtime_overhead_gib(small, 1)
    # Activation peak for the 8B at 8192 tokens is about the 1.26 GiB vLLM measured.
    activation = runtime_overhead_gib(small, 1) - f.non_torch_gib - f.cuda_graph_gib
    assert activation == pytest.approx(1.26, abs=0.05)


def test_kv_budget_is_what_gpu_memory_utilization_leaves(catalog: Catalog) -> None:
    llama, h100 = model(catalog, LLAMA_70B), gpu(catalog, "H100")
    plan = plan_memory(llama, h100, "int4", tp=1, max_context=8192, gpu_memory_utilization=0.9)
    expected_kv = 79.22 * 0.9 - weights(llama, "int4").gib - runtime_overhead_gib(llama, 1)
    assert plan.kv_cache_gib == pytest.approx(expected_kv)
    assert plan.sequence_gib == pytest.approx(8192 * 320 * 1024 / GIB) == 2.5
    assert plan.max_concurrency == math.floor(expected_kv / 2.5)
    assert plan.fits


def test_tensor_parallel_splits_weights_over_more_memory(catalog: Catalog) -> None:
    llama, h100 = model(catalog, LLAMA_70B), gpu(catalog, "H100")
    one = plan_memory(llama, h100, "fp8", tp=1, max_context=16384)
    two = plan_memory(llama, h100, "fp8", tp=2, max_context=16384)
    assert not one.fits  # 67.7 GiB of fp8 weights leave no room in 71.3 GiB
    assert two.fits and two.max_concurrency >= 4


def test_max_context_that_fits_is_the_boundary(catalog: Catalog) -> None:
    llama, h100 = model(catalog, LLAMA_70B), gpu(catalog, "H100")
    plan = plan_memory(llama, h100, "int4", tp=1, max_context=131072)
    assert not plan.fits  # one 128k sequence (40 GiB) does not fit next to 37 GiB of weights
    limit = plan.max_context_that_fits(llama)
    budget = plan.kv_cache_gib * GIB
    assert kv_bytes_per_sequence(llama, limit) <= budget < kv_bytes_per_sequence(llama, limit + 1)
    assert plan_memory(llama, h100, "int4", tp=1, max_context=limit).fits
    assert not plan_memory(llama, h100, "int4", tp=1, max_context=limit + 1).fits


def test_needed_memory_is_reported_when_it_does_not_fit(catalog: Catalog) -> None:
    llama, l4 = model(catalog, LLAMA_70B), gpu(catalog, "L4")
    plan = plan_memory(llama, l4, "bf16", tp=1, max_context=4096)
    assert not plan.fits and plan.kv_cache_gib < 0
    assert plan.needed_gib_per_gpu > 131  # at least the 131.5 GiB of bf16 weights


def test_seed_003_h200_ladder_fits_rung_by_rung(catalog: Catalog) -> None:
    """Seed 003: one H200 serves gpt-oss-120b, two serve Qwen3-235B-A22B, eight serve DeepSeek-V3 (Q8/FP8)."""
    h200 = gpu(catalog, "H200")
    oss = plan_memory(model(catalog, GPT_OSS_120B), h200, "mxfp4", tp=1, max_context=131072)
    assert oss.fits and oss.max_concurrency >= 4  # comfortably: 13 full 128k contexts
    qwen = plan_memory(model(catalog, QWEN_235B), h200, "fp8", tp=2, max_context=40960)
    assert qwen.fits and qwen.max_concurrency < 4  # fits, but only ~20 GiB of KV are left at FP8
    qwen_int4 = plan_memory(model(catalog, QWEN_235B), h200, "int4", tp=2, max_context=40960)
    assert qwen_int4.kv_cache_gib > 5 * qwen.kv_cache_gib
    deepseek = plan_memory(model(catalog, DEEPSEEK_V3), h200, "fp8", tp=8, max_context=163840)
    assert deepseek.fits and deepseek.weights_gib > 600
    assert not plan_memory(model(catalog, DEEPSEEK_V3), h200, "fp8", tp=4, max_context=4096).fits
