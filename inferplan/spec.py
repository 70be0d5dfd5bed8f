"""Spec v1: the typed shape of `inferplan:platform` in `stacks/Pulumi.<stack>.yaml`.

Field names are a contract (DESIGN.md, "Spec v1"): add fields, never rename. Unknown keys are
rejected so a typo never silently becomes a default. Checks that need the whole document (names
that refer to other entries, uniqueness) live in `cross_reference_problems`, which works on the raw
mapping so it can report alongside type errors in the same run.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from inferplan.catalog import CatalogOverrides, Precision

Sensitivity = Literal["public", "internal", "confidential", "regulated"]
SENSITIVITY_ORDER: tuple[Sensitivity, ...] = ("public", "internal", "confidential", "regulated")

# Names end up in AWS physical names (target groups allow 32 characters), so keep them short and DNS-safe.
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,19}$")]
NAME_RULE = "lower-case letters, digits and '-', starting with a letter, at most 20 characters"
# An OAuth 2.0 scope token (RFC 6749 3.3): printable ASCII without space, '"' or '\\'.
Scope = Annotated[str, StringConstraints(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]{1,128}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Network(Strict):
    cidr: str = "10.40.0.0/16"
    availability_zones: int = Field(default=2, ge=2, le=6)  # an ALB needs subnets in two AZs
    egress: Literal["nat", "none"] = "nat"

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"not a valid IPv4 CIDR block ({exc})") from None
        if not 16 <= net.prefixlen <= 24:
            raise ValueError(f"prefix must be between /16 and /24 for a VPC (got /{net.prefixlen})")
        return value


class Residency(Strict):
    allowed_regions: tuple[str, ...] = Field(min_length=1)


class Budget(Strict):
    monthly_usd: float = Field(gt=0)
    hard_cap_usd: float = Field(gt=0)
    alert_emails: tuple[str, ...] = ()


class Autoscaling(Strict):
    max_nodes_per_pool: int = Field(default=8, ge=1)
    # Peak hour over average hour of the declared daily volume; 3x is a common office-hours profile.
    peak_to_average: float = Field(default=3.0, ge=1.0, le=24.0)


class Operations(Strict):
    monthly_usd: float = Field(default=0.0, ge=0)


class Jwt(Strict):
    issuer: Annotated[str, StringConstraints(pattern=r"^https://\S+$")]
    audience: tuple[str, ...] = Field(min_length=1)


class RateLimit(Strict):
    requests_per_second: float = Field(gt=0)
    burst: int = Field(gt=0)


class Domain(Strict):
    name: str
    certificate_arn: str | None = None


class Gateway(Strict):
    auth: Literal["jwt"] = "jwt"
    jwt: Jwt
    rate_limit: RateLimit
    domain: Domain | None = None


class Pool(Strict):
    name: Name
    instance_type: str  # an EC2 shape from the catalog, or "auto"
    capacity: Literal["on_demand", "spot", "mixed"] = "on_demand"
    # At least one node: scaling reads metrics the nodes publish, so a pool at zero could never scale out.
    min_nodes: int = Field(default=1, ge=1)
    max_nodes: int | None = Field(default=None, ge=0)
    warm_pool: int = Field(default=0, ge=0)
    on_demand_base: int = Field(default=0, ge=0)  # capacity: mixed — nodes always on demand


class Model(Strict):
    name: Name
    model: str  # catalog id, Hugging Face style
    quantization: Precision | None = None  # default: the model's native precision
    max_context: int | None = Field(default=None, gt=0)  # default: the model's own maximum
    pool: str
    gpu_memory_utilization: float = Field(default=0.90, ge=0.5, le=0.98)


class Frontier(Strict):
    name: Name
    provider: Literal["anthropic", "openai", "google", "bedrock"]
    model: str
    processing_regions: tuple[str, ...] = Field(min_length=1)
    secret: Name
    monthly_cap_usd: float = Field(gt=0)
    context_window: int | None = Field(default=None, gt=0)


class LatencySlo(Strict):
    ttft: float | None = Field(default=None, gt=0)
    tpot: float | None = Field(default=None, gt=0)


class Workload(Strict):
    name: Name
    calls_per_day: float = Field(ge=0)
    input_tokens: int = Field(gt=0)
    output_tokens: int = Field(gt=0)
    sensitivity: Sensitivity
    route: str
    fallback: str | None = None
    fallback_rate: float = Field(default=0.0, ge=0, le=1)
    latency_slo_ms: LatencySlo | None = None
    # Share of calls accepted without human rework, per route or fallback name (seed 003, Fig. 01).
    success_rate: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict)
    rework_usd: float | None = Field(default=None, ge=0)  # human cost of fixing one rejected outcome
    # JWT scopes of which a token needs one to call this workload (default: `inferplan/<name>`).
    callers: tuple[Scope, ...] | None = Field(default=None, min_length=1)


class Waiver(Strict):
    rule: str
    subject: str
    reason: str = Field(min_length=1)
    expires: date


class PolicySettings(Strict):
    waivers: tuple[Waiver, ...] = ()


class CostSettings(Strict):
    # Where every workload would go in the API-only alternative: a frontier entry name or a catalog
    # "provider/model" (default: the first frontier entry, else anthropic/claude-sonnet-4-5).
    api_only_model: str | None = None
    hours_per_month: float = Field(default=730.0, gt=0, le=744)
    prices: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)


class RouterSettings(Strict):
    tasks: int | None = Field(default=None, ge=1, le=10)  # default: 2 in prod, 1 elsewhere
    # Put frontier keys in Pulumi state (`pulumi config set --secret`); off by default.
    secrets_in_state: bool = False
    # The LiteLLM proxy image (default: the pinned ghcr.io release). A stack without egress cannot
    # pull from ghcr.io: mirror the image to ECR and name it here.
    image: str | None = Field(default=None, min_length=1)
    # Where the pinned LiteLLM image is pulled from when `image` is not set: `upstream` (ghcr.io, needs
    # egress) or `ecr` (a repository `<stack>/litellm` the stack creates in its account's ECR, filled by
    # the mirror step of docs/front-door.md).
    registry: Literal["upstream", "ecr"] = "upstream"
    # Requests per second one LiteLLM worker sustains (default: the measured catalog figure).
    worker_capacity_rps: float | None = Field(default=None, gt=0, le=100_000)


class Platform(Strict):
    region: str
    environment: Literal["dev", "staging", "prod"]
    network: Network = Network()
    residency: Residency
    budget: Budget
    autoscaling: Autoscaling = Autoscaling()
    operations: Operations = Operations()
    gateway: Gateway
    pools: tuple[Pool, ...] = ()
    models: tuple[Model, ...] = ()
    frontier: tuple[Frontier, ...] = ()
    workloads: tuple[Workload, ...] = ()
    catalog: CatalogOverrides = CatalogOverrides()
    policy: PolicySettings = PolicySettings()
    cost: CostSettings = CostSettings()
    router: RouterSettings = RouterSettings()

    def pool(self, name: str) -> Pool:
        return next(p for p in self.pools if p.name == name)

    def model(self, name: str) -> Model | None:
        return next((m for m in self.models if m.name == name), None)

    def frontier_entry(self, name: str) -> Frontier | None:
        return next((f for f in self.frontier if f.name == name), None)


Path_ = tuple[str | int, ...]


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """' (did you mean 'x'?)' when a close name exists, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _entries(data: Mapping[str, Any], key: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    items = data.get(key)
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, Mapping):
                yield index, item


