"""One GPU node pool: an EC2 Auto Scaling group of identical GPU nodes in the private subnets.

Everything here follows the PoolPlan (shape, capacity split, bounds and starting size, warm pool,
root volume, engine slots, names); the only choices made in this file are hardening and operations
defaults:
- launch template: the AWS Deep Learning Base GPU AMI (looked up, see AMI_NAME), IMDSv2 only with a
  hop limit of 1 (vLLM's container shares the host's network namespace, `--network=host`, so it adds
  no hop, and it needs no credentials: the host syncs the weights and dockerd ships the logs), an
  encrypted gp3 root volume, no public IP, detailed monitoring, no key pair;
- a dedicated security group that admits only the load balancer, on vLLM's port (no SSH: shell access
  is SSM Session Manager through the VPC endpoints), and lets the nodes out only to HTTPS on the VPC's
  addresses (the interface endpoints) and the S3 prefix list (weights, image layers): no internet,
  whatever the stack's egress;
- an instance role that may read only its models' prefixes in the model bucket (decrypting with the
  stack key through S3 only), write only its pool's log group, pull only its vLLM mirror, and do what
  Session Manager needs (no SSM parameters: not the AWS-managed AmazonSSMManagedInstanceCore);
- the group: always a mixed-instances policy (the resource contract the cost engine prices), capacity
  rebalancing for spot, an optional warm pool, rolling instance refresh, ELB health checks with a grace
  period long enough for a 70B download, target tracking on vLLM's queue depth, and an alarm when the
  group sits at its ceiling.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.logs import log_group
from inferplan import cloud_init
from inferplan.perimeter import SESSION_MANAGER_ACTIONS, SESSION_MANAGER_REGISTRATION
from inferplan.plan import VLLM_PORT, PoolPlan

# AWS Deep Learning Base AMI with the open-source NVIDIA driver, Docker and the NVIDIA container
# toolkit (Ubuntu 22.04, x86_64; every GPU shape in the catalog is x86_64). Owner "amazon", newest match.
AMI_NAME = "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) *"
ROOT_DEVICE = "/dev/sda1"  # the Ubuntu DLAMI's root device, if the lookup does not say
AT_CEILING_PERIODS = 3  # five-minute periods at max_nodes before the alarm fires
GROUP_METRICS = (
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "WarmPoolDesiredCapacity",
    "WarmPoolWarmedCapacity",
)


SPOT_ALLOCATION = "price-capacity-optimized"
TS = aws.autoscaling  # the target-tracking argument types are long enough without the module path


@dataclass
class GpuNodePoolArgs:
    pool: PoolPlan
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # the private subnets of every AZ
    s3_prefix_list_id: pulumi.Input[str]  # the S3 gateway endpoint's prefix list (components/network.py)
    load_balancer_security_group_id: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    user_data: pulumi.Input[str] | None = None  # base64 cloud-init (VllmService.user_data)
    target_group_arns: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    image: pulumi.Input[str] | None = None  # the vLLM image; an ECR image lets the role pull from it
    alarm_actions: Sequence[pulumi.Input[str]] = field(default_factory=tuple)  # e.g. an SNS topic ARN


class GpuNodePool(pulumi.ComponentResource):
    group: aws.autoscaling.Group
    launch_template: aws.ec2.LaunchTemplate
    security_group: aws.ec2.SecurityGroup
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: GpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:GpuNodePool", name, None, opts)
        self._pool, self._args = args.pool, args
        self._child = pulumi.ResourceOptions(parent=self)
        self.log_group = log_group(self._pool.log_group, args.key_arn, self)
        self.security_group = self._node_security_group()
        self.role, profile = self._node_role()
        self.launch_template = self._launch_template(profile)
        self.group = self._group()
        if args.target_group_arns:
            self._scaling_policy()
        self._ceiling_alarm()
        self.register_outputs(
            {
                "group_name": self.group.name,
                "launch_template_id": self.launch_template.id,
                "security_group_id": self.security_group.id,
                "role_arn": self.role.arn,
                "log_group": self.log_group.name,
            }
        )

    def _tagged(self, suffix: str) -> dict[str, str]:
        return {**self._pool.tags, "Name": f"{self._pool.resource_prefix}-{suffix}"}

    def _node_security_group(self) -> aws.ec2.SecurityGroup:
        """vLLM's port from the load balancer only; HTTPS out to the VPC's endpoints and S3, nowhere else."""
        base = self._pool.resource_prefix
        return aws.ec2.SecurityGroup(
            f"{base}-nodes-sg",
            name=f"{base}-nodes",
            vpc_id=self._args.vpc_id,
            description=f"inferplan {base} GPU nodes: vLLM from the load balancer only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=VLLM_PORT,
                    to_port=VLLM_PORT,
                    security_groups=[self._args.load_balancer_security_group_id],
                    description="vLLM from the internal load balancer",
                )
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=[self._pool.vpc_cidr],
                    description="HTTPS to the AWS APIs' interface endpoints in the VPC (ECR, SSM, logs, ...)",
                ),
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    prefix_list_ids=[self._args.s3_prefix_list_id],
                    description="HTTPS to S3 through the gateway endpoint: weights, image layers, agent",
                ),
            ],
            tags=self._tagged("nodes"),
            opts=self._child,
        )

    def _node_role(self) -> tuple[aws.iam.Role, aws.iam.InstanceProfile]:
        """The instance role: its models' weights, its log group, its launch hook, its image."""
        pool, args, base = self._pool, self._args, self._pool.resource_prefix
        invoke = pulumi.InvokeOptions(parent=self)
        # Output forms of the invokes: a blocking invoke per component costs O(pending work) each.
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        role = aws.iam.Role(
            f"{base}-node-role",
            name=pool.role_name,
            description=f"inferplan {base} GPU nodes",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=self._tagged("node"),
            opts=self._child,
        )

        def policy(partition: str, account: str, image: str | None, bucket: str, key: str, logs: str) -> str:
            context = _PolicyContext(
                partition=partition,
                account=account,
                region=pool.region,
                models=pool.models,
                group=pool.group_name,
                warm_pool=pool.warm_pool > 0,
                image=image,
            )
            return json.dumps(node_policy(context, bucket_arn=bucket, key_arn=key, log_group_arn=logs))

        aws.iam.RolePolicy(
            f"{base}-node-policy",
            role=role.id,
            policy=pulumi.Output.all(
                partition, account, args.image, args.bucket_arn, args.key_arn, self.log_group.arn
            ).apply(lambda a: policy(*a)),
            opts=self._child,
        )
        profile = aws.iam.InstanceProfile(
            f"{base}-node-profile",
            name=pool.role_name,
            role=role.name,
            tags=self._tagged("node"),
            opts=self._child,
        )
        return role, profile

    def _launch_template(self, profile: aws.iam.InstanceProfile) -> aws.ec2.LaunchTemplate:
        """The DLAMI, IMDSv2 only, an encrypted gp3 root volume of the planned size, no public IP."""
        pool, base = self._pool, self._pool.resource_prefix
        ami = aws.ec2.get_ami_output(
            owners=["amazon"],
            most_recent=True,
            filters=[
                aws.ec2.GetAmiFilterArgs(name="name", values=[AMI_NAME]),
                aws.ec2.GetAmiFilterArgs(name="architecture", values=["x86_64"]),
                aws.ec2.GetAmiFilterArgs(name="state", values=["available"]),
            ],
            opts=pulumi.InvokeOptions(parent=self),
        )
        volume = pool.root_volume
        instance_tags = self._tagged("node")
        return aws.ec2.LaunchTemplate(
            f"{base}-lt",
            name=base,
            description=f"inferplan {base}: {pool.instance_type} serving {', '.join(pool.models) or 'nothing'}",
            image_id=ami.id,
            instance_type=pool.instance_type,
            user_data=self._args.user_data,
            update_default_version=True,
            ebs_optimized="true",
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                http_put_response_hop_limit=1,  # the host only: vLLM's container needs no credentials
                instance_metadata_tags="disabled",
            ),
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ami.root_device_name.apply(lambda name: name or ROOT_DEVICE),
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=volume.size_gib,
                        volume_type=volume.volume_type,
                        throughput=volume.throughput_mb_s,
                        iops=volume.iops,
                        # The account's EBS key: a customer key would need grants for the Auto
                        # Scaling service-linked role, or launches fail.
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            network_interfaces=[
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    device_index=0,
                    associate_public_ip_address="false",
                    delete_on_termination="true",
                    security_groups=[self.security_group.id],
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=instance_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=self._tagged("lt"),
            opts=self._child,
        )

    def _warm_pool(
        self,
    ) -> tuple[
        aws.autoscaling.GroupWarmPoolArgs | None, list[aws.autoscaling.GroupInitialLifecycleHookArgs] | None
    ]:
        """Stopped, pre-initialised nodes, and the launch hook a node completes once its weights are local."""
        pool = self._pool
        if pool.warm_pool <= 0:
            return None, None
        warm = aws.autoscaling.GroupWarmPoolArgs(
            pool_state="Stopped",  # pay for EBS only; start skips the download
            min_size=pool.warm_pool,
            # Equal to min_size, or AWS keeps (max - desired) instances warm, not warm_pool.
            max_group_prepared_capacity=pool.warm_pool,
            instance_reuse_policy=aws.autoscaling.GroupWarmPoolInstanceReusePolicyArgs(
                reuse_on_scale_in=True
            ),
        )
        # A warm instance must not be stopped before its weights are local: the node completes this
        # hook at the end of its prepare step (cloud_init.prepare_script); CONTINUE if it never does.
        hook = aws.autoscaling.GroupInitialLifecycleHookArgs(
            name=cloud_init.WEIGHTS_READY_HOOK,
            lifecycle_transition="autoscaling:EC2_INSTANCE_LAUNCHING",
            default_result="CONTINUE",
            heartbeat_timeout=cloud_init.NODE_READY_SECONDS,
        )
        return warm, [hook]

    def _mixed_instances(self, version: pulumi.Output[str]) -> aws.autoscaling.GroupMixedInstancesPolicyArgs:
        """Spot and mixed pools: the planned on-demand base and share above it, spot for the rest."""
        pool = self._pool
        return aws.autoscaling.GroupMixedInstancesPolicyArgs(
            instances_distribution=aws.autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs(
                on_demand_base_capacity=pool.on_demand_base,
                on_demand_percentage_above_base_capacity=pool.on_demand_percent_above_base,
                spot_allocation_strategy=SPOT_ALLOCATION,
            ),
            launch_template=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateArgs(
                launch_template_specification=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecificationArgs(
                    launch_template_id=self.launch_template.id, version=version
                ),
                overrides=[
                    aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArgs(
                        instance_type=pool.instance_type
                    )
                ],
            ),
        )

    def _group(self) -> aws.autoscaling.Group:
        """The Auto Scaling group at the planned bounds and starting size."""
        pool, args = self._pool, self._args
        warm_pool, hooks = self._warm_pool()
        # The template's version, not "$Latest": a new version starts an instance refresh.
        version = self.launch_template.latest_version.apply(str)
        on_demand = pool.capacity == "on_demand"
        return aws.autoscaling.Group(
            f"{pool.resource_prefix}-asg",
            name=pool.group_name,
            min_size=pool.min_nodes,
            max_size=pool.max_nodes,
            desired_capacity=pool.desired_nodes,
            vpc_zone_identifiers=list(args.subnet_ids),
            # On-demand pools take the template directly: AWS refuses a warm pool on a group with a
            # mixed-instances policy. Spot and mixed pools need the policy for their distribution.
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=self.launch_template.id, version=version
            )
            if on_demand
            else None,
            mixed_instances_policy=None if on_demand else self._mixed_instances(version),
            capacity_rebalance=not on_demand,
            warm_pool=warm_pool,
            initial_lifecycle_hooks=hooks,
            target_group_arns=list(args.target_group_arns),
            health_check_type="ELB" if args.target_group_arns else "EC2",
            health_check_grace_period=cloud_init.NODE_READY_SECONDS,
            default_instance_warmup=cloud_init.ENGINE_WARMUP_SECONDS,
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=50,
                    skip_matching=True,  # nodes already on the new template stay
                    instance_warmup=str(cloud_init.NODE_READY_SECONDS),
                ),
            ),
            enabled_metrics=[aws.autoscaling.Metric(metric) for metric in GROUP_METRICS],
            metrics_granularity="1Minute",
            wait_for_capacity_timeout="0",  # `pulumi up` does not wait for a 70B download
            tags=[
                aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=True)
                for key, value in sorted(self._tagged("node").items())
            ],
            # Target tracking owns the desired count once the group exists.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"]),
        )

    def _engine_metric(
        self, ident: str, metric: str
    ) -> TS.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricArgs:
        return TS.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricArgs(
            id=ident,
            return_data=False,
            metric_stat=TS.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatArgs(
                stat="Average",
                metric=TS.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatMetricArgs(
                    namespace=cloud_init.METRIC_NAMESPACE,
                    metric_name=metric,
                    dimensions=[
                        TS.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatMetricDimensionArgs(
                            name=cloud_init.GROUP_DIMENSION, value=self._pool.group_name
                        )
                    ],
                ),
            ),
        )

    def _scaling_policy(self) -> None:
        """Target tracking on each engine's load: (running + waiting) / its batch slots, group average."""
        base = self._pool.resource_prefix
        TS.Policy(
            f"{base}-queue-depth",
            name=f"{base}-queue-depth",
            autoscaling_group_name=self.group.name,
            policy_type="TargetTrackingScaling",
            estimated_instance_warmup=cloud_init.ENGINE_WARMUP_SECONDS,
            target_tracking_configuration=TS.PolicyTargetTrackingConfigurationArgs(
                target_value=cloud_init.LOAD_TARGET,
                customized_metric_specification=TS.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationArgs(
                    metrics=[
                        self._engine_metric("running", cloud_init.RUNNING_METRIC),
                        self._engine_metric("waiting", cloud_init.WAITING_METRIC),
                        TS.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricArgs(
                            id="load",
                            expression=f"(running + waiting) / {max(1, self._pool.engine_slots)}",
                            label="requests in flight or queued per batch slot",
                            return_data=True,
                        ),
                    ]
                ),
            ),
            opts=self._child,
        )

    def _ceiling_alarm(self) -> None:
        """An alarm when the group sits at its ceiling: requests queue or fall back."""
        pool, base = self._pool, self._pool.resource_prefix
        aws.cloudwatch.MetricAlarm(
            f"{base}-at-max-nodes",
            name=f"{base}-at-max-nodes",
            alarm_description=(
                f"{base} has run at its ceiling of {pool.max_nodes} nodes for {5 * AT_CEILING_PERIODS} "
                "minutes: requests queue or fall back; raise max_nodes (and the budget) or add a pool"
            ),
            namespace="AWS/AutoScaling",
            metric_name="GroupInServiceInstances",
            dimensions={"AutoScalingGroupName": pool.group_name},
            statistic="Maximum",
            period=300,
            evaluation_periods=AT_CEILING_PERIODS,
            threshold=float(pool.max_nodes),
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=list(self._args.alarm_actions),
            tags=self._tagged("at-max-nodes"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.group]),
        )


