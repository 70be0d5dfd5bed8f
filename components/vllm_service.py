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

from inferplan import cloud_init
from inferplan.plan import MODEL_HEADER, VLLM_PORT, ServicePlan

# In-flight generations get this long to finish when a node leaves (scale-in, refresh, spot notice).
DEREGISTRATION_DELAY_SECONDS = 120
# A new node's share of traffic ramps up over this window (CUDA graphs and prefix caches warm up).
SLOW_START_SECONDS = 120


@dataclass
class VllmServiceArgs:
    service: ServicePlan
    vpc_id: pulumi.Input[str]
    bucket: pulumi.Input[str]  # the model store's bucket name
    models_listener_arn: pulumi.Input[str]


class VllmService(pulumi.ComponentResource):
    target_group: aws.lb.TargetGroup
    user_data: pulumi.Output[str]  # base64, for the pool's launch template
    image: pulumi.Output[str]  # the vLLM image the nodes run

    def __init__(self, name: str, args: VllmServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:VllmService", name, None, opts)
        plan = args.service
        model, prefix = plan.model, plan.resource_prefix
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(plan.tags)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self)).account_id
        self.image = account.apply(plan.image.uri)

        def encode(bucket: str, image: str) -> str:
            node = cloud_init.NodeSpec(
                bucket=bucket,
                region=plan.region,
                group=plan.group_name,
                log_group=plan.log_group_name,
                image=image,
                lifecycle_hook=plan.lifecycle_hook,
            )
            return base64.b64encode(cloud_init.user_data(model, node).encode()).decode()

        self.user_data = pulumi.Output.all(args.bucket, self.image).apply(lambda a: encode(a[0], a[1]))

        self.target_group = aws.lb.TargetGroup(
            f"{prefix}-tg",
            name=plan.target_group_name,
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
            tags={**tags, "Name": prefix},
            opts=child,
        )
        aws.lb.ListenerRule(
            f"{prefix}-rule",
            listener_arn=args.models_listener_arn,
            priority=plan.rule_priority,
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                        http_header_name=MODEL_HEADER, values=[model.name]
                    )
                )
            ],
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_group.arn)],
            tags={**tags, "Name": prefix},
            opts=child,
        )
        self.register_outputs({"target_group_arn": self.target_group.arn, "image": self.image})
