"""One served model: its nodes' user data, its target group and its rule on the models listener.

The user data is `inferplan.cloud_init.user_data` (pure, tested without Pulumi); this component only
resolves the bucket name through `.apply` and base64-encodes the document for the launch template,
which the model's GpuNodePool builds. The router reaches the model at the ALB's MODELS_LISTENER_PORT
with the header `MODEL_HEADER: <model name>`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.load_balancer import fit_name
from inferplan import cloud_init
from inferplan.plan import MODEL_HEADER, VLLM_PORT, ModelPlan, PoolPlan, log_group_name

# In-flight generations get this long to finish when a node leaves (scale-in, refresh, spot notice).
DEREGISTRATION_DELAY_SECONDS = 120
# A new node's share of traffic ramps up over this window (CUDA graphs and prefix caches warm up).
SLOW_START_SECONDS = 120


@dataclass
class VllmServiceArgs:
    model: ModelPlan
    pool: PoolPlan  # the pool that serves it (warm pools make the node complete a lifecycle hook)
    name_prefix: str
    region: str
    egress: bool  # whether the VPC reaches the internet (else the image comes from this account's ECR)
    vpc_id: pulumi.Input[str]
    bucket: pulumi.Input[str]  # the model store's bucket name
    models_listener_arn: pulumi.Input[str]
    rule_priority: int  # unique on the models listener
    tags: dict[str, str]


class VllmService(pulumi.ComponentResource):
    target_group: aws.lb.TargetGroup
    user_data: pulumi.Output[str]  # base64, for the pool's launch template
    image: pulumi.Output[str]  # the vLLM image the nodes run

    def __init__(self, name: str, args: VllmServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:VllmService", name, None, opts)
        model, prefix = args.model, args.name_prefix
        child = pulumi.ResourceOptions(parent=self)
        tags = {
            **args.tags,
            "inferplan:component": "pool",
            "inferplan:pool": model.pool,
            "inferplan:model": model.name,
        }
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self)).account_id
        self.image = account.apply(lambda a: cloud_init.vllm_image(args.egress, a, args.region))

        def encode(bucket: str, image: str) -> str:
            node = cloud_init.NodeSpec(
                bucket=bucket,
                region=args.region,
                group=cloud_init.group_name(prefix, model.pool),
                log_group=log_group_name(prefix, model.pool),
                image=image,
                lifecycle_hook=cloud_init.WEIGHTS_READY_HOOK if args.pool.warm_pool > 0 else None,
            )
            return base64.b64encode(cloud_init.user_data(model, node).encode()).decode()

        self.user_data = pulumi.Output.all(args.bucket, self.image).apply(lambda a: encode(a[0], a[1]))

        self.target_group = aws.lb.TargetGroup(
            f"{prefix}-{model.name}-tg",
            name=fit_name(f"{prefix}-{model.name}", 32),
            port=VLLM_PORT,
            protocol="HTTP",
            target_type="instance",
            vpc_id=args.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
            slow_start=SLOW_START_SECONDS,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path="/health",  # vLLM answers 200 once the engine is up
                port="traffic-port",
                protocol="HTTP",
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags={**tags, "Name": f"{prefix}-{model.name}"},
            opts=child,
        )
        self.listener_rule = aws.lb.ListenerRule(
            f"{prefix}-{model.name}-rule",
            listener_arn=args.models_listener_arn,
            priority=args.rule_priority,
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                        http_header_name=MODEL_HEADER, values=[model.name]
                    )
                )
            ],
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_group.arn)],
            tags={**tags, "Name": f"{prefix}-{model.name}"},
            opts=child,
        )
        self.register_outputs({"target_group_arn": self.target_group.arn, "image": self.image})
