"""Demand, replicas, nodes, root volume and `instance_type: auto` on the example stacks."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from inferplan.catalog import Catalog, builtin_catalog
from inferplan.catalog.efficiency import builtin_efficiency
from inferplan.errors import UserError
from inferplan.plan import build_plan
from inferplan.sizing.memory import checkpoint_gib
from inferplan.sizing.replicas import demand, plan_models, root_volume_gib
from inferplan.sizing.split import size_model
from inferplan.sizing.throughput import TokenMix
from inferplan.spec import Platform
from tests.conftest import EXAMPLE_STACKS, stack_config
from tests.sizing.conftest import LLAMA_8B, LLAMA_70B


def platform(stack: str, edit: Any = None) -> Platform:
    spec = stack_config(stack)["inferplan:platform"]
    if edit is not None:
        edit(spec)
    return Platform.model_validate(spec)


def merged(p: Platform) -> Catalog:
    return builtin_catalog().with_overrides(p.catalog)


def test_demand_is_the_busiest_minute_of_the_routed_workloads() -> None:
    prod = platform("prod-eu")
    need = demand(prod, "llama-70b")
    # lead-scoring 200k/day (800/200) + support-summaries 120k/day (1500/250), peak 3x the average.
    assert need.peak_calls_per_min == pytest.approx((200_000 + 120_000) / 1440 * 3.0)
    assert need.mix.input_tokens == pytest.approx((200_000 * 800 + 120_000 * 1500) / 320_000)
    assert need.mix.output_tokens == pytest.approx((200_000 * 200 + 120_000 * 250) / 320_000)
    assert (need.slo.ttft_ms, need.slo.tpot_ms) == (2000, 100)  # the strictest of the two


def test_replicas_and_nodes_carry_the_peak() -> None:
    prod = platform("prod-eu")
    models, pools = plan_models(prod, merged(prod))
    llama = next(m for m in models if m.name == "llama-70b")
    assert (llama.instance_type, llama.tensor_parallel, llama.replicas_per_node) == ("p5.48xlarge", 2, 4)
    per_replica = llama.calls_per_min / llama.replicas_per_node
    assert llama.replicas_needed == math.ceil(llama.peak_calls_per_min / per_replica)
    assert llama.nodes_needed == math.ceil(llama.replicas_needed / llama.replicas_per_node)
    h100 = next(p for p in pools if p.name == "h100")
    assert h100.nodes_needed == max(h100.min_nodes, llama.nodes_needed)
    assert h100.models == ("llama-70b",)


def test_ten_times_the_volume_needs_more_nodes() -> None:
    def busier(spec: dict[str, Any]) -> None:
        for w in spec["workloads"]:
            w["calls_per_day"] *= 10

    base, _ = plan_models(platform("prod-eu"), merged(platform("prod-eu")))
    heavy_platform = platform("prod-eu", busier)
    heavy, pools = plan_models(heavy_platform, merged(heavy_platform))
    before = next(m for m in base if m.name == "llama-70b")
    after = next(m for m in heavy if m.name == "llama-70b")
    assert after.peak_calls_per_min == pytest.approx(10 * before.peak_calls_per_min, rel=1e-3)
    assert after.nodes_needed > before.nodes_needed
    # Whether max_nodes carries it is the autoscaler-capacity rule's call; sizing only exposes the numbers.
    assert next(p for p in pools if p.name == "h100").nodes_needed == after.nodes_needed


def test_a_model_without_traffic_needs_only_min_nodes() -> None:
    def idle(spec: dict[str, Any]) -> None:
        spec["workloads"] = [w for w in spec["workloads"] if w["route"] != "qwen-235b"]

    p = platform("prod-eu", idle)
    models, pools = plan_models(p, merged(p))
    qwen = next(m for m in models if m.name == "qwen-235b")
    assert (qwen.peak_calls_per_min, qwen.replicas_needed, qwen.nodes_needed) == (0, 0, 0)
    assert next(pool for pool in pools if pool.name == "h200").nodes_needed == 1  # min_nodes


def test_root_volume_holds_checkpoint_image_and_headroom(catalog: Catalog) -> None:
    f = builtin_efficiency()
    entry = catalog.models[LLAMA_70B]
    expected = math.ceil(checkpoint_gib(entry) + f.container_image_gib + f.root_volume_headroom_gib)
    assert root_volume_gib([entry]) == expected
    prod = platform("prod-eu")
    _, pools = plan_models(prod, merged(prod))
    assert next(p for p in pools if p.name == "h100").root_volume_gib == expected


def test_auto_picks_the_cheapest_shape_that_fits(catalog: Catalog) -> None:
    def auto(spec: dict[str, Any]) -> None:
        spec["pools"][0]["instance_type"] = "auto"

    dev = platform("dev", auto)  # Llama 3.1 8B in bf16, max_context 16384, us-east-1
    models, pools = plan_models(dev, merged(dev))
    assert pools[0].instance_type == models[0].instance_type == "g6e.xlarge"
    # The two cheaper one-GPU shapes have 24 GB cards: 15 GiB of bf16 weights leave no KV cache.
    llama = catalog.models[LLAMA_8B]
    chosen = catalog.instance_price("g6e.xlarge", "us-east-1")
    assert chosen is not None
    for cheaper in ("g6.xlarge", "g5.xlarge"):
        shape, price = catalog.instances[cheaper], catalog.instance_price(cheaper, "us-east-1")
        assert price is not None and price.usd_per_hour < chosen.usd_per_hour
        sized = size_model(llama, catalog.gpus[shape.gpu], shape.gpus, "bf16", TokenMix(600, 80), 16384)
        assert not sized.fits


def test_auto_skips_shapes_without_a_price_in_the_region() -> None:
    def auto(spec: dict[str, Any]) -> None:
        spec["pools"][0]["instance_type"] = "auto"
        spec["pools"][0]["max_nodes"] = 4

    prod = platform("prod-eu", auto)  # eu-central-1: no p5 / p5en / p6 price in the catalog
    catalog = merged(prod)
    _, pools = plan_models(prod, catalog)
    chosen = next(p for p in pools if p.name == "h100")
    assert catalog.instance_price(chosen.instance_type, "eu-central-1") is not None
    assert chosen.instance_type not in {"p5.48xlarge", "p5en.48xlarge", "p6-b200.48xlarge"}


def test_auto_respects_max_nodes() -> None:
    def auto(limit: int) -> Any:
        def edit(spec: dict[str, Any]) -> None:
            spec["pools"][0]["instance_type"] = "auto"
            spec["pools"][0]["max_nodes"] = limit
            spec["workloads"][0]["calls_per_day"] = 400_000

        return edit

    loose = platform("dev", auto(2))
    tight = platform("dev", auto(1))
    _, loose_pools = plan_models(loose, merged(loose))
    _, tight_pools = plan_models(tight, merged(tight))
    assert loose_pools[0].nodes_needed <= 2 and tight_pools[0].nodes_needed <= 1
    assert loose_pools[0].instance_type != tight_pools[0].instance_type


def test_unknown_model_is_an_error_with_a_suggestion() -> None:
    def typo(spec: dict[str, Any]) -> None:
        spec["models"][0]["model"] = "meta-llama/Llama-3.1-8B-Instruc"

    p = platform("dev", typo)
    with pytest.raises(UserError, match=re.escape("did you mean 'meta-llama/Llama-3.1-8B-Instruct'")):
        plan_models(p, merged(p))


def test_a_precision_the_model_does_not_come_in_is_an_error() -> None:
    def mxfp4(spec: dict[str, Any]) -> None:
        spec["models"][0]["quantization"] = "mxfp4"

    p = platform("dev", mxfp4)
    with pytest.raises(UserError, match="not available in mxfp4"):
        plan_models(p, merged(p))


def test_a_stack_may_bring_its_own_model() -> None:
    def fine_tune(spec: dict[str, Any]) -> None:
        spec["catalog"] = {
            "models": [
                {
                    "id": "acme/support-8b",
                    "intermediate": 14336,
                    "layers": 32,
                    "attention_heads": 32,
                    "kv_heads": 8,
                    "head_dim": 128,
                    "hidden": 4096,
                    "max_context": 32768,
                    "vocab_size": 128256,
                    "quantizations": ["bf16"],
                    "source": "our fine-tune of Llama 3.1 8B",
                }
            ]
        }
        spec["models"][0]["model"] = "acme/support-8b"

    p = platform("dev", fine_tune)
    models, _ = plan_models(p, merged(p))
    assert models[0].model_id == "acme/support-8b" and models[0].fits


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_build_plan_sizes_every_model_of_the_example_stacks(stack: str) -> None:
    p = platform(stack)
    plan = build_plan(stack, p)
    assert [m.name for m in plan.models] == [m.name for m in p.models]
    assert [pool.name for pool in plan.pools] == [pool.name for pool in p.pools]
    for m in plan.models:
        assert m.fits and m.meets_slo and m.instance_type != "auto"
        assert m.calls_per_min > 0 and m.vllm_args


def test_plan_json_entries_carry_the_contract_fields() -> None:
    from inferplan.sizing.export import model_json, pool_json, render_text

    prod = platform("prod-eu")
    models, pools = plan_models(prod, merged(prod))
    entry = model_json(models[0])
    contract = {
        "name", "pool", "instance_type", "tensor_parallel", "weights_gib", "kv_cache_gib", "max_concurrency",
        "output_tokens_per_s", "calls_per_min", "replicas_needed", "vllm_args",
    }  # fmt: skip
    assert contract <= set(entry) and isinstance(entry["vllm_args"], list)
    assert pool_json(pools[0])["root_volume_gib"] == pools[0].root_volume_gib
    text = render_text(models, pools)
    assert "llama-70b" in text and "pool h100: p5.48xlarge" in text
