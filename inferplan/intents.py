"""Resource intents: the cost-relevant resources a plan will register, stated as data before any exists.

The policy gate prices a plan before the program registers anything, so it needs to know what the
components are about to create. Each function here reads one sub-plan and states its resources in
the language the pricing functions read (Pulumi type token, name, camelCase inputs as preview props),
copying every figure from the sub-plan — the sub-plan is also what the component builds from, so a
size exists once. Only inputs a pricing function reads are filled in; free resources (VPC, subnets,
security groups, routes, IAM) are left out, except the private subnets, which tell a pricing function
without a plan how many AZs there are. A test prices these intents against the resources the program
registers under mocks: any drift fails it.
"""

from __future__ import annotations

import json
from typing import Any

from inferplan import names
from inferplan.perimeter import PLANNED
from inferplan.plan import (
    LOG_RETENTION_DAYS,
    AccessLogPlan,
    LogGroupPlan,
    ModelStorePlan,
    NetworkPlan,
    Plan,
    PoolPlan,
    Tags,
)
from inferplan.resources import ResourceRecord

ASG = "aws:autoscaling/group:Group"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def _asg_tags(tags: Tags) -> list[dict[str, Any]]:
    return [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in tags.items()]


def log_group_intent(group: LogGroupPlan) -> ResourceRecord:
    return ResourceRecord(
        LOG_GROUP,
        group.resource_name,
        {"retentionInDays": float(group.retention_days), "kmsKeyId": "planned", "tags": dict(group.tags)},
    )


def pool_intents(pool: PoolPlan) -> tuple[ResourceRecord, ...]:
    """The Auto Scaling group, its launch template (shape, root volume) and its log group."""
    asg: dict[str, Any] = {
        "minSize": float(pool.min_nodes),
        "maxSize": float(pool.max_nodes),
        "desiredCapacity": float(pool.desired_nodes),
        "tags": _asg_tags(pool.tags),
    }
    if pool.capacity == "on_demand":  # the instance type is the launch template's
        asg["launchTemplate"] = {"version": "1"}
    else:
        asg["mixedInstancesPolicy"] = {
            "instancesDistribution": {
                "onDemandBaseCapacity": float(pool.on_demand_base),
                "onDemandPercentageAboveBaseCapacity": float(pool.on_demand_percent_above_base),
                "spotAllocationStrategy": "price-capacity-optimized",
            },
            "launchTemplate": {"overrides": [{"instanceType": pool.instance_type}]},
        }
    if pool.warm_pool:
        asg["warmPool"] = {"minSize": float(pool.warm_pool), "poolState": "Stopped"}
    volume = pool.root_volume
    template = {
        "instanceType": pool.instance_type,
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/sda1",
                "ebs": {
                    "volumeSize": float(volume.size_gib),
                    "volumeType": volume.volume_type,
                    "iops": float(volume.iops),
                    "throughput": float(volume.throughput_mb_s),
                    "encrypted": "true",
                },
            }
        ],
        "tags": dict(pool.tags),
    }
    return (
        ResourceRecord(ASG, f"{pool.resource_prefix}-asg", asg),
        ResourceRecord(LAUNCH_TEMPLATE, f"{pool.resource_prefix}-lt", template),
        log_group_intent(pool.log_group),
    )


def network_intents(net: NetworkPlan) -> tuple[ResourceRecord, ...]:
    prefix, tags = net.name_prefix, dict(net.tags)
    zones = [f"az{i + 1}" for i in range(net.availability_zones)]
    subnet_ids = [f"{names.physical(prefix, 'private', z)}-id" for z in zones]
    records = [
        ResourceRecord(
            "aws:ec2/subnet:Subnet",
            names.physical(prefix, "private", zone),
            {"cidrBlock": cidr, "tags": {**tags, "inferplan:tier": "private"}},
        )
        for zone, cidr in zip(zones, net.private_subnets, strict=True)
    ]
    records += [
        ResourceRecord(
            "aws:ec2/natGateway:NatGateway", names.physical(prefix, "nat", zones[i]), {"tags": tags}
        )
        for i in range(net.nat_gateways)
    ]
    records += [
        ResourceRecord(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            names.physical(prefix, service.replace(".", "-"), "endpoint"),
            {
                "serviceName": f"com.amazonaws.{net.region}.{service}",
                "vpcEndpointType": "Interface",
                "subnetIds": subnet_ids,
                "policy": json.dumps(net.endpoint_policy(service).document(PLANNED)),
                "tags": tags,
            },
        )
        for service in net.interface_endpoints
    ]
    records += [
        ResourceRecord(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            names.physical(prefix, service, "gateway-endpoint"),
            {
                "serviceName": f"com.amazonaws.{net.region}.{service}",
                "vpcEndpointType": "Gateway",
                "policy": json.dumps(net.endpoint_policy(service).document(PLANNED)),
            },
        )
        for service in net.gateway_endpoints
    ]
    if net.flow_logs is not None:
        records.append(log_group_intent(net.flow_logs))
    return tuple(records)


