"""Resource pricing, written once per Pulumi type token (the way Infracost prices Terraform resources).

Each function turns one `ResourceRecord` (inputs in camelCase, as the offline recorder and CrossGuard
both see them) plus a `PricingContext` into named cost lines. The same functions price the BOM of a
plan before anything is registered, the resources recorded under mocks, and the resources a real
`pulumi preview` hands the CrossGuard pack — which has no Plan, so every function also works from the
records alone (expected nodes from desiredCapacity, no usage: usage-priced lines then show 0 and say so).

Bucket of each resource type (seed 003, Fig. 02):
  cloud_gpu   GPU Auto Scaling groups and their volumes, plain EC2 instances, the weights bucket,
              NAT gateways, interface endpoints, the ALB, API Gateway (rate, storage, networking)
  operations  the router on Fargate, CloudWatch logs, KMS keys, Secrets Manager secrets
              (routing, monitoring, security)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inferplan.cost.model import Bucket, CostLine, Costs, line
from inferplan.cost.usage import Amount, Traffic, traffic
from inferplan.plan import LOG_RETENTION_DAYS, Plan
from inferplan.pricebook import Price, PriceBook
from inferplan.resources import ResourceRecord

GIB_IN_GB = 1.073741824
ASG = "aws:autoscaling/group:Group"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
NO_USAGE = "usage unknown without a plan: priced at 0"
DAYS_PER_MONTH = 365 / 12


@dataclass(frozen=True)
class PricingContext:
    """What a pricing function may know beyond the record: prices, hours, the other records, usage."""

    prices: PriceBook
    hours_per_month: float = 730.0
    records: tuple[ResourceRecord, ...] = ()
    pool_nodes: Mapping[str, int] = field(default_factory=dict)  # expected nodes by pool (sizing)
    traffic: Traffic | None = None
    model_store_gb: float | None = None
    availability_zones: int | None = None

    @property
    def region(self) -> str:
        return self.prices.region

    @classmethod
    def from_plan(cls, plan: Plan, records: Sequence[ResourceRecord]) -> PricingContext:
        """The plan's own price book, hours, expected nodes and traffic."""
        return cls(
            prices=plan.prices,
            hours_per_month=plan.platform.cost.hours_per_month,
            records=tuple(records),
            pool_nodes={p.name: p.nodes_needed for p in plan.pools},
            traffic=traffic(plan, plan.prices),
            model_store_gb=plan.store.weights_gib * GIB_IN_GB,
            availability_zones=plan.network.availability_zones,
        )

    @classmethod
    def for_records(
        cls,
        records: Sequence[ResourceRecord],
        region: str,
        prices: PriceBook | None = None,
        hours_per_month: float = 730.0,
    ) -> PricingContext:
        """For CrossGuard: real resources, no plan; usage-priced lines come out as 0 with a note."""
        return cls(
            prices=prices or PriceBook.builtin(region),
            hours_per_month=hours_per_month,
            records=tuple(records),
        )

    def of_type(self, token: str) -> list[ResourceRecord]:
        return [r for r in self.records if r.type == token]

    def zones(self) -> int:
        """AZ count: from the plan, else the private subnets among the records, else 1."""
        if self.availability_zones:
            return self.availability_zones
        private = [r for r in self.of_type(SUBNET) if r.tag("inferplan:tier") == "private"]
        return max(1, len(private))


PricingFunction = Callable[[ResourceRecord, PricingContext], list[CostLine]]
REGISTRY: dict[str, PricingFunction] = {}


def prices(token: str) -> Callable[[PricingFunction], PricingFunction]:
    """Register the pricing function of one Pulumi type token."""

    def register(fn: PricingFunction) -> PricingFunction:
        REGISTRY[token] = fn
        return fn

    return register


