"""Spec → Plan: `build_plan` makes every decision the platform needs, once.

Order matters and is the whole design: the price book first (so `instance_type: auto` and the cost
engine price alike), then the network and routes, then sizing (which chooses `auto` shapes by what
each candidate pool costs in that book), then every component's sub-plan with its names, bounds and
sizes resolved, and last the resource intents the cost engine prices before anything is registered.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Literal

from inferplan import cloud_init, names, perimeter
from inferplan.catalog import Catalog, builtin_catalog
from inferplan.cost.buy import buy_problems
from inferplan.cost.pricing import PURCHASE_TAG, PricingContext, price_record
from inferplan.decide.decision import decide, resolve
from inferplan.errors import SpecInputError, SpecInputErrors
from inferplan.evidence import ALB_LOG_PREFIX, plan_access_logs
from inferplan.front_door import plan_front_door
from inferplan.images import ECR_HOST, ImagePlan, vllm_image
from inferplan.intents import pool_intents, resource_intents
from inferplan.plan import (
    AUTOSCALING_ENDPOINT,
    LOG_RETENTION_DAYS,
    NODE_INTERFACE_ENDPOINTS,
    SECRETS_ENDPOINT,
    BudgetPlan,
    KeyPlan,
    LoadBalancerPlan,
    LogGroupPlan,
    ModelPlan,
    ModelStorePlan,
    NetworkPlan,
    Plan,
    PoolPlan,
    RootVolume,
    Route,
    ServicePlan,
    Tags,
)
from inferplan.preflight.prices_cache import PriceCache
from inferplan.pricebook import PriceBook
from inferplan.sizing.memory import checkpoint_gib
from inferplan.sizing.replicas import PoolSizing, plan_models
from inferplan.spec import AUTO, Platform, Pool, subnet_prefix

# gp3 beyond its free 3,000 IOPS / 125 MB/s baseline: weights are written from S3 and read into GPU
# memory at every start, so a node's start time is bound by this volume.
ROOT_VOLUME_IOPS = 4000
ROOT_VOLUME_THROUGHPUT_MB_S = 1000  # gp3's maximum
TARGET_GROUP_NAME_LIMIT = 32  # AWS: target group and load balancer names
MODEL_BUCKET_PURPOSE = names.MODELS_BUCKET
IAM_NAME_LIMIT = 64
GATEWAY_ENDPOINTS = ("s3",)  # free, and S3 is where weights, image layers and the router config live


def log_group(stack: str, what: str, tags: Tags) -> LogGroupPlan:
    resource_name = names.physical(stack, what, "logs")
    return LogGroupPlan(
        resource_name=resource_name,
        name=names.log_group_name(stack, what),
        retention_days=LOG_RETENTION_DAYS,
        tags={**tags, "Name": resource_name},
    )


def plan_network(stack: str, platform: Platform, router_image: ImagePlan | None = None) -> NetworkPlan:
    """Carve the VPC block into equal subnets: private ones first, then public ones for NAT; every
    endpoint's policy (inferplan.perimeter) and where the flow logs go."""
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
        name_prefix=stack,
        region=platform.region,
        tags=names.component_tags(stack, platform.environment, "network"),
        cidr=net.cidr,
        availability_zones=azs,
        private_subnets=tuple(str(b) for b in blocks[:azs]),
        public_subnets=tuple(str(b) for b in blocks[azs : 2 * azs]) if nat else (),
        nat_gateways=(azs if platform.environment == "prod" else 1) if nat else 0,
        interface_endpoints=endpoints,
        gateway_endpoints=GATEWAY_ENDPOINTS,
        endpoint_policies=perimeter.endpoint_policies(
            stack,
            platform.region,
            (*endpoints, *GATEWAY_ENDPOINTS),
            buckets=(names.MODELS_BUCKET, names.ROUTER_CONFIG_BUCKET),
            repositories=perimeter.stack_repositories(
                stack, platform.region, image_repositories(router_image, platform.region)
            ),
        ),
        flow_logs=log_group(stack, "vpc-flow", names.component_tags(stack, platform.environment, "network")),
        flow_log_role_name=names.fit_name(names.physical(stack, "vpc-flow-logs"), IAM_NAME_LIMIT),
    )


