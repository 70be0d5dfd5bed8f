"""The stack's internal Application Load Balancer: one ALB, two HTTP listeners, inside the VPC only.

    API Gateway --VPC link--> :ROUTER_LISTENER_PORT --> router tasks (the router component adds a rule)
    router --> :MODELS_LISTENER_PORT, rule on MODEL_HEADER --> each model's vLLM target group

Plain HTTP is deliberate: the ALB is internal, in private subnets, and the gateway terminates TLS
(docs/security.md says what that leaves unencrypted). Its access logs go to the stack's access-log
bucket; prod stacks turn deletion protection on.
The security group starts with no ingress at all; whoever needs the ALB (the gateway's VPC link, the
router tasks) adds its own `aws.vpc.SecurityGroupIngressRule` against `security_group_id`. Its egress
reaches the VPC on the two backend ports only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from inferplan.plan import (
    MODELS_LISTENER_PORT,
    ROUTER_LISTENER_PORT,
    ROUTER_PORT,
    VLLM_PORT,
    LoadBalancerPlan,
)

# LLM responses stream for minutes; the default 60 s idle timeout would cut long generations.
IDLE_TIMEOUT_SECONDS = 600


@dataclass
class InternalLoadBalancerArgs:
    balancer: LoadBalancerPlan
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # the private subnets, one per AZ
    access_logs_bucket: pulumi.Input[str] | None = None  # a bucket that accepts ELB access logs
    access_logs_ready: Sequence[pulumi.Resource] = ()  # e.g. that bucket's policy (checked when enabled)


class InternalLoadBalancer(pulumi.ComponentResource):
    load_balancer: aws.lb.LoadBalancer
    security_group: aws.ec2.SecurityGroup
    router_listener: aws.lb.Listener
    models_listener: aws.lb.Listener

    def __init__(
        self, name: str, args: InternalLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("inferplan:components:InternalLoadBalancer", name, None, opts)
        plan = args.balancer
        prefix = plan.resource_prefix
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(plan.tags)

        self.security_group = aws.ec2.SecurityGroup(
            f"{prefix}-alb-sg",
            name=f"{prefix}-alb",
            vpc_id=args.vpc_id,
            description="inferplan internal ALB: ingress added per client as separate rules",
            tags={**tags, "Name": f"{prefix}-alb"},
            opts=child,
        )
        for port, backend in ((VLLM_PORT, "vllm"), (ROUTER_PORT, "router")):
            aws.vpc.SecurityGroupEgressRule(
                f"{prefix}-alb-to-{backend}",
                security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=plan.vpc_cidr,
                description=f"ALB to {backend} targets in the VPC",
                tags={**tags, "Name": f"{prefix}-alb-to-{backend}"},
                opts=child,
            )

        access_logs = (
            aws.lb.LoadBalancerAccessLogsArgs(
                bucket=args.access_logs_bucket,
                prefix=plan.access_log_prefix or prefix,
                enabled=True,
            )
            if args.access_logs_bucket is not None
            else None
        )
        self.load_balancer = aws.lb.LoadBalancer(
            f"{prefix}-alb",
            name=plan.name,
            internal=True,
            load_balancer_type="application",
            security_groups=[self.security_group.id],
            subnets=list(args.subnet_ids),
            drop_invalid_header_fields=True,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            access_logs=access_logs,
            enable_deletion_protection=plan.deletion_protection,
            tags={**tags, "Name": f"{prefix}-alb"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.access_logs_ready)),
        )

        def listener(port: int, role: str, status: str, body: str) -> aws.lb.Listener:
            return aws.lb.Listener(
                f"{prefix}-alb-{role}",
                load_balancer_arn=self.load_balancer.arn,
                port=port,
                protocol="HTTP",
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(
                        type="fixed-response",
                        fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                            content_type="text/plain", status_code=status, message_body=body
                        ),
                    )
                ],
                tags={**tags, "Name": f"{prefix}-alb-{role}"},
                opts=child,
            )

        # Until the router component adds its forward rule, the gateway gets an honest 503.
        self.router_listener = listener(ROUTER_LISTENER_PORT, "router", "503", "router not deployed yet")
        # A request whose model header names no served model is a client error, not an outage.
        self.models_listener = listener(MODELS_LISTENER_PORT, "models", "404", "no such model")

        self.register_outputs(
            {
                "arn": self.load_balancer.arn,
                "dns_name": self.load_balancer.dns_name,
                "security_group_id": self.security_group.id,
                "router_listener_arn": self.router_listener.arn,
                "models_listener_arn": self.models_listener.arn,
            }
        )
