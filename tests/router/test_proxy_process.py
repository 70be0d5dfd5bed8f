"""The router as deployed, as a real LiteLLM proxy process over HTTP on 127.0.0.1 (one boot per module).

The stack is prod-eu with two edits: contract-extraction is marked `regulated` (prod-eu has no regulated
workload; its route, a self-hosted model, is unchanged), and `router.worker_capacity_rps: 50` so the
planned task runs two workers rather than four (the multi-worker path, at half the boot time on a
2-vCPU test machine). The gateway's routes and scopes are prod-eu's own (a test checks it). The
program is recorded under mocks, and the
proxy is started from what it registers (tests/router/proxy_process.py): the container's command and
environment, a value for each of its `secrets`, the config and the admission check loaded from S3 by
LiteLLM itself. vLLM and Anthropic are loopback servers that record every request; so is an "attacker"
server that no request may reach.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inferplan.router_guard import WORKLOAD_HEADER
from tests.conftest import stack_config
from tests.recordings import recording
from tests.router.gateway_emulator import GatewayEmulator
from tests.router.proxy_process import Deployed, Moto, RouterProcess, Upstream, deployed_router, mounts_of

HELLO = [{"role": "user", "content": "Extract the parties of this contract."}]
REGULATED = "contract-extraction"  # routed to qwen-235b
INTERNAL = "lead-scoring"  # routed to llama-70b, falls back to claude-sonnet (Anthropic)


@dataclass
class Front:
    recording: Any
    deployed: Deployed
    router: RouterProcess
    vllm: Upstream
    anthropic: Upstream
    attacker: Upstream
    gateway: GatewayEmulator
    boot_s: float

    def call(self, workload: str, body: dict[str, Any], **headers: str) -> tuple[int, dict[str, Any]]:
        """A request as the gateway's integration for `workload` forwards it."""
        return self.router.post("/v1/chat/completions", body, {WORKLOAD_HEADER: workload, **headers})

    @property
    def frontier_calls(self) -> int:
        return len(self.anthropic.seen) + len(self.attacker.seen)


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    config = stack_config("prod-eu")
    workloads = config["inferplan:platform"]["workloads"]
    next(w for w in workloads if w["name"] == REGULATED)["sensitivity"] = "regulated"
    config["inferplan:platform"]["router"] = {"worker_capacity_rps": 50}  # 200 requests/s: 2 tasks x 2
    recorded = recording("prod-eu", config)
    assert not recorded.failed, recorded.errors
    deployed = deployed_router(recorded)
    moto, vllm, anthropic, attacker = Moto(), Upstream("openai"), Upstream("anthropic"), Upstream("openai")
    log = Path(tmp_path_factory.mktemp("router")) / "litellm.log"
    router = RouterProcess(deployed, moto, vllm.url, {"anthropic": anthropic.url}, log)
    try:
        boot_s = router.wait_ready()
        yield Front(
            recorded, deployed, router, vllm, anthropic, attacker, GatewayEmulator(recorded, router), boot_s
        )
    finally:
        router.stop()
        moto.stop()
        for upstream in (vllm, anthropic, attacker):
            upstream.close()


@pytest.fixture(autouse=True)
def fresh(front: Front) -> None:
    for upstream in (front.vllm, front.anthropic, front.attacker):
        upstream.seen.clear()
        upstream.failing.clear()


def content(answer: dict[str, Any]) -> str:
    return str(answer["choices"][0]["message"]["content"])


# --- boot, answer, fallback ----------------------------------------------------------------------------


def test_boots_with_the_deployed_command_environment_and_secrets(front: Front) -> None:
    assert front.router.process.poll() is None  # it started (LiteLLM refuses to without a master key)
    command = list(front.deployed.container["command"])
    command[1] = front.router.command[1]  # only the port is ours
    assert front.router.command == command
    assert command[2:] == ["--num_workers", "2", "--timeout_worker_healthcheck", "60"]
    # Only where S3, vLLM and Anthropic are differs from the task's own environment.
    assert set(front.router.test_environment) == {
        "AWS_ENDPOINT_URL_S3",
        "VLLM_BASE_URL",
        "ANTHROPIC_API_BASE",
    }
    # VLLM_BASE_URL replaces the ALB's address; the other two are only read when set.
    assert set(front.router.test_environment) & set(front.deployed.environment) == {"VLLM_BASE_URL"}
    assert "LITELLM_MASTER_KEY" in front.deployed.secret_names


def test_it_runs_on_the_task_s_read_only_root_with_a_writable_tmp(front: Front) -> None:
    """As deployed: readonlyRootFilesystem, and /tmp a task volume (LiteLLM writes its admission check
    there); the answers below come from a proxy that could write nowhere else."""
    container = front.deployed.container
    assert container["readonlyRootFilesystem"] is True
    assert [m["containerPath"] for m in container["mountPoints"]] == ["/tmp"]
    mounts = mounts_of(front.router.process.pid)
    assert mounts["/"][1].split(",")[0] == "ro"
    assert mounts["/tmp"] == ("tmpfs", mounts["/tmp"][1]) and mounts["/tmp"][1].startswith("rw")


