"""The generated config in LiteLLM's own Router: fallbacks happen where allowed, and only there.

Offline: frontier deployments answer with `mock_response`; a self-hosted one is mocked or goes to a
stub vLLM on 127.0.0.1. A Spy callback records every deployment LiteLLM is about to call, so "no
frontier call" is an observation, not an absence of evidence. The proxy's own loader
(`litellm.proxy.proxy_server`) needs the litellm[proxy] extras; see litellm_harness for the
equivalent path used when they are missing.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import litellm
import pytest
from litellm.exceptions import ContextWindowExceededError, InternalServerError, Timeout

from inferplan.plan import MODEL_HEADER, Plan
from inferplan.planner import build_plan
from inferplan.router_config import VLLM_BASE_URL_ENV, env_vars, router_config
from inferplan.stackfile import load_stack
from tests.conftest import ROOT, stack_config, write_stack
from tests.router.litellm_harness import (
    NOWHERE,
    TIMEOUT,
    Spy,
    UnknownKey,
    load_yaml,
    proxy_like_router,
    with_mocks,
)

T = TypeVar("T")
FAIL = "litellm.InternalServerError"
HELLO = [{"role": "user", "content": "Classify this ticket: printer on fire."}]


def long_prompt(tokens: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": "lorem " * tokens}]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spy]:
    """Dummy keys, vLLM pointed at a closed local port, and a fresh Spy as LiteLLM's only own callback."""
    monkeypatch.setenv(VLLM_BASE_URL_ENV, NOWHERE)
    monkeypatch.setenv("INFERPLAN_ANTHROPIC_API_KEY", "dummy-key-for-tests")
    spy = Spy()
    # Each test is a fresh proxy process: LiteLLM's callback lists are global, de-duplicated by class
    # and capped (LITELLM_MAX_CALLBACKS), so Routers of earlier tests would shadow this one's.
    litellm.logging_callback_manager._reset_all_callbacks()  # type: ignore[no-untyped-call]
    litellm.callbacks = [spy]
    yield spy
    litellm.logging_callback_manager._reset_all_callbacks()  # type: ignore[no-untyped-call]


