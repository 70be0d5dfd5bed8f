"""The Pulumi program: load the spec → plan → policy gate → components → exports.

Thin on purpose: every decision is made by `inferplan` (pure Python); the components only turn the
Plan into resources. `python -m inferplan plan` runs this very file under Pulumi mocks.
"""

import pulumi

from components.access_logs import AccessLogBucket, AccessLogBucketArgs
from components.budget import StackBudget, StackBudgetArgs
from components.encryption import StackKey, StackKeyArgs
from components.gateway import InferenceGateway, InferenceGatewayArgs
from components.gpu_pool import GpuNodePool, GpuNodePoolArgs
from components.image_mirror import ImageMirror, ImageMirrorArgs
from components.load_balancer import InternalLoadBalancer, InternalLoadBalancerArgs
from components.model_store import ModelStore, ModelStoreArgs
from components.network import Network, NetworkArgs
from components.router import Router, RouterArgs
from components.vllm_service import VllmService, VllmServiceArgs
from inferplan.cost import estimate
from inferplan.errors import SpecInputError, SpecInputErrors, UserError
from inferplan.planner import build_plan
from inferplan.policy_config import from_environment
from inferplan.preflight.prices_cache import program_cache
from inferplan.rules import evaluate_plan
from inferplan.stackfile import SpecErrors, located_all, positions_for, validate_platform

stack = pulumi.get_stack()
try:
    platform = validate_platform(
        pulumi.Config("inferplan").require_object("platform"),
        pulumi.Config("aws").get("region"),
        positions_for(stack),
    )
except SpecErrors as exc:
    for error in exc.errors:
        pulumi.log.error(str(error))
    raise pulumi.RunError(f"{len(exc.errors)} invalid spec entries; nothing was registered") from None

try:
    # The price cache only when the user asked for it ($INFERPLAN_USE_PRICE_CACHE, set by `plan --prices-cache`).
    plan = build_plan(stack, platform, prices_cache=program_cache())
    # The organisation's policy config ($INFERPLAN_POLICY_CONFIG): which waivers it lets count.
    organisation = from_environment()
except UserError as exc:  # a spec that validates but cannot be sized or priced (e.g. a model fits no node)
    if isinstance(exc, SpecInputError | SpecInputErrors):
        for error in located_all(exc, stack).errors:
            pulumi.log.error(str(error))
    else:
        pulumi.log.error(str(exc))
    raise pulumi.RunError(f"{exc}; nothing was registered") from None

# The policy gate: judged on the plan, before any resource exists, so a failure registers nothing.
findings = evaluate_plan(plan, estimate(plan), allowed=organisation.allowances)
for finding in findings:
    if finding.status != "pass" and not finding.blocking:
        note = " (waived)" if finding.waived else ""
        pulumi.log.warn(f"policy {finding.rule} [{finding.subject}]{note}: {finding.message}")
failed = [f for f in findings if f.blocking]
for finding in failed:
    pulumi.log.error(f"policy {finding.rule} [{finding.subject}]: {finding.message}")
if failed:
    raise pulumi.RunError(f"policy gate: {len(failed)} mandatory rule(s) failed; nothing was registered")

key = StackKey(f"{stack}-encryption", StackKeyArgs(key=plan.key))
network = Network(f"{stack}-network", NetworkArgs(network=plan.network, key_arn=key.key.arn))
budget = StackBudget(f"{stack}-spend", StackBudgetArgs(budget=plan.budget, key_arn=key.key.arn))
# Evidence: the ALB's access logs and the server access logs of the weights and router-config buckets.
access_logs = AccessLogBucket(f"{stack}-evidence", AccessLogBucketArgs(logs=plan.access_logs))

# The self-hosted half: one internal ALB, the weights bucket, then per model its target group and user
# data, and per pool its Auto Scaling group (v1: one model per pool, so a pool takes its model's).
balancer = InternalLoadBalancer(
    f"{stack}-load-balancer",
    InternalLoadBalancerArgs(
        balancer=plan.load_balancer,
        vpc_id=network.vpc.id,
        subnet_ids=network.private_subnet_ids,
        access_logs_bucket=access_logs.bucket.bucket,
        access_logs_ready=[access_logs.policy],
    ),
)
store = ModelStore(
    f"{stack}-model-store",
    ModelStoreArgs(store=plan.store, key_arn=key.key.arn, access_log_bucket=access_logs.bucket.bucket),
)
# The nodes pull vLLM from the stack's own ECR mirror (never from Docker Hub: they reach no internet).
mirror = (
    ImageMirror(
        f"{stack}-vllm-image", ImageMirrorArgs(image=plan.vllm_image, key_arn=key.key.arn, tags=plan.tags)
    )
    if plan.vllm_image is not None
    else None
)
services = {
    service.model.name: VllmService(
        f"{stack}-model-{service.model.name}",
        VllmServiceArgs(
            service=service,
            vpc_id=network.vpc.id,
            bucket=store.bucket.bucket,
            models_listener_arn=balancer.models_listener.arn,
        ),
    )
    for service in plan.services
}
for pool in plan.pools:
    served = [services[name] for name in pool.models if name in services]
    GpuNodePool(
        f"{stack}-pool-{pool.name}",
        GpuNodePoolArgs(
            pool=pool,
            vpc_id=network.vpc.id,
            subnet_ids=network.private_subnet_ids,
            s3_prefix_list_id=network.s3_prefix_list_id,
            load_balancer_security_group_id=balancer.security_group.id,
            bucket_arn=store.bucket.arn,
            key_arn=key.key.arn,
            user_data=served[0].user_data if served else None,
            target_group_arns=[service.target_group.arn for service in served],
            image=served[0].image if served else None,
            alarm_actions=[budget.alert_topic.arn],
        ),
        opts=pulumi.ResourceOptions(depends_on=[mirror] if mirror else []),
    )

# The front door: the LiteLLM router (with its frontier keys) behind the ALB, the JWT gateway in front.
router = Router(
    f"{stack}-routing",
    RouterArgs(
        router=plan.front_door.router,
        vpc_id=network.vpc.id,
        subnet_ids=network.private_subnet_ids,
        key_arn=key.key.arn,
        alb_security_group_id=balancer.security_group.id,
        alb_dns_name=balancer.load_balancer.dns_name,
        router_listener_arn=balancer.router_listener.arn,
        access_log_bucket=access_logs.bucket.bucket,
    ),
)
gateway = InferenceGateway(
    f"{stack}-gateway",
    InferenceGatewayArgs(
        gateway=plan.front_door.gateway,
        vpc_id=network.vpc.id,
        subnet_ids=network.private_subnet_ids,
        key_arn=key.key.arn,
        alb_security_group_id=balancer.security_group.id,
        router_listener_arn=balancer.router_listener.arn,
    ),
)

pulumi.export("gateway_url", gateway.url)
# Per workload, what an application calls: `model` at `url` (OpenAI chat completions, with a JWT that
# carries one of `scopes`).
pulumi.export(
    "workloads",
    {
        route.workload: {
            "model": route.workload,
            "url": gateway.endpoint(route.path),
            "scopes": list(route.scopes),
        }
        for route in plan.front_door.gateway.routes
    },
)
pulumi.export("vpc_id", network.vpc.id)
pulumi.export("private_subnet_ids", network.private_subnet_ids)
pulumi.export("load_balancer_dns_name", balancer.load_balancer.dns_name)
pulumi.export("model_bucket", store.bucket.bucket)