def test_a_workload_is_answered_by_its_self_hosted_model(front: Front) -> None:
    status, answer = front.call(INTERNAL, {"model": INTERNAL, "messages": HELLO})
    assert (status, content(answer)) == (200, "answer from llama-70b")
    [seen] = front.vllm.seen
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["x-inferplan-model"] == "llama-70b"  # what the ALB's models listener matches
    assert front.frontier_calls == 0


def test_an_internal_workload_falls_back_to_the_frontier_api_when_its_model_fails(front: Front) -> None:
    front.vllm.failing.add("llama-70b")
    status, answer = front.call(INTERNAL, {"model": INTERNAL, "messages": HELLO})
    assert (status, content(answer)) == (200, "answer from claude-sonnet-4-5")
    assert [s.headers["x-inferplan-model"] for s in front.vllm.seen] == ["llama-70b"] * 2  # retried once
    [seen] = front.anthropic.seen
    assert seen.headers["x-api-key"] == "test-value-of-INFERPLAN_ANTHROPIC_API_KEY-0123456789abcdef"


def test_a_regulated_workload_whose_model_fails_gets_an_error_not_a_frontier_answer(front: Front) -> None:
    front.vllm.failing.add("qwen-235b")
    status, _ = front.call(REGULATED, {"model": REGULATED, "messages": HELLO})
    assert status >= 500
    assert {s.headers["x-inferplan-model"] for s in front.vllm.seen} == {"qwen-235b"}
    assert front.frontier_calls == 0


# --- no request shape takes regulated data to a frontier API --------------------------------------------

ATTACKS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "client fallbacks to a fallback group": ({"fallbacks": [f"{INTERNAL}.claude-sonnet"]}, {}),
    "client fallbacks as objects": ({"fallbacks": [{"model": f"{INTERNAL}.claude-sonnet"}]}, {}),
    "client fallbacks naming the provider": ({"fallbacks": ["anthropic/claude-sonnet-4-5"]}, {}),
    "fallbacks inside metadata": ({"metadata": {"fallbacks": [f"{INTERNAL}.claude-sonnet"]}}, {}),
    "context window fallbacks": (
        {"context_window_fallbacks": [{REGULATED: [f"{INTERNAL}.claude-sonnet"]}]},
        {},
    ),
    "naming a fallback group": ({"model": f"{INTERNAL}.claude-sonnet"}, {}),
    "naming a provider string": ({"model": "anthropic/claude-sonnet-4-5"}, {}),
    "naming a deployment id": ({"model": f"{INTERNAL}.llama-70b"}, {}),
    "asking for a specific deployment": ({"specific_deployment": True}, {}),
    "naming another workload": ({"model": "campaign-drafts"}, {}),
    "a model list": ({"model": [REGULATED, f"{INTERNAL}.claude-sonnet"]}, {}),
    "comma-batched models": ({"model": f"{REGULATED},{INTERNAL}.claude-sonnet"}, {}),
    "api_base and api_key override": ({"api_base": "ATTACKER", "api_key": "sk-attacker"}, {}),
    "base_url override": ({"base_url": "ATTACKER"}, {}),
    "custom provider override": ({"custom_llm_provider": "anthropic"}, {}),
    "a model_list in the body": (
        {"model_list": [{"model_name": REGULATED, "litellm_params": {"model": "x"}}]},
        {},
    ),
    "mock_testing_fallbacks": ({"mock_testing_fallbacks": True}, {}),
    "a tool carrying an api_base": (
        {"tools": [{"type": "function", "function": {"name": "f"}, "api_base": "ATTACKER"}]},
        {},
    ),
    "router settings by header": ({}, {"x-litellm-num-retries": "5", "x-litellm-tags": "frontier"}),
}


@pytest.mark.parametrize("shape", list(ATTACKS))
def test_no_request_shape_takes_regulated_data_to_a_frontier_api(front: Front, shape: str) -> None:
    front.vllm.failing.add("qwen-235b")  # the moment a fallback would be tempting
    extra, headers = ATTACKS[shape]
    body = {"model": REGULATED, "messages": HELLO, **extra}
    for key in ("api_base", "base_url"):
        if body.get(key) == "ATTACKER":
            body[key] = front.attacker.url
    for tool in body.get("tools", []):
        tool["api_base"] = front.attacker.url
    status, answer = front.call(REGULATED, body, **headers)
    # Refused before any model is called: by the admission check (400/403), or for api_base, base_url
    # and model_list by LiteLLM's own body check, which runs first (in this venv its error handler
    # answers 500 because the proxy's optional `prisma` package is not installed).
    assert status in (400, 403) or (status == 500 and "Internal Server Error" in str(answer))
    assert front.frontier_calls == 0
    assert not front.vllm.seen


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/completions", {"model": REGULATED, "prompt": "x"}),
        ("/v1/messages", {"model": f"{INTERNAL}.claude-sonnet", "max_tokens": 5, "messages": HELLO}),
        ("/v1/responses", {"model": "anthropic/claude-sonnet-4-5", "input": "x"}),
        ("/v1/embeddings", {"model": REGULATED, "input": "x"}),
    ],
)
def test_other_openai_and_anthropic_routes_are_refused(front: Front, path: str, body: dict[str, Any]) -> None:
    status, _ = front.router.post(path, body, {WORKLOAD_HEADER: REGULATED})
    assert status in (403, 404)
    assert front.frontier_calls == 0 and not front.vllm.seen


