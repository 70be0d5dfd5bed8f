"""One model on one node's GPUs: the tensor-parallel degree, the data-parallel replicas, and what they carry.

TP choice: the smallest of 1, 2, 4, 8 (within the node) that vLLM accepts for the model's heads and
whose KV cache holds `useful_max_context_sequences` (efficiency.csv; 4) sequences of max_context.
When no TP reaches that, the smallest TP that holds one sequence is used (vLLM will start, with little
concurrency, and the reason says so). When none holds one, the model does not fit: the result says
how much memory per GPU it would need and, if the weights fit, the --max-model-len that would.
The remaining GPUs of the node run further replicas (data parallel).
"""

from __future__ import annotations

from dataclasses import dataclass

from inferplan.catalog import GpuEntry, ModelEntry, Precision
from inferplan.catalog.efficiency import Efficiency, builtin_efficiency
from inferplan.sizing.memory import KvCacheDtype, MemoryPlan, plan_memory
from inferplan.sizing.throughput import ReplicaThroughput, Slo, TokenMix, replica_throughput

TP_CHOICES: tuple[int, ...] = (1, 2, 4, 8)


def tensor_parallel_allowed(model: ModelEntry, tp: int) -> bool:
    """vLLM splits attention heads evenly over TP ranks; KV heads are split or replicated evenly."""
    if model.attention_heads % tp:
        return False
    kv = model.kv_heads
    if model.attention == "mla" or kv == 0:
        return True
    return kv % tp == 0 if kv >= tp else tp % kv == 0


@dataclass(frozen=True)
class Sizing:
    """The best TP / replica split of `gpus` GPUs for one model and one token mix."""

    model_id: str
    gpu: str
    gpus: int
    quantization: Precision
    kv_cache_dtype: KvCacheDtype
    max_context: int
    gpu_memory_utilization: float
    mix: TokenMix
    slo: Slo
    fits: bool
    tensor_parallel: int
    replicas: int
    memory: MemoryPlan  # one replica
    replica: ReplicaThroughput  # one replica
    needed_gib_per_gpu: float  # GPU memory one GPU would need (when it does not fit)
    max_context_that_fits: int  # largest --max-model-len that fits at this TP (when it does not fit)
    reason: str

    @property
    def output_tokens_per_s(self) -> float:
        """All replicas together."""
        return self.replica.output_tokens_per_s * self.replicas if self.fits else 0.0

    @property
    def calls_per_min(self) -> float:
        """All replicas together, for the token mix."""
        return self.replica.calls_per_min * self.replicas if self.fits else 0.0

    @property
    def meets_slo(self) -> bool:
        return self.fits and self.replica.meets_slo


def _gib(value: float) -> str:
    return f"{value:.1f} GiB"


def size_model(
    model: ModelEntry,
    gpu: GpuEntry,
    gpus: int,
    quantization: Precision,
    mix: TokenMix,
    max_context: int | None = None,
    gpu_memory_utilization: float = 0.90,
    slo: Slo | None = None,
    kv_cache_dtype: KvCacheDtype = "auto",
    factors: Efficiency | None = None,
) -> Sizing:
    f = factors or builtin_efficiency()
    context = max_context or model.max_context
    slo = slo or Slo()
    candidates = [tp for tp in TP_CHOICES if tp <= gpus and tensor_parallel_allowed(model, tp)]
    plans = [
        plan_memory(model, gpu, quantization, tp, context, gpu_memory_utilization, kv_cache_dtype, f)
        for tp in candidates
    ]
    useful = next((p for p in plans if p.max_concurrency >= f.useful_max_context_sequences), None)
    chosen = useful or next((p for p in plans if p.fits), None)
    if chosen is None:
        return _no_fit(
            model,
            gpu,
            gpus,
            quantization,
            mix,
            context,
            gpu_memory_utilization,
            slo,
            kv_cache_dtype,
            plans,
            f,
        )
    replica = replica_throughput(
        model, gpu, quantization, chosen.tp, chosen.kv_cache_gib, mix, slo, kv_cache_dtype, factors=f
    )
    reasons = []
    if useful is None:
        reasons.append(
            f"KV cache holds only {chosen.max_concurrency} sequence(s) of {context} tokens "
            f"(wanted {f.useful_max_context_sequences}); a larger GPU or a lower max_context gives more concurrency"
        )
    if not replica.meets_slo:
        reasons.append(
            f"even one sequence at a time misses the SLO (TTFT {replica.ttft_ms:.0f} ms, "
            f"TPOT {replica.tpot_ms:.1f} ms)"
        )
    return Sizing(
        model_id=model.id,
        gpu=gpu.gpu,
        gpus=gpus,
        quantization=quantization,
        kv_cache_dtype=kv_cache_dtype,
        max_context=context,
        gpu_memory_utilization=gpu_memory_utilization,
        mix=mix,
        slo=slo,
        fits=True,
        tensor_parallel=chosen.tp,
        replicas=gpus // chosen.tp,
        memory=chosen,
        replica=replica,
        needed_gib_per_gpu=chosen.needed_gib_per_gpu,
        max_context_that_fits=context,
        reason="; ".join(reasons),
    )


def _no_fit(
    model: ModelEntry,
    gpu: GpuEntry,
    gpus: int,
    quantization: Precision,
    mix: TokenMix,
    context: int,
    gpu_memory_utilization: float,
    slo: Slo,
    kv_cache_dtype: KvCacheDtype,
    plans: list[MemoryPlan],
    factors: Efficiency,
) -> Sizing:
    # Report against the largest TP the node allows (or TP 1 when the heads allow none).
    largest = (
        plans[-1]
        if plans
        else plan_memory(
            model, gpu, quantization, 1, context, gpu_memory_utilization, kv_cache_dtype, factors
        )
    )
    tp = largest.tp
    budget = largest.budget_gib
    shortfall = largest.weights_gib + largest.overhead_gib + largest.sequence_gib
    usable = f"{tp} x {gpu.gpu} x {gpu.memory_gib:.1f} GiB x {gpu_memory_utilization:.2f} = {_gib(budget)}"
    if largest.weights_gib + largest.overhead_gib >= budget:
        reason = (
            f"weights {_gib(largest.weights_gib)} + runtime {_gib(largest.overhead_gib)} exceed "
            f"{usable} at TP {tp}; needs {largest.needed_gib_per_gpu:.1f} GiB per GPU "
            "(more or larger GPUs, or a smaller quantization)"
        )
        fits_context = 0
    else:
        fits_context = largest.max_context_that_fits(model, kv_cache_dtype)
        reason = (
            f"weights {_gib(largest.weights_gib)} + runtime {_gib(largest.overhead_gib)} + one "
            f"{context}-token sequence {_gib(largest.sequence_gib)} = {_gib(shortfall)} exceed {usable} "
            f"at TP {tp}; max_context {fits_context} would fit"
        )
    empty = ReplicaThroughput(0, "kv-cache", 0.0, 0.0, 0.0, 0.0, False)
    return Sizing(
        model_id=model.id,
        gpu=gpu.gpu,
        gpus=gpus,
        quantization=quantization,
        kv_cache_dtype=kv_cache_dtype,
        max_context=context,
        gpu_memory_utilization=gpu_memory_utilization,
        mix=mix,
        slo=slo,
        fits=False,
        tensor_parallel=tp,
        replicas=0,
        memory=largest,
        replica=empty,
        needed_gib_per_gpu=largest.needed_gib_per_gpu,
        max_context_that_fits=fits_context,
        reason=reason,
    )
