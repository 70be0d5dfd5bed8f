"""Roofline throughput of one replica: prefill bound by compute, decode bound by memory bandwidth.

A replica serves B concurrent sequences of `input_tokens` in and `output_tokens` out. Over the time T
in which those B calls complete, the GPUs

- stream weights and KV cache once per decode step, `output_tokens` steps:
  T_mem = O x (W(B) + B x KV(I + O/2)) / (bandwidth x e_bw), where W(B) is the dense weights plus the
  routed experts B tokens touch (1 - (1 - k/E)^B of them: all of them at large batch, only the active
  ones at batch 1), and KV(n) the cache of one sequence n tokens long (the average during decode);
- compute 2 FLOPs per active parameter per token, prompt and output tokens alike, plus attention:
  T_comp = (B x I + B x O) x 2 x P_active / (peak x e_c) + attention FLOPs;
- and add what does not overlap: tensor-parallel all-reduces (two per layer per token over NVLink or
  PCIe) and a fixed per-step engine overhead.

Chunked prefill lets compute and memory time overlap; how much is the fitted `overlap_exponent` n:
T = (T_mem^n + T_comp^n)^(1/n) + T_comm + T_overhead (n = 1: they add; n large: the longer one wins).
Then output tokens/s = B x O / T and the time per output token seen by a caller is TPOT = T / O.

B is the largest batch that the KV cache holds (sequences of I + O tokens), capped by max-num-seqs,
and — under a latency SLO — the largest batch whose TPOT and TTFT still meet it. TTFT is estimated as
the prompt's compute time plus one decode step per scheduler chunk, without queueing (the autoscaler
is what keeps queues short).

Efficiencies e_c, e_bw and n are fitted on TensorRT-LLM measurements; vLLM is that times
`vllm_engine_factor` (fitted on the one vLLM row). No measured row is looked up here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from inferplan.catalog import GpuEntry, ModelEntry, Precision
from inferplan.catalog.efficiency import Efficiency, builtin_efficiency
from inferplan.sizing.memory import (
    GIB,
    KvCacheDtype,
    active_linear_params,
    kv_bytes_per_sequence,
    moe_active_fraction,
    weights,
    windowed_layers,
)

Engine = Literal["vllm", "trtllm"]
BatchLimit = Literal["kv-cache", "max-num-seqs", "tpot-slo", "ttft-slo", "none"]


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
    """Dense tensor FLOP/s the GEMMs run at: FP8/INT8 units where the GPU has them, else BF16.

    int4/AWQ and MXFP4 are weight-only on these GPUs: weights are dequantized and multiplied in bf16.
    """
    bf16 = gpu.bf16_dense_tflops
    if precision == "fp8" and gpu.fp8_dense_tflops:
        tflops = gpu.fp8_dense_tflops
    elif precision == "int8" and gpu.int8_dense_tops:
        tflops = gpu.int8_dense_tops
    elif bf16:
        tflops = bf16
    else:
        # No tensor figure in the catalog (a stack's own GPU): assume 100 FLOPs per byte of bandwidth,
        # below every GPU in the built-in catalog, so the estimate errs on the slow side.
        tflops = gpu.memory_bandwidth_tb_s * 100
    return tflops * 1e12


def _attention_dims(model: ModelEntry) -> float:
    """Per-head width of QK^T plus PV (MLA prefill runs un-absorbed: nope+rope for QK, v_head_dim for PV)."""
    if model.attention == "mla":
        return (model.qk_nope_head_dim + model.qk_rope_head_dim) + (
            model.v_head_dim or model.qk_nope_head_dim
        )
    return 2.0 * model.head_dim


def attention_flops(model: ModelEntry, context: float) -> float:
    """FLOPs of attention for one new token that attends to `context` earlier tokens (all layers)."""
    windowed = windowed_layers(model)
    attended = (model.layers - windowed) * context + windowed * min(context, float(model.sliding_window))
    return 2.0 * model.attention_heads * _attention_dims(model) * attended


@dataclass(frozen=True)
class _Replica:
    model: ModelEntry
    gpu: GpuEntry
    tp: int
    kv_cache_dtype: KvCacheDtype
    flops: float  # effective FLOP/s of the replica
    bandwidth: float  # effective bytes/s of the replica
    dense_bytes: float
    expert_bytes: float
    active_share: float
    factors: Efficiency

    def weight_bytes_read(self, batch: float) -> float:
        touched = 1.0 - (1.0 - self.active_share) ** batch if self.expert_bytes else 0.0
        return self.dense_bytes + self.expert_bytes * touched

    def comm_seconds(self, tokens: float, steps: float) -> float:
        """Two all-reduces of `hidden` bf16 values per layer per token; ring moves 2(t-1)/t of them."""
        if self.tp == 1:
            return 0.0
        per_direction = self.gpu.interconnect_gb_s / 2 * 1e9
        volume = 2 * self.model.layers * self.model.hidden * 2.0 * 2 * (self.tp - 1) / self.tp
        latency = 2 * self.model.layers * self.factors.allreduce_latency_us * 1e-6
        return tokens * volume / per_direction + steps * latency

    def decode_step_memory_seconds(self, batch: float, context: float) -> float:
        kv = batch * kv_bytes_per_sequence(self.model, context, self.kv_cache_dtype, self.tp)
        return (self.weight_bytes_read(batch) + kv) / self.bandwidth

    def prefill_flops(self, prompt: float) -> float:
        # Causal attention: the i-th prompt token attends to i earlier ones (average prompt/2).
        return prompt * (2 * active_linear_params(self.model) + attention_flops(self.model, prompt / 2))

    def decode_flops(self, context: float) -> float:
        return 2 * active_linear_params(self.model) + attention_flops(self.model, context)


def _replica(
    model: ModelEntry,
    gpu: GpuEntry,
    precision: Precision,
    tp: int,
    kv_cache_dtype: KvCacheDtype,
    engine: Engine,
    factors: Efficiency,
) -> _Replica:
    engine_factor = factors.vllm_engine_factor if engine == "vllm" else 1.0
    w = weights(model, precision)
    return _Replica(
        model=model,
        gpu=gpu,
        tp=tp,
        kv_cache_dtype=kv_cache_dtype,
        flops=tp * peak_flops(gpu, precision) * factors.compute_efficiency * engine_factor,
        bandwidth=tp * gpu.memory_bandwidth_tb_s * 1e12 * factors.bandwidth_efficiency * engine_factor,
        dense_bytes=w.dense_read_bytes,
        expert_bytes=w.expert_bytes,
        active_share=moe_active_fraction(model),
        factors=factors,
    )


def _soft_max(a: float, b: float, n: float) -> float:
    top = max(a, b)
    if top <= 0:
        return 0.0
    scaled: float = ((a / top) ** n + (b / top) ** n) ** (1.0 / n)
    return top * scaled


@dataclass(frozen=True)
class _Cycle:
    seconds: float  # time for `batch` calls to complete
    ttft_seconds: float


def _cycle(r: _Replica, batch: int, mix: TokenMix) -> _Cycle:
    i, o = mix.input_tokens, mix.output_tokens
    context = i + o / 2
    t_mem = o * r.decode_step_memory_seconds(batch, context)
    t_comp = (batch * r.prefill_flops(i) + batch * o * r.decode_flops(context)) / r.flops
    chunks = math.ceil(batch * i / r.factors.max_num_batched_tokens)
    steps = o + chunks
    t_comm = r.comm_seconds(batch * (i + o), steps)
    t_overhead = steps * r.factors.step_overhead_ms / 1000
    total = _soft_max(t_mem, t_comp, r.factors.overlap_exponent) + t_comm + t_overhead
    own_chunks = math.ceil(i / r.factors.max_num_batched_tokens)
    step = r.decode_step_memory_seconds(batch, context) + r.factors.step_overhead_ms / 1000
    ttft = r.prefill_flops(i) / r.flops + r.comm_seconds(i, own_chunks) + own_chunks * step
    return _Cycle(seconds=total, ttft_seconds=ttft)


def _result(r: _Replica, batch: int, mix: TokenMix, limit: BatchLimit, meets: bool) -> ReplicaThroughput:
    cycle = _cycle(r, batch, mix)
    return ReplicaThroughput(
        batch=batch,
        batch_limit=limit,
        output_tokens_per_s=batch * mix.output_tokens / cycle.seconds,
        calls_per_min=batch / cycle.seconds * 60,
        ttft_ms=cycle.ttft_seconds * 1000,
        tpot_ms=cycle.seconds / mix.output_tokens * 1000,
        meets_slo=meets,
    )


def kv_batch_limit(
    model: ModelEntry, kv_cache_gib: float, mix: TokenMix, tp: int, kv_cache_dtype: KvCacheDtype = "auto"
) -> int:
    """Sequences of this mix (prompt + full completion) the KV cache holds at once."""
    per_sequence = kv_bytes_per_sequence(model, mix.input_tokens + mix.output_tokens, kv_cache_dtype, tp)
    if kv_cache_gib <= 0 or per_sequence <= 0:
        return 0
    return math.floor(kv_cache_gib * GIB / per_sequence)


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
) -> ReplicaThroughput:
    """Throughput of one replica at the largest batch its KV cache, max-num-seqs and the SLO allow."""
    f = factors or builtin_efficiency()
    r = _replica(model, gpu, precision, tp, kv_cache_dtype, engine, f)
    cap = max_num_seqs or (f.vllm_max_num_seqs if engine == "vllm" else f.trtllm_max_batch_size)
    by_kv = kv_batch_limit(model, kv_cache_gib, mix, tp, kv_cache_dtype)
    limit: BatchLimit = "kv-cache" if by_kv <= cap else "max-num-seqs"
    batch = min(by_kv, cap)
    if batch < 1:
        return ReplicaThroughput(0, "kv-cache", 0.0, 0.0, math.inf, math.inf, False)
    slo = slo or Slo()
    if not slo.declared:
        return _result(r, batch, mix, limit, True)

    def tpot_ok(b: int) -> bool:
        return slo.tpot_ms is None or _cycle(r, b, mix).seconds / mix.output_tokens * 1000 <= slo.tpot_ms

    def ttft_ok(b: int) -> bool:
        return slo.ttft_ms is None or _cycle(r, b, mix).ttft_seconds * 1000 <= slo.ttft_ms

    if tpot_ok(batch) and ttft_ok(batch):
        return _result(r, batch, mix, limit, True)
    if not (tpot_ok(1) and ttft_ok(1)):
        missed: BatchLimit = "tpot-slo" if not tpot_ok(1) else "ttft-slo"
        return _result(r, 1, mix, missed, False)
    # TPOT and TTFT grow with the batch: bisect for the largest batch that meets both.
    low, high = 1, batch
    while high - low > 1:
        mid = (low + high) // 2
        if tpot_ok(mid) and ttft_ok(mid):
            low = mid
        else:
            high = mid
    bound: BatchLimit = "tpot-slo" if not tpot_ok(high) else "ttft-slo"
    return _result(r, low, mix, bound, True)
