"""`size --model ID --gpu H100 --gpus 8 ...`: memory, TP/replica split and throughput of one model on one GPU shape.

The model is a catalog id (any alias or capitalisation) or, with `--model-config`, any Hugging Face
config.json. The GPU accepts common spellings (`H100-SXM`, `L40S-48GB`) and names the choices when a
spelling is ambiguous (`A100`). Without `--max-context` the context is the model's own, lowered to the
largest that fits when the node cannot hold it (the output says so). A model that cannot fit even a
short context is a result, not an error (exit 0, `fits: false`, with the memory it would need and what
would fit instead); an unknown model or GPU, a precision the model does not come in, or an unusable
file is invalid input (exit 2, one line).

`--measured FILE` takes the JSON `vllm bench serve --save-result` wrote for this model on `--gpu`
(`--measured-tp` GPUs per replica): the model re-fits its efficiency on it and every figure is then
marked "measured". `--confidence p90` sizes at the cautious end of the class's held-out error.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, get_args

from inferplan.catalog import Catalog, GpuEntry, ModelEntry, NotInCatalog, Precision, builtin_catalog
from inferplan.catalog.efficiency import builtin_efficiency
from inferplan.errors import EXIT_OK, UserError
from inferplan.sizing.confidence import Adjustments, Confidence
from inferplan.sizing.hf_config import ConfigError, read_config
from inferplan.sizing.measured import Measurement, MeasurementError, load_result
from inferplan.sizing.memory import KvCacheDtype
from inferplan.sizing.split import Sizing, size_model, what_would_fit
from inferplan.sizing.throughput import Slo, TokenMix
from inferplan.sizing.vllm_args import vllm_args

FORMATS = ("text", "json")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number (got {text})")
    return value


def _utilization(text: str) -> float:
    value = float(text)
    if not 0.5 <= value <= 0.98:
        raise argparse.ArgumentTypeError(f"must be between 0.5 and 0.98 (got {text})")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        help="catalog model id, e.g. meta-llama/Llama-3.3-70B-Instruct (with --model-config: the id to serve)",
    )
    parser.add_argument(
        "--model-config", type=Path, help="a Hugging Face config.json describing the model (any model)"
    )
    parser.add_argument("--gpu", required=True, help="GPU, e.g. H100, H200, A100-80GB, L40S, B200")
    parser.add_argument("--gpus", type=_positive_int, default=1, help="GPUs on the node (default: 1)")
    parser.add_argument(
        "--quantization", choices=get_args(Precision), help="served precision (default: the checkpoint's own)"
    )
    parser.add_argument("--input-tokens", type=_positive_int, default=1000, help="prompt tokens per call")
    parser.add_argument(
        "--output-tokens", type=_positive_int, default=1000, help="completion tokens per call"
    )
    parser.add_argument(
        "--max-context",
        type=_positive_int,
        help="--max-model-len (default: the model's own, lowered to the largest that fits)",
    )
    parser.add_argument("--gpu-memory-utilization", type=_utilization, default=0.90, help="default: 0.90")
    parser.add_argument(
        "--kv-cache-dtype", choices=get_args(KvCacheDtype), default="auto", help="default: auto"
    )
    parser.add_argument("--ttft-ms", type=_positive_float, help="time-to-first-token SLO")
    parser.add_argument("--tpot-ms", type=_positive_float, help="time-per-output-token SLO")
    parser.add_argument(
        "--measured", type=Path, help="`vllm bench serve --save-result` JSON of this model on --gpu"
    )
    parser.add_argument(
        "--measured-tp",
        type=_positive_int,
        default=1,
        help="GPUs per replica in the measured run (default: 1)",
    )
    parser.add_argument(
        "--confidence",
        choices=("p50", "p90"),
        default="p50",
        help="size at the median (p50) or the cautious end (p90) of the held-out error (default: p50)",
    )
    parser.add_argument(
        "--name", help="--served-model-name for the vLLM arguments (default: derived from --model)"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")


def _model(catalog: Catalog, args: argparse.Namespace) -> ModelEntry:
    if args.model_config is not None:
        model_id = args.model or str(args.model_config.resolve().parent)
        try:
            return read_config(args.model_config, model_id)
        except ConfigError as exc:
            raise UserError(f"--model-config: {exc}") from None
    if args.model is None:
        raise UserError("--model: required (a catalog id), or --model-config with a config.json")
    try:
        return catalog.find_model(args.model)
    except NotInCatalog as exc:
        raise UserError(f"--model: {exc.message} (or describe it with --model-config config.json)") from None


def _gpu(catalog: Catalog, name: str) -> GpuEntry:
    try:
        return catalog.find_gpu(name)
    except NotInCatalog as exc:
        raise UserError(f"--gpu: {exc.message}") from None


def _adjustments(
    args: argparse.Namespace, model: ModelEntry, gpu: GpuEntry, precision: Precision
) -> Adjustments:
    confidence: Confidence = args.confidence
    if args.measured is None:
        return Adjustments(confidence=confidence)
    try:
        result = load_result(args.measured)
    except MeasurementError as exc:
        raise UserError(f"--measured: {exc}") from None
    measurement = Measurement(
        result=result,
        gpu=gpu,
        tensor_parallel=args.measured_tp,
        quantization=precision,
        kv_cache_dtype=args.kv_cache_dtype,
        gpu_memory_utilization=args.gpu_memory_utilization,
    )
    return Adjustments(confidence=confidence, measured={model.id: measurement})


def sizing_from_args(
    args: argparse.Namespace, catalog: Catalog | None = None
) -> tuple[ModelEntry, Sizing, Adjustments]:
    cat = catalog or builtin_catalog()
    model, gpu = _model(cat, args), _gpu(cat, args.gpu)
    precision: Precision = args.quantization or model.native_precision
    if precision not in model.quantizations:
        raise UserError(
            f"--quantization: {model.id} is not available in {precision} "
            f"(choose one of {', '.join(model.quantizations)})"
        )
    if args.max_context is not None and args.max_context > model.max_context:
        raise UserError(
            f"--max-context: {args.max_context} exceeds the model's own maximum {model.max_context}"
        )
    adjust = _adjustments(args, model, gpu, precision)
    try:
        scale = adjust.scale(model.id, model, gpu, builtin_efficiency())
    except MeasurementError as exc:
        raise UserError(f"--measured: {exc}") from None
    sizing = size_model(
        model,
        gpu,
        args.gpus,
        precision,
        TokenMix(args.input_tokens, args.output_tokens),
        max_context=args.max_context,
        gpu_memory_utilization=args.gpu_memory_utilization,
        slo=Slo(args.ttft_ms, args.tpot_ms),
        kv_cache_dtype=args.kv_cache_dtype,
        scale=scale,
        fit_context=args.max_context is None,
    )
    if not sizing.fits:
        hint = what_would_fit(
            model, gpu, args.gpus, precision, sizing.mix, sizing.max_context, list(cat.gpus.values()),
            args.gpu_memory_utilization, args.kv_cache_dtype,
        )  # fmt: skip
        sizing = replace(sizing, reason=f"{sizing.reason}; {hint}")
    return model, sizing, adjust


def served_name(model_id: str) -> str:
    return model_id.rstrip("/").split("/")[-1].lower()


def to_dict(
    model: ModelEntry, sizing: Sizing, name: str, adjust: Adjustments | None = None
) -> dict[str, Any]:
    """The JSON document of `size --format json` (field names shared with Plan JSON v1 `models`)."""
    adjust = adjust or Adjustments()
    memory, replica = sizing.memory, sizing.replica
    measured = model.id in adjust.measured
    return {
        "model": sizing.model_id,
        "gpu": sizing.gpu,
        "gpus": sizing.gpus,
        "quantization": sizing.quantization,
        "kv_cache_dtype": sizing.kv_cache_dtype,
        "max_context": sizing.max_context,
        "model_max_context": model.max_context,
        "context_lowered": sizing.context_lowered,
        "gpu_memory_utilization": sizing.gpu_memory_utilization,
        "input_tokens": sizing.mix.input_tokens,
        "output_tokens": sizing.mix.output_tokens,
        "ttft_slo_ms": sizing.slo.ttft_ms,
        "tpot_slo_ms": sizing.slo.tpot_ms,
        "fits": sizing.fits,
        "tensor_parallel": sizing.tensor_parallel,
        "replicas": sizing.replicas,
        "weights_gib": round(memory.weights_gib, 2),
        "kv_cache_gib": round(max(memory.kv_cache_gib, 0.0), 2),
        "kv_bytes_per_token": memory.kv_bytes_per_token,
        "max_concurrency": memory.max_concurrency,
        "batch": replica.batch,
        "batch_limit": replica.batch_limit if sizing.fits else None,
        "ttft_ms": round(replica.ttft_ms, 1) if sizing.fits else None,
        "tpot_ms": round(replica.tpot_ms, 2) if sizing.fits else None,
        "meets_slo": sizing.meets_slo,
        "output_tokens_per_s": round(sizing.output_tokens_per_s, 1),
        "calls_per_min": round(sizing.calls_per_min, 1),
        "throughput_basis": "measured" if measured else "modeled",
        "confidence": adjust.confidence,
        "throughput_error": round(adjust.error_band(model), 3),
        "needed_gib_per_gpu": round(sizing.needed_gib_per_gpu, 2),
        "max_context_that_fits": sizing.max_context_that_fits,
        "reason": sizing.reason,
        "vllm_args": list(vllm_args(name, model, sizing)),
        "tp_options": [
            {
                "tensor_parallel": o.tensor_parallel,
                "replicas": o.replicas,
                "fits": o.fits,
                "max_concurrency": o.memory.max_concurrency,
                "output_tokens_per_s": round(o.output_tokens_per_s, 1),
                "calls_per_min": round(o.calls_per_min, 1),
            }
            for o in sizing.options
        ],
    }


def _basis(doc: dict[str, Any]) -> str:
    if doc["throughput_basis"] == "measured":
        return "measured (efficiency re-fitted on --measured)"
    return f"modeled, ±{doc['throughput_error']:.0%} median held-out error, sized at {doc['confidence']}"


def render_text(doc: dict[str, Any]) -> str:
    head = (
        f"{doc['model']} on {doc['gpus']} x {doc['gpu']}, {doc['quantization']}, "
        f"max_context {doc['max_context']}, {doc['input_tokens']} in / {doc['output_tokens']} out"
    )
    lines = [head, f"  fits                 {str(doc['fits']).lower()}"]
    if not doc["fits"]:
        lines += [
            f"  weights_gib          {doc['weights_gib']:.2f}  (one replica at TP {doc['tensor_parallel']})",
            f"  needed_gib_per_gpu   {doc['needed_gib_per_gpu']:.2f}",
            f"  why                  {doc['reason']}",
        ]
        return "\n".join(lines)
    slo = ""
    if doc["ttft_slo_ms"] is not None or doc["tpot_slo_ms"] is not None:
        slo = f"  (SLO TTFT {doc['ttft_slo_ms']} ms, TPOT {doc['tpot_slo_ms']} ms: {'met' if doc['meets_slo'] else 'MISSED'})"
    lines += [
        f"  tensor_parallel      {doc['tensor_parallel']}",
        f"  replicas             {doc['replicas']}",
        f"  weights_gib          {doc['weights_gib']:.2f}  (per replica)",
        f"  kv_cache_gib         {doc['kv_cache_gib']:.2f}  (per replica, {doc['kv_bytes_per_token']:.0f} B/token)",
        f"  max_concurrency      {doc['max_concurrency']}  (sequences of max_context per replica)",
        f"  batch                {doc['batch']}  (per replica, limited by {doc['batch_limit']})",
        f"  ttft_ms / tpot_ms    {doc['ttft_ms']:.0f} / {doc['tpot_ms']:.1f}{slo}",
        f"  output_tokens_per_s  {doc['output_tokens_per_s']:.0f}  (all replicas)",
        f"  calls_per_min        {doc['calls_per_min']:.1f}  (all replicas)",
        f"  throughput           {_basis(doc)}",
    ]
    if doc["reason"]:
        lines.append(f"  note                 {doc['reason']}")
    others = [o for o in doc["tp_options"] if o["fits"] and o["tensor_parallel"] != doc["tensor_parallel"]]
    if others:
        shown = ", ".join(f"TP {o['tensor_parallel']}: {o['output_tokens_per_s']:.0f} tok/s" for o in others)
        lines.append(f"  other splits         {shown}")
    lines.append(f"  vllm serve {doc['model']} {' '.join(doc['vllm_args'])}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    model, sizing, adjust = sizing_from_args(args)
    doc = to_dict(model, sizing, args.name or served_name(model.id), adjust)
    print(json.dumps(doc, indent=2) if args.format == "json" else render_text(doc))
    return EXIT_OK