def image_repositories(image: ImagePlan | None, region: str) -> tuple[str, ...]:
    """The ECR repository (ARN template) of an image the VPC pulls through its endpoints, if any."""
    if image is None or not image.is_ecr or image.ecr_region != region:
        return ()
    match = ECR_HOST.match(image.host)
    account = match.group(1) if match else "{account}"
    return (f"arn:{{partition}}:ecr:{region}:{account}:repository/{image.repository}",)


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


def pool_plan(stack: str, platform: Platform, spec: Pool, sizing: PoolSizing) -> PoolPlan:
    """A pool's every decision: ceiling in force, starting size, capacity split, volume, names."""
    declared = spec.max_nodes if spec.max_nodes is not None else platform.autoscaling.max_nodes_per_pool
    ceiling = max(declared, spec.min_nodes)  # what the group can be created with (rules judge `declared`)
    needed = max(spec.min_nodes, sizing.nodes_needed)
    extra = {"inferplan:pool": spec.name}
    if sizing.models:
        extra["inferplan:model"] = ",".join(sizing.models)
    if spec.purchase != "on_demand":  # the pricing function reads the commitment from the group's tags
        extra[PURCHASE_TAG] = spec.purchase
    tags = names.component_tags(stack, platform.environment, "pool", **extra)
    return PoolPlan(
        name=spec.name,
        region=platform.region,
        instance_type=sizing.instance_type,
        gpu=sizing.gpu,
        gpus_per_node=sizing.gpus_per_node,
        capacity=spec.capacity,
        min_nodes=spec.min_nodes,
        max_nodes=ceiling,
        declared_max_nodes=spec.max_nodes,
        warm_pool=spec.warm_pool,
        on_demand_base=spec.on_demand_base if spec.capacity == "mixed" else 0,
        on_demand_percent_above_base=100 if spec.capacity == "on_demand" else 0,
        nodes_needed=needed,
        desired_nodes=min(needed, ceiling),
        root_volume=RootVolume(
            size_gib=sizing.root_volume_gib,
            iops=ROOT_VOLUME_IOPS,
            throughput_mb_s=ROOT_VOLUME_THROUGHPUT_MB_S,
        ),
        engine_slots=sizing.engine_slots,
        models=sizing.models,
        resource_prefix=names.physical(stack, spec.name),
        group_name=names.group_name(stack, spec.name),
        role_name=names.node_role_name(stack, spec.name),
        log_group=log_group(stack, spec.name, tags),
        tags=tags,
        purchase=spec.purchase,
        vpc_cidr=platform.network.cidr,
    )


def pool_monthly_usd(pool: PoolPlan, prices: PriceBook, hours_per_month: float) -> float | None:
    """What a pool costs a month at its nodes_needed, priced by the cost engine's own functions."""
    records = pool_intents(pool)
    ctx = PricingContext(
        prices=prices,
        hours_per_month=hours_per_month,
        records=records,
        pool_nodes={pool.name: pool.nodes_needed},
    )
    lines = [ln for record in records for ln in price_record(record, ctx)]
    if any(not ln.priced for ln in lines):
        return None
    return sum(ln.monthly_usd for ln in lines)