def run(coro: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Routers with provider budgets start a background task, so build and use them inside a loop."""
    return asyncio.run(coro())


def example_plan(stack: str) -> Plan:
    loaded = load_stack(stack, ROOT)
    return build_plan(loaded.stack, loaded.platform)


def edited_plan(tmp_path: Path, stack: str, edit: Callable[[dict[str, Any]], None]) -> Plan:
    config = stack_config(stack)
    edit(config["inferplan:platform"])
    write_stack(tmp_path, stack, config)
    loaded = load_stack(stack, tmp_path)
    return build_plan(loaded.stack, loaded.platform)


def workload(platform: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in platform["workloads"] if w["name"] == name)


async def ask(router: Any, alias: str, messages: list[dict[str, str]] = HELLO) -> tuple[str | None, Any]:
    """(answering deployment id, content) or (None, the exception)."""
    try:
        response = await router.acompletion(model=alias, messages=messages)
    except Exception as exc:  # the error a client would get
        return None, exc
    await asyncio.sleep(0.05)  # let success callbacks run
    return response._hidden_params.get("model_id"), response.choices[0].message.content


def generated(plan: Plan, mocks: Mapping[str, object]) -> dict[str, Any]:
    """The config exactly as the router would read it (through YAML), with test mocks added."""
    return with_mocks(load_yaml(router_config(plan).to_yaml()), mocks)


# --- (1) an internal workload is answered by its frontier fallback -----------------------------------


def test_internal_workload_answered_by_frontier_fallback_when_self_hosted_fails(offline: Spy) -> None:
    config = generated(
        example_plan("dev"),
        {"ticket-triage.llama-8b": FAIL, "ticket-triage.claude-haiku": "answer from claude-haiku"},
    )

    async def scenario() -> tuple[str | None, Any]:
        return await ask(proxy_like_router(config), "ticket-triage")

    answered_by, content = run(scenario)
    assert (answered_by, content) == ("ticket-triage.claude-haiku", "answer from claude-haiku")
    # One retry of the transient error on the self-hosted model (the SLO retry policy), then Haiku.
    assert offline.calls == ["ticket-triage.llama-8b"] * 2 + ["ticket-triage.claude-haiku"]


def test_healthy_self_hosted_model_answers_without_frontier(offline: Spy) -> None:
    config = generated(
        example_plan("dev"),
        {
            "ticket-triage.llama-8b": "answer from llama",
            "ticket-triage.claude-haiku": "answer from claude-haiku",
        },
    )

    async def scenario() -> tuple[str | None, Any]:
        return await ask(proxy_like_router(config), "ticket-triage")

    assert run(scenario) == ("ticket-triage.llama-8b", "answer from llama")
    assert offline.calls == ["ticket-triage.llama-8b"]


def test_timeout_goes_straight_to_the_fallback(offline: Spy) -> None:
    config = generated(
        example_plan("dev"),
        {"ticket-triage.llama-8b": TIMEOUT, "ticket-triage.claude-haiku": "answer from claude-haiku"},
    )
    config["model_list"][0]["litellm_params"]["timeout"] = (
        0.1  # mock_timeout sleeps this long (16 s in the config)
    )

    async def scenario() -> tuple[str | None, Any]:
        return await ask(proxy_like_router(config), "ticket-triage")

    assert run(scenario)[0] == "ticket-triage.claude-haiku"
    assert offline.failures == ["ticket-triage.llama-8b"]  # one attempt, no retry, then Haiku


def test_workload_without_slo_keeps_litellm_default_retries(offline: Spy) -> None:
    config = generated(example_plan("sovereign"), {"claims-coding.qwen-32b": FAIL})

    async def scenario() -> tuple[str | None, Any]:
        return await ask(proxy_like_router(config), "claims-coding")

    answered_by, error = run(scenario)
    assert answered_by is None and isinstance(error, InternalServerError)
    assert offline.calls == ["claims-coding.qwen-32b"] * 3  # first attempt + num_retries 2


# --- (2) regulated and confidential workloads: an error, and no frontier call -----------------------


def sovereign_with_a_tempting_frontier(p: dict[str, Any]) -> None:
    """A frontier entry inside the allowed region, a regulated workload asking for it as fallback,
    and an internal workload (the control) using the same entry."""
    p["network"]["egress"] = "nat"
    p["frontier"] = [
        {
            "name": "claude-eu",
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "processing_regions": ["eu-central-1"],
            "secret": "anthropic-api-key",
            "monthly_cap_usd": 1000,
        }
    ]
    workload(p, "clinical-notes")["fallback"] = "claude-eu"
    p["workloads"].append(
        {
            "name": "ops-digest",
            "calls_per_day": 100,
            "input_tokens": 500,
            "output_tokens": 100,
            "sensitivity": "internal",
            "route": "qwen-32b",
            "fallback": "claude-eu",
        }
    )


def test_regulated_workload_gets_an_error_and_no_frontier_call(tmp_path: Path, offline: Spy) -> None:
    plan = edited_plan(tmp_path, "sovereign", sovereign_with_a_tempting_frontier)
    config = generated(
        plan,
        {
            "clinical-notes.qwen-32b": FAIL,
            "ops-digest.qwen-32b": FAIL,
            "ops-digest.claude-eu": "answer from claude",
        },
    )

    async def scenario() -> tuple[tuple[str | None, Any], list[str], tuple[str | None, Any]]:
        router = proxy_like_router(config)
        regulated = await ask(router, "clinical-notes")
        calls = list(offline.calls)
        control = await ask(router, "ops-digest")
        return regulated, calls, control

    (answered_by, error), calls, control = run(scenario)
    assert answered_by is None
    assert isinstance(error, InternalServerError)
    assert calls == ["clinical-notes.qwen-32b"] * 2  # the self-hosted model only, retried once
    # The same router, the same frontier entry, an internal workload: the fallback does happen.
    assert control == ("ops-digest.claude-eu", "answer from claude")
    # And the frontier model is not even callable under the regulated workload's name.
    assert "clinical-notes.claude-eu" not in {m["model_name"] for m in config["model_list"]}


def test_litellm_itself_obeys_a_caller_s_fallbacks_which_is_why_the_proxy_runs_the_admission_check(
    tmp_path: Path, offline: Spy
) -> None:
    """The config alone cannot stop a caller: LiteLLM's Router takes `fallbacks` from the call and serves
    any group by name. The deployed proxy refuses both before routing (inferplan/router_guard.py;
    tests/router/test_proxy_process.py proves it over HTTP)."""
    plan = edited_plan(tmp_path, "sovereign", sovereign_with_a_tempting_frontier)
    config = generated(plan, {"clinical-notes.qwen-32b": FAIL, "ops-digest.claude-eu": "answer from claude"})

    async def scenario() -> tuple[Any, Any]:
        router = proxy_like_router(config)
        steered = await router.acompletion(
            model="clinical-notes", messages=HELLO, fallbacks=["ops-digest.claude-eu"]
        )
        named = await router.acompletion(model="ops-digest.claude-eu", messages=HELLO)
        return steered, named

    steered, named = run(scenario)
    assert steered.choices[0].message.content == named.choices[0].message.content == "answer from claude"
    assert "ops-digest.claude-eu" in offline.calls


def test_confidential_workload_gets_an_error_and_no_frontier_call(tmp_path: Path, offline: Spy) -> None:
    def edit(p: dict[str, Any]) -> None:
        workload(p, "contract-extraction")["fallback"] = "claude-sonnet"  # the spec asks; policy says no

    config = generated(
        edited_plan(tmp_path, "prod-eu", edit),
        {
            "contract-extraction.qwen-235b": FAIL,
            "lead-scoring.claude-sonnet": "answer from claude",
            "support-summaries.claude-sonnet": "answer from claude",
            "campaign-drafts.claude-sonnet": "answer from claude",
        },
    )

    async def scenario() -> tuple[str | None, Any]:
        return await ask(proxy_like_router(config), "contract-extraction")

    answered_by, error = run(scenario)
    assert answered_by is None and isinstance(error, InternalServerError)
    assert set(offline.calls) == {"contract-extraction.qwen-235b"}


# --- (3) prompts over the self-hosted window: to the larger window only where allowed -----------------


def test_over_long_prompt_goes_to_frontier_for_internal_workload(offline: Spy) -> None:
    config = generated(
        example_plan("dev"),
        {
            "ticket-triage.llama-8b": "answer from llama",
            "ticket-triage.claude-haiku": "answer from claude-haiku",
        },
    )

    async def scenario() -> tuple[str | None, Any]:
        return await ask(proxy_like_router(config), "ticket-triage", long_prompt(17_000))  # llama-8b: 16384

    assert run(scenario) == ("ticket-triage.claude-haiku", "answer from claude-haiku")
    assert offline.calls == ["ticket-triage.claude-haiku"]  # vLLM never saw the prompt


def test_over_long_prompt_refused_for_confidential_workload(tmp_path: Path, offline: Spy) -> None:
    def edit(p: dict[str, Any]) -> None:
        workload(p, "contract-extraction")["fallback"] = "claude-sonnet"  # 200k window, but not allowed

    config = generated(
        edited_plan(tmp_path, "prod-eu", edit),
        {
            "contract-extraction.qwen-235b": "answer from qwen",
            "lead-scoring.claude-sonnet": "answer from claude",
            "support-summaries.claude-sonnet": "answer from claude",
            "campaign-drafts.claude-sonnet": "answer from claude",
        },
    )

    async def scenario() -> tuple[str | None, Any]:
        return await ask(proxy_like_router(config), "contract-extraction", long_prompt(33_000))  # qwen: 32768

    answered_by, error = run(scenario)
    assert answered_by is None and isinstance(error, ContextWindowExceededError)
    assert offline.calls == []


def test_over_long_confidential_prompt_goes_to_larger_self_hosted_window(
    tmp_path: Path, offline: Spy
) -> None:
    def edit(p: dict[str, Any]) -> None:
        workload(p, "contract-extraction").update(route="llama-70b", fallback="qwen-235b")

    config = generated(
        edited_plan(tmp_path, "prod-eu", edit),
        {
            "contract-extraction.llama-70b": "answer from llama",
            "contract-extraction.qwen-235b": "answer from qwen",
            "lead-scoring.claude-sonnet": "answer from claude",
            "support-summaries.claude-sonnet": "answer from claude",
            "campaign-drafts.claude-sonnet": "answer from claude",
        },
    )

    async def scenario() -> tuple[str | None, Any]:
        return await ask(proxy_like_router(config), "contract-extraction", long_prompt(20_000))

    assert run(scenario) == ("contract-extraction.qwen-235b", "answer from qwen")
    assert offline.calls == ["contract-extraction.qwen-235b"]


# --- against a stub vLLM on 127.0.0.1: header, path, served name, vLLM's own context error ------------


class StubVllm:
    """vLLM's OpenAI-compatible server, as far as the router can tell: records requests, answers or refuses."""

    def __init__(self, context_limit: int | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                stub.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if context_limit is not None:
                    status, payload = (
                        400,
                        {
                            "object": "error",
                            "type": "BadRequestError",
                            "code": 400,
                            "param": None,
                            "message": f"This model's maximum context length is {context_limit} tokens. However, "
                            f"you requested {context_limit + 10} tokens. Please reduce the length of the messages.",
                        },
                    )
                else:
                    status, payload = (
                        200,
                        {
                            "id": "cmpl-1",
                            "object": "chat.completion",
                            "created": 1,
                            "model": body["model"],
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": "from vllm"},
                                    "finish_reason": "stop",
                                }
                            ],
                            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
                        },
                    )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_self_hosted_call_carries_the_model_header(monkeypatch: pytest.MonkeyPatch, offline: Spy) -> None:
    stub = StubVllm()
    with stub as base_url:
        monkeypatch.setenv(VLLM_BASE_URL_ENV, base_url)
        config = generated(example_plan("prod-eu"), {"lead-scoring.claude-sonnet": "answer from claude"})

        async def scenario() -> tuple[str | None, Any]:
            return await ask(proxy_like_router(config), "lead-scoring")

        assert run(scenario) == ("lead-scoring.llama-70b", "from vllm")
    [(path, headers, body)] = stub.requests
    assert path == "/v1/chat/completions"
    assert headers[MODEL_HEADER.lower()] == "llama-70b"  # what the ALB rule matches
    assert body["model"] == "llama-70b"  # vLLM's --served-model-name


