"""Spec → Plan: every decision the platform needs, made once, in one immutable object.

Components read a Plan and decide nothing; the report, the policy rules and the cost engine read
the same Plan. Nothing downstream mutates it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from inferplan.catalog import Catalog, builtin_catalog
from inferplan.spec import Platform, Sensitivity, subnet_prefix

if TYPE_CHECKING:
    from inferplan.front_door import FrontDoorPlan

# Services the nodes and the router call without internet access (egress: none) or without paying
# NAT data charges (egress: nat): SSM for shell-less access, CloudWatch for logs and the agent's
# metrics, ECR for container images, KMS for encrypted objects.
NODE_INTERFACE_ENDPOINTS: tuple[str, ...] = (
    "ssm",
    "ssmmessages",
    "ec2messages",
    "logs",
    "monitoring",
    "ecr.api",
    "ecr.dkr",
    "kms",
)
# The router task reads its master key (and any frontier keys) from Secrets Manager at start.
SECRETS_ENDPOINT = "secretsmanager"
# A warm-pool node completes its launch lifecycle hook once its weights are local (Auto Scaling API).
AUTOSCALING_ENDPOINT = "autoscaling"
SCHEMA = "inferplan.plan/v1"
LOG_RETENTION_DAYS = 30  # every log group of a stack (gateway, router, pools)

# How traffic finds its way (one internal ALB, two listeners):
#   API Gateway --VPC link--> ALB :ROUTER_LISTENER_PORT --> router tasks (LiteLLM on ROUTER_PORT)
#   router --> ALB :MODELS_LISTENER_PORT, rule on MODEL_HEADER = <model name> --> that model's vLLM target group
# The gateway only reaches the router listener, so a client cannot pick a model's target group itself.
ROUTER_PORT = 4000  # LiteLLM proxy's default port
VLLM_PORT = 8000  # vLLM OpenAI-compatible server's default port
ROUTER_LISTENER_PORT = 80
MODELS_LISTENER_PORT = 8000
MODEL_HEADER = "X-Inferplan-Model"
# API Gateway HTTP APIs end every integration call at 30 s (a hard AWS limit) and do not stream.
GATEWAY_TIMEOUT_MS = 30_000


def log_group_name(stack: str, what: str) -> str:
    """A stack's log group: under /inferplan/<stack>/, the prefix the stack key lets CloudWatch Logs use."""
    return f"/inferplan/{stack}/{what}"


@dataclass(frozen=True)
class NetworkPlan:
    cidr: str
    availability_zones: int
    private_subnets: tuple[str, ...]  # one per AZ, in AZ order
    public_subnets: tuple[str, ...]  # NAT only: one per AZ, holding the NAT gateways
    nat_gateways: int  # 0 when egress is none; one per AZ in prod, one shared elsewhere
    interface_endpoints: tuple[str, ...]
    gateway_endpoints: tuple[str, ...] = ("s3",)

    @property
    def egress(self) -> bool:
        return self.nat_gateways > 0


@dataclass(frozen=True)
class Route:
    """Where one workload's calls go: its alias, its target and (if any) its fallback."""

    workload: str
    sensitivity: Sensitivity
    target: str
    target_kind: Literal["model", "frontier"]
    fallback: str | None
    fallback_kind: Literal["model", "frontier"] | None


@dataclass(frozen=True)
class ModelPlan:
    """One served model after sizing: how it is split over GPUs and how much it can carry.

    The JSON fields of Plan JSON v1 `models` are a contract; per-node figures are for one EC2 node of
    the pool (all its GPUs), demand figures for the busiest hour of the routed workloads.
    """

    name: str
    model_id: str
    pool: str
    instance_type: str  # resolved (never "auto")
    quantization: str
    max_context: int
    fits: bool
    tensor_parallel: int
    replicas_per_node: int  # vLLM data-parallel replicas on one node
    weights_gib: float  # per replica
    kv_cache_gib: float  # per replica
    max_concurrency: int  # per replica: sequences of max_context that fit the KV budget
    output_tokens_per_s: float  # per node, at max throughput (within the SLO when one is declared)
    calls_per_min: float  # per node, for the routed workloads' token mix
    peak_calls_per_min: float  # demand in the busiest hour (daily volume x peak_to_average)
    replicas_needed: int  # vLLM replicas to carry the peak
    nodes_needed: int  # nodes to carry the peak (what expected cost is priced at)
    vllm_args: tuple[str, ...]  # `vllm serve <model_id> <vllm_args...>`
    reason: str = ""  # why it does not fit, or what limited it
    meets_slo: bool = True  # False when even one sequence at a time misses the routed workloads' SLO
    max_num_seqs: int = 0  # batch slots of one vLLM engine (`--max-num-seqs`); 0 when it does not fit


