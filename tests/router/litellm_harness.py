"""Load a generated router config into LiteLLM's own Router, offline, the way the proxy loads its YAML.

`litellm.proxy.proxy_server` (ProxyConfig.load_config) needs the `litellm[proxy]` extras (fastapi,
websockets, uvicorn, backoff, apscheduler, orjson, ...), which are not test dependencies here. So
`proxy_like_router` follows the steps of ProxyConfig.load_config in LiteLLM 1.106.2 with LiteLLM's
own pieces: yaml.safe_load; every `os.environ/` value of a deployment's litellm_params resolved by
`get_secret` (skipping `holds_secret_pointer` fields); `router_settings` keys filtered by
`Router.get_valid_args()` minus `ROUTER_SETTINGS_MANAGED_OUTSIDE_CONFIG` — where the proxy would only
warn and ignore an unknown key, this raises; `litellm_settings` keys must be attributes of `litellm`
(the proxy setattr's them); then `litellm.Router(**router_params, model_list=...)` with the proxy's
`RouterGeneralSettings(async_only_mode=True)`, but invalid deployments raise instead of being skipped.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import Any

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # before litellm is imported (conftest does it too)

import litellm
import yaml
from litellm.constants import ROUTER_SETTINGS_MANAGED_OUTSIDE_CONFIG
from litellm.integrations.custom_logger import CustomLogger
from litellm.router import Router
from litellm.secret_managers.main import get_secret
from litellm.types.router import LiteLLM_Params, RetryPolicy, RouterGeneralSettings, holds_secret_pointer

# Keys a deployment's litellm_params may carry: LiteLLM_Params fields (it allows extras silently, so a
# typo would pass unnoticed) plus the completion() keywords the Router forwards as they are.
COMPLETION_KWARGS = frozenset(inspect.signature(litellm.acompletion).parameters)
LITELLM_PARAMS = frozenset(LiteLLM_Params.model_fields) | COMPLETION_KWARGS
TIMEOUT = object()
TEST_ONLY_PARAMS = frozenset({"mock_timeout"})  # read by litellm.acompletion from **kwargs
# An address where nothing listens: a self-hosted deployment a test does not mock fails at once, locally.
NOWHERE = "http://127.0.0.1:9/v1"


class UnknownKey(AssertionError):
    pass


def _copy(value: Any) -> Any:
    """Copies the YAML structure (dicts, lists) but not the values: mock exceptions do not deep-copy."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def proxy_like_router(config: Mapping[str, Any]) -> Router:
    """A Router built from the config as ProxyConfig.load_config would (call inside a running event loop)."""
    config = _copy(config)
    model_list = config.get("model_list") or []
    for model in model_list:
        params = model["litellm_params"]
        unknown = set(params) - LITELLM_PARAMS - TEST_ONLY_PARAMS
        if unknown:
            raise UnknownKey(f"{model['model_name']}: litellm_params keys LiteLLM does not know: {unknown}")
        for key, value in params.items():
            if isinstance(value, str) and value.startswith("os.environ/") and not holds_secret_pointer(key):
                params[key] = get_secret(value)
    valid = set(Router.get_valid_args()) - ROUTER_SETTINGS_MANAGED_OUTSIDE_CONFIG
    router_settings = config.get("router_settings") or {}
    ignored = set(router_settings) - valid
    if ignored:
        raise UnknownKey(f"router_settings keys the proxy would ignore: {ignored}")
    for policy in (router_settings.get("model_group_retry_policy") or {}).values():
        unknown = set(policy) - set(RetryPolicy.model_fields)
        if unknown:
            raise UnknownKey(f"RetryPolicy fields LiteLLM does not know: {unknown}")
    for key in config.get("litellm_settings") or {}:
        if not hasattr(litellm, key):
            raise UnknownKey(f"litellm_settings.{key} is not a litellm setting")
    return Router(
        model_list=model_list,
        **router_settings,
        router_general_settings=RouterGeneralSettings(async_only_mode=True),
        ignore_invalid_deployments=False,
    )


def load_yaml(text: str) -> dict[str, Any]:
    """The proxy reads its config file with yaml.safe_load."""
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def with_mocks(original: Mapping[str, Any], mocks: Mapping[str, object]) -> dict[str, Any]:
    """A copy of the config where deployments (by model_info.id) answer with the given mock_response.

    TIMEOUT makes a deployment time out (LiteLLM's `mock_timeout`). Every frontier deployment not named
    answers "answer from <id>", so no test can reach the internet; a self-hosted one not named goes to
    VLLM_BASE_URL, which the tests point at 127.0.0.1.
    """
    config: dict[str, Any] = _copy(original)
    ids = {m["model_info"]["id"] for m in config["model_list"]}
    assert set(mocks) <= ids, f"mocks for unknown deployments: {set(mocks) - ids}"
    for model in config["model_list"]:
        params, name = model["litellm_params"], model["model_info"]["id"]
        if mocks.get(name) is TIMEOUT:
            params["mock_timeout"] = True  # raises litellm.Timeout after the deployment's timeout
        elif name in mocks:
            params["mock_response"] = mocks[name]
        elif not params["model"].startswith("hosted_vllm/"):
            params["mock_response"] = f"answer from {name}"
    return config


class Spy(CustomLogger):
    """Records the deployment id of every call LiteLLM is about to make (also mocked ones)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.failures: list[str] = []  # includes attempts that failed before a request was built

    def log_pre_api_call(self, model: Any, messages: Any, kwargs: Any) -> None:
        params = kwargs.get("litellm_params") or {}
        self.calls.append(str((params.get("model_info") or {}).get("id")))

    async def async_log_failure_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        params = kwargs.get("litellm_params") or {}
        self.failures.append(str((params.get("model_info") or {}).get("id")))