def test_vllm_context_error_goes_to_the_context_fallback(
    monkeypatch: pytest.MonkeyPatch, offline: Spy
) -> None:
    # The router's token count can fall short of vLLM's (another tokenizer, or prompt + max_tokens):
    # vLLM's own 400 must lead to the same place.
    stub = StubVllm(context_limit=16384)
    with stub as base_url:
        monkeypatch.setenv(VLLM_BASE_URL_ENV, base_url)
        config = generated(example_plan("dev"), {"ticket-triage.claude-haiku": "answer from claude-haiku"})

        async def scenario() -> tuple[str | None, Any]:
            return await ask(proxy_like_router(config), "ticket-triage")

        assert run(scenario) == ("ticket-triage.claude-haiku", "answer from claude-haiku")
    assert len(stub.requests) == 1  # a context error is not retried


def test_vllm_context_error_is_returned_to_a_confidential_workload(
    monkeypatch: pytest.MonkeyPatch, offline: Spy
) -> None:
    stub = StubVllm(context_limit=32768)
    with stub as base_url:
        monkeypatch.setenv(VLLM_BASE_URL_ENV, base_url)
        config = generated(
            example_plan("prod-eu"),
            {
                f"{w}.claude-sonnet": "answer from claude"
                for w in ("lead-scoring", "support-summaries", "campaign-drafts")
            },
        )

        async def scenario() -> tuple[str | None, Any]:
            return await ask(proxy_like_router(config), "contract-extraction")

        answered_by, error = run(scenario)
    assert answered_by is None and isinstance(error, ContextWindowExceededError)
    assert offline.calls == ["contract-extraction.qwen-235b"]