@dataclass(frozen=True)
class _PolicyContext:
    partition: str
    account: str
    region: str
    models: tuple[str, ...]
    group: str
    warm_pool: bool
    image: str | None


def node_policy(
    context: _PolicyContext, *, bucket_arn: str, key_arn: str, log_group_arn: str
) -> dict[str, object]:
    """The node role's inline policy: its models' weights, its log group, its image, Session Manager."""
    prefixes = [cloud_init.weights_prefix(m) for m in context.models]
    statements: list[dict[str, object]] = [
        {
            "Sid": "WriteOwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        },
        # Shell access without SSH (AWS's Session Manager guide): the node registers itself as an
        # instance of this account; the channel actions name no resource.
        {
            "Sid": "SessionManagerRegistration",
            "Effect": "Allow",
            "Action": SESSION_MANAGER_REGISTRATION,
            "Resource": f"arn:{context.partition}:ec2:{context.region}:{context.account}:instance/*",
        },
        {
            "Sid": "SessionManager",
            "Effect": "Allow",
            "Action": [a for a in SESSION_MANAGER_ACTIONS if a != SESSION_MANAGER_REGISTRATION],
            "Resource": "*",
        },
    ]
    if prefixes:
        statements += [
            {
                "Sid": "ListOwnModelPrefixes",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
            },
            {
                "Sid": "ReadOwnModelWeights",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"{bucket_arn}/{p}*" for p in prefixes],
            },
            {
                "Sid": "DecryptWeightsThroughS3",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{context.region}.amazonaws.com"}},
            },
        ]
    if context.warm_pool:
        statements.append(
            {
                "Sid": "CompleteOwnLaunchHook",
                "Effect": "Allow",
                "Action": "autoscaling:CompleteLifecycleAction",
                "Resource": (
                    f"arn:{context.partition}:autoscaling:{context.region}:{context.account}:"
                    f"autoScalingGroup:*:autoScalingGroupName/{context.group}"
                ),
            }
        )
    ecr = cloud_init.ecr_repository(context.image) if context.image else None
    if ecr:
        account, region, repository = ecr
        statements += [
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "PullVllmImage",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                "Resource": f"arn:{context.partition}:ecr:{region}:{account}:repository/{repository}",
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}
