"""GPU memory of one vLLM replica: weights, KV cache per token and per sequence, runtime overhead.

Everything here is arithmetic on the catalog's architecture facts, so the tests can pin it to numbers
checked by hand (Llama-3.1-8B: 128 KiB of KV per token in bf16; DeepSeek-V3: 61 x 576 x 2 bytes).

Weights. Quantized formats store their linear layers at `BITS_PER_WEIGHT` (scales included) and keep
the token embedding, the lm_head and the norms in bf16, as vLLM, AutoAWQ and ModelOpt checkpoints do.
MXFP4 (gpt-oss) quantizes only the MoE experts; attention, router and embeddings stay bf16. MoE router
weights (at most 0.03% of a model) are counted at the linear layers' precision.

KV cache. GQA stores K and V for each KV head; when TP exceeds the KV heads, vLLM replicates heads so
every rank holds one. Sliding-window and chunked-local layers (gpt-oss, Llama 4) hold at most their
window. MLA (DeepSeek) stores one latent of kv_lora_rank + qk_rope_head_dim values per layer, and
every TP rank keeps the whole latent, so TP does not divide it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from inferplan.catalog import GpuEntry, ModelEntry, Precision
from inferplan.catalog.efficiency import Efficiency, builtin_efficiency
from inferplan.sizing.architecture import param_counts

GIB = 1024**3
KvCacheDtype = Literal["auto", "fp8"]

# Storage bits per weight of a quantized linear layer, scales included.
BITS_PER_WEIGHT: dict[Precision, float] = {
    "bf16": 16.0,
    "fp8": 8.0 + 32.0 / (128 * 128),  # fp32 scale per 128x128 block (DeepSeek-V3 layout; per-tensor is less)
    "int8": 8.0 + 32.0 / 4096,  # W8A8: one fp32 scale per output channel of a ~4096-wide input
    "int4": 4.0 + 20.0 / 128,  # AWQ/GPTQ: fp16 scale + 4-bit zero point per group of 128
    "awq": 4.0 + 20.0 / 128,
    "mxfp4": 4.0 + 8.0 / 32,  # OCP MX: one 8-bit shared exponent per block of 32 -> 4.25 bits
    "nvfp4": 4.0 + 8.0 / 16,  # NVIDIA NVFP4: one FP8 (E4M3) scale per block of 16 -> 4.5 bits
}
UNQUANTIZED_BYTES = 2.0  # bf16 for embeddings, lm_head, norms (and non-expert layers under mxfp4)


@dataclass(frozen=True)
class Weights:
    """Weight bytes of one full copy of the model at one precision, split the way decode reads them."""

    total_bytes: float
    embedding_bytes: float  # input embedding table: looked up, never streamed whole (0 when tied to the head)
    expert_bytes: float  # routed MoE experts: a decode step streams only the ones its tokens pick

    @property
    def gib(self) -> float:
        return self.total_bytes / GIB

    @property
    def dense_read_bytes(self) -> float:
        """Bytes every decode step streams regardless of batch: all but the embedding lookup and experts."""
        return self.total_bytes - self.embedding_bytes - self.expert_bytes


def weights(model: ModelEntry, precision: Precision) -> Weights:
    """Quantized checkpoints keep embeddings, head and norms in bf16; MXFP4 quantizes only the experts."""
    p = param_counts(model)
    bits = BITS_PER_WEIGHT[precision]
    # A tied table is also the output head, which every step reads: it is not a lookup-only table then.
    lookup = 0.0 if model.tied_embeddings else p.embedding * UNQUANTIZED_BYTES
    if precision == "bf16":
        return Weights(p.total * 2.0, lookup, p.routed_experts * 2.0)
    expert_bytes = p.routed_experts * bits / 8
    if precision == "mxfp4":
        return Weights((p.total - p.routed_experts) * UNQUANTIZED_BYTES + expert_bytes, lookup, expert_bytes)
    unquantized = p.embedding + p.lm_head + p.norms
    linear = p.total - unquantized
    return Weights(unquantized * UNQUANTIZED_BYTES + linear * bits / 8, lookup, expert_bytes)


def moe_active_fraction(model: ModelEntry) -> float:
    """Share of routed experts one token uses (k/E); 1 for a dense model."""
    return model.moe_active_experts / model.moe_experts if model.is_moe else 1.0


def kv_dtype_bytes(kv_cache_dtype: KvCacheDtype) -> float:
    """`auto` follows the activation dtype (bf16), also for fp8 and int4 weights."""
    return 1.0 if kv_cache_dtype == "fp8" else 2.0


def kv_bytes_per_token_layer(model: ModelEntry, kv_cache_dtype: KvCacheDtype = "auto", tp: int = 1) -> float:
    """KV bytes one token adds to one attention layer, summed over the replica's TP ranks."""
    size = kv_dtype_bytes(kv_cache_dtype)
    if model.attention == "mla":
        return (model.kv_lora_rank + model.qk_rope_head_dim) * size * tp
    heads = max(model.kv_heads, tp) if model.kv_heads else model.attention_heads
    return 2 * heads * model.head_dim * size


