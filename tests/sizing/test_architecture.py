"""Parameter counts derived from the architecture match what the model cards publish."""

from __future__ import annotations

import pytest

from inferplan.catalog import Catalog
from inferplan.sizing.architecture import param_counts

# Published totals (and active counts for MoE models), in billions, from each model card. gpt-oss
# cards count active parameters without the embedding table: checked separately below.
PUBLISHED: list[tuple[str, float, float | None]] = [
    ("meta-llama/Llama-3.1-8B-Instruct", 8.03, None),
    ("meta-llama/Llama-3.2-1B-Instruct", 1.24, None),
    ("meta-llama/Llama-3.2-3B-Instruct", 3.21, None),
    ("meta-llama/Llama-3.3-70B-Instruct", 70.6, None),
    ("meta-llama/Llama-3.1-405B-Instruct", 405.9, None),
    ("meta-llama/Llama-4-Scout-17B-16E-Instruct", 107.8, 17.2),  # text part of the 109B
    ("meta-llama/Llama-4-Maverick-17B-128E-Instruct", 400.7, 17.2),
    ("mistralai/Mistral-7B-Instruct-v0.1", 7.24, None),
    ("mistralai/Mistral-Small-24B-Instruct-2501", 23.57, None),  # 47144806400 bytes of bf16
    ("mistralai/Mistral-Large-Instruct-2407", 122.6, None),  # "123B"
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", 46.7, 12.9),
    ("mistralai/Mixtral-8x22B-Instruct-v0.1", 140.6, 39.1),
    ("Qwen/Qwen2.5-72B-Instruct", 72.7, None),
    ("Qwen/Qwen3-32B", 32.8, None),
    ("Qwen/Qwen3-30B-A3B", 30.5, 3.35),  # "3.3B activated", truncated
    ("Qwen/Qwen3-235B-A22B", 235.1, 22.2),
    ("deepseek-ai/DeepSeek-V3", 671.0, 37.5),
    ("moonshotai/Kimi-K2-Instruct", 1026.4, 32.9),
    ("openai/gpt-oss-120b", 116.8, None),
    ("openai/gpt-oss-20b", 20.9, None),
    ("microsoft/phi-4", 14.7, None),
]


@pytest.mark.parametrize(("model_id", "total", "active"), PUBLISHED)
def test_counts_match_the_model_card(
    catalog: Catalog, model_id: str, total: float, active: float | None
) -> None:
    entry = catalog.models[model_id]
    counts = param_counts(entry)
    assert counts.total / 1e9 == pytest.approx(total, rel=0.005)
    if active is not None:
        assert counts.active(entry) / 1e9 == pytest.approx(active, rel=0.01)
    elif not entry.is_moe:
        assert counts.active(entry) == counts.total


@pytest.mark.parametrize(
    ("model_id", "card_active", "layers", "experts_active"),
    [("openai/gpt-oss-120b", 5.13, 36, 4), ("openai/gpt-oss-20b", 3.61, 24, 4)],
)
def test_gpt_oss_active_parameters_follow_four_of_its_experts(
    catalog: Catalog, model_id: str, card_active: float, layers: int, experts_active: int
) -> None:
    # The model cards count active parameters without the embedding table (5.1B and 3.6B).
    oss = catalog.models[model_id]
    counts = param_counts(oss)
    assert (counts.active(oss) - counts.embedding) / 1e9 == pytest.approx(card_active, abs=0.02)
    assert counts.active_routed(oss) == pytest.approx(layers * experts_active * 3 * 2880 * 2880)


def test_llama4_shared_expert_is_always_active(catalog: Catalog) -> None:
    scout = catalog.models["meta-llama/Llama-4-Scout-17B-16E-Instruct"]
    counts = param_counts(scout)
    one_expert = 3 * 5120 * 8192
    assert counts.shared_experts == 48 * one_expert
    assert counts.active_routed(scout) == pytest.approx(48 * one_expert)  # 1 of 16 routed experts per layer
    # What one token multiplies: attention, the shared expert, the router and the head, plus its routed expert.
    assert counts.active_dense_linear() == pytest.approx(
        counts.attention + 48 * one_expert + 48 * 5120 * 16 + 202048 * 5120
    )


def test_tied_embeddings_are_stored_once(catalog: Catalog) -> None:
    small = catalog.models["meta-llama/Llama-3.2-1B-Instruct"]
    counts = param_counts(small)
    assert counts.lm_head == 0 and counts.embedding == 128256 * 2048
    assert counts.head_width == 128256 * 2048  # ... but the head still multiplies through it
