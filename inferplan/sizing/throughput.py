"""Roofline throughput of one replica: decode bound by memory bandwidth, prefill by compute.

A replica of `tp` GPUs serves B concurrent sequences of `input_tokens` in and `output_tokens` out.
Over the time T in which those B calls complete, the GPUs

- stream weights and KV cache once per decode step, `output_tokens` steps: per step the dense
  weights, the routed experts B tokens touch (1 - (1 - k/E)^B of them: only the active ones at batch
  1, all of them at large batch) and B sequences' KV at the average context I + O/2;
- compute 2 FLOPs per active parameter per token, prompt and output tokens alike, plus attention
  (MLA prefill runs un-absorbed, MLA decode absorbed into the latent, as vLLM and SGLang do);
- and add what does not overlap: tensor-parallel all-reduces (two per layer per token over NVLink or
  PCIe) and a per-step engine overhead.

Expert weights and FLOPs run at the engine's MoE kernel efficiency, a fraction of its dense GEMMs'.
Chunked prefill lets compute and memory time overlap, by the fitted `overlap_exponent` n:
T = (T_mem^n + T_comp^n)^(1/n) + T_comm + T_overhead (n = 1: they add; n large: the longer one wins).
Then output tokens/s = B x O / T and the time per output token a caller sees is TPOT = T / O.

The work (bytes, FLOPs, steps) is pure arithmetic on the architecture (`cycle_work`); the rates it
runs at are the GPU's peaks times fitted efficiencies of its class (generation, engine), and an
optional scale that a measured result re-fits for one model x GPU (`rates`). `cycle_seconds` joins
the two; the planner and the calibration fit call the same three functions.

B is the largest batch the KV cache holds (a running sequence holds its prompt and, on average, the
engine's share of its completion), capped by max-num-seqs and any concurrency limit, and — under a
latency SLO — the largest batch whose TPOT and TTFT still meet it. TTFT is the prompt's own compute
plus one decode step per scheduler chunk, without queueing (the autoscaler keeps queues short).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from inferplan.catalog import GpuEntry, ModelEntry, Precision
from inferplan.catalog.efficiency import Efficiency, Engine, builtin_efficiency
from inferplan.sizing.architecture import param_counts
from inferplan.sizing.memory import (
    GIB,
    KvCacheDtype,
    kv_bytes_per_sequence,
    moe_active_fraction,
    weights,
    windowed_layers,
)

BatchLimit = Literal["kv-cache", "max-num-seqs", "concurrency", "tpot-slo", "ttft-slo", "none"]


@dataclass(frozen=True)
class TokenMix:
    """Average tokens of one call: prompt in, completion out."""

    input_tokens: float
    output_tokens: float


@dataclass(frozen=True)
class Slo:
    """Latency targets in milliseconds; None means no target."""

    ttft_ms: float | None = None
    tpot_ms: float | None = None

    @property
    def declared(self) -> bool:
        return self.ttft_ms is not None or self.tpot_ms is not None


@dataclass(frozen=True)
class ReplicaThroughput:
    """What one replica sustains for one token mix, at the batch the limits allow."""

    batch: int  # concurrent sequences
    batch_limit: BatchLimit  # what stopped the batch from growing
    output_tokens_per_s: float
    calls_per_min: float
    ttft_ms: float
    tpot_ms: float
    meets_slo: bool  # False when even one sequence at a time misses the SLO


def peak_flops(gpu: GpuEntry, precision: Precision) -> float:
    """Dense tensor FLOP/s the GEMMs run at.

    FP8 and INT8 run on their own tensor units where the GPU has them. NVFP4 runs on FP4 units
    (Blackwell). MXFP4 weights multiply as W4A8 where FP4 units exist (Blackwell), and int4/AWQ,
    NVFP4 and MXFP4 on older GPUs and FP8 on Ampere are weight-only: dequantized and multiplied in BF16.
    """
    tflops = gpu.bf16_dense_tflops
    if precision == "fp8" and gpu.fp8_dense_tflops:
        tflops = gpu.fp8_dense_tflops
    elif precision == "int8" and gpu.int8_dense_tops:
        tflops = gpu.int8_dense_tops
    elif precision == "nvfp4" and gpu.fp4_dense_tflops:
        tflops = gpu.fp4_dense_tflops
    elif precision == "mxfp4" and gpu.fp4_dense_tflops and gpu.fp8_dense_tflops:
        tflops = gpu.fp8_dense_tflops
    return tflops * 1e12


def _attention_dims(model: ModelEntry, decode: bool) -> float:
    """Per-head width of QK^T plus PV for one attended token.

    MLA prefill runs un-absorbed (nope + rope for QK, v_head_dim for PV); MLA decode runs absorbed in
    the latent (kv_lora + rope for QK, kv_lora for PV).
    """
    if model.attention == "mla":
        if decode:
            return 2.0 * model.kv_lora_rank + model.qk_rope_head_dim
        return (model.qk_nope_head_dim + model.qk_rope_head_dim) + (
            model.v_head_dim or model.qk_nope_head_dim
        )
    head = model.head_dim or model.hidden // model.attention_heads
    return 2.0 * head


def attention_flops(model: ModelEntry, context: float, decode: bool = True) -> float:
    """FLOPs of attention for one new token that attends to `context` earlier tokens (all layers)."""
    windowed = windowed_layers(model)
    attended = (model.layers - windowed) * context + windowed * min(context, float(model.sliding_window))
    return 2.0 * model.attention_heads * _attention_dims(model, decode) * attended


@dataclass(frozen=True)
class Rates:
    """What one replica's GPUs deliver, after the fitted efficiencies of their class."""

    bandwidth: float  # bytes/s of the replica
    flops: float  # FLOP/s of the replica
    moe_efficiency: float  # expert kernels relative to dense GEMMs
    link: float  # bytes/s per direction of one GPU's interconnect
    allreduce_latency_s: float
    step_overhead_s: float
    sequence_overhead_s: float  # per running sequence per step
    overlap_exponent: float