def price_record(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    fn = REGISTRY.get(record.type)
    return fn(record, ctx) if fn and record.custom else []


def price_resources(records: Sequence[ResourceRecord], plan: Plan | PricingContext) -> Costs:
    """Cost lines of the given resources only (no token usage, no operations; see engine.estimate)."""
    ctx = plan if isinstance(plan, PricingContext) else PricingContext.from_plan(plan, records)
    lines = tuple(ln for record in records for ln in price_record(record, ctx))
    return Costs(lines=lines)


# -- helpers ----------------------------------------------------------------------------------


def _num(value: Any, default: float | None = None) -> float | None:
    """A number from preview props: floats under mocks, strings in some schemas, unknowns as default."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return default
    return default


def _priced(price: Price) -> dict[str, Any]:
    note = price.note
    return {"source": price.source, "as_of": price.as_of, "estimated": price.estimated, "note": note}


def _of(record: ResourceRecord) -> dict[str, Any]:
    return {"resource_type": record.type, "resource_name": record.name}


def _service_line(
    record: ResourceRecord,
    ctx: PricingContext,
    item: str,
    label: str,
    quantity: float,
    bucket: Bucket,
    worst_quantity: float | None = None,
    note: str = "",
    estimated: bool = False,
    **extra: Any,
) -> CostLine:
    price = ctx.prices.service(item)
    meta = _priced(price)
    meta["note"] = "; ".join(filter(None, [note, meta["note"]]))
    meta["estimated"] = price.estimated or estimated or note == NO_USAGE
    return line(
        label,
        price.unit,
        quantity,
        price.usd,
        bucket,
        worst_quantity=worst_quantity,
        **meta,
        **_of(record),
        **extra,
    )


def _usage(amount: Amount | None, scale: float = 1.0) -> tuple[float, float, str]:
    if amount is None:
        return 0.0, 0.0, NO_USAGE
    return amount.expected * scale, amount.worst * scale, ""


# -- GPU pools --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Nodes:
    expected: int
    worst: int
    warm: int
    from_plan: bool


def _asg_nodes(record: ResourceRecord, ctx: PricingContext) -> _Nodes:
    pool = record.tag("inferplan:pool") or ""
    low = _num(record.get("minSize"), 0.0) or 0.0
    high = _num(record.get("maxSize"), low) or 0.0
    desired = _num(record.get("desiredCapacity"))
    if pool in ctx.pool_nodes:
        expected, from_plan = float(ctx.pool_nodes[pool]), True
    else:
        expected, from_plan = (desired if desired is not None else low), False
    warm = _num(record.get("warmPool", "minSize"), 0.0) if record.get("warmPool") is not None else 0.0
    return _Nodes(int(expected), int(max(high, expected)), int(warm or 0.0), from_plan)


def _split(nodes: int, base: float, percent_on_demand: float) -> tuple[float, float]:
    """(on-demand, spot) nodes of an ASG's instances distribution at `nodes` running."""
    od = min(nodes, base) + max(0.0, nodes - base) * percent_on_demand / 100
    return od, nodes - od


def _asg_instance_type(record: ResourceRecord, ctx: PricingContext) -> str | None:
    found = record.get("mixedInstancesPolicy", "launchTemplate", "overrides", 0, "instanceType")
    if isinstance(found, str):
        return found
    template = _launch_template_for(record, ctx)
    value = template.get("instanceType") if template else None
    return value if isinstance(value, str) else None


def _launch_template_for(asg: ResourceRecord, ctx: PricingContext) -> ResourceRecord | None:
    pool = asg.tag("inferplan:pool")
    return next((t for t in ctx.of_type(LAUNCH_TEMPLATE) if pool and t.tag("inferplan:pool") == pool), None)


def _asg_for(template: ResourceRecord, ctx: PricingContext) -> ResourceRecord | None:
    pool = template.tag("inferplan:pool")
    return next((a for a in ctx.of_type(ASG) if pool and a.tag("inferplan:pool") == pool), None)


PURCHASE_TAG = "inferplan:purchase"  # a pool's commitment on its min_nodes (absent: on demand)
CAPACITY_BLOCK_MAX_DAYS = 182  # EC2 User Guide, "Capacity Blocks for ML": the longest block


def spot_statement(prices: PriceBook, instance_type: str) -> str:
    """What a spot pool's price rests on: the discount (or cached price) and how often AWS interrupts."""
    cached = prices.spot_hour(instance_type)
    if cached is not None:
        return (
            f"spot: {instance_type} at the cached spot price ${cached.usd:,.4g}/h ({cached.source}, "
            f"{cached.as_of}); interruption rate not in the cache"
        )
    d = prices.spot_discount(instance_type)
    how_often = (
        "interruption rate unknown"
        if d.interruption == "unknown"
        else f"interrupted {d.interruption} of the time"
    )
    return f"spot: {instance_type} {d.value:.0%} off on-demand, {how_often} (spot_discounts.csv, {d.as_of or 'no row'})"


def _committed_line(
    itype: str, purchase: str, nodes: int, ctx: PricingContext, common: dict[str, Any]
) -> CostLine:
    """The min_nodes nodes under a commitment: paid at its rate every hour, used or not (expected = worst)."""
    rate = ctx.prices.commitment_hour(itype, purchase)
    label = f"{itype} {purchase} (min_nodes)"
    if rate is None:
        return line(
            f"{label} (no price)",
            "node-hour",
            nodes * ctx.hours_per_month,
            0.0,
            "cloud_gpu",
            priced=False,
            note=f"no {purchase} rate for {itype} in {ctx.region}: add cost.prices commit:{purchase}:{itype}",
            **common,
        )
    hours = max(ctx.hours_per_month, rate.min_hours)
    notes = ["committed: paid whether used or not, no upfront"]
    if purchase == "capacity_block":
        notes = [
            f"a block bills at least {rate.min_hours:g} hours and lasts at most {CAPACITY_BLOCK_MAX_DAYS} days "
            "(renewed); the rate is paid up front and reset by supply and demand"
        ]
    meta = _priced(rate)
    meta["note"] = "; ".join(filter(None, [*notes, meta["note"]]))
    return line(label, "node-hour", nodes * hours, rate.usd, "cloud_gpu", **meta, **common)


@prices("aws:autoscaling/group:Group")
def autoscaling_group(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    """GPU nodes: instance price x nodes x hours; spot share at the catalog discount.

    Expected: the pool's nodes_needed from sizing (else desiredCapacity, else minSize). Worst case:
    maxSize all month, spot hours at the on-demand price (the default Spot maximum price).
    A pool tagged `inferplan:purchase` has its minSize nodes under that commitment, at its rate in the
    expected and the worst case alike; the nodes above them split on-demand / spot as the group says.
    Warm-pool instances are Stopped: no instance charge (their volumes are priced with the template).
    """
    pool = record.tag("inferplan:pool") or ""
    itype = _asg_instance_type(record, ctx)
    nodes = _asg_nodes(record, ctx)
    hours = ctx.hours_per_month
    purchase = record.tag(PURCHASE_TAG) or "on_demand"
    committed = int(_num(record.get("minSize"), 0.0) or 0.0) if purchase != "on_demand" else 0
    dist = record.get("mixedInstancesPolicy", "instancesDistribution", default={}) or {}
    base = max(0.0, (_num(dist.get("onDemandBaseCapacity"), 0.0) or 0.0) - committed)
    percent = _num(dist.get("onDemandPercentageAboveBaseCapacity"), 100.0)
    percent = 100.0 if percent is None else percent
    od_exp, spot_exp = _split(max(0, nodes.expected - committed), base, percent)
    od_worst, spot_worst = _split(max(0, nodes.worst - committed), base, percent)
    basis = "nodes_needed from sizing" if nodes.from_plan else "desiredCapacity (or minSize)"
    common = {**_of(record), "pool": pool, "scales": "nodes"}
    price = ctx.prices.instance_hour(itype) if itype else None
    if price is None or itype is None:
        what = itype or "unknown instance type"
        return [
            line(
                f"{what} nodes (no price)",
                "node-hour",
                nodes.expected * hours,
                0.0,
                "cloud_gpu",
                worst_quantity=nodes.worst * hours,
                priced=False,
                note=f"no price for {what} in {ctx.region}: add cost.prices instance:{what} "
                "or catalog.instance_prices",
                **common,
            )
        ]
    lines: list[CostLine] = []
    if committed:
        lines.append(_committed_line(itype, purchase, committed, ctx, common))
    meta = _priced(price)
    if percent > 0 or base > 0:
        lines.append(
            line(
                f"{itype} on-demand",
                "node-hour",
                od_exp * hours,
                price.usd,
                "cloud_gpu",
                worst_quantity=od_worst * hours,
                **{**meta, "note": "; ".join(filter(None, [f"expected at {basis}", meta["note"]]))},
                **common,
            )
        )
    if percent < 100:
        cached = ctx.prices.spot_hour(itype)
        discount = ctx.prices.spot_discount(itype)
        lines.append(
            line(
                f"{itype} spot",
                "node-hour",
                spot_exp * hours,
                cached.usd if cached else price.usd * (1 - discount.value),
                "cloud_gpu",
                worst_quantity=spot_worst * hours,
                worst_unit_usd=max(price.usd, cached.usd if cached else 0.0),
                source=cached.source
                if cached
                else f"{price.source}; spot discount {discount.value:.0%}: {discount.source}",
                as_of=cached.as_of if cached else f"{price.as_of}; {discount.as_of}",
                estimated=cached is None,
                note=f"{spot_statement(ctx.prices, itype)}; worst case prices spot hours at on-demand "
                "(the default Spot maximum price)",
                **common,
            )
        )
    return lines


def _volume_figures(mappings: Sequence[Any], ctx: PricingContext) -> tuple[float, float, float, str]:
    """(GB, IOPS above gp3's free baseline, MB/s above it) per node, and a note on other volume types."""
    size = iops = throughput = 0.0
    types: set[str] = set()
    free_iops = ctx.prices.assumption("gp3_free_iops").value
    free_throughput = ctx.prices.assumption("gp3_free_throughput_mb_s").value
    for mapping in mappings:
        ebs = mapping.get("ebs") if isinstance(mapping, Mapping) else None
        if not isinstance(ebs, Mapping):
            continue
        size += _num(ebs.get("volumeSize"), 0.0) or 0.0
        iops += max(0.0, (_num(ebs.get("iops"), free_iops) or 0.0) - free_iops)
        throughput += max(0.0, (_num(ebs.get("throughput"), free_throughput) or 0.0) - free_throughput)
        types.add(str(ebs.get("volumeType", "gp3")))
    note = "" if types <= {"gp3"} else f"volume types {sorted(types)} priced as gp3"
    return size, iops, throughput, note


@prices("aws:ec2/launchTemplate:LaunchTemplate")
def launch_template(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    """Root volumes (gp3) of every node of the pool, running or stopped in the warm pool: storage, plus
    provisioned IOPS and throughput above gp3's free baseline."""
    mappings = record.get("blockDeviceMappings", default=[]) or []
    size, iops, throughput, note = _volume_figures(mappings if isinstance(mappings, list) else [], ctx)
    pool = record.tag("inferplan:pool") or ""
    asg = _asg_for(record, ctx)
    if asg is None:
        return [
            _service_line(
                record,
                ctx,
                "ebs_gp3",
                "gp3 root volumes",
                0.0,
                "cloud_gpu",
                note=f"no Auto Scaling group tagged inferplan:pool={pool or '?'} among the records: 0 volumes",
                pool=pool,
            )
        ]
    nodes = _asg_nodes(asg, ctx)
    parts = [
        ("ebs_gp3", f"gp3 root volumes, {size:g} GB a node", size),
        ("ebs_gp3_iops", f"gp3 IOPS above the free baseline, {iops:g} a node", iops),
        (
            "ebs_gp3_throughput",
            f"gp3 throughput above the free baseline, {throughput:g} MB/s a node",
            throughput,
        ),
    ]
    lines = [
        _service_line(
            record,
            ctx,
            item,
            label,
            per_node * nodes.expected,
            "cloud_gpu",
            worst_quantity=per_node * nodes.worst,
            note=note,
            pool=pool,
            scales="nodes",
        )
        for item, label, per_node in parts
        if per_node or item == "ebs_gp3"
    ]
    if nodes.warm:
        lines += [
            _service_line(
                record,
                ctx,
                item,
                f"{label}, {nodes.warm} stopped warm-pool node(s)",
                per_node * nodes.warm,
                "cloud_gpu",
                note=note,
                pool=pool,
            )
            for item, label, per_node in parts
            if per_node or item == "ebs_gp3"
        ]
    return lines


@prices("aws:ec2/instance:Instance")
def ec2_instance(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    """A plain instance (built around the planner): on demand all month."""
    itype = record.get("instanceType")
    price = ctx.prices.instance_hour(itype) if isinstance(itype, str) else None
    hours = ctx.hours_per_month
    if price is None:
        return [
            line(
                f"{itype} instance (no price)",
                "node-hour",
                hours,
                0.0,
                "cloud_gpu",
                priced=False,
                note=f"no price for {itype} in {ctx.region}",
                **_of(record),
            )
        ]
    return [
        line(
            f"{itype} on-demand", "node-hour", hours, price.usd, "cloud_gpu", **_priced(price), **_of(record)
        )
    ]


# -- network ----------------------------------------------------------------------------------


@prices("aws:ec2/natGateway:NatGateway")
def nat_gateway(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    """Hours, plus this gateway's share of the frontier traffic (processed and sent out)."""
    share = 1 / max(1, len(ctx.of_type(NAT)))
    t = ctx.traffic
    nat_exp, nat_worst, why = _usage(t.nat_gb if t else None, share)
    out_exp, out_worst, _ = _usage(t.egress_gb if t else None, share)
    return [
        _service_line(record, ctx, "nat_gateway", "NAT gateway", ctx.hours_per_month, "cloud_gpu"),
        _service_line(
            record,
            ctx,
            "nat_gateway_data",
            "NAT data processed (frontier calls)",
            nat_exp,
            "cloud_gpu",
            worst_quantity=nat_worst,
            note=why or "estimated from tokens per call; worst case: frontier entries at their caps",
            estimated=True,
            scales="calls",
        ),
        _service_line(
            record,
            ctx,
            "data_transfer_out",
            "data out to frontier APIs",
            out_exp,
            "cloud_gpu",
            worst_quantity=out_worst,
            note=why or "request bytes of frontier calls",
            estimated=True,
            scales="calls",
        ),
    ]


@prices("aws:ec2/vpcEndpoint:VpcEndpoint")
def vpc_endpoint(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    """Interface endpoints: one ENI per AZ per hour. Gateway endpoints (S3) are free: no line."""
    if str(record.get("vpcEndpointType", default="Gateway")) != "Interface":
        return []
    subnets = record.get("subnetIds")
    zones = len(subnets) if isinstance(subnets, list | tuple) and subnets else ctx.zones()
    # com.amazonaws.<region>.<service>, where the service may itself contain dots (ecr.dkr)
    service = str(record.get("serviceName", default="")).split(".", 3)[-1] or record.name
    return [
        _service_line(
            record,
            ctx,
            "vpc_interface_endpoint",
            f"interface endpoint {service} x {zones} AZ",
            zones * ctx.hours_per_month,
            "cloud_gpu",
            note=f"data processed ({ctx.prices.service('vpc_interface_endpoint_data').usd:g} USD/GB) not counted",
        )
    ]


@prices("aws:lb/loadBalancer:LoadBalancer")
def load_balancer(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    """Application load balancer: hours plus LCU-hours from the estimated traffic."""
    kind = str(record.get("loadBalancerType", default="application"))
    if kind != "application":
        return [
            line(
                f"{kind} load balancer",
                "hour",
                ctx.hours_per_month,
                0.0,
                "cloud_gpu",
                priced=False,
                note=f"no price for loadBalancerType {kind}",
                **_of(record),
            )
        ]
    t = ctx.traffic
    lcu_exp, lcu_worst, why = _usage(t.alb_lcu_hours if t else None)
    return [
        _service_line(record, ctx, "alb", "application load balancer", ctx.hours_per_month, "cloud_gpu"),
        _service_line(
            record,
            ctx,
            "alb_lcu",
            "ALB LCUs",
            lcu_exp,
            "cloud_gpu",
            worst_quantity=lcu_worst,
            note=why or "from connections and bytes per call; worst case: the gateway rate limit all month",
            estimated=True,
            scales="calls",
        ),
    ]


@prices("aws:apigatewayv2/api:Api")
def http_api(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    """HTTP API requests (each counted per 512 KB; our calls are far smaller)."""
    protocol = str(record.get("protocolType", default="HTTP"))
    t = ctx.traffic
    exp, worst, why = _usage(t.requests if t else None, 1e-6)
    if protocol != "HTTP":
        return [
            line(
                f"{protocol} API requests",
                "million requests",
                exp,
                0.0,
                "cloud_gpu",
                priced=False,
                note=f"no price for protocolType {protocol}",
                **_of(record),
            )
        ]
    return [
        _service_line(
            record,
            ctx,
            "apigw_http_api",
            "API Gateway HTTP API requests",
            exp,
            "cloud_gpu",
            worst_quantity=worst,
            note=why or "one request a call; worst case: the rate limit all month (first-tier price)",
            scales="calls",
        )
    ]


# -- storage ----------------------------------------------------------------------------------


@prices("aws:s3/bucket:Bucket")
def s3_bucket(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    """The weights bucket: the served models' weights in S3 Standard. The access-log bucket: the ALB's
    logs of a retention period (its lifecycle's expiry) at steady state. Other buckets: not estimated."""
    component = record.tag("inferplan:component")
    if component == "access-logs":
        t = ctx.traffic
        months = LOG_RETENTION_DAYS / DAYS_PER_MONTH
        exp, worst, why = _usage(t.log_gb.get("access-logs") if t else None, months)
        return [
            _service_line(
                record,
                ctx,
                "s3_standard",
                f"ALB access logs in S3, {LOG_RETENTION_DAYS} days kept",
                exp,
                "cloud_gpu",  # S3 storage, like the weights (seed 003's buckets go by resource type)
                worst_quantity=worst,
                note=why or "compressed log entries per ALB request, a retention period of them stored",
                estimated=True,
                scales="calls",
            )
        ]
    if component != "model-store":
        return []
    gb = ctx.model_store_gb
    return [
        _service_line(
            record,
            ctx,
            "s3_standard",
            "model weights in S3",
            gb or 0.0,
            "cloud_gpu",
            note="" if gb is not None else NO_USAGE,
        )
    ]


# -- router -----------------------------------------------------------------------------------


@prices("aws:ecs/service:Service")
def ecs_service(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    """Fargate tasks: desiredCount x (vCPU + memory) hours, sizes from the task definition."""
    if str(record.get("launchType", default="FARGATE")) != "FARGATE":
        return []
    component = record.tag("inferplan:component")
    task = next(
        (t for t in ctx.of_type(TASK_DEFINITION) if component and t.tag("inferplan:component") == component),
        None,
    )
    count = _num(record.get("desiredCount"), 1.0) or 0.0
    hours = count * ctx.hours_per_month
    if task is None:
        return [
            _service_line(
                record,
                ctx,
                "fargate_vcpu",
                "Fargate vCPU",
                0.0,
                "operations",
                note=f"no task definition tagged inferplan:component={component or '?'}: task size unknown",
            )
        ]
    vcpu = (_num(task.get("cpu"), 0.0) or 0.0) / 1024
    memory_gb = (_num(task.get("memory"), 0.0) or 0.0) / 1024
    return [
        _service_line(
            record,
            ctx,
            "fargate_vcpu",
            f"Fargate {count:g} task(s) x {vcpu:g} vCPU",
            vcpu * hours,
            "operations",
        ),
        _service_line(
            record,
            ctx,
            "fargate_memory",
            f"Fargate {count:g} task(s) x {memory_gb:g} GB",
            memory_gb * hours,
            "operations",
        ),
    ]


# -- monitoring and security ------------------------------------------------------------------


@prices("aws:cloudwatch/logGroup:LogGroup")
def log_group(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    """Log ingestion from the calls that write to this group (storage after ingestion not counted).

    The network's group holds the VPC flow logs: vended logs, at their own price per GB."""
    component = record.tag("inferplan:component") or ""
    key = f"pool:{record.tag('inferplan:pool')}" if component == "pool" else component
    flow = component == "network"
    t = ctx.traffic
    if t is None:
        exp, worst, why = 0.0, 0.0, NO_USAGE
    elif key in t.log_gb:
        exp, worst, why = _usage(t.log_gb[key])
    else:
        exp, worst, why = 0.0, 0.0, f"no per-call logs expected for component '{component}'"
    return [
        _service_line(
            record,
            ctx,
            "vpc_flow_logs_cloudwatch" if flow else "cloudwatch_logs_ingest",
            "VPC flow logs (vended to CloudWatch Logs)" if flow else f"log ingestion ({key or record.name})",
            exp,
            "operations",
            worst_quantity=worst,
            note=why
            or (
                "flow records per call (an upper estimate); worst case: the gateway rate limit all month"
                if flow
                else "one log line a call; worst case: the gateway rate limit all month"
            ),
            estimated=True,
            scales="calls",
        )
    ]


@prices("aws:kms/key:Key")
def kms_key(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    return [
        _service_line(
            record, ctx, "kms_key", "KMS customer managed key", 1.0, "operations", note="requests not counted"
        )
    ]


@prices("aws:secretsmanager/secret:Secret")
def secret(record: ResourceRecord, ctx: PricingContext) -> list[CostLine]:
    return [
        _service_line(
            record,
            ctx,
            "secrets_manager_secret",
            "Secrets Manager secret",
            1.0,
            "operations",
            note="API calls (read at task start) not counted",
        )
    ]