def plan_services(
    stack: str, platform: Platform, models: tuple[ModelPlan, ...], pools: tuple[PoolPlan, ...]
) -> tuple[ServicePlan, ...]:
    by_name = {p.name: p for p in pools}
    image = vllm_image(stack, platform.region)
    return tuple(
        ServicePlan(
            model=model,
            region=platform.region,
            image=image,
            group_name=by_name[model.pool].group_name,
            log_group_name=by_name[model.pool].log_group.name,
            lifecycle_hook=cloud_init.WEIGHTS_READY_HOOK if by_name[model.pool].warm_pool > 0 else None,
            target_group_name=names.fit_name(names.physical(stack, model.name), TARGET_GROUP_NAME_LIMIT),
            rule_priority=priority,
            resource_prefix=names.physical(stack, model.name),
            tags={**by_name[model.pool].tags, "inferplan:model": model.name},
        )
        for priority, model in enumerate(models, start=1)
    )


def plan_budget(stack: str, platform: Platform) -> BudgetPlan:
    spec = platform.budget
    return BudgetPlan(
        resource_prefix=stack,
        budget_name=f"inferplan-{stack}",
        topic_name=f"inferplan-{stack}-alerts",
        monthly_usd=spec.monthly_usd,
        forecast_alert_percent=round(100.0 * spec.hard_cap_usd / spec.monthly_usd, 1),
        alert_emails=tuple(spec.alert_emails),
        cost_filter=f"user:inferplan:stack${stack}",
        tags=names.component_tags(stack, platform.environment, "budget"),
    )


def plan_store(
    stack: str, platform: Platform, catalog: Catalog, models: tuple[ModelPlan, ...]
) -> ModelStorePlan:
    return ModelStorePlan(
        resource_prefix=stack,
        bucket_purpose=MODEL_BUCKET_PURPOSE,
        reader_role_names=tuple(names.node_role_name(stack, p.name) for p in platform.pools),
        # The bucket holds each model's checkpoint as published, not the in-GPU (quantized) weights.
        weights_gib=sum(checkpoint_gib(catalog.models[m]) for m in sorted({m.model_id for m in models})),
        tags=names.component_tags(stack, platform.environment, "model-store"),
        admin_principal_arns=tuple(platform.model_store.admins),
        access_log_prefix=names.access_log_prefix(MODEL_BUCKET_PURPOSE),
    )


def price_book(platform: Platform, catalog: Catalog, cache: PriceCache | None = None) -> PriceBook:
    """The plan's one price book: catalog (with the stack's rows) < the cache, when asked < the stack."""
    return PriceBook.for_stack(
        platform.region,
        catalog,
        own_instance_prices=platform.catalog.instance_prices,
        overrides=platform.cost.prices,
        cache=cache,
    )


def build_plan(
    stack: str, platform: Platform, catalog: Catalog | None = None, prices_cache: PriceCache | None = None
) -> Plan:
    """The one function from a validated spec to every decision downstream reads.

    `prices_cache` is read only because the user asked for it (`plan --prices-cache`); without it
    the plan prices from the shipped catalog and the stack's own overrides, whatever lies on disk.
    """
    merged = (catalog or builtin_catalog()).with_overrides(platform.catalog)
    book = price_book(platform, merged, prices_cache)
    hours = platform.cost.hours_per_month

    def candidate_cost(spec: Pool, sizing: PoolSizing) -> float | None:
        return pool_monthly_usd(pool_plan(stack, platform, spec, sizing), book, hours)

    decision = decide(platform, merged, book, candidate_cost)
    resolved = resolve(platform, decision)
    try:
        models, sized = plan_models(resolved, merged, mixes=decision.mixes)
    except SpecInputError as exc:  # paths into the resolved spec, which leaves unused entries out
        raise in_spec(exc, resolved, platform) from None
    specs = {p.name: p for p in resolved.pools}
    pools = tuple(pool_plan(stack, resolved, specs[s.name], s) for s in sized)
    unpriced = [
        *commitment_problems(platform, pools, book),
        *price_problems(platform, pools, book),
        *buy_problems(platform, pools, book),
    ]
    if unpriced:  # no number without a price: every missing one at once, each at its field
        raise SpecInputErrors(tuple(unpriced))
    front_door = plan_front_door(stack, resolved, merged)
    return resize(
        Plan(
            stack=stack,
            spec=platform,
            decision=decision,
            platform=resolved,
            catalog=merged,
            network=plan_network(stack, resolved, front_door.router.image),
            routes=plan_routes(resolved),
            prices=book,
            budget=plan_budget(stack, platform),
            key=KeyPlan(
                resource_prefix=stack,
                region=platform.region,
                log_group_pattern=names.log_group_name(stack, "*"),
                tags=names.component_tags(stack, platform.environment, "encryption"),
            ),
            load_balancer=LoadBalancerPlan(
                resource_prefix=stack,
                name=names.fit_name(names.physical(stack, "alb"), TARGET_GROUP_NAME_LIMIT),
                vpc_cidr=platform.network.cidr,
                tags=names.component_tags(stack, platform.environment, "load-balancer"),
                deletion_protection=platform.environment == "prod",
                access_log_prefix=ALB_LOG_PREFIX,
            ),
            store=plan_store(stack, platform, merged, models),
            front_door=front_door,
            access_logs=plan_access_logs(
                stack, platform.region, names.component_tags(stack, platform.environment, "access-logs")
            ),
        ),
        models,
        pools,
    )


