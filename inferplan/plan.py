"""The Plan: every decision the platform needs, made once, in one immutable object (its types only).

`inferplan.planner.build_plan` makes the decisions; components read their own sub-plan and decide
nothing; the report, the policy rules and the cost engine read the same Plan. Nothing downstream
mutates it. This module holds types and the architecture's fixed facts (ports, endpoints), and
imports nothing that builds a plan, so every layer can depend on it without a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from inferplan import names
from inferplan.catalog import Catalog
from inferplan.decide.types import Decision
from inferplan.perimeter import EndpointPolicyPlan
from inferplan.pricebook import PriceBook
from inferplan.resources import ResourceRecord
from inferplan.spec import Platform, Purchase, Sensitivity

if TYPE_CHECKING:
    from inferplan.front_door import FrontDoorPlan
    from inferplan.images import ImagePlan

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
# Every log group of a stack (gateway, router, pools, flow logs) and the access-log bucket: a year of
# evidence, what security reviews ask for (Checkov CKV_AWS_338). Ingestion is priced; storage is small.
LOG_RETENTION_DAYS = 365

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


Tags = Mapping[str, str]


@dataclass(frozen=True)
class LogGroupPlan:
    """One CloudWatch log group: its Pulumi name, its physical name, retention, tags."""

    resource_name: str  # `<stack>-<what>-logs`
    name: str  # `/inferplan/<stack>/<what>`
    retention_days: int
    tags: Tags


@dataclass(frozen=True)
class NetworkPlan:
    name_prefix: str  # the stack: physical names are `<stack>-<thing>`
    region: str
    tags: Tags  # of every network resource
    cidr: str
    availability_zones: int
    private_subnets: tuple[str, ...]  # one per AZ, in AZ order
    public_subnets: tuple[str, ...]  # NAT only: one per AZ, holding the NAT gateways
    nat_gateways: int  # 0 when egress is none; one per AZ in prod, one shared elsewhere
    interface_endpoints: tuple[str, ...]
    gateway_endpoints: tuple[str, ...] = ("s3",)
    endpoint_policies: tuple[EndpointPolicyPlan, ...] = ()  # one per endpoint service
    flow_logs: LogGroupPlan | None = None  # where the VPC's flow logs go (KMS-encrypted)
    flow_log_role_name: str = ""  # the role VPC Flow Logs assumes to write them

    @property
    def egress(self) -> bool:
        return self.nat_gateways > 0

    def endpoint_policy(self, service: str) -> EndpointPolicyPlan:
        return next(p for p in self.endpoint_policies if p.service == service)


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
    throughput_basis: Literal["modeled", "measured"] = "modeled"  # measured: re-fitted on models[].measured
    confidence: Literal["p50", "p90"] = "p50"  # the end of the error band the replicas are sized at
    throughput_error: float = 0.0  # median held-out |error| of the model's class (0.18 = 18%)


@dataclass(frozen=True)
class RootVolume:
    """The root EBS volume of every node of a pool (weights are written to it and read at start)."""

    size_gib: int  # checkpoints + container image + AMI and cache headroom
    iops: int
    throughput_mb_s: int
    volume_type: str = "gp3"


@dataclass(frozen=True)
class PoolPlan:
    """One GPU node pool with its shape, bounds, capacity split and names resolved.

    `nodes_needed` is what the models need at peak (never capped: the autoscaler-capacity rule
    compares it with `max_nodes`, and expected cost is priced at it); `desired_nodes` is where the
    group starts, inside its bounds.
    """

    name: str
    region: str
    instance_type: str  # resolved (never "auto")
    gpu: str
    gpus_per_node: int
    capacity: Literal["on_demand", "spot", "mixed"]
    min_nodes: int
    max_nodes: int  # the ceiling in force: the declared max_nodes, else autoscaling.max_nodes_per_pool
    declared_max_nodes: int | None  # as the spec says (None: not declared; the autoscaler-bounded rule)
    warm_pool: int
    on_demand_base: int  # nodes always on demand (0 unless capacity is mixed)
    on_demand_percent_above_base: int  # 100 on demand, 0 spot and mixed
    nodes_needed: int  # max(min_nodes, what the models on it need at peak)
    desired_nodes: int  # nodes_needed within [min_nodes, max_nodes]
    root_volume: RootVolume
    engine_slots: int  # max_num_seqs of the engine it serves: the scaling metric divides by it
    models: tuple[str, ...]
    resource_prefix: str  # `<stack>-<pool>`: the Pulumi names of its resources
    group_name: str  # the Auto Scaling group
    role_name: str  # the nodes' IAM role (the model store's policy names it)
    log_group: LogGroupPlan
    tags: Tags  # of every pool resource, propagated to the instances
    vpc_cidr: str  # the only addresses the nodes may reach besides S3 (the VPC's interface endpoints)
    purchase: Purchase = "on_demand"  # how its min_nodes are paid for (tagged inferplan:purchase otherwise)

    @property
    def root_volume_gib(self) -> int:
        return self.root_volume.size_gib


@dataclass(frozen=True)
class ServicePlan:
    """What serves one model: its nodes' image and start-up, its target group and ALB rule."""

    model: ModelPlan
    region: str
    image: ImagePlan  # the stack's ECR mirror of the pinned vLLM release
    group_name: str  # of the pool that runs it
    log_group_name: str  # of that pool
    lifecycle_hook: str | None  # a warm pool's launch hook the node completes once its weights are local
    target_group_name: str  # fits AWS's 32 characters
    rule_priority: int  # unique on the models listener
    resource_prefix: str  # `<stack>-<model>`
    tags: Tags


