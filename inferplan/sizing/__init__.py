"""Sizing: memory, throughput, tensor-parallel choice and replicas of open-weight models on GPU shapes.

Modules: `memory` (weights, KV cache, runtime overhead), `throughput` (the physical model with fitted
class factors), `split` (TP / data-parallel split of one node), `vllm_args` (the `vllm serve` flags),
`replicas` (demand, replicas and nodes of a resolved spec), `calibration` (fit and error report),
`hf_config` / `architecture` (models from a config.json), `confidence` / `measured` (error bands and
measured results). Import from the modules: this package imports nothing, so its leaf types (TokenMix,
Slo) are importable from the Plan's types without a cycle.
"""
