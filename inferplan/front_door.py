"""The front door, resolved by the planner: the gateway's routes and the router's task, image, size,
config, secrets and environment — everything `components/gateway.py` and `components/router.py` build,
so they decide nothing.

Who may call what (docs/front-door.md): each workload is one gateway route,
`POST /<workload>/v1/chat/completions`, whose JWT authorizer requires one of the workload's `callers`
scopes (default `inferplan/<workload>`). That route's integration rewrites the path to the router's
`/v1/chat/completions` and overwrites `router_guard.WORKLOAD_HEADER` with the workload's name, which
the router's admission check (`inferplan.router_guard`) compares with the body's `model`. A token
without the scope is refused by the gateway (403); a token with it can name no other workload, no
fallback group and no provider string (the router answers 403).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from inferplan import names
from inferplan.catalog import Catalog
from inferplan.egress import fallback_allowed
from inferplan.images import ImagePlan, router_image
from inferplan.plan import GATEWAY_TIMEOUT_MS, MODEL_HEADER, ROUTER_PORT
from inferplan.router_config import (
    MASTER_KEY_SECRET,
    RouterConfig,
    build_router_config,
)
from inferplan.router_guard import CALLER_HEADER, WORKLOAD_HEADER
from inferplan.router_sizing import RouterSizing, size_router
from inferplan.spec import Platform, Workload

CONFIG_OBJECT_KEY = "litellm/config.yaml"
# LiteLLM loads `custom_auth: s3://<bucket>/litellm/inferplan_guard.user_api_key_auth` by downloading
# `litellm/inferplan_guard.py` from the bucket (litellm/proxy/types_utils/utils.py).
GUARD_MODULE = "litellm/inferplan_guard"
GUARD_FUNCTION = "user_api_key_auth"
GUARD_OBJECT_KEY = f"{GUARD_MODULE}.py"
ROUTER_CHAT_PATH = "/v1/chat/completions"
# LiteLLM's unauthenticated liveness endpoint (proxy/health_endpoints/_health_endpoints.py).
HEALTH_PATH = "/health/liveliness"
DEFAULT_SCOPE_PREFIX = "inferplan/"  # a Cognito-style `<resource server>/<scope>` name
# With several workers uvicorn kills a worker that does not answer its supervisor's ping within
# `timeout_worker_healthcheck` (default 5 s); a LiteLLM worker still importing under CPU contention can
# miss that, and the task then restarts its workers forever (seen with 4 workers on 2 busy vCPUs).
WORKER_HEALTHCHECK_TIMEOUT_S = 60
WRITABLE_TMP = "/tmp"


Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StoredObject:
    """One object of the router's config bucket."""

    key: str
    content: str
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content.encode()).hexdigest()


@dataclass(frozen=True)
class FrontierSecretsPlan:
    """The frontier keys' Secrets Manager secrets (components/fallback_secrets.py)."""

    stack: str
    tags: Pairs
    secrets: Pairs  # (the spec's secret name = the Pulumi config key, Secrets Manager name)
    in_state: bool  # values from `pulumi config set --secret` instead of set out of band

    def name(self, *parts: str) -> str:
        return names.physical(self.stack, *parts)


@dataclass(frozen=True)
class RouterPlan:
    """One router service: what components/router.py builds, resolved."""

    stack: str
    region: str
    tags: Pairs
    image: ImagePlan
    sizing: RouterSizing
    config: RouterConfig
    config_object: StoredObject
    guard_object: StoredObject
    environment: Pairs  # plain settings known to the plan
    secret_env: Pairs  # environment variable -> Secrets Manager name (frontier keys, master key)
    master_key_secret: str  # Secrets Manager name of LiteLLM's master key
    frontier_secrets: FrontierSecretsPlan | None
    bedrock_models: tuple[str, ...]  # Bedrock model ids the task role may invoke
    command: tuple[str, ...]  # the container's command (the image's entrypoint runs `litellm`)
    # The container's root filesystem is read-only; these paths are task volumes it may write (LiteLLM
    # downloads its admission check to a temporary file; Python's tempfile uses /tmp).
    writable_paths: tuple[str, ...] = (WRITABLE_TMP,)
    access_log_prefix: str = ""  # the config bucket's server access logs in the stack's access-log bucket

    def name(self, *parts: str) -> str:
        return names.physical(self.stack, *parts)

    def guard_reference(self, bucket: str) -> str:
        """The `custom_auth` value LiteLLM resolves: `s3://<bucket>/<module path>.<function>`."""
        return f"s3://{bucket}/{GUARD_MODULE}.{GUARD_FUNCTION}"


@dataclass(frozen=True)
class GatewayRoute:
    """One workload's door: its route, the scopes a token needs, and how the request is rewritten."""

    workload: str
    path: str  # what the client calls: an OpenAI SDK's base_url is `<gateway>/<workload>/v1`
    scopes: tuple[str, ...]
    request_parameters: Pairs  # API Gateway parameter mapping of its integration

    @property
    def route_key(self) -> str:
        return f"POST {self.path}"

    @property
    def slug(self) -> str:
        return self.workload


