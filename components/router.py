"""The routing layer: the LiteLLM proxy on ECS Fargate behind the internal ALB's router listener.

    ALB :ROUTER_LISTENER_PORT --rule /v1/chat/completions--> router target group (ip) --> tasks :ROUTER_PORT
    tasks --> ALB :MODELS_LISTENER_PORT (VLLM_BASE_URL) --> vLLM;  tasks --> frontier APIs via NAT

Everything the router does is the plan's (`inferplan.front_door.RouterPlan`: image, tasks and workers,
CPU and memory, the LiteLLM config, the admission check, secrets and environment); this component only
builds it. The config and the admission check (`inferplan/router_guard.py`) go to a small KMS-encrypted
bucket only the task role may read; the stock LiteLLM image loads the config at start-up from
LITELLM_CONFIG_BUCKET_NAME / LITELLM_CONFIG_BUCKET_OBJECT_KEY and the check from the `s3://` URL the
config's `custom_auth` names (GUARD_ENV). Their hashes are in the task's environment, so a change is a
new task definition revision and a rolling deployment.

Frontier keys (the FallbackSecrets child) and LiteLLM's master key come from Secrets Manager through the
task definition's `secrets`: ECS resolves them with the execution role when a task starts. The master
key is generated once by `pulumi up` (kept as a Pulumi secret, never rotated by later runs); LiteLLM
refuses to start without one, and with the admission check in place it opens nothing the ALB reaches
(the listener rule forwards /v1/chat/completions only).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.buckets import access_logging, private_bucket
from components.fallback_secrets import FallbackSecrets, FallbackSecretsArgs, secret_policy
from components.identity import deployer_principal_arns
from components.image_mirror import mirror_repository
from components.logs import stack_log_group
from inferplan import names
from inferplan.front_door import HEALTH_PATH, ROUTER_CHAT_PATH, RouterPlan, StoredObject
from inferplan.images import ECR_HOST
from inferplan.names import fit_name
from inferplan.perimeter import tls_only_statement
from inferplan.plan import MODELS_LISTENER_PORT, ROUTER_PORT
from inferplan.router_config import GUARD_ENV, VLLM_BASE_URL_ENV

CONTAINER = "litellm"
# The gateway gives up on a call after 30 s (the HTTP API integration limit), so a draining task
# needs little longer than that to finish what it is serving.
DEREGISTRATION_DELAY_S = 35
CONFIG_VERSIONS_DAYS = 30  # a replaced config or admission check stays readable for a rollback this long


def config_bucket_name(name_prefix: str, account: str) -> str:
    """Globally unique and derived: `<stack>-router-config-<account>` (lower-case, at most 63); the name
    the S3 endpoint's policy admits (inferplan.perimeter)."""
    return names.bucket_name(name_prefix, names.ROUTER_CONFIG_BUCKET, account)


