"""The planned bill of materials: the cost-relevant resources the components will register for a plan.

The policy gate in `__main__.py` prices a plan *before* any resource is registered, so it needs the
records the components are about to create. They are built here from the Plan alone, following the
resource contract (docs: the brief's "Resource contract"; inputs camelCase as preview props), and
priced by the very functions that price the recorded resources. Only inputs a pricing function reads
are filled in; free resources (VPC, subnets, security groups, routes, IAM) are left out, except the
private subnets, which tell a pricing function without a plan how many AZs there are.

A test compares this BOM's price with the price of the resources recorded under mocks: when a
component changes what it builds, that test says so.
"""

from __future__ import annotations

from typing import Any

from inferplan.plan import LOG_RETENTION_DAYS, Plan
from inferplan.resources import ResourceRecord

# Sizes the components build with and this BOM prices; components import them from here so the two
# cannot drift (the BOM-vs-recorded test checks they did not). The router's tasks, CPU and memory are
# the plan's (`plan.front_door.router.sizing`), read by both the Router component and this BOM.
ROOT_VOLUME_IOPS = 4000  # gp3 root volume of a GPU node (weights are read from it at start)
ROOT_VOLUME_THROUGHPUT = 1000  # MB/s, gp3's maximum


def _tags(plan: Plan, component: str, **extra: str) -> dict[str, str]:
    return {**plan.tags, "inferplan:component": component, **extra}


def _asg_tags(tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in tags.items()]


def pool_records(plan: Plan) -> list[ResourceRecord]:
    records: list[ResourceRecord] = []
    limit = plan.platform.autoscaling.max_nodes_per_pool
    for pool in plan.pools:
        tags = _tags(plan, "pool", **{"inferplan:pool": pool.name})
        percent = 100 if pool.capacity == "on_demand" else 0
        base = pool.on_demand_base if pool.capacity == "mixed" else 0
        max_nodes = pool.max_nodes if pool.max_nodes is not None else limit
        asg: dict[str, Any] = {
            "minSize": float(pool.min_nodes),
            "maxSize": float(max_nodes),
            "desiredCapacity": float(pool.nodes_needed),
            "tags": _asg_tags(tags),
        }
        if pool.capacity == "on_demand":  # the instance type is the launch template's
            asg["launchTemplate"] = {"version": "1"}
        else:
            asg["mixedInstancesPolicy"] = {
                "instancesDistribution": {
                    "onDemandBaseCapacity": float(base),
                    "onDemandPercentageAboveBaseCapacity": float(percent),
                    "spotAllocationStrategy": "price-capacity-optimized",
                },
                "launchTemplate": {"overrides": [{"instanceType": pool.instance_type}]},
            }
        if pool.warm_pool:
            asg["warmPool"] = {"minSize": float(pool.warm_pool), "poolState": "Stopped"}
        records.append(ResourceRecord("aws:autoscaling/group:Group", plan.name(pool.name, "asg"), asg))
        records.append(
            ResourceRecord(
                "aws:ec2/launchTemplate:LaunchTemplate",
                plan.name(pool.name, "lt"),
                {
                    "instanceType": pool.instance_type,
                    "blockDeviceMappings": [
                        {
                            "deviceName": "/dev/sda1",
                            "ebs": {
                                "volumeSize": float(pool.root_volume_gib),
                                "volumeType": "gp3",
                                "iops": float(ROOT_VOLUME_IOPS),
                                "throughput": float(ROOT_VOLUME_THROUGHPUT),
                                "encrypted": "true",
                            },
                        }
                    ],
                    "tags": tags,
                },
            )
        )
        records.append(
            ResourceRecord(
                "aws:cloudwatch/logGroup:LogGroup",
                plan.name(pool.name, "logs"),
                {"retentionInDays": float(LOG_RETENTION_DAYS), "kmsKeyId": "planned", "tags": tags},
            )
        )
    return records


