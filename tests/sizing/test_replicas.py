"""Demand, replicas, nodes, root volume and `instance_type: auto` on the example stacks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from inferplan.catalog import Catalog, builtin_catalog
from inferplan.cost import estimate
from inferplan.errors import UserError
from inferplan.planner import build_plan
from inferplan.sizing.memory import checkpoint_gib
from inferplan.sizing.replicas import demand, root_volume_gib
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


def test_replicas_and_nodes_carry_the_peak_and_no_more() -> None:
    plan = build_plan("prod-eu", platform("prod-eu"))
    llama = next(m for m in plan.models if m.name == "llama-70b")
    assert (llama.instance_type, llama.tensor_parallel, llama.replicas_per_node) == ("p5.48xlarge", 2, 4)
    per_replica = llama.calls_per_min / llama.replicas_per_node
    # enough replicas for the busiest minute, and one fewer would not be
    assert llama.replicas_needed * per_replica >= llama.peak_calls_per_min
    assert (llama.replicas_needed - 1) * per_replica < llama.peak_calls_per_min
    assert llama.nodes_needed * llama.replicas_per_node >= llama.replicas_needed
    assert (llama.nodes_needed - 1) * llama.replicas_per_node < llama.replicas_needed
    # 320k calls/day x 3 / 1440 = 666.7 calls/min at peak: 3 replicas of 4 on one node
    assert llama.peak_calls_per_min == pytest.approx(666.7, abs=0.05)
    assert (llama.replicas_needed, llama.nodes_needed) == (3, 1)
    h100 = plan.pool("h100")
    assert h100 is not None and h100.nodes_needed == 1 and h100.models == ("llama-70b",)


def test_ten_times_the_volume_needs_more_nodes() -> None:
    def busier(spec: dict[str, Any]) -> None:
        for w in spec["workloads"]:
            w["calls_per_day"] *= 10

    base = build_plan("prod-eu", platform("prod-eu"))
    heavy = build_plan("prod-eu", platform("prod-eu", busier))
    before = next(m for m in base.models if m.name == "llama-70b")
    after = next(m for m in heavy.models if m.name == "llama-70b")
    assert after.peak_calls_per_min == pytest.approx(10 * before.peak_calls_per_min, rel=1e-3)
    assert after.nodes_needed > before.nodes_needed
    # Whether max_nodes carries it is the autoscaler-capacity rule's call; the plan keeps the need uncapped
    # and starts the group at its ceiling.
    h100 = heavy.pool("h100")
    assert h100 is not None and h100.nodes_needed == after.nodes_needed > h100.max_nodes
    assert h100.desired_nodes == h100.max_nodes == 3


def test_a_model_without_traffic_is_not_built_and_the_plan_says_so() -> None:
    def idle(spec: dict[str, Any]) -> None:
        spec["workloads"] = [w for w in spec["workloads"] if w["route"] != "qwen-235b"]

    plan = build_plan("prod-eu", platform("prod-eu", idle))
    assert [m.name for m in plan.models] == ["llama-70b"] and plan.pool("h200") is None
    assert plan.decision.not_built == (
        "pool h200 (qwen-235b): no workload routes or falls back to it, so it is not built",
    )
    assert "prod-eu-h200-asg" not in {r.name for r in plan.intents}


def test_root_volume_holds_checkpoint_image_and_headroom(catalog: Catalog) -> None:
    # Llama 3.3 70B: 70.55e9 bf16 weights = 131.4 GiB as published, + 20 GiB vLLM image + 100 GiB AMI/caches.
    assert checkpoint_gib(catalog.models[LLAMA_70B]) == pytest.approx(131.4, abs=0.05)
    assert root_volume_gib([catalog.models[LLAMA_70B]]) == 252
    h100 = build_plan("prod-eu", platform("prod-eu")).pool("h100")
    assert h100 is not None and h100.root_volume.size_gib == 252 and h100.root_volume.volume_type == "gp3"


def auto_pool(stack: str, **pool: Any) -> Any:
    def edit(spec: dict[str, Any]) -> None:
        spec["pools"][0].update({"instance_type": "auto", **pool})

    return edit


def test_auto_picks_the_cheapest_shape_that_fits(catalog: Catalog) -> None:
    plan = build_plan("dev", platform("dev", auto_pool("dev")))  # Llama 3.1 8B bf16, ctx 16384, us-east-1
    assert plan.pools[0].instance_type == plan.models[0].instance_type == "g6e.xlarge"
    # The two cheaper one-GPU shapes have 24 GB cards: 15 GiB of bf16 weights leave no KV cache.
    chosen = plan.prices.instance_hour("g6e.xlarge")
    llama = catalog.models[LLAMA_8B]
    for cheaper in ("g6.xlarge", "g5.xlarge"):
        price = plan.prices.instance_hour(cheaper)
        assert price is not None and chosen is not None and price.usd < chosen.usd
        shape = catalog.instances[cheaper]
        sized = size_model(llama, catalog.gpus[shape.gpu], shape.gpus, "bf16", TokenMix(600, 80), 16384)
        assert not sized.fits


@pytest.mark.parametrize(
    "override",
    [
        {
            "catalog": {
                "instance_prices": [
                    {"instance_type": "g6e.12xlarge", "region": "us-east-1", "usd_per_hour": 0.5}
                ]
            }
        },
        {"cost": {"prices": {"instance:g6e.12xlarge": 0.5}}},
    ],
    ids=["catalog.instance_prices", "cost.prices"],
)
def test_auto_prices_through_the_plans_price_book(override: dict[str, Any]) -> None:
    """A stack price making one shape far cheaper moves `auto` to it, at the cost of naming it."""

    def cheap(spec: dict[str, Any]) -> None:
        for key, value in override.items():
            spec[key] = {**spec.get(key, {}), **value}

    def both(spec: dict[str, Any]) -> None:
        auto_pool("dev")(spec)
        cheap(spec)

    def named(spec: dict[str, Any]) -> None:
        cheap(spec)
        spec["pools"][0]["instance_type"] = "g6e.12xlarge"

    auto = build_plan("dev", platform("dev", both))
    assert auto.pools[0].instance_type == "g6e.12xlarge"
    explicit = build_plan("dev", platform("dev", named))
    assert estimate(auto).monthly_expected_usd == pytest.approx(estimate(explicit).monthly_expected_usd)
    assert (
        estimate(auto).monthly_expected_usd
        < estimate(build_plan("dev", platform("dev"))).monthly_expected_usd
    )


def test_auto_weighs_nodes_needed_not_just_the_hourly_price() -> None:
    """prod-eu's h100 pool: p4d is cheaper per hour but needs three nodes where p5 needs one."""
    plan = build_plan("prod-eu", platform("prod-eu", auto_pool("prod-eu", max_nodes=4)))
    h100 = plan.pool("h100")
    assert h100 is not None and (h100.instance_type, h100.nodes_needed) == ("p5.48xlarge", 1)

    def p4d(spec: dict[str, Any]) -> None:
        spec["pools"][0]["instance_type"] = "p4d.24xlarge"

    other = build_plan("prod-eu", platform("prod-eu", p4d))
    hourly = [plan.prices.instance_hour(t) for t in ("p4d.24xlarge", "p5.48xlarge")]
    assert hourly[0] is not None and hourly[1] is not None and hourly[0].usd < hourly[1].usd
    assert other.pool("h100").nodes_needed == 3  # type: ignore[union-attr]
    assert estimate(plan).monthly_expected_usd < estimate(other).monthly_expected_usd