def kv_bytes_per_token(model: ModelEntry, kv_cache_dtype: KvCacheDtype = "auto", tp: int = 1) -> float:
    """KV bytes per token over all full-attention layers (windowed layers stop growing at their window)."""
    return kv_bytes_per_token_layer(model, kv_cache_dtype, tp) * (model.layers - windowed_layers(model))


def windowed_layers(model: ModelEntry) -> int:
    return model.sliding_layers if model.sliding_window > 0 else 0


def kv_bytes_per_sequence(
    model: ModelEntry, tokens: float, kv_cache_dtype: KvCacheDtype = "auto", tp: int = 1
) -> float:
    """KV bytes one sequence of `tokens` holds (or reads in one decode step)."""
    per_layer = kv_bytes_per_token_layer(model, kv_cache_dtype, tp)
    windowed = windowed_layers(model)
    held = (model.layers - windowed) * tokens + windowed * min(tokens, float(model.sliding_window))
    return per_layer * held


def runtime_overhead_gib(model: ModelEntry, tp: int, factors: Efficiency | None = None) -> float:
    """Memory vLLM needs per GPU besides weights and KV: non-torch, activation peak, CUDA graphs."""
    f = factors or builtin_efficiency()
    activations = f.max_num_batched_tokens * model.hidden * 2 * f.activation_hidden_multiple / GIB
    return f.non_torch_gib + (f.tp_extra_gib if tp > 1 else 0.0) + activations + f.cuda_graph_gib


@dataclass(frozen=True)
class MemoryPlan:
    """How one replica of `tp` GPUs spends its memory, and what that leaves for concurrent sequences."""

    tp: int
    gpu_memory_gib: float  # CUDA-visible memory of one GPU
    gpu_memory_utilization: float
    weights_gib: float  # per replica (all TP ranks together)
    overhead_gib: float  # per replica
    kv_cache_gib: float  # per replica; negative when the weights alone do not fit
    kv_bytes_per_token: float  # per replica, full-attention layers
    max_context: int
    sequence_gib: float  # KV of one max_context sequence
    max_concurrency: int  # max_context sequences the KV cache holds

    @property
    def budget_gib(self) -> float:
        return self.tp * self.gpu_memory_gib * self.gpu_memory_utilization

    @property
    def fits(self) -> bool:
        """vLLM refuses to start unless one max_context sequence fits in the KV cache."""
        return self.max_concurrency >= 1

    @property
    def needed_gib_per_gpu(self) -> float:
        """GPU memory (before gpu_memory_utilization) one GPU would need for one max_context sequence."""
        per_gpu = (self.weights_gib + self.overhead_gib + self.sequence_gib) / self.tp
        return per_gpu / self.gpu_memory_utilization

    def max_context_that_fits(self, model: ModelEntry, kv_cache_dtype: KvCacheDtype = "auto") -> int:
        """The largest --max-model-len one sequence of which fits this KV cache (0 if none)."""
        if self.kv_cache_gib <= 0:
            return 0
        low, high = 0, model.max_context
        budget = self.kv_cache_gib * GIB
        while low < high:
            mid = (low + high + 1) // 2
            if kv_bytes_per_sequence(model, mid, kv_cache_dtype, self.tp) <= budget:
                low = mid
            else:
                high = mid - 1
        return low


def plan_memory(
    model: ModelEntry,
    gpu: GpuEntry,
    precision: Precision,
    tp: int,
    max_context: int,
    gpu_memory_utilization: float = 0.90,
    kv_cache_dtype: KvCacheDtype = "auto",
    factors: Efficiency | None = None,
) -> MemoryPlan:
    w = weights(model, precision).gib
    overhead = runtime_overhead_gib(model, tp, factors) * tp
    kv = tp * gpu.memory_gib * gpu_memory_utilization - w - overhead
    sequence = kv_bytes_per_sequence(model, max_context, kv_cache_dtype, tp) / GIB
    return MemoryPlan(
        tp=tp,
        gpu_memory_gib=gpu.memory_gib,
        gpu_memory_utilization=gpu_memory_utilization,
        weights_gib=w,
        overhead_gib=overhead,
        kv_cache_gib=kv,
        kv_bytes_per_token=kv_bytes_per_token(model, kv_cache_dtype, tp),
        max_context=max_context,
        sequence_gib=sequence,
        max_concurrency=max(0, math.floor(kv / sequence)) if sequence > 0 and kv > 0 else 0,
    )


def checkpoint_gib(model: ModelEntry) -> float:
    """Size of the model's own checkpoint on disk (its native precision)."""
    return weights(model, model.native_precision).gib