def network_records(plan: Plan) -> list[ResourceRecord]:
    net = plan.network
    tags = _tags(plan, "network")
    zones = [f"az{i + 1}" for i in range(net.availability_zones)]
    subnet_ids = [f"{plan.name('private', z)}-id" for z in zones]
    records = [
        ResourceRecord(
            "aws:ec2/subnet:Subnet",
            plan.name("private", zone),
            {"cidrBlock": cidr, "tags": {**tags, "inferplan:tier": "private"}},
        )
        for zone, cidr in zip(zones, net.private_subnets, strict=True)
    ]
    records += [
        ResourceRecord("aws:ec2/natGateway:NatGateway", plan.name("nat", zones[i]), {"tags": tags})
        for i in range(net.nat_gateways)
    ]
    for service in net.interface_endpoints:
        records.append(
            ResourceRecord(
                "aws:ec2/vpcEndpoint:VpcEndpoint",
                plan.name(service.replace(".", "-"), "endpoint"),
                {
                    "serviceName": f"com.amazonaws.{plan.region}.{service}",
                    "vpcEndpointType": "Interface",
                    "subnetIds": subnet_ids,
                    "tags": tags,
                },
            )
        )
    for service in net.gateway_endpoints:
        records.append(
            ResourceRecord(
                "aws:ec2/vpcEndpoint:VpcEndpoint",
                plan.name(service, "gateway-endpoint"),
                {"serviceName": f"com.amazonaws.{plan.region}.{service}", "vpcEndpointType": "Gateway"},
            )
        )
    return records


def edge_records(plan: Plan) -> list[ResourceRecord]:
    """Gateway, load balancer, router, secrets, the stack key, the weights bucket and their logs."""
    gateway, router = _tags(plan, "gateway"), _tags(plan, "router")
    sizing = plan.front_door.router.sizing
    records = [
        ResourceRecord("aws:kms/key:Key", plan.name("key"), {"tags": _tags(plan, "encryption")}),
        ResourceRecord(
            "aws:apigatewayv2/api:Api", plan.name("api"), {"protocolType": "HTTP", "tags": gateway}
        ),
        ResourceRecord(
            "aws:cloudwatch/logGroup:LogGroup",
            plan.name("gateway", "logs"),
            {"retentionInDays": float(LOG_RETENTION_DAYS), "kmsKeyId": "planned", "tags": gateway},
        ),
        ResourceRecord(
            "aws:lb/loadBalancer:LoadBalancer",
            plan.name("alb"),
            {"loadBalancerType": "application", "internal": True, "tags": router},
        ),
        ResourceRecord(
            "aws:ecs/taskDefinition:TaskDefinition",
            plan.name("router"),
            {
                "requiresCompatibilities": ["FARGATE"],
                "cpu": str(sizing.cpu_units),
                "memory": str(sizing.memory_mib),
                "tags": router,
            },
        ),
        ResourceRecord(
            "aws:ecs/service:Service",
            plan.name("router"),
            {
                "launchType": "FARGATE",
                "desiredCount": float(sizing.tasks),
                "networkConfiguration": {"assignPublicIp": False},
                "tags": router,
            },
        ),
        ResourceRecord(
            "aws:cloudwatch/logGroup:LogGroup",
            plan.name("router", "logs"),
            {"retentionInDays": float(LOG_RETENTION_DAYS), "kmsKeyId": "planned", "tags": router},
        ),
        ResourceRecord("aws:s3/bucket:Bucket", plan.name("models"), {"tags": _tags(plan, "model-store")}),
    ]
    records += [
        ResourceRecord(
            "aws:secretsmanager/secret:Secret",
            plan.name(entry.secret),
            {"name": plan.secret_name(entry.secret), "kmsKeyId": "planned", "tags": _tags(plan, "secrets")},
        )
        for entry in {f.secret: f for f in plan.platform.frontier}.values()
    ]
    records.append(
        ResourceRecord(
            "aws:secretsmanager/secret:Secret",
            plan.name("router", "master-key"),
            {"name": plan.front_door.router.master_key_secret, "kmsKeyId": "planned", "tags": router},
        )
    )
    return records


def bill_of_materials(plan: Plan) -> tuple[ResourceRecord, ...]:
    """The cost-relevant resources the components will register for `plan`."""
    return (*network_records(plan), *edge_records(plan), *pool_records(plan))