def _names(data: Mapping[str, Any], key: str) -> list[str]:
    return [str(item["name"]) for _, item in _entries(data, key) if "name" in item]


SUBNET_PREFIX_MAX = 27  # an ALB needs at least a /27 with 8 free addresses in each of its subnets


def subnet_prefix(vpc_prefix: int) -> int:
    """The prefix of every subnet carved from the VPC: 16 blocks where that leaves a /27 or more."""
    return min(vpc_prefix + 4, SUBNET_PREFIX_MAX)


def _subnet_problems(network: Mapping[str, Any]) -> list[tuple[Path_, str]]:
    """A VPC block must hold one private subnet per AZ (plus one public per AZ with NAT) of a /27 or more."""
    defaults = Network()  # the raw mapping may omit keys; the model's own defaults then apply
    cidr, azs, egress = (
        network.get("cidr", defaults.cidr),
        network.get("availability_zones", defaults.availability_zones),
        network.get("egress", defaults.egress),
    )
    try:
        vpc = ipaddress.IPv4Network(str(cidr), strict=True)
    except ValueError:
        return []  # reported by the field validator
    if not isinstance(azs, int) or not 16 <= vpc.prefixlen <= 24:
        return []
    prefix = subnet_prefix(vpc.prefixlen)
    blocks = 2 ** (prefix - vpc.prefixlen)
    needed = azs * (2 if egress == "nat" else 1)
    if needed <= blocks:
        return []
    return [
        (
            ("network", "cidr"),
            f"/{vpc.prefixlen} holds {blocks} subnets of /{prefix} (the smallest an ALB accepts); "
            f"{azs} AZs{' with NAT' if egress == 'nat' else ''} need {needed}: use a larger block or fewer AZs",
        )
    ]


