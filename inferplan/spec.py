"""Spec v1: the typed shape of `inferplan:platform` in `stacks/Pulumi.<stack>.yaml`.

Field names are a contract (DESIGN.md, "Spec v1"): add fields, never rename. Unknown keys are
rejected so a typo never silently becomes a default. Checks that need the whole document (names
that refer to other entries, uniqueness) live in `cross_reference_problems`, which works on the raw
mapping so it can report alongside type errors in the same run.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

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
    cidr: str = Field(
        default="10.40.0.0/16", description="The VPC's IPv4 block, /16 to /24, split into equal subnets."
    )
    availability_zones: int = Field(
        default=2, ge=2, le=6, description="One private subnet per AZ; the internal ALB needs two."
    )  # an ALB needs subnets in two AZs
    egress: Literal["nat", "none"] = Field(
        default="nat",
        description="nat: NAT gateways reach the internet (frontier APIs); none: no internet gateway, no NAT, AWS APIs via VPC endpoints only.",
    )

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
    allowed_regions: tuple[str, ...] = Field(
        min_length=1,
        max_length=40,
        description="AWS regions where confidential and regulated data may be processed.",
    )


class Budget(Strict):
    monthly_usd: float = Field(gt=0, le=1e9, description="Expected monthly cost (USD) must stay under it.")
    hard_cap_usd: float = Field(
        gt=0,
        le=1e9,
        description="The worst case (pools at max_nodes, frontier entries at their caps) must stay under it; at least monthly_usd.",
    )
    alert_emails: tuple[str, ...] = Field(
        default=(), max_length=100, description="Who AWS Budgets and the pool alarms notify."
    )


class Autoscaling(Strict):
    max_nodes_per_pool: int = Field(
        default=8, ge=1, le=1000, description="The ceiling no pool's max_nodes may exceed."
    )
    # Peak hour over average hour of the declared daily volume; 3x is a common office-hours profile.
    peak_to_average: float = Field(
        default=3.0, ge=1.0, le=24.0, description="Busiest hour over the average hour of the daily volume."
    )


class Operations(Strict):
    monthly_usd: float = Field(
        default=0.0,
        ge=0,
        le=1e9,
        description="Staff and operations overhead per month (USD): the fourth cost bucket.",
    )
    # Seed 004: "budget 20% of an ML engineer's time for ongoing operations".
    engineers: float | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="Staff as a number of engineers (0.2 = a fifth of one engineer's time), costed at "
        "annual_cost_usd a year each; instead of monthly_usd.",
    )
    annual_cost_usd: float | None = Field(
        default=None,
        gt=0,
        le=1e8,
        description="What one engineer costs a year (USD); default: the catalog's "
        "ops_engineer_annual_usd (seed 004's US MLOps average).",
    )


class Jwt(Strict):
    issuer: Annotated[str, StringConstraints(pattern=r"^https://\S+$")] = Field(
        description="The JWT issuer URL (https)."
    )
    audience: tuple[str, ...] = Field(min_length=1, max_length=100, description="Accepted JWT audiences.")


class RateLimit(Strict):
    requests_per_second: float = Field(
        gt=0, le=1_000_000, description="Stage throttling: steady requests per second."
    )
    burst: int = Field(gt=0, le=1_000_000, description="Stage throttling: burst of requests.")


class Domain(Strict):
    name: str = Field(min_length=1, max_length=253, description="Custom domain name of the gateway.")
    certificate_arn: str | None = Field(default=None, description="ACM certificate for the custom domain.")


class Gateway(Strict):
    auth: Literal["jwt"] = Field(default="jwt", description="The gateway's authorizer.")
    jwt: Jwt = Field(description="JWT issuer and audiences the gateway accepts.")
    rate_limit: RateLimit = Field(description="Stage throttling.")
    domain: Domain | None = Field(default=None, description="Optional custom domain for the gateway.")


Purchase = Literal[
    "on_demand", "reserved_1y", "reserved_3y", "savings_plan_1y", "savings_plan_3y", "capacity_block"
]
PURCHASES: tuple[Purchase, ...] = get_args(Purchase)


class Pool(Strict):
    name: Name = Field(description="A GPU node pool (one Auto Scaling group).")
    instance_type: str = Field(
        min_length=1,
        max_length=40,
        description="An EC2 GPU shape from the catalog (`catalog instances`), or `auto`: the cheapest shape that carries the load within the SLOs.",
    )  # an EC2 shape from the catalog, or "auto"
    capacity: Literal["on_demand", "spot", "mixed"] = Field(
        default="on_demand", description="mixed: on_demand_base nodes on demand, the rest spot."
    )
    # At least one node: scaling reads metrics the nodes publish, so a pool at zero could never scale out.
    min_nodes: int = Field(
        default=1,
        ge=1,
        le=1000,
        description="Nodes always running (at least 1: scaling reads metrics the nodes publish).",
    )
    max_nodes: int | None = Field(
        default=None, ge=0, le=1000, description="Autoscaler ceiling; a pool without it fails policy."
    )
    warm_pool: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="Stopped, pre-initialised nodes so scale-out skips the weight download (on-demand pools only).",
    )
    on_demand_base: int = Field(
        default=0, ge=0, le=1000, description="With capacity: mixed, nodes always on demand."
    )  # capacity: mixed — nodes always on demand
    purchase: Purchase = Field(
        default="on_demand",
        description="How the always-on min_nodes are paid for: on demand, a no-upfront 1- or 3-year "
        "Reserved Instance or EC2 Instance Savings Plan, or an EC2 Capacity Block (catalog/commitments.csv); "
        "paid whether used or not. Nodes above min_nodes follow capacity.",
    )


class Measured(Strict):
    """A `vllm bench serve --save-result` JSON of this model and the hardware it ran on."""

    file: str = Field(
        min_length=1,
        max_length=1000,
        description="The result JSON, relative to the project directory (where Pulumi.yaml is).",
    )
    gpu: str | None = Field(default=None, max_length=64, description="GPU it ran on (default: the pool's).")
    tensor_parallel: int = Field(
        default=1, ge=1, le=64, description="vLLM --tensor-parallel-size of the run."
    )
    quantization: Precision | None = Field(
        default=None, description="Weight precision of the run (default: the model's served one)."
    )
    kv_cache_dtype: Literal["auto", "fp8"] = Field(
        default="auto", description="vLLM --kv-cache-dtype of the run."
    )
    gpu_memory_utilization: float = Field(
        default=0.90, ge=0.5, le=0.98, description="vLLM --gpu-memory-utilization of the run."
    )
    max_num_seqs: int | None = Field(
        default=None, ge=1, le=100_000, description="vLLM --max-num-seqs of the run (default: vLLM's own)."
    )


class Model(Strict):
    name: Name = Field(description="The served model name (what the router calls).")
    model: str = Field(
        min_length=1,
        max_length=200,
        description="Catalog model id, Hugging Face style (`catalog models`), e.g. meta-llama/Llama-3.3-70B-Instruct.",
    )
    quantization: Precision | None = Field(
        default=None, description="Weight precision (default: the model's native one)."
    )
    max_context: int | None = Field(
        default=None,
        gt=0,
        le=10_000_000,
        description="vLLM --max-model-len (default: the largest the model and its node allow).",
    )
    pool: str = Field(description="The pool that serves it (one model per pool in v1).")
    gpu_memory_utilization: float = Field(
        default=0.90, ge=0.5, le=0.98, description="vLLM's share of GPU memory."
    )
    config_json: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="A Hugging Face config.json describing the model (fine-tuned or private), relative to the project.",
    )
    measured: Measured | None = Field(
        default=None,
        description="A `vllm bench serve --save-result` run of this model: measured beats modeled (docs/sizing.md).",
    )

    @field_validator("measured", mode="before")
    @classmethod
    def _measured_file(cls, value: Any) -> Any:
        return {"file": value} if isinstance(value, str) else value


class Frontier(Strict):
    name: Name = Field(description="A frontier or open-model API entry a workload may route or fall back to.")
    # Frontier APIs, and the open-model API providers (together, fireworks, groq, deepinfra; Bedrock
    # serves both kinds): catalog/api_prices.csv prices them, the router reaches them through LiteLLM.
    provider: Literal[
        "anthropic", "openai", "google", "bedrock", "together", "fireworks", "groq", "deepinfra"
    ] = Field(description="The API provider (frontier, or an open-model API).")
    model: str = Field(
        min_length=1,
        max_length=200,
        description="The provider's model id, e.g. claude-sonnet-4-5 (`catalog apis`).",
    )
    processing_regions: tuple[str, ...] = Field(
        min_length=1, max_length=40, description="Where the provider processes the data."
    )
    secret: Name = Field(description="Secrets Manager secret inferplan/<stack>/<secret> holding the key.")
    monthly_cap_usd: float = Field(gt=0, le=1e9, description="Spend limit (USD a month) the router enforces.")
    context_window: int | None = Field(
        default=None,
        gt=0,
        le=10_000_000,
        description="Tokens, for context-window fallbacks (default: the catalog's).",
    )


AUTO = "auto"  # a workload's route or fallback chosen by the planner (inferplan.decide)
Task = Literal[
    "classification", "extraction", "summarization", "translation", "rag", "chat", "coding", "reasoning"
]


class Quality(Strict):
    min_tier: int = Field(
        ge=1,
        le=5,
        description="Lowest quality tier a route may have (catalog/quality_tiers.csv: 1 small models … 5 the strongest frontier).",
    )


class LatencySlo(Strict):
    ttft: float | None = Field(
        default=None, gt=0, le=3_600_000, description="Time to first token, milliseconds."
    )
    tpot: float | None = Field(
        default=None, gt=0, le=3_600_000, description="Time per output token, milliseconds."
    )


class CurrentUsage(Strict):
    """What a workload runs on today and what it costs (written by `import-usage`, read by decisions)."""

    provider: str = Field(
        min_length=1, max_length=64, description="As the usage source names it: openai, anthropic, bedrock…"
    )
    model: str = Field(min_length=1, max_length=200, description="The provider's model id, as logged.")
    monthly_usd: float | None = Field(
        default=None,
        ge=0,
        le=1e12,
        description="What it costs a month today (empty: the source had no cost and no catalog price).",
    )


class TokenPercentiles(Strict):
    """Per-call token sizes at the median and the 95th percentile (from per-request logs)."""

    input_p50: int = Field(ge=0, le=10_000_000, description="Median prompt tokens of a call.")
    input_p95: int = Field(ge=0, le=10_000_000, description="95th-percentile prompt tokens of a call.")
    output_p50: int = Field(ge=0, le=10_000_000, description="Median completion tokens of a call.")
    output_p95: int = Field(ge=0, le=10_000_000, description="95th-percentile completion tokens of a call.")


class PromptCache(Strict):
    """How much of a workload's prompt the API provider's prompt cache serves (billed at its own rates)."""

    read_share: float = Field(
        default=0.0, ge=0, le=1, description="Share of input tokens read from the provider's prompt cache."
    )
    write_share: float = Field(
        default=0.0, ge=0, le=1, description="Share of input tokens written to the provider's prompt cache."
    )


class Workload(Strict):
    name: Name = Field(description="The model alias applications call.")
    calls_per_day: float = Field(ge=0, le=1e9, description="Declared volume: calls a day.")
    input_tokens: int = Field(gt=0, le=10_000_000, description="Typical prompt tokens of a call.")
    output_tokens: int = Field(gt=0, le=10_000_000, description="Typical completion tokens of a call.")
    sensitivity: Sensitivity = Field(
        description="public < internal < confidential < regulated: decides what the workload may reach."
    )
    route: str = Field(
        max_length=64,
        description="The model or frontier entry its calls go to, or `auto`: the planner chooses (docs/decision.md).",
    )
    fallback: str | None = Field(
        default=None,
        max_length=64,
        description="Where failures go, or `auto` (confidential and regulated data never fall back to an API).",
    )
    fallback_rate: float = Field(default=0.0, ge=0, le=1, description="Share of calls that fall back.")
    latency_slo_ms: LatencySlo | None = Field(
        default=None, description="Latency objectives the sizing must meet."
    )
    # Share of calls accepted without human rework, per route or fallback name (seed 003, Fig. 01).
    success_rate: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="Per route or fallback name: share of calls accepted without rework (0-1).",
    )
    rework_usd: float | None = Field(
        default=None, ge=0, le=1_000_000, description="Human cost (USD) of fixing one rejected outcome."
    )
    callers: tuple[Scope, ...] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="JWT scopes of which a caller's token needs one to call this workload (default: `inferplan/<name>`).",
    )
    quality: Quality | None = Field(
        default=None, description="The quality floor: the lowest model tier this workload accepts."
    )
    task: Task | None = Field(
        default=None, description="What the workload does; sets the quality floor (catalog/task_tiers.csv)."
    )
    peak_to_average: float | None = Field(
        default=None,
        ge=1.0,
        le=24.0,
        description="Busiest hour over the average hour of this workload (import-usage measures it); "
        "overrides autoscaling.peak_to_average.",
    )
    current: CurrentUsage | None = Field(
        default=None, description="Today's provider, model and monthly spend (written by import-usage)."
    )
    token_percentiles: TokenPercentiles | None = Field(
        default=None, description="Token sizes' p50/p95 (written by import-usage)."
    )
    prompt_cache: PromptCache | None = Field(
        default=None,
        description="Shares of the prompt an API provider reads from / writes to its prompt cache "
        "(billed at the catalog's cache prices; read_share + write_share <= 1).",
    )
    batch: bool = Field(
        default=False,
        description="The workload uses the API provider's batch API (billed at the catalog's batch discount).",
    )
    retry_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of API calls retried; each retry is billed in full.",
    )


class Waiver(Strict):
    rule: str = Field(description="The policy rule waived, e.g. budget-expected.")
    subject: str = Field(description="The subject of the finding waived (a pool, workload or stack name).")
    reason: str = Field(min_length=1, max_length=500, description="Why, with a ticket or approval reference.")
    expires: date = Field(description="Date the waiver ends (YYYY-MM-DD).")


class PolicySettings(Strict):
    waivers: tuple[Waiver, ...] = Field(
        default=(), description="Waive one rule for one subject until a date."
    )


InstanceType = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class Buy(Strict):
    """Buying the nodes instead of renting them (seed 003's buy option); every default is a catalog row."""

    node_price_usd: dict[InstanceType, Annotated[float, Field(gt=0, le=1e8)]] = Field(
        default_factory=dict,
        max_length=1000,
        description="Purchase price of one node per EC2 shape it replaces, USD (default: "
        "catalog/owned_hardware.csv).",
    )
    depreciation_months: int | None = Field(
        default=None,
        ge=1,
        le=240,
        description="Months the purchase is written off over, straight line (default: the catalog's 48).",
    )
    power_kw_per_node: dict[InstanceType, Annotated[float, Field(gt=0, le=1000)]] = Field(
        default_factory=dict,
        max_length=1000,
        description="Power one node draws, kW, per EC2 shape (default: catalog/owned_hardware.csv).",
    )
    usd_per_kwh: float | None = Field(
        default=None, ge=0, le=10, description="Electricity price, USD per kWh (default: the catalog's)."
    )
    colo_usd_per_kw_month: float | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="Colocation price, USD per kW of power a month (default: the catalog's).",
    )
    support_share: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Hardware support a year as a share of the purchase price (default: the catalog's).",
    )
    financing_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Annual interest on the purchase price (simple interest on the full price; 0: paid cash).",
    )