def rates(
    gpu: GpuEntry,
    precision: Precision,
    tp: int,
    engine: Engine,
    factors: Efficiency,
    scale: float = 1.0,
) -> Rates:
    """Peaks times efficiency x generation factor x engine factor (x a measured re-fit `scale`)."""
    common = factors.generation_factor(gpu.generation) * factors.engine_factor(engine) * scale
    return Rates(
        bandwidth=tp * gpu.memory_bandwidth_tb_s * 1e12 * factors.bandwidth_efficiency * common,
        flops=tp * peak_flops(gpu, precision) * factors.compute_efficiency * common,
        moe_efficiency=factors.moe_efficiency(engine),
        link=gpu.interconnect_gb_s / 2 * 1e9 * factors.link_efficiency(gpu.interconnect),
        allreduce_latency_s=factors.allreduce_latency_us * 1e-6,
        step_overhead_s=factors.step_overhead_ms / 1000,
        sequence_overhead_s=factors.sequence_overhead_us(engine) * 1e-6,
        overlap_exponent=factors.overlap_exponent,
    )


@dataclass(frozen=True)
class CycleWork:
    """What one replica does while `batch` calls of a mix complete: bytes, FLOPs, steps, messages."""

    batch: int
    output_tokens: float
    steps: float  # decode steps plus prefill chunks
    dense_bytes_per_step: float  # weights every decode step streams (all ranks together)
    expert_bytes_per_step: float  # routed experts the batch's tokens touch
    kv_bytes_per_step: float
    dense_flops: float  # whole cycle
    expert_flops: float  # whole cycle
    attention_flops: float  # whole cycle
    comm_bytes: float  # whole cycle, per GPU over its link
    allreduces: float  # whole cycle
    prompt_dense_flops: float  # one call's prefill, for TTFT
    prompt_expert_flops: float
    prompt_chunks: float
    prompt_comm_bytes: float
    prompt_allreduces: float


def _comm_bytes(model: ModelEntry, tp: int, tokens: float) -> float:
    """Two all-reduces of `hidden` bf16 values per layer per token; a ring moves 2(t-1)/t of them."""
    if tp == 1:
        return 0.0
    return tokens * 2 * model.layers * model.hidden * 2.0 * 2 * (tp - 1) / tp


