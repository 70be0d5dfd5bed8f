"""The decision engine: self-host or API, per workload, jointly — and the reasons it gives."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from inferplan.cost import estimate
from inferplan.errors import SpecInputError
from inferplan.plan import Plan
from inferplan.planner import build_plan
from inferplan.rules.routes import route_cost
from inferplan.spec import Platform
from tests.conftest import stack_config


def plan(spec: dict[str, Any], stack: str = "t") -> Plan:
    return build_plan(stack, Platform.model_validate(spec))


def dev(**workload: Any) -> dict[str, Any]:
    """The dev stack with one workload (route auto unless given) and room for a dozen L40S nodes."""
    spec = copy.deepcopy(stack_config("dev")["inferplan:platform"])
    spec["autoscaling"]["max_nodes_per_pool"] = 16
    spec["pools"][0]["max_nodes"] = 16
    spec["budget"] = {"monthly_usd": 1e6, "hard_cap_usd": 2e6}
    spec["frontier"][0]["monthly_cap_usd"] = 1e6
    del spec["cost"]
    base = {
        "name": "w",
        "calls_per_day": 100,
        "input_tokens": 600,
        "output_tokens": 80,
        "sensitivity": "internal",
        "route": "auto",
    }
    spec["workloads"] = [{**base, **workload}]
    return spec


def month(p: Plan) -> float:
    return estimate(p).monthly_expected_usd


def test_a_trickle_goes_to_an_api_and_the_unused_pool_is_not_built() -> None:
    p = plan(dev(calls_per_day=100))
    (d,) = p.decision.workloads
    assert (d.chosen, d.chosen_kind, d.runner_up) == ("claude-haiku", "frontier", "llama-8b")
    assert p.pools == () and p.models == ()
    assert p.decision.not_built == (
        "pool l40s (llama-8b): no workload routes or falls back to it, so it is not built",
    )
    assert not any(r.type == "aws:autoscaling/group:Group" for r in p.intents)
    # 100 calls/day x 30.42 days x (600 x $1 + 80 x $5) per million tokens = $3.04 of Haiku tokens
    (haiku,) = [o for o in d.options if o.target == "claude-haiku"]
    assert haiku.monthly_usd == pytest.approx(3.04, abs=0.01)
    assert d.difference_usd is not None and d.difference_usd > 1000  # a whole L40S node instead


def test_three_million_calls_a_day_self_host() -> None:
    p = plan(dev(calls_per_day=3_000_000))
    (d,) = p.decision.workloads
    assert (d.chosen, d.chosen_kind, d.runner_up) == ("llama-8b", "model", "claude-haiku")
    (pool,) = p.pools
    assert pool.instance_type == "g6e.xlarge" and pool.nodes_needed > 1
    # Haiku would cost 3M x 30.42 x $0.001 = $91k a month; a dozen L40S nodes much less.
    assert d.difference_usd is not None and d.difference_usd > 50_000
    assert d.breakeven is not None and d.breakeven.cheaper == "self-hosted"


def test_regulated_data_self_hosts_and_the_api_is_shown_ineligible_with_its_reason() -> None:
    p = plan(dev(calls_per_day=100, sensitivity="regulated"))
    (d,) = p.decision.workloads
    assert d.chosen == "llama-8b"
    (haiku,) = [o for o in d.options if o.target == "claude-haiku"]
    assert not haiku.eligible
    assert haiku.reason == (
        "regulated data never goes to a frontier API ('claude-haiku' is anthropic, processing in us-east-1)"
    )
    assert estimate(p).api_only_excluded == {"w": "regulated data never goes to an API"}


def test_two_workloads_below_break_even_alone_fill_one_node_together() -> None:
    """Each alone is cheaper on Haiku than on a node of its own; together they are cheaper on one node."""
    spec = dev()
    node = 730 * 1.861  # g6e.xlarge a month, the bulk of a one-node pool
    per_call = (600 * 1 + 80 * 5) / 1e6  # Haiku
    calls_alone = 0.7 * node / per_call / (730 / 24)  # a day's calls worth 70% of a node on Haiku
    spec["workloads"] = [
        {**spec["workloads"][0], "name": name, "calls_per_day": round(calls_alone)} for name in ("a", "b")
    ]
    alone = plan({**spec, "workloads": spec["workloads"][:1]})
    assert alone.decision.workloads[0].chosen == "claude-haiku"
    together = plan(spec)
    assert [d.chosen for d in together.decision.workloads] == ["llama-8b", "llama-8b"]
    assert together.pools[0].nodes_needed == 1
    assert month(together) < month(
        plan({**spec, "workloads": [{**w, "route": "claude-haiku"} for w in spec["workloads"]]})
    )


def test_a_quality_floor_rules_out_a_small_model_and_says_why() -> None:
    # Summaries need tier 3 (catalog/task_tiers.csv): Llama 3.1 8B is tier 1, Claude Haiku 4.5 tier 3.
    p = plan(dev(calls_per_day=3_000_000, task="summarization"))
    (d,) = p.decision.workloads
    assert d.chosen == "claude-haiku"  # although a dozen L40S nodes would cost a fraction of it
    (llama,) = [o for o in d.options if o.target == "llama-8b"]
    assert not llama.eligible
    assert (
        llama.reason == "'llama-8b' is quality tier 1, below the workload's floor of 3 (task summarization)"
    )


def test_auto_with_no_eligible_option_is_a_located_error() -> None:
    spec = dev(
        sensitivity="regulated", quality={"min_tier": 5}
    )  # Llama 3.1 8B is tier 1; Haiku takes no regulated data
    with pytest.raises(SpecInputError) as caught:
        plan(spec)
    assert caught.value.path == ("workloads", 0, "route")
    assert "llama-8b: 'llama-8b' is quality tier 1, below the workload's floor of 5" in caught.value.message
    assert "claude-haiku: regulated data never goes to a frontier API" in caught.value.message


def test_fallback_auto_takes_an_api_for_a_self_hosted_route() -> None:
    p = plan(dev(calls_per_day=3_000_000, fallback="auto", fallback_rate=0.05))
    (d,) = p.decision.workloads
    assert (d.chosen, d.fallback) == ("llama-8b", "claude-haiku")
    (workload,) = p.platform.workloads
    assert (workload.route, workload.fallback, workload.fallback_rate) == ("llama-8b", "claude-haiku", 0.05)


def test_route_cost_warns_a_declared_route_dearer_than_the_best_option() -> None:
    p = build_plan("dev", Platform.model_validate(stack_config("dev")["inferplan:platform"]))
    (finding,) = route_cost(p.decision, "dev")
    assert (finding.rule, finding.severity, finding.status, finding.subject) == (
        "route-cost",
        "advisory",
        "warn",
        "ticket-triage",
    )
    # 4,000 calls/day on llama-8b: one g6e.xlarge (730 h x $1.861 = $1,358.53) + its gp3 root volume
    # ($50.80) + 5% of the calls falling back to Haiku ($6.08) = $1,415; all on Haiku: $121.67 of tokens.
    assert (
        "claude-haiku (frontier) would add $122" in finding.message and "$1,294/month less" in finding.message
    )


def alternatives(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (workload, eligible option other than the chosen one and its declared fallback) of the auto plan."""
    p = plan(spec)
    return [
        (d.workload, o.target)
        for d in p.decision.workloads
        for o in d.options
        if o.eligible and o.target not in (d.chosen, d.declared_fallback)
    ]