def _declared(platform: Platform, pool: str) -> int:
    return [p.name for p in platform.pools].index(pool)


def price_problems(platform: Platform, pools: tuple[PoolPlan, ...], book: PriceBook) -> list[SpecInputError]:
    """Every built pool whose shape has no on-demand price: a plan would otherwise show it at $0."""
    return [
        SpecInputError(
            ("pools", _declared(platform, pool.name), "instance_type"),
            f"no on-demand price for {pool.instance_type} in {book.region} (catalog/instance_prices.csv has "
            f"none): add cost.prices instance:{pool.instance_type}: <USD per node-hour> or a "
            "catalog.instance_prices row",
        )
        for pool in pools
        if book.instance_hour(pool.instance_type) is None
    ]


def commitment_problems(
    platform: Platform, pools: tuple[PoolPlan, ...], book: PriceBook
) -> list[SpecInputError]:
    """Every pool with a commitment the book has no rate for: built ones on their resolved shape, and
    declared ones nothing uses on the shape they name (an unbuilt `auto` pool has none to price)."""
    shapes = {p.name: p.instance_type for p in pools}
    out = []
    for index, pool in enumerate(platform.pools):
        itype = shapes.get(pool.name, pool.instance_type)
        if pool.purchase == "on_demand" or itype == AUTO:
            continue
        if book.commitment_hour(itype, pool.purchase) is None:
            out.append(
                SpecInputError(
                    ("pools", index, "purchase"),
                    f"no {pool.purchase} rate for {itype} in {book.region} (catalog/commitments.csv has "
                    f"none): add cost.prices commit:{pool.purchase}:{itype}: <USD per node-hour>",
                )
            )
    return out


def in_spec(error: SpecInputError, resolved: Platform, declared: Platform) -> SpecInputError:
    """The same error with list indexes of the resolved spec turned into the declared spec's."""
    path = list(error.path)
    if len(path) >= 2 and path[0] in ("models", "pools", "workloads") and isinstance(path[1], int):
        kind = str(path[0])
        name = getattr(resolved, kind)[path[1]].name
        path[1] = [item.name for item in getattr(declared, kind)].index(name)
    return SpecInputError(tuple(path), error.message)


def resize(plan: Plan, models: tuple[ModelPlan, ...], pools: tuple[PoolPlan, ...]) -> Plan:
    """The plan with these models and pools, and everything derived from them (services, intents)."""
    sized = replace(
        plan,
        models=models,
        pools=pools,
        services=plan_services(plan.stack, plan.platform, models, pools),
        vllm_image=vllm_image(plan.stack, plan.region) if models else None,
        store=plan_store(plan.stack, plan.platform, plan.catalog, models),
    )
    return replace(sized, intents=resource_intents(sized))