class CostSettings(Strict):
    # Where every workload would go in the API-only alternative: a frontier entry name or a catalog
    # "provider/model" (default: the first frontier entry, else anthropic/claude-sonnet-4-5).
    api_only_model: str | None = Field(
        default=None,
        description="The API-only alternative priced against: a frontier entry name or a catalog provider/model.",
    )
    hours_per_month: float = Field(
        default=730.0, gt=0, le=744, description="Hours a month in every monthly figure."
    )
    prices: dict[str, Annotated[float, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=dict, description="Override any non-GPU catalog price: {item: USD}."
    )
    buy: Buy | None = Field(
        default=None,
        description="Price buying the nodes beside renting them: purchase, depreciation, power, "
        "colocation, support, financing, payback (docs/cost.md).",
    )


# An IAM role or user ARN: what may assume the weights-admin role. Not the account root (`:root`), which
# would let every principal of the account with sts:AssumeRole in, and no wildcard (trust policies take none).
IAM_PRINCIPAL = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")


def _iam_principal(arn: str) -> str:
    if not IAM_PRINCIPAL.fullmatch(arn):
        raise ValueError(
            "not an IAM role or user ARN (arn:aws:iam::<account>:role/<name>); "
            "the account root and wildcards are not allowed"
        )
    return arn


IamPrincipal = Annotated[str, AfterValidator(_iam_principal)]


class ModelStoreSettings(Strict):
    admins: tuple[IamPrincipal, ...] = Field(
        default=(),
        max_length=20,
        description="IAM role or user ARNs that may assume the weights-admin role (upload weights); "
        "default: the principal that runs `pulumi up`. Never the account root.",
    )


class RouterSettings(Strict):
    tasks: int | None = Field(
        default=None,
        ge=1,
        le=10,
        description="The fewest LiteLLM proxy tasks (default: 2 in prod, 1 elsewhere); more when the "
        "gateway's rate limit needs them.",
    )
    # Put frontier keys in Pulumi state (`pulumi config set --secret`); off by default.
    secrets_in_state: bool = Field(
        default=False, description="Put frontier keys in Pulumi state (pulumi config set --secret)."
    )
    # The LiteLLM proxy image (default: the pinned ghcr.io release). A stack without egress cannot
    # pull from ghcr.io: mirror the image to ECR and name it here.
    image: str | None = Field(
        default=None,
        min_length=1,
        description="The LiteLLM proxy image (default: the pinned release); an ECR copy with egress: none.",
    )
    registry: Literal["upstream", "ecr"] = Field(
        default="upstream",
        description="Where the pinned LiteLLM image comes from when `image` is not set: `upstream` "
        "(ghcr.io, needs egress) or `ecr` (a repository `<stack>/litellm` the stack creates, filled by "
        "the mirror step of docs/front-door.md).",
    )
    worker_capacity_rps: float | None = Field(
        default=None,
        gt=0,
        le=100_000,
        description="Requests per second one LiteLLM worker sustains (default: the measured catalog figure).",
    )


class SizingSettings(Strict):
    confidence: Literal["p50", "p90"] = Field(
        default="p50",
        description="p50: size replicas on the predicted throughput; p90: on the throughput 9 in 10 "
        "held-out measurements of the model's class reached (the cautious end of the error band).",
    )


class Platform(Strict):
    region: str = Field(description="AWS region of the stack; must equal aws:region.")
    environment: Literal["dev", "staging", "prod"] = Field(
        description="prod gets one NAT gateway per AZ and two router tasks."
    )
    network: Network = Field(default=Network(), description="The VPC.")
    residency: Residency = Field(description="Where sensitive data may be processed.")
    budget: Budget = Field(description="Budget limits the plan is checked against.")
    autoscaling: Autoscaling = Field(
        default=Autoscaling(), description="Limits and traffic shape for the GPU pools."
    )
    operations: Operations = Field(default=Operations(), description="Staff and operations cost.")
    gateway: Gateway = Field(description="The authenticated API gateway in front of the router.")
    pools: tuple[Pool, ...] = Field(default=(), max_length=1000, description="GPU node pools.")
    models: tuple[Model, ...] = Field(
        default=(), max_length=1000, description="Open-weight models served by vLLM."
    )
    frontier: tuple[Frontier, ...] = Field(
        default=(), max_length=1000, description="Frontier APIs allowed as route or fallback."
    )
    workloads: tuple[Workload, ...] = Field(
        default=(),
        max_length=10000,
        description="What calls the platform: volumes, token sizes, sensitivity, routes.",
    )
    catalog: CatalogOverrides = Field(
        default=CatalogOverrides(), description="Rows that add to or replace the built-in catalog."
    )
    policy: PolicySettings = Field(default=PolicySettings(), description="Waivers.")
    cost: CostSettings = Field(default=CostSettings(), description="Cost settings and price overrides.")
    router: RouterSettings = Field(default=RouterSettings(), description="The LiteLLM router.")
    model_store: ModelStoreSettings = Field(
        default=ModelStoreSettings(), description="The weights bucket: who may upload weights."
    )
    sizing: SizingSettings = Field(
        default=SizingSettings(), description="How cautiously throughput predictions size the pools."
    )

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


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _purchase_problems(index: int, pool: Mapping[str, Any]) -> list[tuple[Path_, str]]:
    """A commitment covers on-demand usage only, and the committed (min_nodes) nodes must run on demand."""
    purchase = pool.get("purchase", "on_demand")
    if purchase not in PURCHASES or purchase == "on_demand":
        return []
    capacity = pool.get("capacity", "on_demand")
    if capacity == "spot":
        return [
            (
                ("pools", index, "purchase"),
                f"{purchase} covers on-demand usage only, not capacity: spot "
                "(use capacity: on_demand or mixed, or purchase: on_demand)",
            )
        ]
    low, base = pool.get("min_nodes", 1), pool.get("on_demand_base", 0)
    if capacity == "mixed" and _number(low) and _number(base) and base < low:
        return [
            (
                ("pools", index, "on_demand_base"),
                f"must be >= min_nodes with purchase: {purchase} ({base} < {low}): "
                "the committed min_nodes nodes run on demand",
            )
        ]
    return []


def _prompt_cache_problems(index: int, workload: Mapping[str, Any]) -> list[tuple[Path_, str]]:
    cache = workload.get("prompt_cache")
    if not isinstance(cache, Mapping):
        return []
    read, write = cache.get("read_share", 0), cache.get("write_share", 0)
    if _number(read) and _number(write) and read + write > 1:
        return [
            (
                ("workloads", index, "prompt_cache"),
                f"read_share + write_share must be <= 1 (got {read} + {write}): they are shares of one prompt",
            )
        ]
    return []


def _operations_problems(operations: Mapping[str, Any]) -> list[tuple[Path_, str]]:
    """Staff cost is either one monthly figure or engineers x a yearly cost, never both."""
    monthly, engineers = operations.get("monthly_usd", 0), operations.get("engineers")
    problems: list[tuple[Path_, str]] = []
    if engineers is not None and _number(monthly) and monthly > 0:
        problems.append(
            (
                ("operations", "engineers"),
                "set monthly_usd or engineers, not both (engineers x annual_cost_usd / 12 is the monthly figure)",
            )
        )
    if operations.get("annual_cost_usd") is not None and engineers is None:
        problems.append((("operations", "annual_cost_usd"), "is set but engineers is not"))
    return problems


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
            if scope == "targets" and name == AUTO:
                problems.append(
                    ((kind, index, "name"), f"'{AUTO}' is reserved: a route of `auto` asks the planner")
                )
                continue
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
            if isinstance(target, str) and target not in targets and target != AUTO:
                problems.append(
                    (
                        ("workloads", index, field),
                        f"no model or frontier entry named '{target}'{did_you_mean(target, [*targets, AUTO])} "
                        "(or `auto`: the planner chooses)",
                    )
                )
        rate = item.get("fallback_rate", 0)
        if isinstance(rate, int | float) and rate > 0 and item.get("fallback") is None:
            problems.append((("workloads", index, "fallback_rate"), "is set but no fallback is named"))
        if isinstance(item.get("route"), str) and item.get("route") == item.get("fallback") != AUTO:
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
        problems.extend(_purchase_problems(index, item))
    network = data.get("network")
    if isinstance(network, Mapping):
        problems.extend(_subnet_problems(network))
    for index, item in _entries(data, "workloads"):
        problems.extend(_prompt_cache_problems(index, item))
    operations = data.get("operations")
    if isinstance(operations, Mapping):
        problems.extend(_operations_problems(operations))
    budget = data.get("budget")
    if isinstance(budget, Mapping):
        monthly, cap = budget.get("monthly_usd"), budget.get("hard_cap_usd")
        if isinstance(monthly, int | float) and isinstance(cap, int | float) and cap < monthly:
            problems.append((("budget", "hard_cap_usd"), f"must be >= monthly_usd ({cap} < {monthly})"))
    return problems
