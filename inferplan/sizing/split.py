"""One model on one node's GPUs: the tensor-parallel degree, the data-parallel replicas, and what they carry.

TP choice: the smallest of 1, 2, 4, 8 (within the node, and one vLLM accepts for the model's heads)
that fits the weights plus a useful KV budget. "Useful" is two thresholds (efficiency.csv):

- room for `useful_max_context_sequences` (4) sequences of max_context, so long prompts do not
  serialise the replica; and
- enough room that the node does not lose throughput to KV starvation: the node's calls/min at this
  TP (within the SLO) is within `tp_throughput_tolerance` (10%) of the best TP's. Without this rule,
  models whose weights nearly fill a GPU would run at tiny batches: gpt-oss-120b on 8 x H100 does
  ~18k output tokens/s as 8 x TP1 (7 GiB of KV each) but ~74k as 4 x TP2.

When no TP holds 4 max_context sequences, the candidates are all TPs that hold one (vLLM's minimum to
start), and the reason says so. When none holds one, the model does not fit: the result says how
much memory per GPU it would need and, if the weights fit, the --max-model-len that would.
The remaining GPUs of the node run further replicas (data parallel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from inferplan.catalog import GpuEntry, ModelEntry, Precision
from inferplan.catalog.efficiency import Efficiency, builtin_efficiency
from inferplan.sizing.memory import BITS_PER_WEIGHT, KvCacheDtype, MemoryPlan, plan_memory
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
class TpOption:
    """One TP degree the node allows, with what the node does at it."""

    tensor_parallel: int
    replicas: int
    memory: MemoryPlan  # one replica
    replica: ReplicaThroughput | None  # one replica; None when it does not fit

    @property
    def fits(self) -> bool:
        return self.replica is not None

    @property
    def output_tokens_per_s(self) -> float:
        """All replicas of the node."""
        return self.replica.output_tokens_per_s * self.replicas if self.replica else 0.0

    @property
    def calls_per_min(self) -> float:
        """All replicas of the node."""
        return self.replica.calls_per_min * self.replicas if self.replica else 0.0


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
    options: tuple[TpOption, ...] = ()  # every TP the node allows, the chosen one included
    context_lowered: bool = (
        False  # max_context was lowered to the largest that fits (size without --max-context)
    )

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


def tp_options(
    model: ModelEntry,
    gpu: GpuEntry,
    gpus: int,
    quantization: Precision,
    mix: TokenMix,
    context: int,
    gpu_memory_utilization: float,
    slo: Slo,
    kv_cache_dtype: KvCacheDtype,
    factors: Efficiency,
    scale: float = 1.0,
) -> tuple[TpOption, ...]:
    """Every TP the node and the model's heads allow, each sized for memory and throughput."""
    options = []
    for tp in TP_CHOICES:
        if tp > gpus or not tensor_parallel_allowed(model, tp):
            continue
        memory = plan_memory(
            model, gpu, quantization, tp, context, gpu_memory_utilization, kv_cache_dtype, factors
        )
        replica = (
            replica_throughput(
                model,
                gpu,
                quantization,
                tp,
                memory.kv_cache_gib,
                mix,
                slo,
                kv_cache_dtype,
                factors=factors,
                scale=scale,
            )
            if memory.fits
            else None
        )
        options.append(TpOption(tp, gpus // tp, memory, replica))
    return tuple(options)


def choose_tp(options: Sequence[TpOption], factors: Efficiency) -> tuple[TpOption | None, str]:
    """The smallest TP with a useful KV budget (module docstring), and a note when none is fully useful."""
    fitting = [o for o in options if o.fits]
    if not fitting:
        return None, ""
    roomy = [o for o in fitting if o.memory.max_concurrency >= factors.useful_max_context_sequences]
    note = ""
    if not roomy:
        best_room = max(fitting, key=lambda o: o.memory.max_concurrency)
        note = (
            f"KV cache holds only {best_room.memory.max_concurrency} sequence(s) of {best_room.memory.max_context} "
            f"tokens (wanted {factors.useful_max_context_sequences}); a larger GPU or a lower max_context "
            "gives more concurrency"
        )
    pool = roomy or fitting
    meeting = [o for o in pool if o.replica is not None and o.replica.meets_slo] or pool
    best = max(o.calls_per_min for o in meeting)
    floor = best * (1 - factors.tp_throughput_tolerance)
    return next(o for o in meeting if o.calls_per_min >= floor), note


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
    scale: float = 1.0,
    fit_context: bool = False,
) -> Sizing:
    """The TP / replica split of one node for `mix`.

    `max_context` None means the model's own. With `fit_context`, a context the node cannot hold is
    lowered to the largest that fits at the largest TP (never below one call of the mix), and the
    reason says so; without it, a context that does not fit is a `fits: false` result.
    """
    f = factors or builtin_efficiency()
    context = max_context or model.max_context
    sizing = _size(
        model, gpu, gpus, quantization, mix, context, gpu_memory_utilization, slo, kv_cache_dtype, f, scale
    )
    if sizing.fits or not fit_context or sizing.max_context_that_fits < mix.input_tokens + mix.output_tokens:
        return sizing
    lowered = _size(
        model, gpu, gpus, quantization, mix, sizing.max_context_that_fits, gpu_memory_utilization, slo,
        kv_cache_dtype, f, scale,
    )  # fmt: skip
    note = (
        f"max_context {lowered.max_context}: the largest that fits (the model's own is {context}; "
        "more GPUs or a smaller quantization hold more)"
    )
    return replace(lowered, reason="; ".join(r for r in (note, lowered.reason) if r), context_lowered=True)


def _size(
    model: ModelEntry,
    gpu: GpuEntry,
    gpus: int,
    quantization: Precision,
    mix: TokenMix,
    context: int,
    gpu_memory_utilization: float,
    slo: Slo | None,
    kv_cache_dtype: KvCacheDtype,
    f: Efficiency,
    scale: float,
) -> Sizing:
    slo = slo or Slo()
    options = tp_options(
        model, gpu, gpus, quantization, mix, context, gpu_memory_utilization, slo, kv_cache_dtype, f, scale
    )
    chosen, note = choose_tp(options, f)
    if chosen is None or chosen.replica is None:
        plans = [o.memory for o in options]
        return _no_fit(
            model, gpu, gpus, quantization, mix, context, gpu_memory_utilization, slo, kv_cache_dtype, plans, f,
            options,
        )  # fmt: skip
    replica = chosen.replica
    reasons = [note] if note else []
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
        tensor_parallel=chosen.tensor_parallel,
        replicas=chosen.replicas,
        memory=chosen.memory,
        replica=replica,
        needed_gib_per_gpu=chosen.memory.needed_gib_per_gpu,
        max_context_that_fits=context,
        reason="; ".join(reasons),
        options=options,
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
    options: tuple[TpOption, ...] = (),
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
        options=options,
    )