def cross_reference_problems(data: Mapping[str, Any], aws_region: str | None) -> list[tuple[Path_, str]]:
    """Problems that involve more than one entry, found on the raw mapping (tolerant of bad types)."""
    problems: list[tuple[Path_, str]] = []

    region = data.get("region")
    if aws_region is None:
        problems.append(((), "aws:region is not set (add `aws:region: <region>` under `config:`)"))
    elif isinstance(region, str) and region != aws_region:
        problems.append(
            (
                ("region",),
                f"must equal aws:region '{aws_region}' (got '{region}'); "
                "the planner and the AWS provider must agree on one region",
            )
        )

    # Names are unique across pools, models and frontier entries of each kind, and across models and
    # frontier entries together, because a workload's route names either.
    seen: dict[str, str] = {}
    for kind in ("pools", "models", "frontier", "workloads"):
        for index, item in _entries(data, kind):
            name = item.get("name")
            if not isinstance(name, str):
                continue
            scope = "targets" if kind in ("models", "frontier") else kind
            key = f"{scope}:{name}"
            if key in seen:
                problems.append(
                    ((kind, index, "name"), f"duplicate name '{name}' (already used by {seen[key]})")
                )
            else:
                seen[key] = f"{kind}[{index}]"

    pools = _names(data, "pools")
    targets = _names(data, "models") + _names(data, "frontier")
    for index, item in _entries(data, "models"):
        pool = item.get("pool")
        if isinstance(pool, str) and pool not in pools:
            problems.append((("models", index, "pool"), f"no pool named '{pool}'{did_you_mean(pool, pools)}"))
    served: dict[str, str] = {}
    for index, item in _entries(data, "models"):
        pool, name = item.get("pool"), item.get("name")
        if isinstance(pool, str) and pool in served:
            problems.append(
                (
                    ("models", index, "pool"),
                    f"pool '{pool}' already serves model '{served[pool]}'; "
                    "v1 runs one model per pool (declare another pool)",
                )
            )
        elif isinstance(pool, str):
            served[pool] = str(name)
    for index, item in _entries(data, "workloads"):
        for field in ("route", "fallback"):
            target = item.get(field)
            if isinstance(target, str) and target not in targets:
                problems.append(
                    (
                        ("workloads", index, field),
                        f"no model or frontier entry named '{target}'{did_you_mean(target, targets)}",
                    )
                )
        rate = item.get("fallback_rate", 0)
        if isinstance(rate, int | float) and rate > 0 and item.get("fallback") is None:
            problems.append((("workloads", index, "fallback_rate"), "is set but no fallback is named"))
        if isinstance(item.get("route"), str) and item.get("route") == item.get("fallback"):
            problems.append((("workloads", index, "fallback"), "must differ from route"))
        rates = item.get("success_rate")
        if isinstance(rates, Mapping):
            own = [t for t in (item.get("route"), item.get("fallback")) if isinstance(t, str)]
            for target in rates:
                if str(target) not in targets:
                    problems.append(
                        (
                            ("workloads", index, "success_rate", str(target)),
                            f"no model or frontier entry named '{target}'"
                            + did_you_mean(str(target), own or targets),
                        )
                    )
    for index, item in _entries(data, "pools"):
        low, high = item.get("min_nodes", 0), item.get("max_nodes")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            problems.append((("pools", index, "min_nodes"), f"must be <= max_nodes ({low} > {high})"))
        base = item.get("on_demand_base", 0)
        if isinstance(base, int) and isinstance(high, int) and base > high:
            problems.append((("pools", index, "on_demand_base"), f"must be <= max_nodes ({base} > {high})"))
        warm = item.get("warm_pool", 0)
        if isinstance(warm, int) and warm > 0 and item.get("capacity", "on_demand") != "on_demand":
            problems.append(
                (
                    ("pools", index, "warm_pool"),
                    "needs capacity: on_demand (AWS allows no warm pool on spot or mixed groups)",
                )
            )
        if isinstance(warm, int) and isinstance(high, int) and warm > high:
            problems.append((("pools", index, "warm_pool"), f"must be <= max_nodes ({warm} > {high})"))
    network = data.get("network")
    if isinstance(network, Mapping):
        problems.extend(_subnet_problems(network))
    budget = data.get("budget")
    if isinstance(budget, Mapping):
        monthly, cap = budget.get("monthly_usd"), budget.get("hard_cap_usd")
        if isinstance(monthly, int | float) and isinstance(cap, int | float) and cap < monthly:
            problems.append((("budget", "hard_cap_usd"), f"must be >= monthly_usd ({cap} < {monthly})"))
    return problems
