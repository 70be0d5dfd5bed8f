"""Plan → the LiteLLM proxy configuration of the router: what each workload alias calls, and what it may fall back to.

Every workload is a model alias: an application calls `model: "<workload>"`. Its route is one
deployment in that model group; its fallback (if the policy allows it) is a second group named
`<workload>.<target>` (workload names cannot contain a dot), hidden from `/v1/models`. Keeping
fallback groups per workload means every group the router serves carries one workload's data
under that workload's policy; no shared `claude-sonnet` group exists for anyone to call directly.

Read, not decided here: which targets a workload may reach is `inferplan.egress` (the planner
passes its verdicts in); a refused fallback is dropped, a refused route leaves the workload without an
alias and is reported in `RouterConfig.refused`.

Decisions made here (each once):
- Timeouts from the latency SLO: a healthy call takes about `ttft + tpot * output_tokens`;
  `timeout = ceil(TIMEOUT_HEADROOM * that / 1000)` s and `stream_timeout = ceil(TIMEOUT_HEADROOM *
  ttft / 1000)` s (httpx applies a float timeout per read, so for a stream it bounds the first chunk
  and every gap), both at least MIN_TIMEOUT_S. Without an SLO: LiteLLM's router-wide DEFAULT_TIMEOUT_S.
- Retries: a workload with an SLO is interactive, so a timed-out attempt (which already spent twice
  the SLO) is not retried — the fallback or the error comes next — and a transient error (429, 500,
  503) is retried once; client errors never. Without an SLO: LiteLLM's default of DEFAULT_NUM_RETRIES.
- Context-window fallbacks where the allowed fallback's window exceeds the route's; the route's window
  is declared as `model_info.max_input_tokens` and `enable_pre_call_checks` is on, so an over-long
  prompt goes to the larger window without a round trip to vLLM (and a confidential one is refused).
- Spend: one LiteLLM provider budget per frontier provider = the sum of the reachable entries'
  `monthly_cap_usd`, split over the router's processes (tasks x workers), because each LiteLLM worker
  counts spend in its own memory.
- Admission: `general_settings.custom_auth` is `inferplan.router_guard` (loaded by the proxy from the
  config bucket, its `s3://` URL in GUARD_ENV), so only workload aliases are callable and nothing in a
  request body steers routing; the proxy's master key comes from Secrets Manager (MASTER_KEY_ENV).
- Keys: `api_key: os.environ/<ENV>`; `env_vars` maps each ENV to its Secrets Manager name. No key
  value is ever written into the config.

Pure: imports neither pulumi nor litellm. Key names were checked against LiteLLM 1.106.2
(`litellm/router.py` Router.__init__, `litellm/types/router.py` GenericLiteLLMParams / RetryPolicy,
`litellm/router_strategy/budget_limiter.py`, `litellm/proxy/proxy_server.py` ProxyConfig.load_config).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from inferplan import names
from inferplan.catalog import Catalog, read_rows
from inferplan.plan import MODEL_HEADER, Plan
from inferplan.pricebook import api_context_window
from inferplan.router_guard import WORKLOADS_ENV
from inferplan.spec import Frontier, Platform, Workload

Verdicts = Mapping[tuple[str, str], tuple[bool, str]]  # (workload, target) -> egress verdict

# The Router component sets this to `http://<internal ALB DNS>:<MODELS_LISTENER_PORT>/v1`; the ALB's
# rule on MODEL_HEADER picks the model's target group, whose vLLM serves `--served-model-name <model>`.
VLLM_BASE_URL_ENV = "VLLM_BASE_URL"
# Prefixed so a secret named e.g. `database-url` can never become LiteLLM's own DATABASE_URL.
KEY_ENV_PREFIX = "INFERPLAN_"
# Plain (non-secret) environment of the router task: read LiteLLM's bundled price map instead of
# fetching it from GitHub at start-up (there is no internet at all under `egress: none`).
ROUTER_ENVIRONMENT: tuple[tuple[str, str], ...] = (("LITELLM_LOCAL_MODEL_COST_MAP", "True"),)
# LiteLLM reads its master key from here at start-up and refuses to boot without one.
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
MASTER_KEY_SECRET = "router-master-key"  # Secrets Manager inferplan/<stack>/router-master-key
# `s3://<config bucket>/<GUARD_OBJECT_KEY without .py>.<GUARD_FUNCTION>`, set by the Router component
# (the bucket name carries the account id, which the plan does not know).
GUARD_ENV = "INFERPLAN_ROUTER_GUARD"

TIMEOUT_HEADROOM = 2.0
MIN_TIMEOUT_S = 2  # connect + TLS to a frontier API alone can take a second
DEFAULT_TIMEOUT_S = 600  # the OpenAI SDK's default request timeout
DEFAULT_NUM_RETRIES = 2  # LiteLLM's (and the OpenAI SDK's) default
TRANSIENT_RETRIES_WITH_SLO = 1
BUDGET_PERIOD = "1mo"  # litellm duration_parser: "<n>mo" = calendar months from the first spend

# Spec provider -> LiteLLM provider prefix (also the key of `provider_budget_config`).
LITELLM_PROVIDER: dict[str, str] = {
    "anthropic": "anthropic",
    "openai": "openai",
    "google": "gemini",
    "bedrock": "bedrock",
    # open-model API providers (LiteLLM's provider prefixes)
    "together": "together_ai",
    "fireworks": "fireworks_ai",
    "groq": "groq",
    "deepinfra": "deepinfra",
}
SELF_HOSTED_PROVIDER = "hosted_vllm"  # LiteLLM's provider for vLLM's OpenAI-compatible server

Role = Literal["route", "fallback"]


class FrontierModelEntry(BaseModel):
    """Context window of one frontier model (`model` = `*`: the provider's default for unlisted models)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str
    model: str
    context_window: int = Field(gt=0)
    source: str
    as_of: str


@lru_cache(maxsize=1)
def frontier_models() -> dict[tuple[str, str], FrontierModelEntry]:
    """`catalog/frontier_models.csv`, keyed by (spec provider, model)."""
    rows = map(FrontierModelEntry.model_validate, read_rows("frontier_models.csv"))
    return {(r.provider, r.model): r for r in rows}


def frontier_context_window(frontier: Frontier) -> int | None:
    """The entry's own `context_window`, else the catalog row, else the provider's default row."""
    if frontier.context_window is not None:
        return frontier.context_window
    return catalog_context_window(frontier.provider, frontier.model)


def catalog_context_window(provider: str, model: str) -> int | None:
    """frontier_models.csv's row, else api_prices.csv's window, else the provider's default row."""
    table = frontier_models()
    row = table.get((provider, model))
    if row is not None:
        return row.context_window
    window = api_context_window(provider, model)
    if window is not None:
        return window
    default = table.get((provider, "*"))
    return default.context_window if default else None


def context_window(platform: Platform, catalog: Catalog, target: str) -> int | None:
    """Input window of a route target: a served model's `max_context` (spec, else catalog) or a frontier's."""
    model = platform.model(target)
    if model is not None:
        if model.max_context is not None:
            return model.max_context
        entry = catalog.models.get(model.model)
        return entry.max_context if entry else None
    frontier = platform.frontier_entry(target)
    return frontier_context_window(frontier) if frontier else None


def key_env_name(secret: str) -> str:
    """Environment variable the router reads a frontier key from: `anthropic-api-key` -> INFERPLAN_ANTHROPIC_API_KEY."""
    return KEY_ENV_PREFIX + secret.upper().replace("-", "_")


@dataclass(frozen=True)
class Timeouts:
    timeout_s: int
    stream_timeout_s: int


def healthy_call_ms(workload: Workload) -> float | None:
    """How long a healthy call takes by the latency SLO: ttft + tpot x output_tokens (None without an SLO).

    The one definition of this arithmetic: the router's timeouts below and the `gateway-timeout` rule
    (against the gateway's 30 s limit) both read it.
    """
    slo = workload.latency_slo_ms
    if slo is None or (slo.ttft is None and slo.tpot is None):
        return None
    return (slo.ttft or 0.0) + (slo.tpot or 0.0) * workload.output_tokens


def slo_timeouts(workload: Workload) -> Timeouts | None:
    """Per-attempt timeouts from the latency SLO (module docstring has the formula); None without an SLO."""
    expected_ms = healthy_call_ms(workload)
    slo = workload.latency_slo_ms
    if expected_ms is None or slo is None:
        return None
    ttft = slo.ttft or 0.0
    total = max(MIN_TIMEOUT_S, math.ceil(TIMEOUT_HEADROOM * expected_ms / 1000))
    first = max(MIN_TIMEOUT_S, math.ceil(TIMEOUT_HEADROOM * ttft / 1000)) if slo.ttft else total
    return Timeouts(timeout_s=total, stream_timeout_s=first)


# LiteLLM RetryPolicy (field -> retries) of a workload with a latency SLO (see the module docstring).
RetryPolicy = tuple[tuple[str, int], ...]
SLO_RETRY_POLICY: RetryPolicy = (
    ("TimeoutErrorRetries", 0),
    ("RateLimitErrorRetries", TRANSIENT_RETRIES_WITH_SLO),
    ("InternalServerErrorRetries", TRANSIENT_RETRIES_WITH_SLO),
    ("ServiceUnavailableErrorRetries", TRANSIENT_RETRIES_WITH_SLO),
    ("BadRequestErrorRetries", 0),
    ("AuthenticationErrorRetries", 0),
    ("NotFoundErrorRetries", 0),
    ("ContentPolicyViolationErrorRetries", 0),
)


@dataclass(frozen=True)
class Deployment:
    """One `model_list` entry: the group a client (or a fallback) calls and where it goes."""

    model_name: str
    workload: str
    target: str
    role: Role
    litellm_model: str
    api_base: str | None = None
    api_key_env: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    aws_region_name: str | None = None
    timeouts: Timeouts | None = None
    max_input_tokens: int | None = None

    @property
    def id(self) -> str:
        return f"{self.workload}.{self.target}"

    @property
    def self_hosted(self) -> bool:
        return self.litellm_model.startswith(SELF_HOSTED_PROVIDER + "/")

    def to_dict(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.litellm_model}
        if self.api_base is not None:
            params["api_base"] = self.api_base
        if self.api_key_env is not None:
            params["api_key"] = f"os.environ/{self.api_key_env}"
        if self.aws_region_name is not None:
            params["aws_region_name"] = self.aws_region_name
        if self.headers:
            params["extra_headers"] = dict(self.headers)
        if self.timeouts is not None:
            params["timeout"] = self.timeouts.timeout_s
            params["stream_timeout"] = self.timeouts.stream_timeout_s
        info: dict[str, Any] = {"id": self.id}
        if self.max_input_tokens is not None:
            info["max_input_tokens"] = self.max_input_tokens
        if self.role == "fallback":
            info["discoverable"] = False  # the proxy leaves it out of /v1/models; apps call the workload
        return {"model_name": self.model_name, "litellm_params": params, "model_info": info}


@dataclass(frozen=True)
class Decision:
    """Why a workload's route or fallback is (or is not) in the config; shown to reviewers."""

    workload: str
    target: str
    role: Role
    allowed: bool
    reason: str
    context_fallback: bool = False


@dataclass(frozen=True)
class ProviderBudget:
    provider: str  # LiteLLM provider name
    budget_limit_usd: float  # per router process (each LiteLLM worker counts its own spend)
    time_period: str
    frontier: tuple[str, ...]  # the entries whose caps it sums
    monthly_cap_usd: float  # their caps, summed (all processes together)


@dataclass(frozen=True)
class RouterConfig:
    stack: str
    deployments: tuple[Deployment, ...]
    fallbacks: tuple[tuple[str, str], ...]  # (workload alias, fallback group)
    context_window_fallbacks: tuple[tuple[str, str], ...]
    retry_policies: tuple[tuple[str, RetryPolicy], ...]  # (model group, its policy)
    provider_budgets: tuple[ProviderBudget, ...]
    decisions: tuple[Decision, ...]
    secret_env: tuple[tuple[str, str], ...]  # (env var, Secrets Manager name): frontier keys, master key
    tasks: int
    workers_per_task: int = 1

    @property
    def processes(self) -> int:
        """LiteLLM processes that each count provider spend on their own."""
        return self.tasks * self.workers_per_task

    @property
    def aliases(self) -> tuple[str, ...]:
        """The model names applications call: one per workload that has an allowed route."""
        return tuple(d.model_name for d in self.deployments if d.role == "route")

    @property
    def refused(self) -> tuple[Decision, ...]:
        """Routes the policy refused: those workloads have no alias at all."""
        return tuple(d for d in self.decisions if d.role == "route" and not d.allowed)

    @property
    def environment(self) -> dict[str, str]:
        """Plain environment of the router task known to the plan (VLLM_BASE_URL and GUARD_ENV come from
        the component, which knows the ALB and the bucket; keys and the master key from `secret_env`)."""
        return {**dict(ROUTER_ENVIRONMENT), WORKLOADS_ENV: ",".join(self.aliases)}

    def to_dict(self) -> dict[str, Any]:
        """The LiteLLM proxy config (`model_list`, `router_settings`, `litellm_settings`, `general_settings`)."""
        router_settings: dict[str, Any] = {
            "num_retries": DEFAULT_NUM_RETRIES,
            "timeout": DEFAULT_TIMEOUT_S,
            "enable_pre_call_checks": True,
            "fallbacks": [{alias: [group]} for alias, group in self.fallbacks],
            "context_window_fallbacks": [{alias: [group]} for alias, group in self.context_window_fallbacks],
        }
        if self.retry_policies:
            router_settings["model_group_retry_policy"] = {g: dict(p) for g, p in self.retry_policies}
        if self.provider_budgets:
            router_settings["provider_budget_config"] = {
                b.provider: {"budget_limit": b.budget_limit_usd, "time_period": b.time_period}
                for b in self.provider_budgets
            }
        return {
            "model_list": [d.to_dict() for d in self.deployments],
            "router_settings": router_settings,
            "litellm_settings": {
                # Prompts of confidential workloads must not end up in logs or error messages.
                "turn_off_message_logging": True,
                "redact_messages_in_exceptions": True,
                "json_logs": True,
            },
            "general_settings": {
                "master_key": f"os.environ/{MASTER_KEY_ENV}",
                "custom_auth": f"os.environ/{GUARD_ENV}",
            },
        }

    def to_yaml(self, header: bool = True) -> str:
        """The config as YAML, with the decisions behind it as comments (LiteLLM ignores them)."""
        body = yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False, width=110)
        return (self.header() if header else "") + body

    def header(self) -> str:
        lines = [
            f"# LiteLLM proxy config for stack '{self.stack}', generated by inferplan; do not edit.",
            "#",
        ]
        for d in self.decisions:
            verdict = "yes" if d.allowed else "NO"
            extra = " (also for prompts over the route's context window)" if d.context_fallback else ""
            lines.append(f"# {d.workload}: {d.role} -> {d.target}: {verdict}, {d.reason}{extra}")
        for b in self.provider_budgets:
            lines.append(
                f"# budget {b.provider}: {b.monthly_cap_usd:g} USD/month ({', '.join(b.frontier)}) "
                f"/ {self.tasks} router task(s) x {self.workers_per_task} worker(s) "
                f"= {b.budget_limit_usd:g} per worker"
            )
        lines.append(f"# environment: {VLLM_BASE_URL_ENV}=http://<internal ALB>:<models listener>/v1")
        lines.append(f"# environment: {GUARD_ENV}=s3://<config bucket>/<admission check module>")
        lines.extend(
            f"# environment: {name} <- Secrets Manager '{secret}'" for name, secret in self.secret_env
        )
        lines.extend(f"# environment: {name}={value}" for name, value in sorted(self.environment.items()))
        return "\n".join(lines) + "\n"