# --- spend limits --------------------------------------------------------------------------------


def test_provider_budget_stops_frontier_fallback_once_spent(tmp_path: Path, offline: Spy) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["frontier"][0]["monthly_cap_usd"] = 0.0001  # less than one mocked Haiku call costs

    config = generated(
        edited_plan(tmp_path, "dev", edit),
        {"ticket-triage.llama-8b": FAIL, "ticket-triage.claude-haiku": "answer from claude-haiku"},
    )

    async def scenario() -> tuple[tuple[str | None, Any], tuple[str | None, Any]]:
        router = proxy_like_router(config)
        first = await ask(router, "ticket-triage")
        limiter = router.router_budget_logger
        assert limiter is not None
        for _ in range(100):  # spend is recorded by an async success callback, a moment later
            if (await limiter._get_current_provider_spend("anthropic") or 0) >= 0.0001:
                break
            await asyncio.sleep(0.05)
        return first, await ask(router, "ticket-triage")

    first, second = run(scenario)
    assert first[0] == "ticket-triage.claude-haiku"
    assert second[0] is None
    assert offline.calls.count("ticket-triage.claude-haiku") == 1


# --- loading the YAML the way the proxy does ------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod-eu", "sovereign"])
def test_generated_yaml_loads_like_the_proxy_loads_it(stack: str) -> None:
    plan = example_plan(stack)
    text = router_config(plan).to_yaml()
    config = load_yaml(text)

    async def scenario() -> Any:
        return proxy_like_router(config)

    router = run(scenario)
    served = {m["model_name"] for m in router.get_model_list()}
    assert served == {m["model_name"] for m in config["model_list"]}
    assert (router.fallbacks or []) == config["router_settings"]["fallbacks"]  # LiteLLM keeps [] as None
    budgets = config["router_settings"].get("provider_budget_config", {})
    for provider, budget in budgets.items():
        limiter = router.router_budget_logger
        assert limiter is not None
        parsed = limiter.provider_budget_config[provider]  # BudgetConfig: the names LiteLLM maps them to
        assert (parsed.max_budget, parsed.budget_duration) == (budget["budget_limit"], budget["time_period"])
    # Every key the config reads is one the router task gets, and the YAML holds none of the values.
    refs = {
        v
        for m in config["model_list"]
        for v in m["litellm_params"].values()
        if str(v).startswith("os.environ/")
    }
    assert {r.removeprefix("os.environ/") for r in refs} == set(env_vars(plan)) | {VLLM_BASE_URL_ENV}
    assert "dummy-key-for-tests" not in text


