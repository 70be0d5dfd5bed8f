"""One GPU node pool: an EC2 Auto Scaling group of identical GPU nodes in the private subnets.

Everything here follows the PoolPlan (shape, capacity, min/max, warm pool, root volume); the only
choices made in this file are hardening and operations defaults:
- launch template: the AWS Deep Learning Base GPU AMI (looked up, see AMI_NAME), IMDSv2 only with a
  hop limit of 2 so containers reach the metadata service, an encrypted gp3 root volume, no public IP,
  detailed monitoring, no key pair;
- a dedicated security group that admits only the load balancer, on vLLM's port (no SSH: shell access
  is SSM Session Manager through the VPC endpoints);
- an instance role that may read only its models' prefixes in the model bucket (decrypting with the
  stack key through S3 only) and write only its pool's log group;
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

from components.logs import stack_log_group
from inferplan import cloud_init

# gp3 beyond its 125 MB/s baseline (weights are written from S3 and read into GPU memory at boot); the
# cost engine's bill of materials prices the same figures, so they are defined there once.
from inferplan.cost.bom import ROOT_VOLUME_IOPS, ROOT_VOLUME_THROUGHPUT
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


def node_role_name(name_prefix: str, pool: str) -> str:
    """IAM role of a pool's nodes; the model store's bucket policy names it before it exists."""
    return f"{name_prefix}-{pool}-node"


def instances_distribution(
    pool: PoolPlan,
) -> aws.autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs:
    """spot: all spot; mixed: `on_demand_base` on demand, spot above it (on-demand pools need no policy)."""
    if pool.capacity == "spot":
        base, above = 0, 0
    else:
        base, above = pool.on_demand_base, 0
    return aws.autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs(
        on_demand_base_capacity=base,
        on_demand_percentage_above_base_capacity=above,
        spot_allocation_strategy="price-capacity-optimized",
    )


@dataclass
class GpuNodePoolArgs:
    pool: PoolPlan
    name_prefix: str
    region: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # the private subnets of every AZ
    load_balancer_security_group_id: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    tags: dict[str, str]
    user_data: pulumi.Input[str] | None = None  # base64 cloud-init (VllmService.user_data)
    target_group_arns: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    image: pulumi.Input[str] | None = None  # the vLLM image; an ECR image lets the role pull from it
    alarm_actions: Sequence[pulumi.Input[str]] = field(default_factory=tuple)  # e.g. an SNS topic ARN
    engine_slots: int = 0  # the served model's max_num_seqs: the load the scaling policy normalises by


class GpuNodePool(pulumi.ComponentResource):
    group: aws.autoscaling.Group
    launch_template: aws.ec2.LaunchTemplate
    security_group: aws.ec2.SecurityGroup
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: GpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:GpuNodePool", name, None, opts)
        pool, prefix = args.pool, args.name_prefix
        if pool.max_nodes is None:
            # The policy gate refuses a pool without a ceiling before any resource is registered.
            raise pulumi.RunError(
                f"pool '{pool.name}' has no max_nodes; set one (the autoscaler needs a ceiling)"
            )
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        # Output forms of the invokes: a blocking invoke per component costs O(pending work) each.
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        base = f"{prefix}-{pool.name}"
        tags = {**args.tags, "inferplan:component": "pool", "inferplan:pool": pool.name}
        if pool.models:
            tags["inferplan:model"] = ",".join(pool.models)
        group_name = cloud_init.group_name(prefix, pool.name)

        def tagged(suffix: str) -> dict[str, str]:
            return {**tags, "Name": f"{base}-{suffix}"}

        self.log_group = stack_log_group(
            f"{base}-logs", prefix, pool.name, args.key_arn, tagged("logs"), self
        )

        self.security_group = aws.ec2.SecurityGroup(
            f"{base}-nodes-sg",
            name=f"{base}-nodes",
            vpc_id=args.vpc_id,
            description=f"inferplan {base} GPU nodes: vLLM from the load balancer only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=VLLM_PORT,
                    to_port=VLLM_PORT,
                    security_groups=[args.load_balancer_security_group_id],
                    description="vLLM from the internal load balancer",
                )
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=["0.0.0.0/0"],
                    description="HTTPS: S3 and AWS endpoints (and the image registry via NAT, if any)",
                )
            ],
            tags=tagged("nodes"),
            opts=child,
        )

        self.role = aws.iam.Role(
            f"{base}-node-role",
            name=node_role_name(prefix, pool.name),
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
            tags=tagged("node"),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{base}-node-ssm",
            role=self.role.name,
            policy_arn=partition.apply(lambda p: f"arn:{p}:iam::aws:policy/AmazonSSMManagedInstanceCore"),
            opts=child,
        )

        def policy(partition: str, account: str, image: str | None, bucket: str, key: str, logs: str) -> str:
            context = _PolicyContext(
                partition=partition,
                account=account,
                region=args.region,
                models=pool.models,
                group=group_name,
                warm_pool=pool.warm_pool > 0,
                image=image,
            )
            return json.dumps(node_policy(context, bucket_arn=bucket, key_arn=key, log_group_arn=logs))

        aws.iam.RolePolicy(
            f"{base}-node-policy",
            role=self.role.id,
            policy=pulumi.Output.all(
                partition, account, args.image, args.bucket_arn, args.key_arn, self.log_group.arn
            ).apply(lambda a: policy(*a)),
            opts=child,
        )
        profile = aws.iam.InstanceProfile(
            f"{base}-node-profile",
            name=node_role_name(prefix, pool.name),
            role=self.role.name,
            tags=tagged("node"),
            opts=child,
        )

        ami = aws.ec2.get_ami_output(
            owners=["amazon"],
            most_recent=True,
            filters=[
                aws.ec2.GetAmiFilterArgs(name="name", values=[AMI_NAME]),
                aws.ec2.GetAmiFilterArgs(name="architecture", values=["x86_64"]),
                aws.ec2.GetAmiFilterArgs(name="state", values=["available"]),
            ],
            opts=invoke,
        )
        instance_tags = {**tags, "Name": f"{base}-node"}
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{base}-lt",
            name=base,
            description=f"inferplan {base}: {pool.instance_type} serving {', '.join(pool.models) or 'nothing'}",
            image_id=ami.id,
            instance_type=pool.instance_type,
            user_data=args.user_data,
            update_default_version=True,
            ebs_optimized="true",
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                http_put_response_hop_limit=2,  # one hop more for containers
                instance_metadata_tags="disabled",
            ),
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ami.root_device_name.apply(lambda name: name or ROOT_DEVICE),
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=pool.root_volume_gib,
                        volume_type="gp3",
                        throughput=ROOT_VOLUME_THROUGHPUT,
                        iops=ROOT_VOLUME_IOPS,
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
            tags=tagged("lt"),
            opts=child,
        )

        max_nodes = pool.max_nodes
        # The planner reports a pool that needs more than its ceiling; the group cannot start above it.
        desired = min(max(pool.nodes_needed, pool.min_nodes), max_nodes)
        serving = bool(args.target_group_arns)
        warm_pool = (
            aws.autoscaling.GroupWarmPoolArgs(
                pool_state="Stopped",  # pay for EBS only; start skips the download
                min_size=pool.warm_pool,
                # Equal to min_size, or AWS keeps (max - desired) instances warm, not warm_pool.
                max_group_prepared_capacity=pool.warm_pool,
                instance_reuse_policy=aws.autoscaling.GroupWarmPoolInstanceReusePolicyArgs(
                    reuse_on_scale_in=True
                ),
            )
            if pool.warm_pool > 0
            else None
        )
        # A warm instance must not be stopped before its weights are local: the node completes this
        # hook at the end of its prepare step (cloud_init.prepare_script); CONTINUE if it never does.
        hooks = (
            [
                aws.autoscaling.GroupInitialLifecycleHookArgs(
                    name=cloud_init.WEIGHTS_READY_HOOK,
                    lifecycle_transition="autoscaling:EC2_INSTANCE_LAUNCHING",
                    default_result="CONTINUE",
                    heartbeat_timeout=cloud_init.NODE_READY_SECONDS,
                )
            ]
            if pool.warm_pool > 0
            else None
        )
        # The template's version, not "$Latest": a new version starts an instance refresh.
        version = self.launch_template.latest_version.apply(str)
        template_spec = aws.autoscaling.GroupLaunchTemplateArgs(id=self.launch_template.id, version=version)
        self.group = aws.autoscaling.Group(
            f"{base}-asg",
            name=group_name,
            min_size=pool.min_nodes,
            max_size=max_nodes,
            desired_capacity=desired,
            vpc_zone_identifiers=list(args.subnet_ids),
            # On-demand pools take the template directly: AWS refuses a warm pool on a group with a
            # mixed-instances policy. Spot and mixed pools need the policy for their distribution.
            launch_template=template_spec if pool.capacity == "on_demand" else None,
            mixed_instances_policy=None
            if pool.capacity == "on_demand"
            else aws.autoscaling.GroupMixedInstancesPolicyArgs(
                instances_distribution=instances_distribution(pool),
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
            ),
            capacity_rebalance=pool.capacity != "on_demand",
            warm_pool=warm_pool,
            initial_lifecycle_hooks=hooks,
            target_group_arns=list(args.target_group_arns),
            health_check_type="ELB" if serving else "EC2",
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
                for key, value in sorted(instance_tags.items())
            ],
            # Target tracking owns the desired count once the group exists.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"]),
        )

        if serving:
            tt = aws.autoscaling

            def engine_metric(
                ident: str, metric: str
            ) -> tt.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricArgs:
                return tt.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricArgs(
                    id=ident,
                    return_data=False,
                    metric_stat=tt.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatArgs(
                        stat="Average",
                        metric=tt.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatMetricArgs(
                            namespace=cloud_init.METRIC_NAMESPACE,
                            metric_name=metric,
                            dimensions=[
                                tt.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatMetricDimensionArgs(
                                    name=cloud_init.GROUP_DIMENSION, value=group_name
                                )
                            ],
                        ),
                    ),
                )

            slots = max(1, args.engine_slots)
            tt.Policy(
                f"{base}-queue-depth",
                name=f"{base}-queue-depth",
                autoscaling_group_name=self.group.name,
                policy_type="TargetTrackingScaling",
                estimated_instance_warmup=cloud_init.ENGINE_WARMUP_SECONDS,
                target_tracking_configuration=tt.PolicyTargetTrackingConfigurationArgs(
                    # cloud_init.LOAD_TARGET: (running + waiting) / max_num_seqs per engine, group average.
                    target_value=cloud_init.LOAD_TARGET,
                    customized_metric_specification=tt.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationArgs(
                        metrics=[
                            engine_metric("running", cloud_init.RUNNING_METRIC),
                            engine_metric("waiting", cloud_init.WAITING_METRIC),
                            tt.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricArgs(
                                id="load",
                                expression=f"(running + waiting) / {slots}",
                                label="requests in flight or queued per batch slot",
                                return_data=True,
                            ),
                        ]
                    ),
                ),
                opts=child,
            )

        aws.cloudwatch.MetricAlarm(
            f"{base}-at-max-nodes",
            name=f"{base}-at-max-nodes",
            alarm_description=(
                f"{base} has run at its ceiling of {max_nodes} nodes for {5 * AT_CEILING_PERIODS} minutes: "
                "requests queue or fall back; raise max_nodes (and the budget) or add a pool"
            ),
            namespace="AWS/AutoScaling",
            metric_name="GroupInServiceInstances",
            dimensions={"AutoScalingGroupName": group_name},
            statistic="Maximum",
            period=300,
            evaluation_periods=AT_CEILING_PERIODS,
            threshold=float(max_nodes),
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=list(args.alarm_actions),
            tags=tagged("at-max-nodes"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.group]),
        )

        self.register_outputs(
            {
                "group_name": self.group.name,
                "launch_template_id": self.launch_template.id,
                "security_group_id": self.security_group.id,
                "role_arn": self.role.arn,
                "log_group": self.log_group.name,
            }
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
    """The node role's inline policy: its models' weights, its log group, and nothing else of this stack."""
    prefixes = [cloud_init.weights_prefix(m) for m in context.models]
    statements: list[dict[str, object]] = [
        {
            "Sid": "WriteOwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        }
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