def cycle_work(
    model: ModelEntry,
    precision: Precision,
    tp: int,
    kv_cache_dtype: KvCacheDtype,
    batch: int,
    mix: TokenMix,
    factors: Efficiency,
) -> CycleWork:
    i, o = mix.input_tokens, mix.output_tokens
    context = i + o / 2
    params = param_counts(model)
    dense_linear = params.active_dense_linear()
    routed = params.active_routed(model)
    w = weights(model, precision)
    share = moe_active_fraction(model)
    touched = 1.0 - (1.0 - share) ** batch if w.expert_bytes else 0.0
    tokens = batch * (i + o)
    chunks = math.ceil(batch * i / factors.max_num_batched_tokens)
    own_chunks = math.ceil(i / factors.max_num_batched_tokens)
    prefill_attention = i * attention_flops(model, i / 2, decode=False)
    decode_attention = o * attention_flops(model, context, decode=True)
    layers_allreduce = 2 * model.layers if tp > 1 else 0
    return CycleWork(
        batch=batch,
        output_tokens=o,
        steps=o + chunks,
        dense_bytes_per_step=w.dense_read_bytes,
        expert_bytes_per_step=w.expert_bytes * touched,
        kv_bytes_per_step=batch * kv_bytes_per_sequence(model, context, kv_cache_dtype, tp),
        dense_flops=tokens * 2 * dense_linear,
        expert_flops=tokens * 2 * routed,
        attention_flops=batch * (prefill_attention + decode_attention),
        comm_bytes=_comm_bytes(model, tp, tokens),
        allreduces=(o + chunks) * layers_allreduce,
        prompt_dense_flops=i * 2 * dense_linear + prefill_attention,
        prompt_expert_flops=i * 2 * routed,
        prompt_chunks=own_chunks,
        prompt_comm_bytes=_comm_bytes(model, tp, i),
        prompt_allreduces=own_chunks * layers_allreduce,
    )


def _soft_max(a: float, b: float, n: float) -> float:
    top = max(a, b)
    if top <= 0:
        return 0.0
    scaled: float = ((a / top) ** n + (b / top) ** n) ** (1.0 / n)
    return top * scaled


def cycle_seconds(work: CycleWork, r: Rates) -> float:
    """Time for `work.batch` calls to complete."""
    per_step = (
        work.dense_bytes_per_step + work.expert_bytes_per_step / r.moe_efficiency + work.kv_bytes_per_step
    )
    t_mem = work.output_tokens * per_step / r.bandwidth
    t_comp = (work.dense_flops + work.attention_flops + work.expert_flops / r.moe_efficiency) / r.flops
    t_comm = work.comm_bytes / r.link + work.allreduces * r.allreduce_latency_s
    t_overhead = work.steps * (r.step_overhead_s + work.batch * r.sequence_overhead_s)
    return _soft_max(t_mem, t_comp, r.overlap_exponent) + t_comm + t_overhead


def ttft_seconds(work: CycleWork, r: Rates, cycle: float) -> float:
    """One call's prefill at the replica's rates plus one batch step per scheduler chunk."""
    prefill = (work.prompt_dense_flops + work.prompt_expert_flops / r.moe_efficiency) / r.flops
    comm = work.prompt_comm_bytes / r.link + work.prompt_allreduces * r.allreduce_latency_s
    return prefill + comm + work.prompt_chunks * cycle / work.steps


def kv_batch_limit(
    model: ModelEntry,
    kv_cache_gib: float,
    mix: TokenMix,
    tp: int,
    kv_cache_dtype: KvCacheDtype = "auto",
    output_share: float = 1.0,
) -> int:
    """Sequences of this mix the KV cache holds at once (each with its prompt and `output_share` of its completion)."""
    held = mix.input_tokens + output_share * mix.output_tokens
    per_sequence = kv_bytes_per_sequence(model, held, kv_cache_dtype, tp)
    if kv_cache_gib <= 0 or per_sequence <= 0:
        return 0
    return math.floor(kv_cache_gib * GIB / per_sequence)


@dataclass(frozen=True)
class Batch:
    size: int
    limit: BatchLimit