def test_auto_skips_shapes_without_a_price_in_the_region() -> None:
    plan = build_plan("prod-eu", platform("prod-eu", auto_pool("prod-eu", max_nodes=4, min_nodes=1)))
    chosen = plan.pool("h100")
    assert chosen is not None and plan.prices.instance_hour(chosen.instance_type) is not None
    assert plan.prices.instance_hour("p5e.48xlarge") is None  # a catalog shape auto must not pick


def test_auto_respects_max_nodes() -> None:
    def busy(limit: int) -> Any:
        def edit(spec: dict[str, Any]) -> None:
            auto_pool("dev", max_nodes=limit)(spec)
            spec["workloads"][0]["calls_per_day"] = 400_000

        return edit

    loose = build_plan("dev", platform("dev", busy(2))).pools[0]
    tight = build_plan("dev", platform("dev", busy(1))).pools[0]
    assert loose.nodes_needed <= 2 and tight.nodes_needed <= 1
    assert loose.instance_type != tight.instance_type


def test_unknown_model_is_an_error_with_a_suggestion() -> None:
    def typo(spec: dict[str, Any]) -> None:
        spec["models"][0]["model"] = "meta-llama/Llama-3.1-8B-Instruc"

    with pytest.raises(UserError, match=re.escape("did you mean 'meta-llama/Llama-3.1-8B-Instruct'")):
        build_plan("dev", platform("dev", typo))


def test_a_precision_the_model_does_not_come_in_is_an_error() -> None:
    def mxfp4(spec: dict[str, Any]) -> None:
        spec["models"][0]["quantization"] = "mxfp4"

    with pytest.raises(UserError, match="not available in mxfp4"):
        build_plan("dev", platform("dev", mxfp4))


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

    models = build_plan("dev", platform("dev", fine_tune)).models
    assert models[0].model_id == "acme/support-8b" and models[0].fits


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_build_plan_sizes_every_model_of_the_example_stacks(stack: str) -> None:
    p = platform(stack)
    plan = build_plan(stack, p)
    # Every declared model is built or the plan says why not (a candidate nothing routes to).
    built = {m.name for m in plan.models}
    assert built | {m.name for m in p.models if any(m.pool in line for line in plan.decision.not_built)} == {
        m.name for m in p.models
    }
    for m in plan.models:
        assert m.fits and m.meets_slo and m.instance_type != "auto"
        assert m.calls_per_min > 0 and m.vllm_args


def test_plan_json_entries_carry_the_contract_fields() -> None:
    from inferplan.sizing.export import model_json, pool_json, render_text

    plan = build_plan("prod-eu", platform("prod-eu"))
    entry = model_json(plan.models[0])
    contract = {
        "name", "pool", "instance_type", "tensor_parallel", "weights_gib", "kv_cache_gib", "max_concurrency",
        "output_tokens_per_s", "calls_per_min", "replicas_needed", "vllm_args",
    }  # fmt: skip
    assert contract <= set(entry) and isinstance(entry["vllm_args"], list)
    assert entry["tensor_parallel"] == 2 and entry["pool"] == "h100"
    pool = pool_json(plan.pools[0])
    assert (pool["root_volume_gib"], pool["max_nodes"], pool["desired_nodes"]) == (252, 3, 1)
    text = render_text(plan.models, plan.pools)
    assert "llama-70b" in text and "pool h100: p5.48xlarge" in text