def fixed(spec: dict[str, Any], chosen: Plan, workload: str, target: str) -> dict[str, Any]:
    """The spec with every route as the auto plan chose it, except `workload` on `target`."""
    out = copy.deepcopy(spec)
    for w in out["workloads"]:
        w["route"] = target if w["name"] == workload else chosen.decision.of(w["name"]).chosen
    return out


def mixed_stack() -> dict[str, Any]:
    """prod-eu with every route auto: two models, one API, a confidential workload, varied volumes."""
    spec = copy.deepcopy(stack_config("prod-eu")["inferplan:platform"])
    for w in spec["workloads"]:
        w["route"] = "auto"
    spec["workloads"][2]["task"] = "extraction"  # contract-extraction needs tier 3: Llama 3.3 70B is 2
    spec["workloads"].append(
        {"name": "faq-bot", "calls_per_day": 40_000, "input_tokens": 1200, "output_tokens": 300,
         "sensitivity": "public", "route": "auto", "task": "chat"}
    )  # fmt: skip
    return spec


@pytest.mark.parametrize(
    "make", [mixed_stack, lambda: dev(calls_per_day=60_000)], ids=["prod-eu-auto", "dev-60k"]
)
def test_moving_any_one_workload_off_its_choice_never_lowers_the_month(make: Any) -> None:
    """Planned explicitly, through the whole pipeline (sizing, cost engine), not through the solver."""
    spec = make()
    chosen = plan(spec)
    best = month(chosen)
    moves = alternatives(spec)
    assert moves, "the stack must leave some choice to check"
    for workload, target in moves:
        other = month(plan(fixed(spec, chosen, workload, target)))
        assert other >= best - 0.01, (workload, target, other, best)