def _deployment(
    platform: Platform, catalog: Catalog, workload: Workload, target: str, role: Role
) -> Deployment:
    group = workload.name if role == "route" else f"{workload.name}.{target}"
    common: dict[str, Any] = {
        "model_name": group,
        "workload": workload.name,
        "target": target,
        "role": role,
        "timeouts": slo_timeouts(workload),
        "max_input_tokens": context_window(platform, catalog, target),
    }
    if platform.model(target) is not None:
        return Deployment(
            litellm_model=f"{SELF_HOSTED_PROVIDER}/{target}",
            api_base=f"os.environ/{VLLM_BASE_URL_ENV}",
            headers=((MODEL_HEADER, target),),
            **common,
        )
    frontier = platform.frontier_entry(target)
    assert frontier is not None  # the egress rule refuses unknown targets before we get here
    return Deployment(
        litellm_model=f"{LITELLM_PROVIDER[frontier.provider]}/{frontier.model}",
        api_key_env=key_env_name(frontier.secret),
        aws_region_name=frontier.processing_regions[0] if frontier.provider == "bedrock" else None,
        **common,
    )


def build_router_config(
    stack: str,
    platform: Platform,
    catalog: Catalog,
    verdicts: Verdicts,
    tasks: int,
    workers_per_task: int,
) -> RouterConfig:
    """The router's LiteLLM config: aliases, allowed fallbacks, timeouts, budgets, key references.

    `verdicts` are `egress.fallback_allowed` for every (workload, route or fallback) of the spec.
    """
    deployments: list[Deployment] = []
    decisions: list[Decision] = []
    fallbacks: list[tuple[str, str]] = []
    context: list[tuple[str, str]] = []
    policies: list[tuple[str, RetryPolicy]] = []
    for workload in platform.workloads:
        allowed, reason = verdicts[(workload.name, workload.route)]
        decisions.append(Decision(workload.name, workload.route, "route", allowed, reason))
        if not allowed:
            continue
        main = _deployment(platform, catalog, workload, workload.route, "route")
        deployments.append(main)
        groups = [main.model_name]
        if workload.fallback is not None:
            ok, why = verdicts[(workload.name, workload.fallback)]
            wider = False
            if ok:
                backup = _deployment(platform, catalog, workload, workload.fallback, "fallback")
                deployments.append(backup)
                groups.append(backup.model_name)
                fallbacks.append((main.model_name, backup.model_name))
                mine, theirs = main.max_input_tokens, backup.max_input_tokens
                wider = mine is not None and theirs is not None and theirs > mine
                if wider:
                    context.append((main.model_name, backup.model_name))
            decisions.append(
                Decision(workload.name, workload.fallback, "fallback", ok, why, context_fallback=wider)
            )
        if slo_timeouts(workload) is not None:
            policies.extend((group, SLO_RETRY_POLICY) for group in groups)

    processes = tasks * workers_per_task
    used = [platform.frontier_entry(d.target) for d in deployments]
    reachable = {f.name: f for f in used if f is not None}
    budgets: list[ProviderBudget] = []
    for provider in sorted({LITELLM_PROVIDER[f.provider] for f in reachable.values()}):
        entries = [f for f in reachable.values() if LITELLM_PROVIDER[f.provider] == provider]
        cap = sum(f.monthly_cap_usd for f in entries)
        budgets.append(
            ProviderBudget(
                provider=provider,
                # down to the cent so the processes together never exceed the cap (never 0: 0 means "no limit")
                budget_limit_usd=math.floor(cap / processes * 100) / 100 or cap / processes,
                time_period=BUDGET_PERIOD,
                frontier=tuple(f.name for f in entries),
                monthly_cap_usd=cap,
            )
        )
    keys = {(key_env_name(f.secret), names.secret_name(stack, f.secret)) for f in reachable.values()}
    keys.add((MASTER_KEY_ENV, names.secret_name(stack, MASTER_KEY_SECRET)))
    return RouterConfig(
        stack=stack,
        deployments=tuple(deployments),
        fallbacks=tuple(fallbacks),
        context_window_fallbacks=tuple(context),
        retry_policies=tuple(policies),
        provider_budgets=tuple(budgets),
        decisions=tuple(decisions),
        secret_env=tuple(sorted(keys)),
        tasks=tasks,
        workers_per_task=workers_per_task,
    )


def router_config(plan: Plan) -> RouterConfig:
    """The LiteLLM config the plan resolved for its router (`plan.front_door.router.config`)."""
    return plan.front_door.router.config


def env_vars(plan: Plan) -> dict[str, str]:
    """Each frontier-key environment variable the config reads -> its Secrets Manager secret name."""
    return {k: v for k, v in router_config(plan).secret_env if k != MASTER_KEY_ENV}
