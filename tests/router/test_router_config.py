"""The router config generator as plain functions: aliases, policy on fallbacks, timeouts, budgets, keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferplan.catalog import read_rows
from inferplan.cli import main
from inferplan.plan import MODEL_HEADER, Plan
from inferplan.planner import build_plan
from inferplan.router_config import (
    DEFAULT_TIMEOUT_S,
    GUARD_ENV,
    MASTER_KEY_ENV,
    VLLM_BASE_URL_ENV,
    env_vars,
    frontier_models,
    key_env_name,
    router_config,
    slo_timeouts,
)
from inferplan.stackfile import load_stack
from tests.conftest import ROOT, stack_config, write_stack

Edit = Callable[[dict[str, Any]], None]


def example_plan(stack: str) -> Plan:
    loaded = load_stack(stack, ROOT)
    return build_plan(loaded.stack, loaded.platform)


def edited_plan(tmp_path: Path, stack: str, edit: Edit) -> Plan:
    """An example stack changed by `edit` (on its `inferplan:platform` mapping), loaded and validated."""
    config = stack_config(stack)
    edit(config["inferplan:platform"])
    write_stack(tmp_path, stack, config)
    loaded = load_stack(stack, tmp_path)
    return build_plan(loaded.stack, loaded.platform)


def workload(platform: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in platform["workloads"] if w["name"] == name)


def groups(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["model_name"]: m for m in config["model_list"]}


def fallback_map(config: dict[str, Any], key: str = "fallbacks") -> dict[str, list[str]]:
    return {k: v for entry in config["router_settings"][key] for k, v in entry.items()}


def reachable(config: dict[str, Any], alias: str) -> set[str]:
    """Every litellm model a call to `alias` can end up at (its group and all its fallback groups)."""
    seen, todo = set(), [alias]
    lists = fallback_map(config)
    context = fallback_map(config, "context_window_fallbacks")
    while todo:
        group = todo.pop()
        if group in seen:
            continue
        seen.add(group)
        todo += lists.get(group, []) + context.get(group, [])
    by_name = groups(config)
    return {by_name[g]["litellm_params"]["model"] for g in seen}


# --- the example stacks -------------------------------------------------------------------------


def test_dev_internal_workload_falls_back_to_claude_haiku() -> None:
    config = router_config(example_plan("dev")).to_dict()
    route = groups(config)["ticket-triage"]["litellm_params"]
    assert route["model"] == "hosted_vllm/llama-8b"
    assert route["api_base"] == f"os.environ/{VLLM_BASE_URL_ENV}"
    assert route["extra_headers"] == {MODEL_HEADER: "llama-8b"}
    assert fallback_map(config) == {"ticket-triage": ["ticket-triage.claude-haiku"]}
    backup = groups(config)["ticket-triage.claude-haiku"]
    assert backup["litellm_params"]["model"] == "anthropic/claude-haiku-4-5"
    assert backup["litellm_params"]["api_key"] == "os.environ/INFERPLAN_ANTHROPIC_API_KEY"
    assert backup["model_info"]["discoverable"] is False  # apps see only the workload alias
    # llama-8b is served with 16k context; Haiku reads 200k: long prompts go there too.
    assert fallback_map(config, "context_window_fallbacks") == {
        "ticket-triage": ["ticket-triage.claude-haiku"]
    }


def test_prod_eu_confidential_workload_reaches_no_frontier_model() -> None:
    config = router_config(example_plan("prod-eu")).to_dict()
    assert reachable(config, "contract-extraction") == {"hosted_vllm/qwen-235b"}
    assert reachable(config, "lead-scoring") == {"hosted_vllm/llama-70b", "anthropic/claude-sonnet-4-5"}
    # The public workload routes to the frontier model itself, with no fallback.
    assert reachable(config, "campaign-drafts") == {"anthropic/claude-sonnet-4-5"}


def test_sovereign_has_no_frontier_anything() -> None:
    plan = example_plan("sovereign")
    generated = router_config(plan)
    config = generated.to_dict()
    assert {m["litellm_params"]["model"] for m in config["model_list"]} == {"hosted_vllm/qwen-32b"}
    assert config["router_settings"]["fallbacks"] == []
    assert config["router_settings"]["context_window_fallbacks"] == []
    assert "provider_budget_config" not in config["router_settings"]
    assert env_vars(plan) == {}
    assert "api_key" not in generated.to_yaml()


@pytest.mark.parametrize("stack", ["dev", "prod-eu", "sovereign"])
def test_every_workload_is_an_alias(stack: str) -> None:
    plan = example_plan(stack)
    generated = router_config(plan)
    assert generated.aliases == tuple(w.name for w in plan.platform.workloads)
    assert generated.refused == ()


# --- the policy on fallbacks (egress decides; the config follows its verdicts) ------------------


def test_confidential_frontier_refused_even_inside_allowed_regions(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["frontier"][0]["processing_regions"] = ["eu-central-1"]  # inside residency.allowed_regions
        workload(p, "contract-extraction")["fallback"] = "claude-sonnet"

    plan = edited_plan(tmp_path, "prod-eu", edit)
    generated = router_config(plan)
    assert reachable(generated.to_dict(), "contract-extraction") == {"hosted_vllm/qwen-235b"}
    [refused] = [d for d in generated.decisions if d.workload == "contract-extraction" and not d.allowed]
    assert (refused.role, refused.target) == ("fallback", "claude-sonnet")
    assert "confidential" in refused.reason
    assert "# contract-extraction: fallback -> claude-sonnet: NO, confidential data" in generated.to_yaml()
    assert "contract-extraction.claude-sonnet" not in generated.to_yaml()


def test_no_frontier_fallback_without_egress(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["network"]["egress"] = "none"

    config = router_config(edited_plan(tmp_path, "dev", edit)).to_dict()
    assert reachable(config, "ticket-triage") == {"hosted_vllm/llama-8b"}


def test_route_to_frontier_refused_for_regulated_data(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        workload(p, "ticket-triage").update(
            sensitivity="regulated", route="claude-haiku", fallback="llama-8b"
        )

    plan = edited_plan(tmp_path, "dev", edit)
    generated = router_config(plan)
    assert generated.aliases == ()
    assert [d.target for d in generated.refused] == ["claude-haiku"]
    assert generated.to_dict()["model_list"] == []
    assert env_vars(plan) == {}  # the router is not even given the key


def test_self_hosted_context_fallback_for_confidential_data(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        workload(p, "contract-extraction").update(route="llama-70b", fallback="qwen-235b")

    config = router_config(edited_plan(tmp_path, "prod-eu", edit)).to_dict()
    assert fallback_map(config)["contract-extraction"] == ["contract-extraction.qwen-235b"]
    # 32k (qwen-235b) > 16k (llama-70b): over-long prompts go to the larger self-hosted window.
    assert fallback_map(config, "context_window_fallbacks")["contract-extraction"] == [
        "contract-extraction.qwen-235b"
    ]
    qwen = groups(config)["contract-extraction.qwen-235b"]["litellm_params"]
    assert qwen["extra_headers"] == {MODEL_HEADER: "qwen-235b"}


def test_no_context_fallback_to_a_smaller_window(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        workload(p, "campaign-drafts")["fallback"] = "llama-70b"  # 200k frontier route, 16k fallback

    config = router_config(edited_plan(tmp_path, "prod-eu", edit)).to_dict()
    assert fallback_map(config)["campaign-drafts"] == ["campaign-drafts.llama-70b"]
    assert "campaign-drafts" not in fallback_map(config, "context_window_fallbacks")


def test_frontier_context_window_from_spec_wins_over_catalog(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["frontier"][0]["context_window"] = 8000  # smaller than llama-8b's 16k

    config = router_config(edited_plan(tmp_path, "dev", edit)).to_dict()
    assert groups(config)["ticket-triage.claude-haiku"]["model_info"]["max_input_tokens"] == 8000
    assert fallback_map(config, "context_window_fallbacks") == {}
    assert fallback_map(config) == {"ticket-triage": ["ticket-triage.claude-haiku"]}


# --- timeouts, retries, budgets, keys -----------------------------------------------------------------


def test_timeouts_follow_the_latency_slo() -> None:
    config = router_config(example_plan("dev")).to_dict()
    params = groups(config)["ticket-triage"]["litellm_params"]
    # ttft 1500 ms + tpot 80 ms x 80 output tokens = 7.9 s; doubled and rounded up.
    assert (params["timeout"], params["stream_timeout"]) == (16, 3)
    policy = config["router_settings"]["model_group_retry_policy"]["ticket-triage"]
    assert policy["TimeoutErrorRetries"] == 0
    assert policy["InternalServerErrorRetries"] == 1


def test_workload_without_slo_uses_router_defaults() -> None:
    config = router_config(example_plan("sovereign")).to_dict()
    params = groups(config)["claims-coding"]["litellm_params"]
    assert "timeout" not in params
    assert config["router_settings"]["timeout"] == DEFAULT_TIMEOUT_S
    assert "claims-coding" not in config["router_settings"]["model_group_retry_policy"]


def test_slo_with_only_ttft(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        workload(p, "ticket-triage")["latency_slo_ms"] = {"ttft": 400}

    plan = edited_plan(tmp_path, "dev", edit)
    timeouts = slo_timeouts(plan.platform.workloads[0])
    assert timeouts is not None
    assert (timeouts.timeout_s, timeouts.stream_timeout_s) == (2, 2)  # floored at MIN_TIMEOUT_S


def test_provider_budget_sums_caps_and_splits_over_router_tasks(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["frontier"].append(
            {
                "name": "claude-haiku",
                "provider": "anthropic",
                "model": "claude-haiku-4-5",
                "processing_regions": ["us-east-1"],
                "secret": "anthropic-api-key",
                "monthly_cap_usd": 1001,
            }
        )
        workload(p, "support-summaries")["fallback"] = "claude-haiku"

    def two_tasks_of_two_workers(p: dict[str, Any]) -> None:
        edit(p)
        p["router"] = {"tasks": 2, "worker_capacity_rps": 50}  # 200 requests/s: four workers

    generated = router_config(edited_plan(tmp_path, "prod-eu", two_tasks_of_two_workers))
    budgets = generated.to_dict()["router_settings"]["provider_budget_config"]
    # (5000 + 1001) USD over 2 tasks x 2 workers (each counts its own spend), rounded down to the cent.
    assert (generated.tasks, generated.workers_per_task) == (2, 2)
    assert budgets == {"anthropic": {"budget_limit": 1500.25, "time_period": "1mo"}}
    assert "/ 2 router task(s) x 2 worker(s) = 1500.25 per worker" in generated.to_yaml()


def test_tiny_cap_is_never_rounded_to_no_limit(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["frontier"][0]["monthly_cap_usd"] = 0.001

    budgets = router_config(edited_plan(tmp_path, "dev", edit)).to_dict()["router_settings"]
    assert budgets["provider_budget_config"]["anthropic"]["budget_limit"] == 0.001


def test_keys_are_environment_references_never_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERPLAN_ANTHROPIC_API_KEY", "sk-ant-this-must-not-leak")
    plan = example_plan("prod-eu")
    text = router_config(plan).to_yaml()
    assert "sk-ant" not in text
    keys = [m["litellm_params"].get("api_key") for m in yaml.safe_load(text)["model_list"]]
    assert {k for k in keys if k} == {"os.environ/INFERPLAN_ANTHROPIC_API_KEY"}
    assert env_vars(plan) == {"INFERPLAN_ANTHROPIC_API_KEY": "inferplan/prod-eu/anthropic-api-key"}


@pytest.mark.parametrize("stack", ["dev", "prod-eu", "sovereign"])
def test_the_proxy_reads_its_master_key_and_admission_check_from_the_task_environment(stack: str) -> None:
    config = router_config(example_plan(stack))
    assert config.to_dict()["general_settings"] == {
        "master_key": f"os.environ/{MASTER_KEY_ENV}",
        "custom_auth": f"os.environ/{GUARD_ENV}",
    }
    assert dict(config.secret_env)[MASTER_KEY_ENV] == f"inferplan/{stack}/router-master-key"
    assert set(env_vars(example_plan(stack))) == {k for k, _ in config.secret_env} - {MASTER_KEY_ENV}


def test_key_env_name_cannot_collide_with_litellm_settings() -> None:
    assert key_env_name("database-url") == "INFERPLAN_DATABASE_URL"


@pytest.mark.parametrize(
    ("provider", "model", "expected", "budget_key"),
    [
        ("google", "gemini-2.5-pro", "gemini/gemini-2.5-pro", "gemini"),
        ("openai", "gpt-5", "openai/gpt-5", "openai"),
        (
            "bedrock",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0",
            "bedrock",
        ),
        # open-model API providers, by LiteLLM's prefixes (litellm/types/utils.py LlmProviders)
        (
            "together",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "together_ai",
        ),
        (
            "fireworks",
            "accounts/fireworks/models/llama-v3p3-70b-instruct",
            "fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct",
            "fireworks_ai",
        ),
        ("groq", "llama-3.3-70b-versatile", "groq/llama-3.3-70b-versatile", "groq"),
        (
            "deepinfra",
            "meta-llama/Llama-3.3-70B-Instruct",
            "deepinfra/meta-llama/Llama-3.3-70B-Instruct",
            "deepinfra",
        ),
    ],
)
def test_frontier_providers_map_to_litellm_prefixes(
    tmp_path: Path, provider: str, model: str, expected: str, budget_key: str
) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["frontier"][0].update(provider=provider, model=model, processing_regions=["us-west-2"])

    config = router_config(edited_plan(tmp_path, "dev", edit)).to_dict()
    params = groups(config)["ticket-triage.claude-haiku"]["litellm_params"]
    assert params["model"] == expected
    assert params.get("aws_region_name") == ("us-west-2" if provider == "bedrock" else None)
    assert list(config["router_settings"]["provider_budget_config"]) == [budget_key]


def test_frontier_catalog_rows_are_sourced_and_every_provider_has_a_default() -> None:
    rows = read_rows("frontier_models.csv")
    assert all(r.get("source") and r.get("as_of") for r in rows)
    table = frontier_models()
    assert {p for p, m in table if m == "*"} == {"anthropic", "openai", "google", "bedrock"}


# --- the command ------------------------------------------------------------------------------------


def test_cli_prints_the_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["router-config", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# LiteLLM proxy config for stack 'dev'")
    assert yaml.safe_load(out) == router_config(example_plan("dev")).to_dict()


def test_cli_exits_1_when_a_route_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stack_config("dev")
    workload(config["inferplan:platform"], "ticket-triage").update(
        sensitivity="confidential", route="claude-haiku", fallback="llama-8b"
    )
    write_stack(tmp_path, "dev", config)
    (tmp_path / "Pulumi.yaml").write_text("name: inferplan\nruntime: python\n")
    monkeypatch.chdir(tmp_path)
    assert main(["router-config", "--stack", "dev"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "ticket-triage" in err[0] and "confidential" in err[0]