@dataclass(frozen=True)
class BudgetPlan:
    """The AWS Budget on the stack's cost-allocation tag and the alert topic the stack's alarms use."""

    resource_prefix: str
    budget_name: str
    topic_name: str
    monthly_usd: float
    forecast_alert_percent: float  # the hard cap as a share of the monthly budget
    alert_emails: tuple[str, ...]
    cost_filter: str  # `user:inferplan:stack$<stack>`
    tags: Tags


@dataclass(frozen=True)
class KeyPlan:
    """The stack's KMS key; CloudWatch Logs may use it for the stack's log groups only."""

    resource_prefix: str
    region: str
    log_group_pattern: str  # `/inferplan/<stack>/*`
    tags: Tags


@dataclass(frozen=True)
class LoadBalancerPlan:
    resource_prefix: str
    name: str  # fits AWS's 32 characters
    vpc_cidr: str
    tags: Tags
    deletion_protection: bool = False  # prod: a `pulumi destroy` cannot take the front door by accident
    access_log_prefix: str = ""  # its access logs' prefix in the access-log bucket ("" : no access logs)


@dataclass(frozen=True)
class AccessLogPlan:
    """The stack's evidence bucket: the ALB's access logs and the S3 server access logs of the stack's
    other buckets, each under its own prefix; SSE-S3 (the only encryption ALB log delivery supports),
    TLS only, public access blocked, expiring after `expiry_days`."""

    resource_prefix: str
    bucket_purpose: str  # the bucket is `<stack>-<purpose>-<account>`
    expiry_days: int
    alb_prefix: str  # ALB logs land under `<alb_prefix>/AWSLogs/<account>/`
    logged_buckets: tuple[str, ...]  # purposes of the buckets whose server access logs land here
    elb_account: str | None  # the region's Elastic Load Balancing account; None: its service principal
    tags: Tags

    def s3_prefix(self, purpose: str) -> str:
        """Where one bucket's server access logs land."""
        return names.access_log_prefix(purpose)


@dataclass(frozen=True)
class ModelStorePlan:
    """The weights bucket: who reads (the pools' node roles) and how much it holds."""

    resource_prefix: str
    bucket_purpose: str  # the bucket is `<stack>-<purpose>-<account>`
    reader_role_names: tuple[str, ...]
    weights_gib: float  # the served models' checkpoints as published (what the bucket holds)
    tags: Tags
    # Who may assume the weights-admin role (`model_store.admins`); empty: the deployer's own principal.
    admin_principal_arns: tuple[str, ...] = field(default=())
    access_log_prefix: str = ""  # its server access logs' prefix in the access-log bucket


@dataclass(frozen=True)
class Plan:
    """`spec` is the stack as written; `platform` the spec the decision resolved it to (every `auto`
    route, fallback and shape filled in, unused pools and models left out): what is built."""

    stack: str
    spec: Platform
    decision: Decision
    platform: Platform
    catalog: Catalog
    network: NetworkPlan
    routes: tuple[Route, ...]
    prices: PriceBook  # the one price book every money figure of this plan comes from
    budget: BudgetPlan
    key: KeyPlan
    load_balancer: LoadBalancerPlan
    store: ModelStorePlan
    front_door: FrontDoorPlan  # gateway routes, router task, config and secrets (inferplan.front_door)
    access_logs: AccessLogPlan  # where the ALB and the stack's buckets log their requests
    models: tuple[ModelPlan, ...] = ()  # sizing of every served model (inferplan.sizing)
    pools: tuple[PoolPlan, ...] = ()  # every GPU pool with its shape and bounds resolved
    services: tuple[ServicePlan, ...] = ()  # per served model: image, start-up, ALB rule
    vllm_image: ImagePlan | None = None  # the vLLM mirror repository the stack creates (None: no model)
    intents: tuple[ResourceRecord, ...] = ()  # the cost-relevant resources the program will register

    @property
    def region(self) -> str:
        return self.platform.region

    @property
    def tags(self) -> dict[str, str]:
        """Cost-allocation tags every taggable resource carries (AWS Budgets filters on them)."""
        return names.stack_tags(self.stack, self.platform.environment)

    def secret_name(self, secret: str) -> str:
        return names.secret_name(self.stack, secret)

    def name(self, *parts: str) -> str:
        return names.physical(self.stack, *parts)

    def pool(self, name: str) -> PoolPlan | None:
        return next((p for p in self.pools if p.name == name), None)
