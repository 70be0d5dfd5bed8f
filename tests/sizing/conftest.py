"""Shared helpers for the sizing tests: the built-in catalog and short names for its rows."""

from __future__ import annotations

import pytest

from inferplan.catalog import Catalog, GpuEntry, ModelEntry, builtin_catalog

LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
LLAMA_70B = "meta-llama/Llama-3.3-70B-Instruct"
SCOUT = "meta-llama/Llama-4-Scout-17B-16E-Instruct"
QWEN_235B = "Qwen/Qwen3-235B-A22B"
GPT_OSS_120B = "openai/gpt-oss-120b"
DEEPSEEK_V3 = "deepseek-ai/DeepSeek-V3"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return builtin_catalog()


def model(catalog: Catalog, model_id: str) -> ModelEntry:
    return catalog.models[model_id]


def gpu(catalog: Catalog, name: str) -> GpuEntry:
    return catalog.gpus[name]