def batch_size(
    model: ModelEntry,
    kv_cache_gib: float,
    mix: TokenMix,
    tp: int,
    kv_cache_dtype: KvCacheDtype,
    engine: Engine,
    cap: int,
    concurrency: int | None,
    factors: Efficiency,
    output_share: float | None = None,
) -> Batch:
    """The largest batch memory, max-num-seqs and a concurrency limit allow (before any SLO).

    `output_share` overrides the engine's: calls that start together and run in lockstep (a burst of
    equal requests) all hold their full completion at the end, whatever the engine's allocator.
    """
    share = output_share if output_share is not None else factors.kv_output_share(engine)
    by_kv = kv_batch_limit(model, kv_cache_gib, mix, tp, kv_cache_dtype, share)
    candidates: list[tuple[int, BatchLimit]] = [(by_kv, "kv-cache"), (cap, "max-num-seqs")]
    if concurrency is not None:
        candidates.append((concurrency, "concurrency"))
    size, limit = min(candidates, key=lambda c: c[0])
    return Batch(size, limit)


def _result(
    model: ModelEntry,
    precision: Precision,
    tp: int,
    kv_cache_dtype: KvCacheDtype,
    batch: int,
    mix: TokenMix,
    r: Rates,
    factors: Efficiency,
    limit: BatchLimit,
    meets: bool,
) -> ReplicaThroughput:
    work = cycle_work(model, precision, tp, kv_cache_dtype, batch, mix, factors)
    seconds = cycle_seconds(work, r)
    return ReplicaThroughput(
        batch=batch,
        batch_limit=limit,
        output_tokens_per_s=batch * mix.output_tokens / seconds,
        calls_per_min=batch / seconds * 60,
        ttft_ms=ttft_seconds(work, r, seconds) * 1000,
        tpot_ms=seconds / mix.output_tokens * 1000,
        meets_slo=meets,
    )


def replica_throughput(
    model: ModelEntry,
    gpu: GpuEntry,
    precision: Precision,
    tp: int,
    kv_cache_gib: float,
    mix: TokenMix,
    slo: Slo | None = None,
    kv_cache_dtype: KvCacheDtype = "auto",
    engine: Engine = "vllm",
    max_num_seqs: int | None = None,
    factors: Efficiency | None = None,
    concurrency: int | None = None,
    scale: float = 1.0,
) -> ReplicaThroughput:
    """Throughput of one replica at the largest batch its KV cache, max-num-seqs, concurrency and SLO allow."""
    f = factors or builtin_efficiency()
    r = rates(gpu, precision, tp, engine, f, scale)
    cap = max_num_seqs or f.vllm_max_num_seqs
    first = batch_size(model, kv_cache_gib, mix, tp, kv_cache_dtype, engine, cap, concurrency, f)
    if first.size < 1:
        return ReplicaThroughput(0, "kv-cache", 0.0, 0.0, math.inf, math.inf, False)

    def result(batch: int, limit: BatchLimit, meets: bool) -> ReplicaThroughput:
        return _result(model, precision, tp, kv_cache_dtype, batch, mix, r, f, limit, meets)

    slo = slo or Slo()
    if not slo.declared:
        return result(first.size, first.limit, True)

    def ok(batch: int) -> tuple[bool, bool]:
        t = result(batch, first.limit, True)
        return (
            slo.tpot_ms is None or t.tpot_ms <= slo.tpot_ms,
            slo.ttft_ms is None or t.ttft_ms <= slo.ttft_ms,
        )

    if all(ok(first.size)):
        return result(first.size, first.limit, True)
    tpot_one, ttft_one = ok(1)
    if not (tpot_one and ttft_one):
        return result(1, "tpot-slo" if not tpot_one else "ttft-slo", False)
    # TPOT and TTFT grow with the batch: bisect for the largest batch that meets both.
    low, high = 1, first.size
    while high - low > 1:
        mid = (low + high) // 2
        if all(ok(mid)):
            low = mid
        else:
            high = mid
    tpot_high, _ = ok(high)
    return result(low, "tpot-slo" if not tpot_high else "ttft-slo", True)
