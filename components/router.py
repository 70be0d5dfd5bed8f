"""The routing layer: the LiteLLM proxy on ECS Fargate behind the internal ALB's router listener.

    ALB :ROUTER_LISTENER_PORT --rule /v1/*--> router target group (ip) --> tasks :ROUTER_PORT
    tasks --> ALB :MODELS_LISTENER_PORT (VLLM_BASE_URL) --> vLLM;  tasks --> frontier APIs via NAT

What the proxy does is `inferplan.router_config` (generated from the Plan, reviewed with
`python -m inferplan router-config`); this component only ships it: the YAML goes to a small
KMS-encrypted bucket that the task role alone may read, and LiteLLM loads it at start-up from
LITELLM_CONFIG_BUCKET_NAME / LITELLM_CONFIG_BUCKET_OBJECT_KEY (litellm/proxy/proxy_server.py,
ProxyConfig.load_config). The config's hash is in the task's environment, so a changed config is a new
task definition revision and a rolling deployment.

Frontier keys come from Secrets Manager (the FallbackSecrets child) through the task definition's
`secrets`: ECS resolves them with the execution role when a task starts; they are never environment
values in the task definition, the config, or Pulumi state (unless the stack opts in).

One uvicorn worker per task on purpose: LiteLLM counts provider spend in process memory and the config
splits each provider's monthly cap over the tasks, so more workers per task would multiply the cap.
The proxy has no master key: the API gateway authenticates every call (JWT) and the ALB is reachable
only from the gateway's VPC link and the router itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.buckets import private_bucket
from components.fallback_secrets import FallbackSecrets, FallbackSecretsArgs
from components.identity import deployer_principal_arns
from components.logs import stack_log_group
from inferplan.intents import ROUTER_CPU_UNITS, ROUTER_MEMORY_MIB
from inferplan.names import fit_name
from inferplan.plan import MODELS_LISTENER_PORT, ROUTER_PORT, Plan
from inferplan.router_config import VLLM_BASE_URL_ENV, router_config, router_tasks

# Pinned to the LiteLLM the tests load our config with (requirements-dev.txt); release images are
# tagged `v<version>` on ghcr.io. Stacks without egress must mirror it to ECR and set `router.image`.
LITELLM_VERSION = "1.106.2"
LITELLM_IMAGE = f"ghcr.io/berriai/litellm:v{LITELLM_VERSION}"
CONTAINER = "litellm"
CONFIG_OBJECT_KEY = "litellm/config.yaml"
# LiteLLM's unauthenticated liveness endpoint (proxy/health_endpoints/_health_endpoints.py).
HEALTH_PATH = "/health/liveliness"
# The gateway gives up on a call after 30 s (the HTTP API integration limit), so a draining task
# needs little longer than that to finish what it is serving.
DEREGISTRATION_DELAY_S = 35
ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)")


def config_bucket_name(name_prefix: str, account: str) -> str:
    """Globally unique and derived: `<stack>-router-config-<account>` (lower-case, at most 63)."""
    stem = re.sub(r"[^a-z0-9-]+", "-", name_prefix.lower()).strip("-")
    suffix = f"-router-config-{account}"
    return f"{stem[: 63 - len(suffix)].rstrip('-')}{suffix}"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [s for s in statements if s]})


@dataclass
class RouterArgs:
    plan: Plan
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # the private subnets, one per AZ
    key_arn: pulumi.Input[str]  # the stack key (components/encryption.py)
    alb_security_group_id: pulumi.Input[str]  # components/load_balancer.py
    alb_dns_name: pulumi.Input[str]
    router_listener_arn: pulumi.Input[str]


class Router(pulumi.ComponentResource):
    service: aws.ecs.Service
    task_definition: aws.ecs.TaskDefinition
    execution_role: aws.iam.Role
    task_role: aws.iam.Role
    security_group: aws.ec2.SecurityGroup
    target_group: aws.lb.TargetGroup
    config_bucket: aws.s3.Bucket
    secrets: FallbackSecrets | None
    aliases: tuple[str, ...]  # the model names applications call (one per routed workload)

    def __init__(self, name: str, args: RouterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:Router", name, None, opts)
        plan = args.plan
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        tags = {**plan.tags, "inferplan:component": "router"}
        identity = aws.get_caller_identity(opts=invoke)
        account, partition = identity.account_id, aws.get_partition(opts=invoke).partition
        region = plan.region
        config = router_config(plan)
        self.aliases = config.aliases
        image = plan.platform.router.image or LITELLM_IMAGE
        if not plan.network.egress and not ECR_IMAGE.match(image):
            pulumi.log.warn(
                f"network.egress is none, so the router cannot pull {image}; mirror it to ECR in "
                f"{region} and set router.image to the ECR image",
                resource=self,
            )

        def tagged(name: str) -> dict[str, str]:
            return {**tags, "Name": name}

        # --- logs and the ECS cluster -------------------------------------------------------------
        log_group = stack_log_group(
            plan.name("router", "logs"),
            plan.stack,
            "router",
            args.key_arn,
            tagged(plan.name("router", "logs")),
            self,
        )
        cluster = aws.ecs.Cluster(
            plan.name("router", "cluster"),
            name=plan.name("router"),
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            tags=tagged(plan.name("router")),
            opts=child,
        )

        # --- roles: the execution role starts the task, the task role is what LiteLLM runs as ------
        def ecs_tasks_trust() -> str:
            return _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                }
            )

        self.execution_role = aws.iam.Role(
            plan.name("router", "execution"),
            name=fit_name(plan.name("router", "execution"), 64),
            description=f"inferplan {plan.stack}: start router tasks (image, frontier keys, logs)",
            assume_role_policy=ecs_tasks_trust(),
            tags=tagged(plan.name("router", "execution")),
            opts=child,
        )
        self.task_role = aws.iam.Role(
            plan.name("router", "task"),
            name=fit_name(plan.name("router", "task"), 64),
            description=f"inferplan {plan.stack}: the LiteLLM proxy (reads its config object)",
            assume_role_policy=ecs_tasks_trust(),
            tags=tagged(plan.name("router", "task")),
            opts=child,
        )

        # --- frontier keys: readable by the execution role only ------------------------------------
        self.secrets = (
            FallbackSecrets(
                plan.name("fallback-secrets"),
                FallbackSecretsArgs(plan=plan, key_arn=args.key_arn, reader_role_arn=self.execution_role.arn),
                opts=child,
            )
            if plan.platform.frontier
            else None
        )
        injected = (
            {env: self.secrets.arns[secret] for env, secret in config.secret_env} if self.secrets else {}
        )

        # --- the config object ---------------------------------------------------------------------
        config_yaml = config.to_yaml()
        config_store = private_bucket(
            plan.name("router-config"),
            config_bucket_name(plan.stack, account),
            args.key_arn,
            tagged(plan.name("router-config")),
            self,
            force_destroy=True,  # it only ever holds the generated config
        )
        self.config_bucket = bucket = config_store.bucket
        public_block = config_store.public_block
        readers = [self.task_role.arn]
        deployer = deployer_principal_arns(identity.arn)
        bucket_policy = aws.s3.BucketPolicy(
            plan.name("router-config", "policy"),
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, *readers).apply(
                lambda a: _policy(
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [a[0], f"{a[0]}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        # The deployer writes the object and the provider reads it back after writing.
                        "Sid": "OnlyTheRouterTaskReads",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject*",
                        "Resource": f"{a[0]}/*",
                        "Condition": {"ArnNotLike": {"aws:PrincipalArn": [*a[1:], *deployer]}},
                    },
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_block]),
        )
        config_object = aws.s3.BucketObjectv2(
            plan.name("router-config", "object"),
            bucket=bucket.id,
            key=CONFIG_OBJECT_KEY,
            content=config_yaml,
            content_type="application/yaml",
            server_side_encryption="aws:kms",
            kms_key_id=args.key_arn,
            bucket_key_enabled=True,
            tags=tagged(plan.name("router-config")),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket_policy]),
        )

        # --- role policies -------------------------------------------------------------------------
        ecr = ECR_IMAGE.match(image)
        execution_policy = aws.iam.RolePolicy(
            plan.name("router", "execution-policy"),
            role=self.execution_role.id,
            policy=pulumi.Output.all(log_group.arn, args.key_arn, *injected.values()).apply(
                lambda a: _policy(
                    {
                        "Sid": "WriteLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{a[0]}:*",
                    },
                    {
                        "Sid": "ReadFrontierKeys",
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": list(a[2:]),
                    }
                    if a[2:]
                    else {},
                    {
                        "Sid": "DecryptFrontierKeys",
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": a[1],
                        "Condition": {
                            "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                        },
                    }
                    if a[2:]
                    else {},
                    {
                        "Sid": "EcrLogin",
                        "Effect": "Allow",
                        "Action": "ecr:GetAuthorizationToken",
                        "Resource": "*",
                    }
                    if ecr
                    else {},
                    {
                        "Sid": "PullImage",
                        "Effect": "Allow",
                        "Action": [
                            "ecr:BatchGetImage",
                            "ecr:GetDownloadUrlForLayer",
                            "ecr:BatchCheckLayerAvailability",
                        ],
                        "Resource": f"arn:{partition}:ecr:{ecr.group(2)}:{ecr.group(1)}:repository/{ecr.group(3)}",
                    }
                    if ecr
                    else {},
                )
            ),
            opts=child,
        )
        bedrock = [d for d in config.deployments if d.litellm_model.startswith("bedrock/")]
        task_policy = aws.iam.RolePolicy(
            plan.name("router", "task-policy"),
            role=self.task_role.id,
            policy=pulumi.Output.all(bucket.arn, args.key_arn).apply(
                lambda a: _policy(
                    {
                        "Sid": "ReadConfig",
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": f"{a[0]}/{CONFIG_OBJECT_KEY}",
                    },
                    {
                        "Sid": "DecryptConfig",
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": a[1],
                        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
                    },
                    {
                        "Sid": "InvokeBedrockRoutes",
                        "Effect": "Allow",
                        "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                        "Resource": sorted(
                            {
                                arn
                                for d in bedrock
                                for arn in (
                                    f"arn:{partition}:bedrock:*::foundation-model/{d.litellm_model.split('/', 1)[1]}",
                                    f"arn:{partition}:bedrock:*:{account}:inference-profile/{d.litellm_model.split('/', 1)[1]}",
                                )
                            }
                        ),
                    }
                    if bedrock
                    else {},
                )
            ),
            opts=child,
        )

        # --- network: the ALB reaches the tasks; the tasks reach the models listener and HTTPS -----
        self.security_group = aws.ec2.SecurityGroup(
            plan.name("router", "sg"),
            name=plan.name("router"),
            vpc_id=args.vpc_id,
            description="inferplan router tasks: LiteLLM from the internal ALB only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=ROUTER_PORT,
                    to_port=ROUTER_PORT,
                    security_groups=[args.alb_security_group_id],
                    description="LiteLLM from the internal ALB",
                )
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=MODELS_LISTENER_PORT,
                    to_port=MODELS_LISTENER_PORT,
                    security_groups=[args.alb_security_group_id],
                    description="self-hosted models through the ALB's models listener",
                ),
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=["0.0.0.0/0"],
                    description="AWS endpoints and, through NAT where planned, frontier APIs",
                ),
            ],
            tags=tagged(plan.name("router")),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            plan.name("alb-from-router"),
            security_group_id=args.alb_security_group_id,
            referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=MODELS_LISTENER_PORT,
            to_port=MODELS_LISTENER_PORT,
            description="router tasks to the models listener",
            tags=tagged(plan.name("alb-from-router")),
            opts=child,
        )

        # --- the task ------------------------------------------------------------------------------
        environment: dict[str, pulumi.Input[str]] = {
            **config.environment,
            VLLM_BASE_URL_ENV: pulumi.Output.concat(
                "http://", args.alb_dns_name, f":{MODELS_LISTENER_PORT}/v1"
            ),
            "LITELLM_CONFIG_BUCKET_NAME": bucket.bucket,
            "LITELLM_CONFIG_BUCKET_OBJECT_KEY": config_object.key,
            "LITELLM_CONFIG_BUCKET_TYPE": "s3",
            "AWS_DEFAULT_REGION": region,  # LiteLLM's S3 client takes the region from the environment
            "INFERPLAN_CONFIG_SHA256": hashlib.sha256(config_yaml.encode()).hexdigest(),
        }
        container = {
            "name": CONTAINER,
            "image": image,
            "essential": True,
            "command": ["--port", str(ROUTER_PORT), "--num_workers", "1"],
            "portMappings": [{"containerPort": ROUTER_PORT, "protocol": "tcp", "name": "http"}],
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "secrets": [{"name": env, "valueFrom": arn} for env, arn in sorted(injected.items())],
            "healthCheck": {
                # The image has python but no curl; urlopen raises (exit 1) on anything but 2xx.
                "command": [
                    "CMD",
                    "python",
                    "-c",
                    f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{ROUTER_PORT}{HEALTH_PATH}', timeout=4)",
                ],
                "interval": 15,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 60,
            },
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group.name,
                    "awslogs-region": region,
                    "awslogs-stream-prefix": "router",
                },
            },
            "stopTimeout": 30,
        }
        self.task_definition = aws.ecs.TaskDefinition(
            plan.name("router"),
            family=plan.name("router"),
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=ROUTER_CPU_UNITS,
            memory=ROUTER_MEMORY_MIB,
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            container_definitions=pulumi.Output.json_dumps([container]),
            tags=tagged(plan.name("router")),
            opts=child,
        )

        # --- load balancing and the service --------------------------------------------------------
        self.target_group = aws.lb.TargetGroup(
            plan.name("router", "tg"),
            name=fit_name(plan.name("router"), 32),
            port=ROUTER_PORT,
            protocol="HTTP",
            target_type="ip",
            vpc_id=args.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY_S,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=HEALTH_PATH,
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags=tagged(plan.name("router")),
            opts=child,
        )
        rule = aws.lb.ListenerRule(
            plan.name("router", "rule"),
            listener_arn=args.router_listener_arn,
            priority=100,
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_group.arn)],
            # Only the OpenAI-compatible API; LiteLLM's admin routes stay unreachable from the gateway.
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=["/v1/*"])
                )
            ],
            tags=tagged(plan.name("router", "rule")),
            opts=child,
        )
        self.service = aws.ecs.Service(
            plan.name("router"),
            name=plan.name("router"),
            cluster=cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=router_tasks(plan.platform),
            launch_type="FARGATE",
            platform_version="LATEST",
            # Fargate spreads a service's tasks over the subnets' AZs; rebalancing keeps them spread.
            availability_zone_rebalancing="ENABLED",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.subnet_ids),
                security_groups=[self.security_group.id],
                assign_public_ip=False,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=self.target_group.arn,
                    container_name=CONTAINER,
                    container_port=ROUTER_PORT,
                )
            ],
            health_check_grace_period_seconds=60,
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
            ),
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            tags=tagged(plan.name("router")),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[rule, execution_policy, task_policy]),
        )

        self.register_outputs(
            {
                "service_name": self.service.name,
                "task_definition_arn": self.task_definition.arn,
                "config_bucket": bucket.bucket,
                "config_object_key": config_object.key,
                "security_group_id": self.security_group.id,
                "target_group_arn": self.target_group.arn,
            }
        )
