"""Plan JSON v1 `models` / `pools` entries and a text table of the sizing, for the plan report.

Field names are the ModelPlan / PoolPlan field names (the DESIGN.md contract: name, pool, instance_type,
tensor_parallel, weights_gib, kv_cache_gib, max_concurrency, output_tokens_per_s, calls_per_min,
replicas_needed, vllm_args, and more), so `size --format json` and `plan --format json` agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from inferplan.plan import ModelPlan, PoolPlan


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def model_json(model: ModelPlan) -> dict[str, Any]:
    return {key: _jsonable(value) for key, value in asdict(model).items()}


def pool_json(pool: PoolPlan) -> dict[str, Any]:
    """A pool as resolved: its shape, bounds in force (and as declared), starting size, volume."""
    return {
        "name": pool.name,
        "instance_type": pool.instance_type,
        "gpu": pool.gpu,
        "gpus_per_node": pool.gpus_per_node,
        "capacity": pool.capacity,
        "min_nodes": pool.min_nodes,
        "max_nodes": pool.max_nodes,
        "declared_max_nodes": pool.declared_max_nodes,
        "warm_pool": pool.warm_pool,
        "on_demand_base": pool.on_demand_base,
        "on_demand_percent_above_base": pool.on_demand_percent_above_base,
        "nodes_needed": pool.nodes_needed,
        "desired_nodes": pool.desired_nodes,
        "root_volume_gib": pool.root_volume.size_gib,
        "engine_slots": pool.engine_slots,
        "models": list(pool.models),
        "group_name": pool.group_name,
    }


def basis(m: ModelPlan) -> str:
    """Where the throughput comes from and which end of its error band the replicas are sized at."""
    if m.throughput_basis == "measured":
        return "throughput measured"
    return f"throughput modeled ±{m.throughput_error:.0%}, sized at {m.confidence}"


def render_text(models: Sequence[ModelPlan], pools: Sequence[PoolPlan]) -> str:
    """One line per model and per pool: what a reviewer checks first."""
    if not models and not pools:
        return ""
    lines = ["Sizing:"]
    for m in models:
        if not m.fits:
            lines.append(
                f"  {m.name} ({m.model_id}, {m.quantization}) on {m.instance_type}: does not fit: {m.reason}"
            )
            continue
        lines.append(
            f"  {m.name} ({m.model_id}, {m.quantization}, ctx {m.max_context}) on {m.instance_type}: "
            f"TP {m.tensor_parallel} x {m.replicas_per_node} replicas/node, weights {m.weights_gib:.1f} GiB, "
            f"KV {m.kv_cache_gib:.1f} GiB ({m.max_concurrency} x ctx), {m.calls_per_min:.0f} calls/min/node, "
            f"peak {m.peak_calls_per_min:.0f}/min -> {m.replicas_needed} replicas, {m.nodes_needed} node(s), "
            + basis(m)
            + ("" if m.meets_slo else " [SLO missed]")
            + (f" ({m.reason})" if m.reason else "")
        )
    for p in pools:
        limit = (
            str(p.max_nodes) if p.declared_max_nodes is not None else f"{p.max_nodes}, the stack's default"
        )
        lines.append(
            f"  pool {p.name}: {p.instance_type} ({p.gpus_per_node} x {p.gpu}), needs {p.nodes_needed} node(s) "
            f"(min {p.min_nodes}, max {limit}), root volume {p.root_volume_gib} GiB"
        )
    return "\n".join(lines)


def render_markdown(models: Sequence[ModelPlan], pools: Sequence[PoolPlan]) -> str:
    """The sizing table of a PR comment, with the exact `vllm serve` arguments."""
    if not models:
        return ""
    lines = [
        "### Models",
        "",
        "| model | pool | shape | TP × replicas/node | weights GiB | KV GiB | max seqs | calls/min/node | peak/min | nodes |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in models:
        lines.append(
            f"| `{m.name}` ({m.model_id}, {m.quantization}) | {m.pool} | {m.instance_type} | "
            f"{m.tensor_parallel} × {m.replicas_per_node} | {m.weights_gib:.1f} | {m.kv_cache_gib:.1f} | "
            f"{m.max_concurrency} | {m.calls_per_min:,.0f} | {m.peak_calls_per_min:,.0f} | {m.nodes_needed} |"
        )
    lines += ["", *[f"- `{m.name}`: {basis(m)}" for m in models]]
    lines += ["", "<details><summary>vLLM arguments</summary>", ""]
    for m in models:
        lines.append(f"- `{m.name}`: `vllm serve {m.model_id} {' '.join(m.vllm_args)}`")
    lines += ["", "</details>"]
    del pools  # pools are summarised in the text report; the table above carries their shapes
    return "\n".join(lines)
