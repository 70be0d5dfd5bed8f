"""The roofline behaves like the hardware: decode follows bandwidth, prefill follows FLOPs, SLOs cap batch."""

from __future__ import annotations

import pytest

from inferplan.catalog import Catalog, Precision
from inferplan.catalog.efficiency import builtin_efficiency
from inferplan.sizing.memory import kv_bytes_per_sequence, plan_memory, weights
from inferplan.sizing.throughput import (
    ReplicaThroughput,
    Slo,
    TokenMix,
    _replica,
    kv_batch_limit,
    peak_flops,
    replica_throughput,
)
from tests.sizing.conftest import LLAMA_8B, LLAMA_70B, QWEN_235B, gpu, model

DECODE_HEAVY = TokenMix(100, 1000)
PREFILL_HEAVY = TokenMix(2048, 128)


def throughput(
    catalog: Catalog,
    model_id: str,
    gpu_name: str,
    precision: Precision,
    mix: TokenMix,
    slo: Slo | None = None,
    max_num_seqs: int | None = None,
) -> ReplicaThroughput:
    """One replica at TP 1 with max_context 8192."""
    m, g = model(catalog, model_id), gpu(catalog, gpu_name)
    memory = plan_memory(m, g, precision, 1, 8192)
    return replica_throughput(m, g, precision, 1, memory.kv_cache_gib, mix, slo, max_num_seqs=max_num_seqs)


def test_peak_uses_fp8_units_only_where_the_gpu_has_them(catalog: Catalog) -> None:
    assert peak_flops(gpu(catalog, "H100"), "fp8") == 1978e12
    assert peak_flops(gpu(catalog, "A100-80GB"), "fp8") == 312e12  # Ampere: FP8 weights, BF16 math
    assert peak_flops(gpu(catalog, "H100"), "int4") == 989e12  # weight-only: dequantize, BF16 math
    assert peak_flops(gpu(catalog, "A100-80GB"), "int8") == 624e12


def test_single_stream_decode_is_bound_by_streaming_the_weights(catalog: Catalog) -> None:
    f = builtin_efficiency()
    llama, h100 = model(catalog, LLAMA_70B), gpu(catalog, "H100")
    one = throughput(catalog, LLAMA_70B, "H100", "int4", TokenMix(1, 1000), max_num_seqs=1)
    read = weights(llama, "int4").dense_read_bytes + kv_bytes_per_sequence(llama, 500)
    bound_ms = (
        read / (h100.memory_bandwidth_tb_s * 1e12 * f.bandwidth_efficiency * f.vllm_engine_factor) * 1000
    )
    assert one.batch == 1
    assert one.tpot_ms == pytest.approx(bound_ms + f.step_overhead_ms, rel=0.05)


def test_moe_decode_reads_only_active_experts_at_batch_one_and_all_of_them_at_scale(catalog: Catalog) -> None:
    qwen, h200 = model(catalog, QWEN_235B), gpu(catalog, "H200")
    r = _replica(qwen, h200, "fp8", 8, "auto", "vllm", builtin_efficiency())
    total = weights(qwen, "fp8")
    assert r.weight_bytes_read(1) < 0.15 * total.total_bytes  # 8 of 128 experts + dense part
    assert r.weight_bytes_read(512) == pytest.approx(total.dense_read_bytes + total.expert_bytes, rel=0.01)


def test_batching_raises_throughput_and_stretches_time_per_token(catalog: Catalog) -> None:
    results = [
        throughput(catalog, LLAMA_8B, "H100", "bf16", TokenMix(1000, 1000), max_num_seqs=b)
        for b in (1, 8, 64)
    ]
    assert [r.output_tokens_per_s for r in results] == sorted(r.output_tokens_per_s for r in results)
    assert [r.tpot_ms for r in results] == sorted(r.tpot_ms for r in results)
    assert results[2].output_tokens_per_s > 10 * results[0].output_tokens_per_s


