"""Any Hugging Face config.json becomes a catalog entry: dense, GQA, sliding window, MLA, MoE, quantized."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inferplan.catalog import Catalog
from inferplan.sizing.architecture import param_counts
from inferplan.sizing.hf_config import ConfigError, entry_from_config, native_precision, read_config

# The fields of the published config.json files, as transformers writes them.
DEEPSEEK_V3: dict[str, Any] = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "deepseek_v3",
    "hidden_size": 7168,
    "num_hidden_layers": 61,
    "num_attention_heads": 128,
    "num_key_value_heads": 128,
    "intermediate_size": 18432,
    "moe_intermediate_size": 2048,
    "vocab_size": 129280,
    "tie_word_embeddings": False,
    "max_position_embeddings": 163840,
    "n_routed_experts": 256,
    "num_experts_per_tok": 8,
    "n_shared_experts": 1,
    "first_k_dense_replace": 3,
    "moe_layer_freq": 1,
    "q_lora_rank": 1536,
    "kv_lora_rank": 512,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "v_head_dim": 128,
    "quantization_config": {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]},
}
MAVERICK: dict[str, Any] = {
    "architectures": ["Llama4ForConditionalGeneration"],
    "model_type": "llama4",
    "text_config": {
        "model_type": "llama4_text",
        "hidden_size": 5120,
        "num_hidden_layers": 48,
        "num_attention_heads": 40,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "intermediate_size": 8192,
        "intermediate_size_mlp": 16384,
        "vocab_size": 202048,
        "max_position_embeddings": 1048576,
        "num_local_experts": 128,
        "num_experts_per_tok": 1,
        "interleave_moe_layer_step": 2,
        "attention_chunk_size": 8192,
    },
}
GPT_OSS_20B: dict[str, Any] = {
    "model_type": "gpt_oss",
    "hidden_size": 2880,
    "num_hidden_layers": 24,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "intermediate_size": 2880,
    "vocab_size": 201088,
    "tie_word_embeddings": False,
    "max_position_embeddings": 131072,
    "num_local_experts": 32,
    "num_experts_per_tok": 4,
    "sliding_window": 128,
    "layer_types": ["sliding_attention", "full_attention"] * 12,
    "quantization_config": {"quant_method": "mxfp4"},
}
GEMMA3_27B: dict[str, Any] = {
    "model_type": "gemma3",
    "text_config": {
        "model_type": "gemma3_text",
        "hidden_size": 5376,
        "num_hidden_layers": 62,
        "num_attention_heads": 32,
        "num_key_value_heads": 16,
        "head_dim": 128,
        "intermediate_size": 21504,
        "vocab_size": 262208,
        "max_position_embeddings": 131072,
        "sliding_window": 1024,
        "sliding_window_pattern": 6,
        "tie_word_embeddings": True,
    },
}
QWEN25_7B: dict[str, Any] = {
    "model_type": "qwen2",
    "hidden_size": 3584,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "intermediate_size": 18944,
    "vocab_size": 152064,
    "max_position_embeddings": 131072,
    "sliding_window": 131072,
    "use_sliding_window": False,
    "max_window_layers": 28,
}
MISTRAL_7B_V01: dict[str, Any] = {
    "model_type": "mistral",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "vocab_size": 32000,
    "max_position_embeddings": 32768,
    "sliding_window": 4096,
}
ARCHITECTURE_FIELDS = (
    "hidden", "layers", "attention_heads", "kv_heads", "head_dim", "vocab_size", "tied_embeddings",
    "max_context", "attention", "sliding_window", "sliding_layers", "q_lora_rank", "kv_lora_rank",
    "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "moe_layers", "moe_experts",
    "moe_active_experts", "moe_intermediate", "shared_experts", "shared_intermediate", "native_precision",
)  # fmt: skip


@pytest.mark.parametrize(
    ("config", "catalog_id"),
    [
        (DEEPSEEK_V3, "deepseek-ai/DeepSeek-V3"),
        (MAVERICK, "meta-llama/Llama-4-Maverick-17B-128E-Instruct"),
        (GPT_OSS_20B, "openai/gpt-oss-20b"),
        (GEMMA3_27B, "google/gemma-3-27b-it"),
        (MISTRAL_7B_V01, "mistralai/Mistral-7B-Instruct-v0.1"),
    ],
)
def test_a_config_reads_as_the_catalog_entry_of_its_architecture(
    catalog: Catalog, config: dict[str, Any], catalog_id: str
) -> None:
    entry = entry_from_config("someone/fine-tune", config, "test")
    expected = catalog.models[catalog_id]
    assert {f: getattr(entry, f) for f in ARCHITECTURE_FIELDS} == {
        f: getattr(expected, f) for f in ARCHITECTURE_FIELDS
    }
    assert param_counts(entry).total == pytest.approx(param_counts(expected).total)


def test_deepseek_layers_split_into_dense_and_moe_with_one_shared_expert() -> None:
    entry = entry_from_config("x", DEEPSEEK_V3, "test")
    assert (entry.attention, entry.kv_heads, entry.kv_lora_rank + entry.qk_rope_head_dim) == ("mla", 0, 576)
    assert (entry.moe_layers, entry.layers - entry.moe_layers, entry.intermediate) == (58, 3, 18432)
    assert (entry.shared_experts, entry.shared_intermediate) == (1, 2048)
    assert entry.native_precision == "fp8" and entry.quantizations == ("fp8",)


def test_maverick_interleaves_moe_layers_and_chunks_attention() -> None:
    entry = entry_from_config("x", MAVERICK, "test")
    assert (entry.moe_layers, entry.intermediate, entry.moe_intermediate) == (24, 16384, 8192)
    assert (entry.shared_experts, entry.shared_intermediate) == (1, 8192)
    assert (entry.sliding_window, entry.sliding_layers) == (8192, 36)  # every 4th layer is global


def test_qwen25_names_a_window_it_does_not_use() -> None:
    entry = entry_from_config("x", QWEN25_7B, "test")
    assert (entry.sliding_window, entry.sliding_layers) == (0, 0)
    assert entry.head_dim == 3584 // 28 and entry.native_precision == "bf16"
    assert entry.quantizations == ("bf16", "fp8")  # vLLM quantizes bf16 weights to fp8 online


@pytest.mark.parametrize(
    ("quantization", "precision"),
    [
        ({"quant_method": "fp8", "weight_block_size": [128, 128]}, "fp8"),
        ({"quant_method": "mxfp4"}, "mxfp4"),
        ({"quant_method": "awq", "bits": 4, "group_size": 128}, "awq"),
        ({"quant_method": "gptq", "bits": 4}, "int4"),
        ({"quant_method": "gptq", "bits": 8}, "int8"),
        ({"quant_method": "modelopt", "quant_algo": "NVFP4"}, "nvfp4"),
        ({"quant_method": "modelopt", "quant_algo": "FP8"}, "fp8"),
        (
            {
                "quant_method": "compressed-tensors",
                "config_groups": {"g": {"weights": {"num_bits": 8, "type": "int"}}},
            },
            "int8",
        ),
        (
            {
                "quant_method": "compressed-tensors",
                "config_groups": {"g": {"weights": {"num_bits": 8, "type": "float"}}},
            },
            "fp8",
        ),
    ],
)
def test_quantization_config_sets_the_native_precision(quantization: dict[str, Any], precision: str) -> None:
    assert native_precision({"quantization_config": quantization}) == precision


def test_an_unknown_quantization_is_named() -> None:
    with pytest.raises(ConfigError, match="quant_method: 'bitsandbytes' is not one"):
        native_precision({"quantization_config": {"quant_method": "bitsandbytes"}})


def test_a_missing_field_is_named() -> None:
    broken = {k: v for k, v in QWEN25_7B.items() if k != "num_hidden_layers"}
    with pytest.raises(ConfigError, match="num_hidden_layers: missing"):
        entry_from_config("x", broken, "test")
    moe = {**GPT_OSS_20B}
    del moe["num_experts_per_tok"]
    with pytest.raises(ConfigError, match="num_experts_per_tok: missing"):
        entry_from_config("x", moe, "test")


def test_read_config_reports_unreadable_and_non_json_files(tmp_path: Path) -> None:
    good = tmp_path / "config.json"
    good.write_text(json.dumps(QWEN25_7B))
    assert read_config(good, "me/qwen-tune").id == "me/qwen-tune"
    with pytest.raises(ConfigError, match="cannot read"):
        read_config(tmp_path / "missing.json", "x")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"is not a JSON config\.json"):
        read_config(bad, "x")