def test_a_request_without_the_gateway_s_workload_header_is_refused(front: Front) -> None:
    status, answer = front.router.post("/v1/chat/completions", {"model": INTERNAL, "messages": HELLO})
    assert status == 403 and "workload route" in answer["error"]["message"]
    assert not front.vllm.seen and front.frontier_calls == 0


def test_fallback_groups_are_not_listed(front: Front) -> None:
    status, _ = front.router.request("GET", "/v1/models", headers={WORKLOAD_HEADER: INTERNAL})
    assert status == 404  # only chat completions are served; /v1/models is not a door


# --- who may call what: the gateway's routes and scopes, then the router's check -----------------------


def test_the_edit_leaves_prod_eu_s_gateway_routes_and_scopes_as_shipped(front: Front) -> None:
    shipped = recording("prod-eu")
    assert GatewayEmulator(shipped, front.router).routes == front.gateway.routes


def test_a_token_without_the_workload_scope_is_refused_by_the_gateway(front: Front) -> None:
    gateway = front.gateway
    body = {"model": INTERNAL, "messages": HELLO}
    for token in (gateway.token(), gateway.token("inferplan/campaign-drafts inferplan/contract-extraction")):
        answer = gateway.call(f"/{INTERNAL}/v1/chat/completions", body, token)
        assert (answer.status, answer.forwarded) == (403, False)
    assert not front.vllm.seen and front.frontier_calls == 0


def test_with_the_scope_the_call_reaches_its_route(front: Front) -> None:
    gateway = front.gateway
    answer = gateway.call(
        f"/{INTERNAL}/v1/chat/completions",
        {"model": INTERNAL, "messages": HELLO},
        gateway.token("inferplan/lead-scoring"),
    )
    assert (answer.status, content(answer.body)) == (200, "answer from llama-70b")
    answer = gateway.call(  # `scp` as a list (Okta, Entra ID) works the same
        f"/{REGULATED}/v1/chat/completions",
        {"model": REGULATED, "messages": HELLO},
        gateway.token(scp=["inferplan/contract-extraction"]),
    )
    assert (answer.status, content(answer.body)) == (200, "answer from qwen-235b")


def test_a_workload_s_fallback_alias_is_not_a_door_even_with_the_workload_scope(front: Front) -> None:
    front.vllm.failing.add("llama-70b")
    gateway = front.gateway
    scoped = gateway.token("inferplan/lead-scoring")
    fallback = {"model": f"{INTERNAL}.claude-sonnet", "messages": HELLO}
    assert gateway.call(f"/{INTERNAL}.claude-sonnet/v1/chat/completions", fallback, scoped).status == 404
    answer = gateway.call(f"/{INTERNAL}/v1/chat/completions", fallback, scoped)
    assert (answer.status, answer.forwarded) == (403, True)  # the router refuses the fallback group
    assert front.frontier_calls == 0


def test_a_forged_workload_header_is_overwritten_by_the_route_s_integration(front: Front) -> None:
    gateway = front.gateway
    token = gateway.token("inferplan/contract-extraction")  # may call the regulated workload only
    answer = gateway.call(
        f"/{REGULATED}/v1/chat/completions",
        {"model": INTERNAL, "messages": HELLO},  # ... but asks for the internal one, with frontier fallback
        token,
        headers={WORKLOAD_HEADER: INTERNAL, "X-Inferplan-Model": "llama-70b"},
    )
    assert (answer.status, answer.forwarded) == (403, True)
    assert not front.vllm.seen and front.frontier_calls == 0


@pytest.mark.parametrize(
    "claims",
    [{"iss": "https://evil.example.com"}, {"aud": "someone-else"}, {"exp": 1}],
)
def test_a_token_of_another_issuer_or_audience_or_expired_is_refused(
    front: Front, claims: dict[str, Any]
) -> None:
    gateway = front.gateway
    token = gateway.token("inferplan/lead-scoring", **claims)
    answer = gateway.call(f"/{INTERNAL}/v1/chat/completions", {"model": INTERNAL, "messages": HELLO}, token)
    assert (answer.status, answer.forwarded) == (401, False)


def test_the_old_catch_all_route_is_gone(front: Front) -> None:
    gateway = front.gateway
    answer = gateway.call(
        "/v1/chat/completions",
        {"model": INTERNAL, "messages": HELLO},
        gateway.token("inferplan/lead-scoring"),
    )
    assert answer.status == 404