def test_retry_policy_names_are_litellm_s(offline: Spy) -> None:
    from litellm.router_utils.get_retry_from_policy import get_num_retries_from_retry_policy

    config = load_yaml(router_config(example_plan("dev")).to_yaml())

    async def scenario() -> Any:
        return proxy_like_router(config)

    router = run(scenario)
    timeout = Timeout(message="t", model="m", llm_provider="hosted_vllm")
    server = InternalServerError(message="e", model="m", llm_provider="hosted_vllm")
    policy = router.model_group_retry_policy
    assert (
        get_num_retries_from_retry_policy(
            timeout, model_group="ticket-triage", model_group_retry_policy=policy
        )
        == 0
    )
    assert (
        get_num_retries_from_retry_policy(
            server, model_group="ticket-triage", model_group_retry_policy=policy
        )
        == 1
    )


def test_harness_rejects_a_misspelt_key() -> None:
    """The loader check is not vacuous: a key LiteLLM would silently ignore is caught."""
    config = load_yaml(router_config(example_plan("dev")).to_yaml())
    config["router_settings"]["context_window_fallback"] = config["router_settings"].pop(
        "context_window_fallbacks"
    )
    with pytest.raises(UnknownKey):
        proxy_like_router(config)
    config = load_yaml(router_config(example_plan("dev")).to_yaml())
    config["model_list"][0]["litellm_params"]["stream_timout"] = 3
    with pytest.raises(UnknownKey):
        proxy_like_router(config)


def test_the_proxy_config_loader_accepts_the_generated_yaml(tmp_path: Path) -> None:
    # requirements-dev.txt installs litellm[proxy], so this is LiteLLM's own loader, not ours.
    from litellm.proxy.proxy_server import ProxyConfig

    path = tmp_path / "config.yaml"
    path.write_text(router_config(example_plan("dev")).to_yaml())

    async def scenario() -> Any:
        router, models, _settings = await ProxyConfig().load_config(router=None, config_file_path=str(path))
        return router, models

    router, models = run(scenario)
    assert {m["model_name"] for m in models} == {"ticket-triage", "ticket-triage.claude-haiku"}
    assert router.fallbacks == [{"ticket-triage": ["ticket-triage.claude-haiku"]}]