@dataclass(frozen=True)
class PoolPlan:
    """One GPU node pool with its shape resolved and its expected size."""

    name: str
    instance_type: str  # resolved (never "auto")
    gpu: str
    gpus_per_node: int
    capacity: Literal["on_demand", "spot", "mixed"]
    min_nodes: int
    max_nodes: int | None
    warm_pool: int
    on_demand_base: int
    nodes_needed: int  # max(min_nodes, what the models on it need at peak)
    root_volume_gib: int  # model weights + container image + headroom
    models: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    stack: str
    platform: Platform
    catalog: Catalog
    network: NetworkPlan
    routes: tuple[Route, ...]
    front_door: FrontDoorPlan  # gateway routes, router task, config and secrets (inferplan.front_door)
    models: tuple[ModelPlan, ...] = ()  # sizing of every served model (inferplan.sizing)
    pools: tuple[PoolPlan, ...] = ()  # every GPU pool with its shape resolved

    @property
    def region(self) -> str:
        return self.platform.region

    @property
    def tags(self) -> dict[str, str]:
        """Cost-allocation tags every taggable resource carries (AWS Budgets filters on them)."""
        return {"inferplan:stack": self.stack, "inferplan:environment": self.platform.environment}

    def secret_name(self, secret: str) -> str:
        """Secrets Manager name of a frontier key; the README shows how to set its value."""
        return f"inferplan/{self.stack}/{secret}"

    def name(self, *parts: str) -> str:
        """A physical name derived from the stack, never typed by hand: `prod-eu-h100-asg`."""
        return "-".join((self.stack, *parts))


def plan_network(platform: Platform) -> NetworkPlan:
    """Carve the VPC block into equal subnets: private ones first, then public ones for NAT."""
    net = platform.network
    vpc = ipaddress.IPv4Network(net.cidr)
    blocks = list(vpc.subnets(new_prefix=subnet_prefix(vpc.prefixlen)))
    azs = net.availability_zones
    nat = net.egress == "nat"
    endpoints = (
        NODE_INTERFACE_ENDPOINTS
        + (SECRETS_ENDPOINT,)
        + ((AUTOSCALING_ENDPOINT,) if any(p.warm_pool for p in platform.pools) else ())
    )
    return NetworkPlan(
        cidr=net.cidr,
        availability_zones=azs,
        private_subnets=tuple(str(b) for b in blocks[:azs]),
        public_subnets=tuple(str(b) for b in blocks[azs : 2 * azs]) if nat else (),
        nat_gateways=(azs if platform.environment == "prod" else 1) if nat else 0,
        interface_endpoints=endpoints,
    )


def plan_routes(platform: Platform) -> tuple[Route, ...]:
    models = {m.name for m in platform.models}

    def kind(target: str) -> Literal["model", "frontier"]:
        return "model" if target in models else "frontier"

    return tuple(
        Route(
            workload=w.name,
            sensitivity=w.sensitivity,
            target=w.route,
            target_kind=kind(w.route),
            fallback=w.fallback,
            fallback_kind=kind(w.fallback) if w.fallback else None,
        )
        for w in platform.workloads
    )


def build_plan(stack: str, platform: Platform, catalog: Catalog | None = None) -> Plan:
    """The one function from a validated spec to every decision downstream reads."""
    from inferplan.front_door import plan_front_door  # it reads the constants of this module
    from inferplan.sizing.replicas import plan_models  # sizing builds ModelPlan/PoolPlan from this module

    merged = (catalog or builtin_catalog()).with_overrides(platform.catalog)
    models, pools = plan_models(platform, merged)
    return Plan(
        stack=stack,
        platform=platform,
        catalog=merged,
        network=plan_network(platform),
        routes=plan_routes(platform),
        front_door=plan_front_door(stack, platform, merged),
        models=models,
        pools=pools,
    )
