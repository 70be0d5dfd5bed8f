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

# DeepSeek-V3 by hand (config.json: hidden 7168, 61 layers, 128 heads, q_lora 1536, kv_lora 512, rope 64,
# nope 128, v 128, vocab 129280, 3 dense layers of FFN 18432, 58 MoE layers of 256 routed + 1 shared
# expert of FFN 2048).
DS_TABLE = 129280 * 7168  # embedding, and again the untied lm_head
DS_EXPERT = 3 * 7168 * 2048  # one gated expert
DS_ROUTED = 58 * 256 * DS_EXPERT
DS_SHARED = 58 * 1 * DS_EXPERT
DS_ATTENTION = 61 * (
    7168 * 1536 + 1536 + 1536 * 128 * (128 + 64)  # low-rank q (with its norm)
    + 7168 * (512 + 64) + 512 + 512 * 128 * (128 + 128)  # low-rank kv (with its norm)
    + 128 * 128 * 7168  # o
)  # fmt: skip
DS_DENSE = 3 * 3 * 7168 * 18432
DS_ROUTER = 58 * 7168 * 256
DS_NORMS = (2 * 61 + 1) * 7168
DS_TOTAL = 2 * DS_TABLE + DS_ATTENTION + DS_DENSE + DS_ROUTED + DS_SHARED + DS_ROUTER + DS_NORMS
FP8_BYTES = (8 + 32 / (128 * 128)) / 8  # one fp32 scale per 128x128 block


def test_llama_8b_kv_is_128_kib_per_token_in_bf16(catalog: Catalog) -> None:
    # 2 (K and V) x 32 layers x 8 KV heads x 128 dims x 2 bytes
    assert kv_bytes_per_token(model(catalog, LLAMA_8B)) == 2 * 32 * 8 * 128 * 2 == 128 * 1024


def test_fp8_kv_cache_halves_it(catalog: Catalog) -> None:
    assert kv_bytes_per_token(model(catalog, LLAMA_8B), "fp8") == 2 * 32 * 8 * 128 * 1 == 64 * 1024


def test_llama_70b_kv_is_320_kib_per_token(catalog: Catalog) -> None:
    assert kv_bytes_per_token(model(catalog, LLAMA_70B)) == 2 * 80 * 8 * 128 * 2 == 320 * 1024


def test_deepseek_v3_caches_one_latent_per_layer(catalog: Catalog) -> None:
    # MLA: kv_lora_rank 512 + qk_rope_head_dim 64 values per layer per token, bf16, 61 layers
    assert kv_bytes_per_token(model(catalog, DEEPSEEK_V3)) == 61 * 576 * 2 == 70272


def test_fp8_kv_halves_the_mla_latent_too(catalog: Catalog) -> None:
    assert kv_bytes_per_token(model(catalog, DEEPSEEK_V3), "fp8") == 61 * 576 * 1 == 35136


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
    # 2 x 128256 x 4096 (embedding, head) + 32 x (4096 x 4096 x 2 + 4096 x 1024 x 2 + 3 x 4096 x 14336)
    # + 65 x 4096 norms = 8,030,261,248 parameters; vLLM logs "model weights take 14.96GiB" for Llama-3-8B.
    params = 2 * 128256 * 4096 + 32 * (4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 14336) + 65 * 4096
    assert weights(model(catalog, LLAMA_8B), "bf16").total_bytes == params * 2
    assert weights(model(catalog, LLAMA_8B), "bf16").gib == pytest.approx(14.96, abs=0.01)


def test_int4_keeps_embeddings_and_head_in_bf16_and_pays_for_group_scales(catalog: Catalog) -> None:
    embed_and_head = 2 * 128256 * 8192  # untied
    norms = (2 * 80 + 1) * 8192
    layers = 80 * (8192 * 8192 * 2 + 8192 * 1024 * 2 + 3 * 8192 * 28672)
    expected = (embed_and_head + norms) * 2 + layers * (4 + 20 / 128) / 8  # fp16 scale + 4-bit zero per 128
    assert weights(model(catalog, LLAMA_70B), "int4").total_bytes == pytest.approx(expected)
    assert weights(model(catalog, LLAMA_70B), "int4").gib == pytest.approx(37.04, abs=0.01)