def _volume(path: str) -> str:
    """The task volume mounted at `path` (`/tmp` -> `tmp`)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", path.strip("/")) or "root"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [s for s in statements if s]})


def _ecs_tasks_trust(account: str) -> str:
    return _policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }
    )


@dataclass
class RouterArgs:
    router: RouterPlan
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # the private subnets, one per AZ
    key_arn: pulumi.Input[str]  # the stack key (components/encryption.py)
    alb_security_group_id: pulumi.Input[str]  # components/load_balancer.py
    alb_dns_name: pulumi.Input[str]
    router_listener_arn: pulumi.Input[str]
    access_log_bucket: pulumi.Input[str] | None = None  # the stack's access-log bucket (its name)


class Router(pulumi.ComponentResource):
    service: aws.ecs.Service
    task_definition: aws.ecs.TaskDefinition
    execution_role: aws.iam.Role
    task_role: aws.iam.Role
    security_group: aws.ec2.SecurityGroup
    target_group: aws.lb.TargetGroup
    config_bucket: aws.s3.Bucket
    secrets: FallbackSecrets | None
    repository: aws.ecr.Repository | None  # the stack's mirror of the router image, when planned

    def __init__(self, name: str, args: RouterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:Router", name, None, opts)
        self.plan = plan = args.router
        self.args = args
        self.tags = {**dict(plan.tags), "inferplan:component": "router"}
        invoke = pulumi.InvokeOptions(parent=self)
        identity = aws.get_caller_identity(opts=invoke)
        self.account, self.partition = identity.account_id, aws.get_partition(opts=invoke).partition
        self.deployer = deployer_principal_arns(identity.arn)
        self.image = plan.image.uri(self.account)

        log_group = stack_log_group(
            plan.name("router", "logs"),
            plan.stack,
            "router",
            args.key_arn,
            self._tagged("router", "logs"),
            self,
        )
        cluster = aws.ecs.Cluster(
            plan.name("router", "cluster"),
            name=plan.name("router"),
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            tags=self._tagged("router"),
            opts=self._child(),
        )
        self.execution_role, self.task_role = self._roles()
        self.repository = self._mirror_repository()
        injected = self._secrets()
        objects = self._config_store()
        execution_policy = self._execution_policy(log_group, injected)
        task_policy = self._task_policy()
        self.security_group = self._network()
        self.task_definition = self._task_definition(log_group, injected, objects)
        self.target_group, rule = self._load_balancing()
        self.service = self._service(cluster, [rule, execution_policy, task_policy])

        self.register_outputs(
            {
                "service_name": self.service.name,
                "task_definition_arn": self.task_definition.arn,
                "config_bucket": self.config_bucket.bucket,
                "security_group_id": self.security_group.id,
                "target_group_arn": self.target_group.arn,
            }
        )

    # --- helpers ---------------------------------------------------------------------------------

    def _child(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on))

    def _tagged(self, *parts: str) -> dict[str, str]:
        return {**self.tags, "Name": self.plan.name(*parts)}

    # --- roles: the execution role starts the task, the task role is what LiteLLM runs as --------------

    def _roles(self) -> tuple[aws.iam.Role, aws.iam.Role]:
        plan = self.plan
        execution = aws.iam.Role(
            plan.name("router", "execution"),
            name=fit_name(plan.name("router", "execution"), 64),
            description=f"inferplan {plan.stack}: start router tasks (image, keys, logs)",
            assume_role_policy=_ecs_tasks_trust(self.account),
            tags=self._tagged("router", "execution"),
            opts=self._child(),
        )
        task = aws.iam.Role(
            plan.name("router", "task"),
            name=fit_name(plan.name("router", "task"), 64),
            description=f"inferplan {plan.stack}: the LiteLLM proxy (reads its config and admission check)",
            assume_role_policy=_ecs_tasks_trust(self.account),
            tags=self._tagged("router", "task"),
            opts=self._child(),
        )
        return execution, task

    # --- the router image mirror (router.registry: ecr) -----------------------------------------------

    def _mirror_repository(self) -> aws.ecr.Repository | None:
        image = self.plan.image
        if not image.created_by_stack:
            return None
        name = self.plan.name("router", "image")
        return mirror_repository(name, image, self.args.key_arn, self._tagged("router", "image"), self)

    # --- secrets: frontier keys and the master key, readable by the execution role only ---------------

    def _secrets(self) -> dict[str, pulumi.Output[str]]:
        """Environment variable -> secret ARN, for the task definition's `secrets`."""
        plan = self.plan
        self.secrets = (
            FallbackSecrets(
                plan.name("fallback-secrets"),
                FallbackSecretsArgs(
                    secrets=plan.frontier_secrets,
                    key_arn=self.args.key_arn,
                    reader_role_arn=self.execution_role.arn,
                ),
                opts=self._child(),
            )
            if plan.frontier_secrets is not None
            else None
        )
        arns: dict[str, pulumi.Output[str]] = dict(self.secrets.arns) if self.secrets else {}
        arns[plan.master_key_secret] = self._master_key()
        return {env: arns[name] for env, name in plan.secret_env}

    def _master_key(self) -> pulumi.Output[str]:
        plan = self.plan
        secret = aws.secretsmanager.Secret(
            plan.name("router", "master-key"),
            name=plan.master_key_secret,
            description=f"inferplan {plan.stack}: LiteLLM's master key, read by the router only",
            kms_key_id=self.args.key_arn,
            tags={**self.tags, "Name": plan.master_key_secret},
            opts=self._child(),
        )
        aws.secretsmanager.SecretPolicy(
            plan.name("router", "master-key-policy"),
            secret_arn=secret.arn,
            policy=pulumi.Output.all(secret.arn, self.execution_role.arn).apply(
                lambda arns: secret_policy(arns[0], arns[1], self.deployer)
            ),
            block_public_policy=True,
            opts=self._child(),
        )
        aws.secretsmanager.SecretVersion(
            plan.name("router", "master-key-value"),
            secret_id=secret.id,
            # Generated on the first `pulumi up` and kept: later runs leave the stored value alone.
            secret_string=pulumi.Output.secret(f"sk-{secrets.token_urlsafe(32)}"),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["secret_string"]),
        )
        return secret.arn

    # --- the config bucket: the LiteLLM config and the admission check ---------------------------------

    def _config_store(self) -> list[aws.s3.BucketObjectv2]:
        plan, args = self.plan, self.args
        store = private_bucket(
            plan.name("router-config"),
            config_bucket_name(plan.stack, self.account),
            args.key_arn,
            self._tagged("router-config"),
            self,
            force_destroy=True,  # it only ever holds what the plan generated
        )
        self.config_bucket = bucket = store.bucket
        if args.access_log_bucket is not None:
            access_logging(
                plan.name("router-config"), bucket, args.access_log_bucket, plan.access_log_prefix, self
            )
        # Each deploy replaces the objects; the replaced versions expire a month later.
        aws.s3.BucketLifecycleConfiguration(
            plan.name("router-config", "lifecycle"),
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-replaced-config",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=CONFIG_VERSIONS_DAYS
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=self._child([store.versioning]),
        )

        def bucket_policy(a: list[str]) -> str:
            return _policy(
                tls_only_statement(a[0]),
                {
                    # The deployer writes the objects and the provider reads them back after writing.
                    "Sid": "OnlyTheRouterTaskReads",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:GetObject*",
                    "Resource": f"{a[0]}/*",
                    "Condition": {"ArnNotLike": {"aws:PrincipalArn": [a[1], *self.deployer]}},
                },
            )

        policy = aws.s3.BucketPolicy(
            plan.name("router-config", "policy"),
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, self.task_role.arn).apply(bucket_policy),
            opts=self._child([store.public_block]),
        )
        return [
            self._object(bucket, plan.config_object, "object", policy),
            self._object(bucket, plan.guard_object, "guard", policy),
        ]

    def _object(
        self, bucket: aws.s3.Bucket, stored: StoredObject, suffix: str, policy: aws.s3.BucketPolicy
    ) -> aws.s3.BucketObjectv2:
        return aws.s3.BucketObjectv2(
            self.plan.name("router-config", suffix),
            bucket=bucket.id,
            key=stored.key,
            content=stored.content,
            content_type=stored.content_type,
            server_side_encryption="aws:kms",
            kms_key_id=self.args.key_arn,
            bucket_key_enabled=True,
            tags=self._tagged("router-config"),
            opts=self._child([policy]),
        )

    # --- role policies ---------------------------------------------------------------------------------

    def _image_repository_arn(self) -> str | None:
        image = self.plan.image
        if not image.is_ecr:
            return None
        match = ECR_HOST.match(image.host)
        account = match.group(1) if match else self.account
        return f"arn:{self.partition}:ecr:{image.ecr_region}:{account}:repository/{image.repository}"

    def _execution_policy(
        self, log_group: aws.cloudwatch.LogGroup, injected: dict[str, pulumi.Output[str]]
    ) -> aws.iam.RolePolicy:
        region, repository = self.plan.region, self._image_repository_arn()

        def document(a: list[str]) -> str:
            return _policy(
                {
                    "Sid": "WriteLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{a[0]}:*",
                },
                {
                    "Sid": "ReadRouterSecrets",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": sorted(a[2:]),
                },
                {
                    "Sid": "DecryptRouterSecrets",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": a[1],
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                    },
                },
                {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
                if repository
                else {},
                {
                    "Sid": "PullImage",
                    "Effect": "Allow",
                    "Action": [
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:BatchCheckLayerAvailability",
                    ],
                    "Resource": repository,
                }
                if repository
                else {},
            )

        return aws.iam.RolePolicy(
            self.plan.name("router", "execution-policy"),
            role=self.execution_role.id,
            policy=pulumi.Output.all(log_group.arn, self.args.key_arn, *injected.values()).apply(document),
            opts=self._child(),
        )

    def _task_policy(self) -> aws.iam.RolePolicy:
        plan, partition, account = self.plan, self.partition, self.account
        keys = (plan.config_object.key, plan.guard_object.key)
        models = sorted(
            arn
            for model in plan.bedrock_models
            for arn in (
                f"arn:{partition}:bedrock:*::foundation-model/{model}",
                f"arn:{partition}:bedrock:*:{account}:inference-profile/{model}",
            )
        )

        def document(a: list[str]) -> str:
            return _policy(
                {
                    "Sid": "ReadConfig",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": [f"{a[0]}/{key}" for key in keys],
                },
                {
                    "Sid": "DecryptConfig",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": a[1],
                    "Condition": {"StringEquals": {"kms:ViaService": f"s3.{plan.region}.amazonaws.com"}},
                },
                {
                    "Sid": "InvokeBedrockRoutes",
                    "Effect": "Allow",
                    "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                    "Resource": models,
                }
                if models
                else {},
            )

        return aws.iam.RolePolicy(
            plan.name("router", "task-policy"),
            role=self.task_role.id,
            policy=pulumi.Output.all(self.config_bucket.arn, self.args.key_arn).apply(document),
            opts=self._child(),
        )

    # --- network: the ALB reaches the tasks; the tasks reach the models listener and HTTPS --------------

    def _network(self) -> aws.ec2.SecurityGroup:
        plan, args = self.plan, self.args
        group = aws.ec2.SecurityGroup(
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
            tags=self._tagged("router"),
            opts=self._child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            plan.name("alb-from-router"),
            security_group_id=args.alb_security_group_id,
            referenced_security_group_id=group.id,
            ip_protocol="tcp",
            from_port=MODELS_LISTENER_PORT,
            to_port=MODELS_LISTENER_PORT,
            description="router tasks to the models listener",
            tags=self._tagged("alb-from-router"),
            opts=self._child(),
        )
        return group

    # --- the task ----------------------------------------------------------------------------------------

    def _task_definition(
        self,
        log_group: aws.cloudwatch.LogGroup,
        injected: dict[str, pulumi.Output[str]],
        objects: list[aws.s3.BucketObjectv2],
    ) -> aws.ecs.TaskDefinition:
        plan, args = self.plan, self.args
        config_object = objects[0]
        environment: dict[str, pulumi.Input[str]] = {
            **dict(plan.environment),
            VLLM_BASE_URL_ENV: pulumi.Output.concat(
                "http://", args.alb_dns_name, f":{MODELS_LISTENER_PORT}/v1"
            ),
            GUARD_ENV: self.config_bucket.bucket.apply(plan.guard_reference),
            "LITELLM_CONFIG_BUCKET_NAME": self.config_bucket.bucket,
            "LITELLM_CONFIG_BUCKET_OBJECT_KEY": config_object.key,
            "LITELLM_CONFIG_BUCKET_TYPE": "s3",
            "AWS_DEFAULT_REGION": plan.region,  # LiteLLM's S3 client takes the region from the environment
            "INFERPLAN_CONFIG_SHA256": plan.config_object.sha256,
            "INFERPLAN_GUARD_SHA256": plan.guard_object.sha256,
        }
        container = {
            "name": CONTAINER,
            "image": self.image,
            "essential": True,
            "command": list(plan.command),
            "portMappings": [{"containerPort": ROUTER_PORT, "protocol": "tcp", "name": "http"}],
            # Nothing in the image can be changed at run time; only the planned task volumes are writable.
            "readonlyRootFilesystem": True,
            "mountPoints": [
                {"sourceVolume": _volume(path), "containerPath": path, "readOnly": False}
                for path in plan.writable_paths
            ],
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "secrets": [{"name": env, "valueFrom": arn} for env, arn in sorted(injected.items())],
            "healthCheck": {
                # The image has python but no curl; urlopen raises (exit 1) on anything but 2xx.
                "command": [
                    "CMD",
                    "python",
                    "-c",
                    "import urllib.request; "
                    f"urllib.request.urlopen('http://127.0.0.1:{ROUTER_PORT}{HEALTH_PATH}', timeout=4)",
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
                    "awslogs-region": plan.region,
                    "awslogs-stream-prefix": "router",
                },
            },
            "stopTimeout": 30,
        }
        return aws.ecs.TaskDefinition(
            plan.name("router"),
            family=plan.name("router"),
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(plan.sizing.cpu_units),
            memory=str(plan.sizing.memory_mib),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            # Fargate task storage, private to the task and gone with it.
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=_volume(path)) for path in plan.writable_paths],
            container_definitions=pulumi.Output.json_dumps([container]),
            tags=self._tagged("router"),
            opts=self._child([*objects]),
        )

    # --- load balancing and the service ----------------------------------------------------------------

    def _load_balancing(self) -> tuple[aws.lb.TargetGroup, aws.lb.ListenerRule]:
        plan = self.plan
        group = aws.lb.TargetGroup(
            plan.name("router", "tg"),
            name=fit_name(plan.name("router"), 32),
            port=ROUTER_PORT,
            protocol="HTTP",
            target_type="ip",
            vpc_id=self.args.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY_S,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=HEALTH_PATH,
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags=self._tagged("router"),
            opts=self._child(),
        )
        rule = aws.lb.ListenerRule(
            plan.name("router", "rule"),
            listener_arn=self.args.router_listener_arn,
            priority=100,
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=group.arn)],
            # Only the path the gateway's integrations send; LiteLLM's admin and UI routes stay unreachable.
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=[ROUTER_CHAT_PATH])
                )
            ],
            tags=self._tagged("router", "rule"),
            opts=self._child(),
        )
        return group, rule

    def _service(self, cluster: aws.ecs.Cluster, after: Sequence[pulumi.Resource]) -> aws.ecs.Service:
        plan = self.plan
        return aws.ecs.Service(
            plan.name("router"),
            name=plan.name("router"),
            cluster=cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=plan.sizing.tasks,
            launch_type="FARGATE",
            platform_version="LATEST",
            # Fargate spreads a service's tasks over the subnets' AZs; rebalancing keeps them spread.
            availability_zone_rebalancing="ENABLED",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(self.args.subnet_ids),
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
            tags=self._tagged("router"),
            opts=self._child(after),
        )