def what_would_fit(
    model: ModelEntry,
    gpu: GpuEntry,
    gpus: int,
    quantization: Precision,
    mix: TokenMix,
    max_context: int,
    catalog_gpus: Sequence[GpuEntry],
    gpu_memory_utilization: float = 0.90,
    kv_cache_dtype: KvCacheDtype = "auto",
    factors: Efficiency | None = None,
) -> str:
    """What would hold a `max_context` sequence when this node cannot: a smaller precision, more GPUs, a larger GPU."""
    f = factors or builtin_efficiency()

    def fits(g: GpuEntry, n: int, p: Precision) -> Sizing | None:
        s = size_model(model, g, n, p, mix, max_context, gpu_memory_utilization, None, kv_cache_dtype, f)
        return s if s.fits else None

    hints = []
    smaller = sorted(
        (p for p in model.quantizations if BITS_PER_WEIGHT[p] < BITS_PER_WEIGHT[quantization]),
        key=lambda p: -BITS_PER_WEIGHT[p],
    )
    for p in smaller:
        if s := fits(gpu, gpus, p):
            hints.append(f"{p} on {gpus} x {gpu.gpu} (TP {s.tensor_parallel})")
            break
    for n in (n for n in TP_CHOICES if n > gpus):
        if s := fits(gpu, n, quantization):
            hints.append(f"{n} x {gpu.gpu} in {quantization} (TP {s.tensor_parallel})")
            break
    for other in sorted(catalog_gpus, key=lambda g: g.memory_gib):
        if other.memory_gib > gpu.memory_gib and (s := fits(other, gpus, quantization)):
            hints.append(f"{gpus} x {other.gpu} in {quantization} (TP {s.tensor_parallel})")
            break
    if not hints:
        return f"no catalog GPU holds {model.id} in {quantization} on up to {max(TP_CHOICES)} GPUs"
    return "would fit: " + "; ".join(hints)