def test_batch_is_limited_by_the_kv_cache(catalog: Catalog) -> None:
    llama, h100 = model(catalog, LLAMA_70B), gpu(catalog, "H100")
    memory = plan_memory(llama, h100, "int4", 1, 8192)
    mix = TokenMix(800, 200)
    result = replica_throughput(llama, h100, "int4", 1, memory.kv_cache_gib, mix)
    per_sequence = kv_bytes_per_sequence(llama, 1000)  # prompt + completion held at once
    assert result.batch == kv_batch_limit(llama, memory.kv_cache_gib, mix, 1)
    assert result.batch == int(memory.kv_cache_gib * 2**30 // per_sequence)
    assert result.batch_limit == "kv-cache"


def test_decode_heavy_work_follows_bandwidth_and_prefill_heavy_work_follows_flops(catalog: Catalog) -> None:
    # H200 has 1.43x the bandwidth of H100 and the same dense FLOPs.
    decode = [
        throughput(catalog, LLAMA_8B, g, "fp8", DECODE_HEAVY, max_num_seqs=64) for g in ("H100", "H200")
    ]
    prefill = [throughput(catalog, LLAMA_8B, g, "fp8", PREFILL_HEAVY) for g in ("H100", "H200")]
    assert decode[1].output_tokens_per_s / decode[0].output_tokens_per_s > 1.25
    assert prefill[1].output_tokens_per_s / prefill[0].output_tokens_per_s < 1.15


def test_a_gpu_the_catalog_never_measured_is_sized_from_its_specs(catalog: Catalog) -> None:
    h100 = gpu(catalog, "H100")
    twice = h100.model_copy(
        update={"gpu": "H100x2bw", "memory_bandwidth_tb_s": 2 * h100.memory_bandwidth_tb_s}
    )
    llama = model(catalog, LLAMA_8B)
    memory = plan_memory(llama, h100, "fp8", 1, 8192)
    base = replica_throughput(llama, h100, "fp8", 1, memory.kv_cache_gib, DECODE_HEAVY, max_num_seqs=32)
    fast = replica_throughput(llama, twice, "fp8", 1, memory.kv_cache_gib, DECODE_HEAVY, max_num_seqs=32)
    assert fast.output_tokens_per_s / base.output_tokens_per_s > 1.6


def test_tpot_slo_caps_the_batch_and_is_met(catalog: Catalog) -> None:
    free = throughput(catalog, LLAMA_70B, "H100", "int4", TokenMix(800, 200))
    capped = throughput(catalog, LLAMA_70B, "H100", "int4", TokenMix(800, 200), slo=Slo(tpot_ms=50))
    assert free.tpot_ms > 50
    assert capped.tpot_ms <= 50 and capped.meets_slo and capped.batch_limit == "tpot-slo"
    assert capped.batch < free.batch and capped.output_tokens_per_s < free.output_tokens_per_s
    one_more = throughput(
        catalog, LLAMA_70B, "H100", "int4", TokenMix(800, 200), max_num_seqs=capped.batch + 1
    )
    assert one_more.tpot_ms > 50  # the largest batch that meets it, not just one that does


def test_an_unmeetable_ttft_is_reported_not_hidden(catalog: Catalog) -> None:
    result = throughput(catalog, LLAMA_70B, "H100", "int4", TokenMix(8000, 100), slo=Slo(ttft_ms=50))
    assert not result.meets_slo and result.batch == 1 and result.ttft_ms > 50


def test_seed_000_seventy_b_at_4_bit_on_one_h100(catalog: Catalog) -> None:
    """Seed 000: "an H100 running a 70B model at 4-bit ... 50-80 calls per minute" for 800 in / 200 out.

    At maximum throughput one H100 does about twice that (~150/min, 94 sequences at once, KV-bound);
    50-80/min is what it does when callers stream at ~30 ms per token (a batch of ~6).
    """
    mix = TokenMix(800, 200)
    best = throughput(catalog, LLAMA_70B, "H100", "int4", mix)
    interactive = throughput(catalog, LLAMA_70B, "H100", "int4", mix, slo=Slo(tpot_ms=30))
    print(
        f"\nseed 000: max throughput {best.calls_per_min:.0f} calls/min (batch {best.batch}, TPOT {best.tpot_ms:.0f} ms)"
    )
    print(f"seed 000: TPOT <= 30 ms {interactive.calls_per_min:.0f} calls/min (batch {interactive.batch})")
    assert 100 < best.calls_per_min < 250
    assert 50 <= interactive.calls_per_min <= 80