@dataclass(frozen=True)
class GatewayPlan:
    stack: str
    tags: Pairs
    issuer: str
    audiences: tuple[str, ...]
    rate_limit_rps: float
    burst: int
    domain_name: str | None
    certificate_arn: str | None
    routes: tuple[GatewayRoute, ...]
    integration_timeout_ms: int

    def name(self, *parts: str) -> str:
        return names.physical(self.stack, *parts)


@dataclass(frozen=True)
class FrontDoorPlan:
    gateway: GatewayPlan
    router: RouterPlan


def callers(workload: Workload) -> tuple[str, ...]:
    """The JWT scopes that may call a workload: its `callers`, else `inferplan/<workload>`."""
    return workload.callers or (f"{DEFAULT_SCOPE_PREFIX}{workload.name}",)


def workload_path(workload: str) -> str:
    return f"/{workload}{ROUTER_CHAT_PATH}"


def gateway_route(workload: Workload) -> GatewayRoute:
    return GatewayRoute(
        workload=workload.name,
        path=workload_path(workload.name),
        scopes=callers(workload),
        request_parameters=(
            ("overwrite:path", ROUTER_CHAT_PATH),
            (f"overwrite:header.{WORKLOAD_HEADER}", workload.name),
            (f"overwrite:header.{CALLER_HEADER}", "$context.authorizer.claims.sub"),
            # The gateway reaches the router listener only; this also keeps clients from naming a
            # model's target group in case a rule ever matched it there.
            (f"remove:header.{MODEL_HEADER.lower()}", "''"),
        ),
    )


def router_command(workers: int) -> tuple[str, ...]:
    """The container's command (the image's entrypoint runs `litellm`)."""
    command: tuple[str, ...] = ("--port", str(ROUTER_PORT), "--num_workers", str(workers))
    if workers > 1:
        command += ("--timeout_worker_healthcheck", str(WORKER_HEALTHCHECK_TIMEOUT_S))
    return command


def _guard_source() -> str:
    return resources.files("inferplan").joinpath("router_guard.py").read_text()


def plan_front_door(stack: str, platform: Platform, catalog: Catalog) -> FrontDoorPlan:
    """Every decision of the gateway and the router, from the validated spec and the merged catalog."""
    tags: Pairs = tuple(names.stack_tags(stack, platform.environment).items())
    sizing = size_router(platform)
    verdicts = {
        (w.name, target): fallback_allowed(w, target, platform)
        for w in platform.workloads
        for target in (w.route, w.fallback)
        if target is not None
    }
    config = build_router_config(stack, platform, catalog, verdicts, sizing.tasks, sizing.workers_per_task)
    config_object = StoredObject(CONFIG_OBJECT_KEY, config.to_yaml(), "application/yaml")
    guard_object = StoredObject(GUARD_OBJECT_KEY, _guard_source(), "text/x-python")
    unique_secrets = dict.fromkeys(f.secret for f in platform.frontier)
    router = RouterPlan(
        stack=stack,
        region=platform.region,
        tags=tags,
        image=router_image(stack, platform.region, platform.router.image, platform.router.registry),
        sizing=sizing,
        config=config,
        config_object=config_object,
        guard_object=guard_object,
        environment=tuple(sorted(config.environment.items())),
        secret_env=config.secret_env,
        master_key_secret=names.secret_name(stack, MASTER_KEY_SECRET),
        frontier_secrets=FrontierSecretsPlan(
            stack=stack,
            tags=tags,
            secrets=tuple((s, names.secret_name(stack, s)) for s in unique_secrets),
            in_state=platform.router.secrets_in_state,
        )
        if platform.frontier
        else None,
        bedrock_models=tuple(
            sorted(
                {
                    d.litellm_model.split("/", 1)[1]
                    for d in config.deployments
                    if d.litellm_model.startswith("bedrock/")
                }
            )
        ),
        command=router_command(sizing.workers_per_task),
        access_log_prefix=names.access_log_prefix(names.ROUTER_CONFIG_BUCKET),
    )
    allowed = set(config.aliases)
    gateway_spec = platform.gateway
    gateway = GatewayPlan(
        stack=stack,
        tags=tags,
        issuer=gateway_spec.jwt.issuer,
        audiences=tuple(gateway_spec.jwt.audience),
        rate_limit_rps=gateway_spec.rate_limit.requests_per_second,
        burst=gateway_spec.rate_limit.burst,
        domain_name=gateway_spec.domain.name if gateway_spec.domain else None,
        certificate_arn=gateway_spec.domain.certificate_arn if gateway_spec.domain else None,
        routes=tuple(gateway_route(w) for w in platform.workloads if w.name in allowed),
        integration_timeout_ms=GATEWAY_TIMEOUT_MS,
    )
    return FrontDoorPlan(gateway=gateway, router=router)
