"""The router's admission check: LiteLLM's `custom_auth`, run inside the proxy on every request.

Why it exists: LiteLLM lets a caller steer the router from the request body — client-side `fallbacks`
(top level or in `metadata`), `api_base`/`api_key`, a deployment's `model_info.id` or its provider
string (`anthropic/claude-…`) as `model` — and LiteLLM's own config cannot switch those off. A
regulated workload's call could then be answered by a frontier API. This check admits a request only
when all of the following hold, and answers 400/403/404 otherwise:

- it is `POST /v1/chat/completions` (the only route the gateway forwards);
- the gateway's integration set WORKLOAD_HEADER (it overwrites whatever the client sent) to a
  workload alias of this stack, and the body's `model` is exactly that alias — so a token that may
  call one workload cannot name another, a fallback group, a deployment id or a provider string;
- the body holds only OpenAI chat-completion parameters (BODY_KEYS), tools only as plain function
  declarations, and no `x-litellm-*` header rides along (LiteLLM reads timeouts, retries and tags
  from those).

Admitted requests carry the workload as the key's only model, so LiteLLM's own model-access check
agrees. The gateway is the only network path to the router (security groups), and the proxy's master
key (from Secrets Manager) authorises nothing that path reaches: `custom_auth` answers every
authenticated route before LiteLLM looks at a key.

How it reaches the container: the stock LiteLLM image loads `custom_auth: s3://<bucket>/<key>.<name>`
from the same bucket as its config (litellm/proxy/types_utils/utils.py, get_instance_fn); the router
component uploads this file there. So it must import nothing but the standard library at module level
(LiteLLM and FastAPI are imported inside the hook, where they exist) — which also lets the planner read
the header and environment names below without LiteLLM installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

# Set by the gateway integration of each workload route (`overwrite:header.<name>`), never by a client.
WORKLOAD_HEADER = "x-inferplan-workload"
CALLER_HEADER = "x-inferplan-caller"  # the token's `sub`, for the router's logs
# The router task's environment: the workload aliases this stack serves, comma-separated.
WORKLOADS_ENV = "INFERPLAN_ROUTER_WORKLOADS"
CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
# OpenAI chat-completion parameters a workload may send. Everything else is refused, in particular
# LiteLLM's routing and credential overrides (fallbacks, context_window_fallbacks, model_list,
# api_base, base_url, api_key, api_version, custom_llm_provider, metadata, mock_response, ...).
BODY_KEYS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "n",
        "stop",
        "stream",
        "stream_options",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "user",
        "response_format",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning_effort",
    }
)
TOOL_KEYS = frozenset({"type", "function"})
FUNCTION_KEYS = frozenset({"name", "description", "parameters", "strict"})
STREAM_OPTION_KEYS = frozenset({"include_usage"})
FORBIDDEN_HEADER_PREFIX = "x-litellm-"

Refusal = tuple[int, str]


def configured_workloads(environ: Mapping[str, str] = os.environ) -> frozenset[str]:
    return frozenset(w for w in environ.get(WORKLOADS_ENV, "").split(",") if w)


def _tool_problem(tools: Any) -> str | None:
    if not isinstance(tools, list):
        return "tools must be a list"
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or set(tool) - TOOL_KEYS or tool.get("type") != "function":
            return f"tools[{index}] must be {{type: function, function: {{...}}}}"
        function = tool.get("function")
        if not isinstance(function, dict) or set(function) - FUNCTION_KEYS:
            return f"tools[{index}].function may hold only {', '.join(sorted(FUNCTION_KEYS))}"
    return None


def refusal(
    method: str, path: str, headers: Mapping[str, str], body: Any, workloads: frozenset[str]
) -> Refusal | None:
    """Why the request is refused as (HTTP status, message), or None when it is admitted.

    `headers` with lower-case names; `body` as LiteLLM parsed it (the very dict it routes on).
    """
    if method.upper() != "POST" or path not in CHAT_PATHS:
        return 404, f"{method} {path}: the router serves POST /v1/chat/completions only"
    smuggled = sorted(h for h in headers if h.startswith(FORBIDDEN_HEADER_PREFIX))
    if smuggled:
        return 400, f"header(s) {', '.join(smuggled)} may not be sent to the router"
    workload = headers.get(WORKLOAD_HEADER, "")
    if workload not in workloads:
        return 403, "no workload route: call the gateway at /<workload>/v1/chat/completions"
    if not isinstance(body, dict):
        return 400, "the body must be a JSON object"
    extra = sorted(str(k) for k in body if k not in BODY_KEYS)
    if extra:
        return 400, f"parameter(s) {', '.join(extra)} are not accepted (the router decides routing)"
    if body.get("model") != workload:
        return 403, f"this route serves model '{workload}' only"
    if "tools" in body and (problem := _tool_problem(body["tools"])):
        return 400, problem
    options = body.get("stream_options")
    if options is not None and (not isinstance(options, dict) or set(options) - STREAM_OPTION_KEYS):
        return 400, "stream_options may hold only include_usage"
    return None


async def user_api_key_auth(request: Any, api_key: str) -> Any:
    """LiteLLM's custom_auth hook: admit per `refusal`, or raise the HTTP error.

    `request` is the proxy's FastAPI Request; the answer LiteLLM's UserAPIKeyAuth (typed Any here so
    the planner's type check does not load LiteLLM).
    """
    from fastapi import HTTPException
    from litellm.proxy._types import UserAPIKeyAuth
    from litellm.proxy.auth.auth_utils import get_request_route
    from litellm.proxy.common_utils.http_parsing_utils import _read_request_body

    headers = {k.lower(): v for k, v in request.headers.items()}
    path = get_request_route(request)
    body: Any = await _read_request_body(request) if request.method.upper() == "POST" else None
    refused = refusal(request.method, path, headers, body, configured_workloads())
    if refused is not None:
        raise HTTPException(status_code=refused[0], detail=refused[1])
    workload = headers[WORKLOAD_HEADER]
    return UserAPIKeyAuth(
        user_id=headers.get(CALLER_HEADER) or None,
        key_alias=workload,
        models=[workload],
    )
