"""Sizing: memory, throughput, tensor-parallel choice and replicas of open-weight models on GPU shapes.

Modules: `memory` (weights, KV cache, runtime overhead), `throughput` (roofline with fitted efficiency
factors), `split` (TP / data-parallel split of one node), `vllm_args` (the `vllm serve` flags),
`replicas` (demand, replicas, nodes, `instance_type: auto`), `calibration` (fit and error report).
"""

from inferplan.sizing.memory import (
    MemoryPlan,
    Weights,
    kv_bytes_per_sequence,
    kv_bytes_per_token,
    plan_memory,
    weights,
)
from inferplan.sizing.split import Sizing, size_model, tensor_parallel_allowed
from inferplan.sizing.throughput import ReplicaThroughput, Slo, TokenMix, replica_throughput
from inferplan.sizing.vllm_args import vllm_args

__all__ = [
    "MemoryPlan",
    "ReplicaThroughput",
    "Sizing",
    "Slo",
    "TokenMix",
    "Weights",
    "kv_bytes_per_sequence",
    "kv_bytes_per_token",
    "plan_memory",
    "replica_throughput",
    "size_model",
    "tensor_parallel_allowed",
    "vllm_args",
    "weights",
]