def test_the_milp_matches_brute_force_on_a_small_stack() -> None:
    """Every assignment of three auto workloads to their eligible options, planned and priced in full."""
    spec = mixed_stack()
    spec["workloads"] = [
        w for w in spec["workloads"] if w["name"] in ("lead-scoring", "campaign-drafts", "faq-bot")
    ]
    chosen = plan(spec)
    names = [w["name"] for w in spec["workloads"]]
    choices = [
        [
            o.target
            for o in chosen.decision.of(n).options
            if o.eligible and o.target != chosen.decision.of(n).declared_fallback
        ]
        for n in names
    ]
    best = min(
        month(
            plan(
                {
                    **spec,
                    "workloads": [{**w, "route": t} for w, t in zip(spec["workloads"], combo, strict=True)],
                }
            )
        )
        for combo in itertools.product(*choices)
    )
    assert month(chosen) == pytest.approx(best, abs=0.01)


def test_plan_json_decision_contract() -> None:
    from inferplan.report.decision import to_json

    p = plan(mixed_stack(), "prod-eu")
    doc = to_json(p, estimate(p))
    assert {
        "workloads",
        "monthly_usd",
        "api_only_monthly_usd",
        "all_self_hosted_monthly_usd",
        "summary",
    } <= set(doc)
    for w in doc["workloads"]:
        assert {"workload", "chosen", "runner_up", "options"} <= set(w) and w["chosen"] != "auto"
        for o in w["options"]:
            assert {"target", "kind", "eligible", "reason", "monthly_usd", "usd_per_1k_calls"} <= set(o)
            assert o["kind"] in ("model", "frontier", "open_api")
    assert doc["monthly_usd"] == pytest.approx(estimate(p).monthly_expected_usd, abs=0.01)
    assert all(r.target != "auto" for r in p.routes)


def test_a_stack_may_place_a_model_in_a_tier_itself() -> None:
    """`catalog.quality_tiers`: the team's own evaluation lets Llama 3.1 8B take their summaries."""
    spec = dev(calls_per_day=3_000_000, task="summarization")
    spec["catalog"] = {
        "quality_tiers": [
            {
                "model": "meta-llama/Llama-3.1-8B-Instruct",
                "tier": 3,
                "evidence": "our eval",
                "source": "acme",
                "as_of": "2026-10",
            }
        ]
    }
    (d,) = plan(spec).decision.workloads
    assert d.chosen == "llama-8b"


def test_a_stack_without_workloads_has_nothing_to_decide_and_builds_no_pool() -> None:
    # Found by the fuzzer: an empty MILP (no variables) made scipy raise instead of answering "nothing".
    spec = stack_config("prod-eu")["inferplan:platform"]
    spec["workloads"] = []
    p = plan(spec)
    assert p.decision.workloads == () and p.pools == ()
    assert (
        p.decision.status == "optimal" and len(p.decision.not_built) == 2
    )  # one line per pool and its model


def test_a_cheaper_option_beyond_its_pools_max_nodes_says_so() -> None:
    """The solver keeps pools within max_nodes; the runner-up it passed over says what it would need."""
    from inferplan.report.decision import render_text

    spec = dev(calls_per_day=3_000_000)
    spec["pools"][0]["max_nodes"] = 2
    p = plan(spec)
    (d,) = p.decision.workloads
    assert (d.chosen, d.runner_up) == ("claude-haiku", "llama-8b")
    assert d.difference_usd is not None and d.difference_usd < 0  # cheaper, but not within the ceiling
    (llama,) = [o for o in d.options if o.target == "llama-8b"]
    assert llama.beyond_ceiling.startswith("needs ") and llama.beyond_ceiling.endswith(
        "nodes of pool l40s, above its max_nodes 2"
    )
    (haiku,) = [o for o in d.options if o.target == "claude-haiku"]
    assert haiku.beyond_ceiling == ""
    assert f"llama-8b would save ${-d.difference_usd:,.0f} but {llama.beyond_ceiling}" in render_text(p, None)