def test_gpt_oss_quantizes_only_its_experts_to_mxfp4(catalog: Catalog) -> None:
    experts = 36 * 128 * 3 * 2880 * 2880  # 114.66B routed-expert parameters
    experts_bytes = experts * 4.25 / 8  # 4 bits + one 8-bit scale per 32 values
    rest = 2 * 201088 * 2880 + 36 * (2880 * 4096 * 2 + 2880 * 512 * 2) + 36 * 2880 * 128 + 73 * 2880
    assert weights(model(catalog, GPT_OSS_120B), "mxfp4").total_bytes == pytest.approx(
        experts_bytes + rest * 2
    )
    assert weights(model(catalog, GPT_OSS_120B), "mxfp4").gib == pytest.approx(60.69, abs=0.01)


def test_deepseek_v3_counts_its_shared_expert_with_the_dense_part(catalog: Catalog) -> None:
    ds = model(catalog, DEEPSEEK_V3)
    w = weights(ds, "fp8")
    # fp8 for every linear layer, bf16 for embedding, head and norms
    assert w.total_bytes == pytest.approx(
        (DS_TOTAL - 2 * DS_TABLE - DS_NORMS) * FP8_BYTES + (2 * DS_TABLE + DS_NORMS) * 2
    )
    assert w.expert_bytes == pytest.approx(DS_ROUTED * FP8_BYTES)  # routed experts only
    # Every decode step streams the shared expert (with attention, dense layers, router and head),
    # but not the routed experts nor the embedding table.
    streamed = (DS_ATTENTION + DS_DENSE + DS_SHARED + DS_ROUTER) * FP8_BYTES + (DS_TABLE + DS_NORMS) * 2
    assert w.dense_read_bytes == pytest.approx(streamed)
    assert pytest.approx(671.03e9, rel=1e-4) == DS_TOTAL  # the model card's 671B
    assert w.gib == pytest.approx(626.82, abs=0.01)


def test_fp8_is_about_half_of_bf16(catalog: Catalog) -> None:
    llama = model(catalog, LLAMA_70B)
    ratio = weights(llama, "fp8").total_bytes / weights(llama, "bf16").total_bytes
    assert 0.5 < ratio < 0.53  # the bf16 embeddings and head keep it above one half


def test_nvfp4_stores_4_5_bits_per_weight(catalog: Catalog) -> None:
    llama = model(catalog, LLAMA_70B)
    embed_and_head, norms = 2 * 128256 * 8192, (2 * 80 + 1) * 8192
    layers = 80 * (8192 * 8192 * 2 + 8192 * 1024 * 2 + 3 * 8192 * 28672)
    # 4-bit E2M1 values with one FP8 scale per block of 16
    assert weights(llama, "nvfp4").total_bytes == pytest.approx(
        (embed_and_head + norms) * 2 + layers * 4.5 / 8
    )


def test_checkpoint_size_is_the_native_precision(catalog: Catalog) -> None:
    # DeepSeek-V3 ships fp8 (626.8 GiB without its MTP module); Llama 3.3 70B ships bf16:
    # 70,553,706,496 parameters x 2 bytes.
    assert checkpoint_gib(model(catalog, DEEPSEEK_V3)) == pytest.approx(626.82, abs=0.01)
    assert checkpoint_gib(model(catalog, LLAMA_70B)) == pytest.approx(70_553_706_496 * 2 / GIB)
    # Its -FP8 checkpoint: 68,451,041,280 linear parameters at fp8 (block scales) + 2,102,665,216 in bf16.
    fp8 = (68_451_041_280 * FP8_BYTES + 2_102_665_216 * 2) / GIB
    assert checkpoint_gib(catalog.models["nvidia/Llama-3.3-70B-Instruct-FP8"]) == pytest.approx(fp8)
    assert fp8 == pytest.approx(67.68, abs=0.01)


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


def test_fp8_kv_cache_doubles_the_sequences_that_fit(catalog: Catalog) -> None:
    llama, h100 = model(catalog, LLAMA_70B), gpu(catalog, "H100")
    bf16 = plan_memory(llama, h100, "int4", tp=1, max_context=8192)
    fp8 = plan_memory(llama, h100, "int4", tp=1, max_context=8192, kv_cache_dtype="fp8")
    assert fp8.kv_cache_gib == bf16.kv_cache_gib  # the same budget ...
    assert fp8.sequence_gib == 1.25  # ... of 8192 x 160 KiB sequences instead of 2.5 GiB ones
    assert fp8.max_concurrency == math.floor(bf16.kv_cache_gib / 1.25)


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
    assert plan.needed_gib_per_gpu > 131  # at least the 131.4 GiB of bf16 weights


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
