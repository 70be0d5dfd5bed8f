"""The exact `vllm serve <model_id> <args...>` arguments that follow from a sizing.

Flags are the documented ones of `vllm serve` (vLLM engine arguments): --served-model-name,
--tensor-parallel-size, --data-parallel-size, --max-model-len, --gpu-memory-utilization,
--quantization, --kv-cache-dtype, --max-num-seqs, --port.

Data-parallel replicas on one node run as ONE `vllm serve` with `--data-parallel-size R`: vLLM starts
R engine processes (each on its own TP group of GPUs) behind one API server on one port, so the node
registers with the ALB target group once and needs no per-replica CUDA_VISIBLE_DEVICES bookkeeping.
For MoE models vLLM then groups the expert layers across DP x TP GPUs instead of copying them per
replica; the memory plan (a full copy per replica) is therefore conservative for MoE.

--quantization is only passed when the served precision differs from the checkpoint's own:
- fp8 on a bf16 checkpoint: `fp8`, vLLM's online dynamic FP8 quantization of the bf16 weights;
- int4/awq: `awq_marlin`; the weights must be an AWQ checkpoint (vLLM cannot make int4 online), and
  naming the method makes vLLM refuse a checkpoint that is not one. `awq` would force the slow
  non-Marlin kernel (vllm-project/vllm issue #21376);
- int8: `compressed-tensors`, the format of W8A8 checkpoints (again pre-quantized);
- mxfp4 on a non-mxfp4 checkpoint: `mxfp4`.
--max-num-seqs is the batch the throughput estimate assumes (the SLO-capped batch), so what vLLM
admits is what was planned.
"""

from __future__ import annotations

from inferplan.catalog import ModelEntry, Precision
from inferplan.plan import VLLM_PORT
from inferplan.sizing.split import Sizing

QUANTIZATION_FLAG: dict[Precision, str] = {
    "fp8": "fp8",
    "int8": "compressed-tensors",
    "int4": "awq_marlin",
    "awq": "awq_marlin",
    "mxfp4": "mxfp4",
}


def quantization_flag(model: ModelEntry, precision: Precision) -> str | None:
    """The --quantization value, or None when the checkpoint already is in this precision."""
    if precision == model.native_precision or precision == "bf16":
        return None
    return QUANTIZATION_FLAG[precision]


def vllm_args(served_name: str, model: ModelEntry, sizing: Sizing) -> tuple[str, ...]:
    """Arguments after `vllm serve <model_id>`; empty when the model does not fit."""
    if not sizing.fits:
        return ()
    args = [
        "--served-model-name",
        served_name,
        "--tensor-parallel-size",
        str(sizing.tensor_parallel),
    ]
    if sizing.replicas > 1:
        args += ["--data-parallel-size", str(sizing.replicas)]
    args += [
        "--max-model-len",
        str(sizing.max_context),
        "--gpu-memory-utilization",
        f"{sizing.gpu_memory_utilization:.2f}",
    ]
    flag = quantization_flag(model, sizing.quantization)
    if flag:
        args += ["--quantization", flag]
    if sizing.kv_cache_dtype != "auto":
        args += ["--kv-cache-dtype", sizing.kv_cache_dtype]
    args += ["--max-num-seqs", str(max(1, sizing.replica.batch)), "--port", str(VLLM_PORT)]
    return tuple(args)
