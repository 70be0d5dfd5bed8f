"""A Hugging Face `config.json` read into a catalog `ModelEntry`: any fine-tuned or private model.

The reader needs only the fields that decide memory and FLOPs, under the names transformers uses:
`hidden_size`, `num_hidden_layers`, `num_attention_heads`, `num_key_value_heads`, `head_dim`,
`intermediate_size`, `vocab_size`, `tie_word_embeddings`, `max_position_embeddings`. On top of a dense
decoder it understands

- MoE: `num_local_experts` / `num_experts` / `n_routed_experts`, `num_experts_per_tok`,
  `moe_intermediate_size`, shared experts (`n_shared_experts`, `shared_expert_intermediate_size`),
  dense leading layers (`first_k_dense_replace`), interleaved MoE layers (`interleave_moe_layer_step`,
  `decoder_sparse_step`, `mlp_only_layers`) and Llama 4's `intermediate_size_mlp`;
- MLA (DeepSeek-V3, Kimi K2): `kv_lora_rank`, `q_lora_rank`, `qk_nope_head_dim`, `qk_rope_head_dim`,
  `v_head_dim`;
- windowed attention: `sliding_window` with `layer_types`, `sliding_window_pattern` (Gemma 3),
  `use_sliding_window` / `max_window_layers` (Qwen2), and chunked attention (`attention_chunk_size`,
  every fourth Llama 4 layer global);
- `quantization_config`: fp8 (block or per-tensor), mxfp4, AWQ / GPTQ int4, compressed-tensors
  (int8, int4 or fp8 weights), ModelOpt FP8 / NVFP4;
- multimodal wrappers that keep the decoder under `text_config`.

A field the reader cannot do without is reported by name; the caller turns it into a located error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inferplan.catalog import ModelEntry, Precision

# Serving precisions a checkpoint in each native precision can also be run in (vLLM quantizes
# bf16 weights to fp8 online; pre-quantized checkpoints are served as they are).
SERVABLE: dict[Precision, tuple[Precision, ...]] = {
    "bf16": ("bf16", "fp8"),
    "fp8": ("fp8",),
    "int8": ("int8",),
    "int4": ("int4",),
    "awq": ("awq",),
    "mxfp4": ("mxfp4",),
    "nvfp4": ("nvfp4",),
}


class ConfigError(ValueError):
    """A config.json the reader cannot turn into an architecture; the message names the field."""


def _int(config: Mapping[str, Any], *keys: str, default: int | None = None) -> int:
    for key in keys:
        value = config.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{key}: expected a number, got {value!r}")
            return int(value)
    if default is None:
        raise ConfigError(f"{keys[0]}: missing (needed to size the model)")
    return default


def native_precision(config: Mapping[str, Any]) -> Precision:
    """The precision the checkpoint stores its linear layers in, from `quantization_config`."""
    quant = config.get("quantization_config")
    if not isinstance(quant, Mapping):
        return "bf16"
    method = str(quant.get("quant_method", "")).lower()
    if method == "fp8" or method == "fbgemm_fp8":
        return "fp8"
    if method == "mxfp4":
        return "mxfp4"
    if method in ("awq", "awq_marlin"):
        return "awq"
    if method in ("gptq", "gptq_marlin"):
        bits = quant.get("bits", 4)
        return "int4" if bits == 4 else "int8"
    if method == "modelopt":
        algo = str(quant.get("quant_algo", "")).upper()
        if "FP4" in algo:
            return "nvfp4"
        if "FP8" in algo:
            return "fp8"
    if method == "compressed-tensors":
        return _compressed_tensors(quant)
    raise ConfigError(f"quantization_config.quant_method: '{method}' is not one the sizing model knows")


def _compressed_tensors(quant: Mapping[str, Any]) -> Precision:
    groups = quant.get("config_groups")
    if isinstance(groups, Mapping):
        for group in groups.values():
            weights = group.get("weights") if isinstance(group, Mapping) else None
            if isinstance(weights, Mapping):
                bits, kind = weights.get("num_bits"), str(weights.get("type", "int"))
                if bits == 8:
                    return "fp8" if kind == "float" else "int8"
                if bits == 4:
                    return "nvfp4" if kind == "float" else "int4"
    raise ConfigError("quantization_config.config_groups: no weight bit width found")


def _moe_layer_count(config: Mapping[str, Any], layers: int) -> int:
    """How many of the layers route to experts."""
    if "first_k_dense_replace" in config:  # DeepSeek-V3, Kimi K2
        step = _int(config, "moe_layer_freq", default=1)
        dense = _int(config, "first_k_dense_replace")
        return len([i for i in range(dense, layers) if i % step == 0])
    only_dense = config.get("mlp_only_layers") or []
    step = _int(config, "interleave_moe_layer_step", "decoder_sparse_step", default=1)
    if step < 1:
        raise ConfigError("interleave_moe_layer_step: must be at least 1")
    # Llama 4 puts the MoE on every `step`-th layer counting from the step-th; Qwen MoE on (i+1) % step == 0.
    return len([i for i in range(layers) if (i + 1) % step == 0 and i not in only_dense])


def _windowed_layers(config: Mapping[str, Any], layers: int) -> tuple[int, int]:
    """(window, layers that use it) for sliding-window or chunked attention."""
    chunk = config.get("attention_chunk_size")
    if isinstance(chunk, int) and chunk > 0:  # Llama 4: chunked attention, every 4th layer global (NoPE)
        interval = _int(config, "no_rope_layer_interval", default=4)
        return chunk, layers - layers // interval
    window = config.get("sliding_window")
    if not isinstance(window, int) or window <= 0:
        return 0, 0
    types = config.get("layer_types")
    if isinstance(types, list) and types:
        return window, sum(1 for t in types if t == "sliding_attention")
    pattern = config.get("sliding_window_pattern")
    if isinstance(pattern, int) and pattern > 1:  # Gemma 3: every pattern-th layer is global
        return window, layers - layers // pattern
    if config.get("use_sliding_window") is False:  # Qwen2 names a window it does not use
        return 0, 0
    if "use_sliding_window" in config:
        full = _int(config, "max_window_layers", default=layers)
        return window, max(layers - full, 0)
    if window >= _int(config, "max_position_embeddings", default=window + 1):
        return 0, 0
    return window, layers  # Mistral 7B v0.1: every layer


def entry_from_config(model_id: str, config: Mapping[str, Any], source: str) -> ModelEntry:
    """The catalog entry a config.json describes; ConfigError names a missing or unusable field."""
    text = config.get("text_config")
    decoder: Mapping[str, Any] = {**config, **text} if isinstance(text, Mapping) else config
    hidden = _int(decoder, "hidden_size", "d_model", "n_embd")
    layers = _int(decoder, "num_hidden_layers", "n_layer", "num_layers")
    heads = _int(decoder, "num_attention_heads", "n_head")
    mla = "kv_lora_rank" in decoder and decoder.get("kv_lora_rank") is not None
    experts = _int(decoder, "num_local_experts", "num_experts", "n_routed_experts", default=0)
    moe_layers = _moe_layer_count(decoder, layers) if experts else 0
    expert_width = _int(decoder, "moe_intermediate_size", "intermediate_size", default=0) if experts else 0
    shared = _int(decoder, "n_shared_experts", default=0)
    shared_width = _int(decoder, "shared_expert_intermediate_size", default=0)
    if shared_width and not shared:
        shared = 1  # Qwen2-MoE names the width of its one shared expert
    if shared and not shared_width:
        shared_width = expert_width  # DeepSeek-V3: shared experts as wide as routed ones
    if decoder.get("model_type") in ("llama4", "llama4_text"):
        shared, shared_width = 1, expert_width  # Llama 4: one shared expert as wide as a routed one
    dense_width = _int(decoder, "intermediate_size_mlp", "intermediate_size", "ffn_dim", default=0)
    window, windowed = _windowed_layers(decoder, layers)
    precision = native_precision(config)
    fields: dict[str, Any] = {
        "id": model_id,
        "hidden": hidden,
        "layers": layers,
        "attention_heads": heads,
        "kv_heads": 0 if mla else _int(decoder, "num_key_value_heads", default=heads),
        "head_dim": 0 if mla else _int(decoder, "head_dim", default=hidden // heads),
        "intermediate": dense_width if moe_layers < layers else _int(decoder, "intermediate_size", default=0),
        "vocab_size": _int(decoder, "vocab_size"),
        "tied_embeddings": bool(decoder.get("tie_word_embeddings", False)),
        "max_context": _int(decoder, "max_position_embeddings", "max_sequence_length", "n_positions"),
        "attention": "mla" if mla else "gqa",
        "sliding_window": window,
        "sliding_layers": windowed,
        "moe_layers": moe_layers,
        "moe_experts": experts,
        "moe_active_experts": _int(decoder, "num_experts_per_tok", "moe_topk", default=0) if experts else 0,
        "moe_intermediate": expert_width,
        "shared_experts": shared if experts else 0,
        "shared_intermediate": shared_width if experts else 0,
        "native_precision": precision,
        "quantizations": SERVABLE[precision],
        "source": source,
        "as_of": "read from config.json",
    }
    if mla:
        fields.update(
            q_lora_rank=_int(decoder, "q_lora_rank", default=0),
            kv_lora_rank=_int(decoder, "kv_lora_rank"),
            qk_nope_head_dim=_int(decoder, "qk_nope_head_dim"),
            qk_rope_head_dim=_int(decoder, "qk_rope_head_dim"),
            v_head_dim=_int(decoder, "v_head_dim"),
        )
    if experts and not fields["moe_active_experts"]:
        raise ConfigError("num_experts_per_tok: missing (needed to size an MoE model)")
    try:
        return ModelEntry.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


def read_config(path: Path, model_id: str) -> ModelEntry:
    """`entry_from_config` of a file; ConfigError carries the reason (unreadable, not JSON, a field)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not a JSON config.json ({exc})") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path} holds {type(data).__name__}, not a config.json object")
    return entry_from_config(model_id, data, f"config.json at {path}")
