"""`size --model ID --gpu H100 --gpus 8 ...`: memory, TP/replica split and throughput of one model on one GPU shape.

A model that cannot fit is a result, not an error (exit 0, `fits: false`, with the memory it would
need and why); an unknown model or GPU, or a precision the model does not come in, is invalid input
(exit 2, one line, with a did-you-mean).
"""

from __future__ import annotations

import argparse
import json
from typing import Any, get_args

from inferplan.catalog import Catalog, GpuEntry, ModelEntry, Precision, builtin_catalog
from inferplan.errors import EXIT_OK, UserError
from inferplan.sizing.memory import KvCacheDtype
from inferplan.sizing.split import Sizing, size_model
from inferplan.sizing.throughput import Slo, TokenMix
from inferplan.sizing.vllm_args import vllm_args
from inferplan.spec import did_you_mean

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
        "--model", required=True, help="catalog model id, e.g. meta-llama/Llama-3.3-70B-Instruct"
    )
    parser.add_argument("--gpu", required=True, help="catalog GPU, e.g. H100, H200, L40S")
    parser.add_argument("--gpus", type=_positive_int, default=1, help="GPUs on the node (default: 1)")
    parser.add_argument(
        "--quantization", choices=get_args(Precision), help="served precision (default: the checkpoint's own)"
    )
    parser.add_argument("--input-tokens", type=_positive_int, default=1000, help="prompt tokens per call")
    parser.add_argument(
        "--output-tokens", type=_positive_int, default=1000, help="completion tokens per call"
    )
    parser.add_argument(
        "--max-context", type=_positive_int, help="--max-model-len (default: the model's own)"
    )
    parser.add_argument("--gpu-memory-utilization", type=_utilization, default=0.90, help="default: 0.90")
    parser.add_argument(
        "--kv-cache-dtype", choices=get_args(KvCacheDtype), default="auto", help="default: auto"
    )
    parser.add_argument("--ttft-ms", type=_positive_float, help="time-to-first-token SLO")
    parser.add_argument("--tpot-ms", type=_positive_float, help="time-per-output-token SLO")
    parser.add_argument(
        "--name", help="--served-model-name for the vLLM arguments (default: derived from --model)"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")


def _lookup(catalog: Catalog, model_id: str, gpu_name: str) -> tuple[ModelEntry, GpuEntry]:
    model = catalog.models.get(model_id)
    if model is None:
        raise UserError(f"--model: unknown model '{model_id}'{did_you_mean(model_id, list(catalog.models))}")
    gpu = catalog.gpus.get(gpu_name)
    if gpu is None:
        family = sorted(g for g in catalog.gpus if g.lower().startswith(gpu_name.lower()))
        hint = (
            " (did you mean " + " or ".join(f"'{g}'" for g in family) + "?)"
            if family
            else did_you_mean(gpu_name, list(catalog.gpus))
        )
        raise UserError(f"--gpu: unknown GPU '{gpu_name}'{hint}")
    return model, gpu


def sizing_from_args(args: argparse.Namespace, catalog: Catalog | None = None) -> tuple[ModelEntry, Sizing]:
    model, gpu = _lookup(catalog or builtin_catalog(), args.model, args.gpu)
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
    )
    return model, sizing


def served_name(model_id: str) -> str:
    return model_id.split("/")[-1].lower()


def to_dict(model: ModelEntry, sizing: Sizing, name: str) -> dict[str, Any]:
    """The JSON document of `size --format json` (field names shared with Plan JSON v1 `models`)."""
    memory, replica = sizing.memory, sizing.replica
    return {
        "model": sizing.model_id,
        "gpu": sizing.gpu,
        "gpus": sizing.gpus,
        "quantization": sizing.quantization,
        "kv_cache_dtype": sizing.kv_cache_dtype,
        "max_context": sizing.max_context,
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
    model, sizing = sizing_from_args(args)
    doc = to_dict(model, sizing, args.name or served_name(model.id))
    print(json.dumps(doc, indent=2) if args.format == "json" else render_text(doc))
    return EXIT_OK
