"""The admission check as a pure function (the proxy process tests run it inside LiteLLM)."""

from __future__ import annotations

import ast
import sys
from typing import Any

import pytest

from inferplan import router_guard
from inferplan.router_guard import WORKLOAD_HEADER, configured_workloads, refusal
from tests.conftest import ROOT

WORKLOADS = frozenset({"lead-scoring", "contract-extraction"})
HELLO = [{"role": "user", "content": "hi"}]


def check(body: Any, workload: str | None = "contract-extraction", **headers: str) -> int | None:
    sent = {**headers, **({WORKLOAD_HEADER: workload} if workload else {})}
    found = refusal("POST", "/v1/chat/completions", sent, body, WORKLOADS)
    return None if found is None else found[0]


def test_a_workload_call_with_openai_parameters_is_admitted() -> None:
    body = {
        "model": "contract-extraction",
        "messages": HELLO,
        "max_tokens": 100,
        "temperature": 0.1,
        "stream": False,
        "stream_options": {"include_usage": True},
        "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "tool_choice": "auto",
        "user": "u-1",
    }
    assert check(body) is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"model": "lead-scoring", "messages": HELLO}, 403),  # another workload's alias
        ({"model": "lead-scoring.claude-sonnet", "messages": HELLO}, 403),  # a fallback group
        ({"model": "anthropic/claude-sonnet-4-5", "messages": HELLO}, 403),  # a provider string
        ({"model": ["contract-extraction"], "messages": HELLO}, 403),  # a list
        ({"model": "contract-extraction", "messages": HELLO, "fallbacks": ["x"]}, 400),
        ({"model": "contract-extraction", "messages": HELLO, "metadata": {"fallbacks": ["x"]}}, 400),
        ({"model": "contract-extraction", "messages": HELLO, "api_base": "http://evil"}, 400),
        ({"model": "contract-extraction", "messages": HELLO, "mock_response": "x"}, 400),
        ({"model": "contract-extraction", "messages": HELLO, "stream_options": {"x": 1}}, 400),
        (
            {"model": "contract-extraction", "tools": [{"type": "function", "function": {"api_base": "x"}}]},
            400,
        ),
        ({"model": "contract-extraction", "tools": [{"type": "web_search"}]}, 400),
        ({"model": "contract-extraction", "tools": "f"}, 400),
        (["contract-extraction"], 400),
    ],
)
def test_steering_the_router_is_refused(body: Any, status: int) -> None:
    assert check(body) == status


def test_without_the_gateway_s_workload_header_nothing_is_admitted() -> None:
    assert check({"model": "contract-extraction", "messages": HELLO}, workload=None) == 403
    assert check({"model": "claims", "messages": HELLO}, workload="claims") == 403  # not this stack's


def test_litellm_control_headers_are_refused() -> None:
    body = {"model": "contract-extraction", "messages": HELLO}
    assert check(body, **{"x-litellm-timeout": "600"}) == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/models"), ("POST", "/v1/completions"), ("POST", "/v1/messages"), ("POST", "/key/generate")],
)
def test_only_chat_completions_are_served(method: str, path: str) -> None:
    found = refusal(method, path, {WORKLOAD_HEADER: "lead-scoring"}, {"model": "lead-scoring"}, WORKLOADS)
    assert found is not None and found[0] == 404


def test_the_workloads_come_from_the_task_environment() -> None:
    assert configured_workloads({"INFERPLAN_ROUTER_WORKLOADS": "a,b"}) == {"a", "b"}
    assert configured_workloads({}) == frozenset()


def test_the_module_imports_only_the_standard_library_at_load_time() -> None:
    """It is uploaded alone and loaded by the stock LiteLLM image: nothing of inferplan is there."""
    tree = ast.parse((ROOT / "inferplan" / "router_guard.py").read_text())
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in top if isinstance(n, ast.ImportFrom) and n.module}
    assert {n.split(".")[0] for n in names} <= set(sys.stdlib_module_names) | {"__future__"}
    assert router_guard.user_api_key_auth.__module__ == "inferplan.router_guard"
