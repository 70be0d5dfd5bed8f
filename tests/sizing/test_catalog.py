"""The model and GPU catalog: coverage, aliases, spellings, sources."""

from __future__ import annotations

import re

import pytest

from inferplan.catalog import Catalog, NotInCatalog, read_rows

REAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]|H[12]))?$")

# The models the issue asks the catalog to cover (any of their ids).
COVERED = [
    "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Llama-3.1-405B-Instruct",
    "meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-3B-Instruct", "meta-llama/Llama-3.3-70B-Instruct",
    "meta-llama/Llama-4-Scout-17B-16E-Instruct", "meta-llama/Llama-4-Maverick-17B-128E-Instruct",
    "mistralai/Mistral-7B-v0.1", "mistralai/Mistral-7B-Instruct-v0.3", "mistralai/Mistral-Small-24B-Instruct-2501",
    "mistralai/Mistral-Large-Instruct-2407", "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "mistralai/Mixtral-8x22B-Instruct-v0.1", "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-14B-Instruct",
    "Qwen/Qwen2.5-32B-Instruct", "Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen3-8B", "Qwen/Qwen3-14B", "Qwen/Qwen3-32B",
    "Qwen/Qwen3-30B-A3B", "Qwen/Qwen3-235B-A22B", "Qwen/Qwen3-235B-A22B-Instruct-2507",
    "Qwen/Qwen3-235B-A22B-FP8", "deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1",
    "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "openai/gpt-oss-20b", "openai/gpt-oss-120b",
    "google/gemma-3-12b-it", "google/gemma-3-27b-it", "microsoft/phi-4", "moonshotai/Kimi-K2-Instruct",
    "meta-llama/Llama-2-7b-hf",
]  # fmt: skip
GPUS = ["H100", "H200", "A100-40GB", "A100-80GB", "L40S", "L4", "A10G", "B200"]
SHAPES = ["g5", "g6", "g6e", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200"]


@pytest.mark.parametrize("model_id", COVERED)
def test_every_listed_model_is_in_the_catalog(catalog: Catalog, model_id: str) -> None:
    assert catalog.find_model(model_id).id == model_id


@pytest.mark.parametrize(
    ("alias", "entry"),
    [
        ("meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Llama-3.3-70B-Instruct"),
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "meta-llama/Llama-3.3-70B-Instruct"),
        ("deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-V3"),
        ("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct"),
        ("mistralai/Mixtral-8x7B-v0.1", "mistralai/Mixtral-8x7B-Instruct-v0.1"),
    ],
)
def test_ids_that_share_an_architecture_resolve_to_one_entry(
    catalog: Catalog, alias: str, entry: str
) -> None:
    a, e = catalog.find_model(alias), catalog.models[entry]
    assert a.architecture_id == entry and a.id == alias  # served under its own id
    shape = ("hidden", "layers", "kv_heads", "moe_experts", "max_context", "native_precision")
    assert [getattr(a, f) for f in shape] == [getattr(e, f) for f in shape]


def test_a_checkpoint_alias_carries_its_own_precision_and_context(catalog: Catalog) -> None:
    fp8 = catalog.find_model("Qwen/Qwen3-235B-A22B-Instruct-2507-FP8")
    assert (fp8.native_precision, fp8.max_context, fp8.architecture_id) == (
        "fp8",
        262144,
        "Qwen/Qwen3-235B-A22B",
    )
    assert catalog.models["Qwen/Qwen3-235B-A22B"].native_precision == "bf16"


def test_model_ids_are_case_insensitive_and_unknown_ones_suggest(catalog: Catalog) -> None:
    assert catalog.find_model("qwen/qwen3-32b").id == "Qwen/Qwen3-32B"
    with pytest.raises(NotInCatalog, match=r"did you mean 'meta-llama/Llama-3.3-70B-Instruct'"):
        catalog.find_model("meta-llama/Llama-3.3-70B")


@pytest.mark.parametrize(
    ("spelling", "gpu"),
    [("H100-SXM", "H100"), ("h100 sxm5", "H100"), ("L40S-48GB", "L40S"), ("a100_80gb", "A100-80GB"),
     ("A100-SXM4-40GB", "A100-40GB"), ("B200", "B200"), ("A10", "A10G")],
)  # fmt: skip
def test_common_gpu_spellings_are_accepted(catalog: Catalog, spelling: str, gpu: str) -> None:
    assert catalog.find_gpu(spelling).gpu == gpu


def test_an_ambiguous_gpu_names_the_choices(catalog: Catalog) -> None:
    with pytest.raises(NotInCatalog, match="'A100' is ambiguous: say which of A100-40GB or A100-80GB"):
        catalog.find_gpu("A100")
    with pytest.raises(NotInCatalog, match="did you mean 'H100'"):
        catalog.find_gpu("H10")


@pytest.mark.parametrize("gpu", GPUS)
def test_every_gpu_has_its_facts_and_an_ec2_shape(catalog: Catalog, gpu: str) -> None:
    entry = catalog.gpus[gpu]
    assert entry.bf16_dense_tflops > 0 and entry.interconnect_gb_s > 0
    assert any(i.gpu == gpu for i in catalog.instances.values())


def test_every_listed_ec2_family_is_a_shape(catalog: Catalog) -> None:
    families = {i.instance_type.split(".")[0] for i in catalog.instances.values()}
    assert set(SHAPES) <= families


@pytest.mark.parametrize(
    "name",
    ["models.csv", "model_aliases.csv", "gpus.csv", "gpu_aliases.csv", "instances.csv", "instance_prices.csv",
     "efficiency.csv", "throughput_calibration.csv", "throughput_accuracy.csv"],
)  # fmt: skip
def test_every_row_names_its_source_and_a_real_date(name: str) -> None:
    for row in read_rows(name):
        assert row.get("source"), f"{name}: a row without source: {row}"
        assert REAL_DATE.match(row.get("as_of", "")), f"{name}: as_of {row.get('as_of')!r} is not a date"