def store_intents(store: ModelStorePlan, logs: AccessLogPlan) -> tuple[ResourceRecord, ...]:
    """The weights bucket and the access-log bucket (priced by what they hold)."""
    return (
        ResourceRecord(
            "aws:s3/bucket:Bucket",
            names.physical(store.resource_prefix, store.bucket_purpose),
            {"tags": dict(store.tags)},
        ),
        ResourceRecord(
            "aws:s3/bucket:Bucket",
            names.physical(logs.resource_prefix, logs.bucket_purpose),
            {"tags": dict(logs.tags)},
        ),
    )


def edge_intents(plan: Plan) -> tuple[ResourceRecord, ...]:
    """Gateway, load balancer, router, secrets, the stack key and their logs."""
    stack = plan.stack
    gateway = {**plan.tags, "inferplan:component": "gateway"}
    router = {**plan.tags, "inferplan:component": "router"}
    sizing = plan.front_door.router.sizing  # the Router component builds the same task
    records = [
        ResourceRecord(
            "aws:kms/key:Key", names.physical(plan.key.resource_prefix, "key"), {"tags": dict(plan.key.tags)}
        ),
        ResourceRecord(
            "aws:apigatewayv2/api:Api",
            names.physical(stack, "api"),
            {"protocolType": "HTTP", "tags": gateway},
        ),
        ResourceRecord(
            LOG_GROUP,
            names.physical(stack, "gateway", "logs"),
            {"retentionInDays": float(LOG_RETENTION_DAYS), "kmsKeyId": "planned", "tags": gateway},
        ),
        ResourceRecord(
            "aws:lb/loadBalancer:LoadBalancer",
            names.physical(plan.load_balancer.resource_prefix, "alb"),
            {"loadBalancerType": "application", "internal": True, "tags": dict(plan.load_balancer.tags)},
        ),
        ResourceRecord(
            "aws:ecs/taskDefinition:TaskDefinition",
            names.physical(stack, "router"),
            {
                "requiresCompatibilities": ["FARGATE"],
                "cpu": str(sizing.cpu_units),
                "memory": str(sizing.memory_mib),
                "tags": router,
            },
        ),
        ResourceRecord(
            "aws:ecs/service:Service",
            names.physical(stack, "router"),
            {
                "launchType": "FARGATE",
                "desiredCount": float(sizing.tasks),
                "networkConfiguration": {"assignPublicIp": False},
                "tags": router,
            },
        ),
        ResourceRecord(
            LOG_GROUP,
            names.physical(stack, "router", "logs"),
            {"retentionInDays": float(LOG_RETENTION_DAYS), "kmsKeyId": "planned", "tags": router},
        ),
    ]
    secrets = plan.front_door.router.frontier_secrets
    records += [
        ResourceRecord(
            "aws:secretsmanager/secret:Secret",
            names.physical(stack, key),
            {
                "name": secret_name,
                "kmsKeyId": "planned",
                "tags": {**plan.tags, "inferplan:component": "secrets"},
            },
        )
        for key, secret_name in (secrets.secrets if secrets is not None else ())
    ]
    records.append(
        ResourceRecord(
            "aws:secretsmanager/secret:Secret",
            names.physical(stack, "router", "master-key"),
            {"name": plan.front_door.router.master_key_secret, "kmsKeyId": "planned", "tags": router},
        )
    )
    return tuple(records)


def resource_intents(plan: Plan) -> tuple[ResourceRecord, ...]:
    """Every cost-relevant resource the components will register for `plan`."""
    return (
        *network_intents(plan.network),
        *edge_intents(plan),
        *store_intents(plan.store, plan.access_logs),
        *(record for pool in plan.pools for record in pool_intents(pool)),
    )
