"""One test per pricing function, each on a hand-written resource with the money worked out by hand.

Prices used (inferplan/catalog, us-east-1): g6e.xlarge 1.861/h, p5.48xlarge 55.04/h, g5.xlarge 1.006/h,
gp3 0.08/GB-month, NAT 0.045/h and 0.045/GB, egress 0.09/GB, interface endpoint 0.01/AZ-hour, ALB
0.0225/h, LCU 0.008/h, HTTP API 1.00/M requests, S3 0.023/GB-month, Fargate 0.04048/vCPU-h and
0.004445/GB-h, logs 0.50/GB, KMS 1.00/key-month, secret 0.40/month. A month is 730 hours.
"""

from __future__ import annotations

from typing import Any

import pytest

from inferplan.cost import PricingContext, price_record, price_resources
from inferplan.cost.pricing import NO_USAGE, REGISTRY
from inferplan.cost.usage import Amount, Traffic
from inferplan.pricebook import PriceBook
from inferplan.resources import ResourceRecord

H = 730.0


def ctx(*records: ResourceRecord, region: str = "us-east-1", **kwargs: Any) -> PricingContext:
    overrides = kwargs.pop("overrides", None)
    return PricingContext(prices=PriceBook.builtin(region, overrides=overrides), records=records, **kwargs)


def asg(
    pool: str, itype: str, low: float, high: float, desired: float | None, **extra: Any
) -> ResourceRecord:
    inputs: dict[str, Any] = {
        "minSize": low,
        "maxSize": high,
        "mixedInstancesPolicy": {
            "instancesDistribution": extra.pop(
                "distribution", {"onDemandPercentageAboveBaseCapacity": 100.0}
            ),
            "launchTemplate": {"overrides": [{"instanceType": itype}]},
        },
        "tags": [{"key": "inferplan:pool", "value": pool, "propagateAtLaunch": True}],
        **extra,
    }
    if desired is not None:
        inputs["desiredCapacity"] = desired
    return ResourceRecord("aws:autoscaling/group:Group", f"{pool}-asg", inputs)


def traffic(**amounts: Amount) -> Traffic:
    zero = Amount(0.0, 0.0)
    return Traffic(
        requests=amounts.get("requests", zero),
        alb_lcu_hours=amounts.get("lcu", zero),
        nat_gb=amounts.get("nat", zero),
        egress_gb=amounts.get("egress", zero),
        log_gb={k[4:]: v for k, v in amounts.items() if k.startswith("log_")},
    )


def test_every_contract_type_has_a_pricing_function() -> None:
    assert {
        "aws:autoscaling/group:Group",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/instance:Instance",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:apigatewayv2/api:Api",
        "aws:s3/bucket:Bucket",
        "aws:ecs/service:Service",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:kms/key:Key",
        "aws:secretsmanager/secret:Secret",
    } <= set(REGISTRY)


def test_autoscaling_group_on_demand_expected_from_desired_worst_at_max() -> None:
    record = asg("l40s", "g6e.xlarge", 1.0, 3.0, 2.0)
    (line,) = price_record(record, ctx(record))
    assert line.item == "g6e.xlarge on-demand" and line.unit == "node-hour" and line.bucket == "cloud_gpu"
    assert line.quantity == pytest.approx(2 * H)
    assert line.monthly_usd == pytest.approx(2 * H * 1.861)  # 2,717.06
    assert line.worst_case_usd == pytest.approx(3 * H * 1.861)  # 4,075.59
    assert line.pool == "l40s" and line.as_of == "2025"


def test_autoscaling_group_expected_nodes_come_from_sizing_when_known() -> None:
    record = asg("l40s", "g6e.xlarge", 1.0, 3.0, 3.0)
    (line,) = price_record(record, ctx(record, pool_nodes={"l40s": 1}))
    assert line.monthly_usd == pytest.approx(H * 1.861)
    assert line.worst_case_usd == pytest.approx(3 * H * 1.861)


def test_autoscaling_group_mixed_prices_spot_at_discount_and_worst_case_at_on_demand() -> None:
    dist = {"onDemandBaseCapacity": 1.0, "onDemandPercentageAboveBaseCapacity": 0.0}
    record = asg("h100", "p5.48xlarge", 1.0, 4.0, 3.0, distribution=dist)
    on_demand, spot = price_record(record, ctx(record, overrides={"spot_discount:p5.48xlarge": 0.6}))
    assert on_demand.monthly_usd == pytest.approx(1 * H * 55.04)  # 40,179.20: the base node
    assert spot.unit_usd == pytest.approx(55.04 * 0.4)
    assert spot.monthly_usd == pytest.approx(2 * H * 55.04 * 0.4)  # 32,143.36
    assert spot.worst_case_usd == pytest.approx(3 * H * 55.04)  # 120,537.60: spot may cost on-demand
    assert spot.estimated


def test_autoscaling_group_spot_uses_the_catalog_assumption_by_default() -> None:
    dist = {"onDemandBaseCapacity": 0.0, "onDemandPercentageAboveBaseCapacity": 0.0}
    record = asg("l40s", "g6e.xlarge", 1.0, 1.0, 1.0, distribution=dist)
    (spot,) = price_record(record, ctx(record))
    assert spot.unit_usd == pytest.approx(1.861 * 0.5)
    assert "planning assumption" in spot.source


def test_autoscaling_group_without_a_price_is_shown_unpriced() -> None:
    record = asg("h200", "p5e.48xlarge", 1.0, 2.0, 1.0)
    (line,) = price_record(record, ctx(record))
    assert not line.priced and line.monthly_usd == 0 and line.quantity == pytest.approx(H)
    assert "cost.prices instance:p5e.48xlarge" in line.note
    assert price_resources([record], ctx(record)).unpriced


def test_launch_template_prices_volumes_of_running_and_warm_nodes() -> None:
    group = asg("l40s", "g6e.xlarge", 1.0, 3.0, 2.0, warmPool={"minSize": 1.0, "poolState": "Stopped"})
    template = ResourceRecord(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "l40s-lt",
        {
            "blockDeviceMappings": [{"ebs": {"volumeSize": 500.0, "volumeType": "gp3", "encrypted": "true"}}],
            "tags": {"inferplan:pool": "l40s"},
        },
    )
    running, warm = price_record(template, ctx(group, template))
    assert running.quantity == pytest.approx(1000) and running.unit == "GB-month"
    assert running.monthly_usd == pytest.approx(80.0) and running.worst_case_usd == pytest.approx(120.0)
    assert warm.monthly_usd == pytest.approx(40.0) and warm.scales == "fixed"


def test_launch_template_without_its_group_prices_nothing_and_says_why() -> None:
    template = ResourceRecord(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "lt",
        {"blockDeviceMappings": [{"ebs": {"volumeSize": 500}}], "tags": {"inferplan:pool": "x"}},
    )
    (line,) = price_record(template, ctx(template))
    assert line.monthly_usd == 0 and "no Auto Scaling group" in line.note


def test_ec2_instance_runs_all_month() -> None:
    record = ResourceRecord("aws:ec2/instance:Instance", "box", {"instanceType": "g5.xlarge"})
    (line,) = price_record(record, ctx(record))
    assert line.monthly_usd == pytest.approx(H * 1.006)  # 734.38


def test_nat_gateway_hours_and_its_share_of_frontier_traffic() -> None:
    nats = [ResourceRecord("aws:ec2/natGateway:NatGateway", f"nat-{i}", {}) for i in range(2)]
    t = traffic(nat=Amount(100.0, 400.0), egress=Amount(20.0, 80.0))
    hours, data, out = price_record(nats[0], ctx(*nats, traffic=t))
    assert hours.monthly_usd == pytest.approx(H * 0.045)  # 32.85
    assert data.quantity == pytest.approx(50.0) and data.monthly_usd == pytest.approx(2.25)
    assert data.worst_case_usd == pytest.approx(9.0)
    assert out.monthly_usd == pytest.approx(0.9) and out.worst_case_usd == pytest.approx(3.6)


def test_interface_endpoint_per_az_gateway_endpoint_free() -> None:
    interface = ResourceRecord(
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "ssm",
        {
            "vpcEndpointType": "Interface",
            "subnetIds": ["a", "b", "c"],
            "serviceName": "com.amazonaws.us-east-1.ecr.dkr",
        },
    )
    gateway = ResourceRecord("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcEndpointType": "Gateway"})
    (line,) = price_record(interface, ctx(interface))
    assert line.monthly_usd == pytest.approx(3 * H * 0.01)  # 21.90
    assert "ecr.dkr" in line.item
    assert price_record(gateway, ctx(gateway)) == []


def test_interface_endpoint_with_unknown_subnets_counts_private_subnets() -> None:
    subnets = [
        ResourceRecord("aws:ec2/subnet:Subnet", f"s{i}", {"tags": {"inferplan:tier": "private"}})
        for i in range(2)
    ]
    endpoint = ResourceRecord("aws:ec2/vpcEndpoint:VpcEndpoint", "logs", {"vpcEndpointType": "Interface"})
    (line,) = price_record(endpoint, ctx(*subnets, endpoint))
    assert line.monthly_usd == pytest.approx(2 * H * 0.01)


def test_application_load_balancer_hours_and_lcus() -> None:
    record = ResourceRecord("aws:lb/loadBalancer:LoadBalancer", "alb", {"loadBalancerType": "application"})
    hours, lcu = price_record(record, ctx(record, traffic=traffic(lcu=Amount(365.0, 730.0))))
    assert hours.monthly_usd == pytest.approx(H * 0.0225)  # 16.425
    assert lcu.monthly_usd == pytest.approx(2.92) and lcu.worst_case_usd == pytest.approx(5.84)


def test_network_load_balancer_is_not_silently_free() -> None:
    record = ResourceRecord("aws:lb/loadBalancer:LoadBalancer", "nlb", {"loadBalancerType": "network"})
    (line,) = price_record(record, ctx(record))
    assert not line.priced


def test_http_api_requests() -> None:
    record = ResourceRecord("aws:apigatewayv2/api:Api", "api", {"protocolType": "HTTP"})
    (line,) = price_record(record, ctx(record, traffic=traffic(requests=Amount(10e6, 500e6))))
    assert line.quantity == pytest.approx(10.0) and line.monthly_usd == pytest.approx(10.0)
    assert line.worst_case_usd == pytest.approx(500.0)


def test_http_api_without_a_plan_has_no_usage_and_says_so() -> None:
    record = ResourceRecord("aws:apigatewayv2/api:Api", "api", {"protocolType": "HTTP"})
    (line,) = price_record(record, PricingContext.for_records([record], "us-east-1"))
    assert line.monthly_usd == 0 and NO_USAGE in line.note and line.estimated


def test_weights_bucket_stores_the_served_weights() -> None:
    record = ResourceRecord(
        "aws:s3/bucket:Bucket", "models", {"tags": {"inferplan:component": "model-store"}}
    )
    other = ResourceRecord("aws:s3/bucket:Bucket", "config", {"tags": {"inferplan:component": "router"}})
    (line,) = price_record(record, ctx(record, model_store_gb=150.0))
    assert line.monthly_usd == pytest.approx(150 * 0.023)  # 3.45
    assert price_record(other, ctx(other)) == []


def test_fargate_service_from_its_task_definition() -> None:
    tags = {"inferplan:component": "router"}
    task = ResourceRecord(
        "aws:ecs/taskDefinition:TaskDefinition",
        "router",
        {"requiresCompatibilities": ["FARGATE"], "cpu": "1024", "memory": "2048", "tags": tags},
    )
    service = ResourceRecord(
        "aws:ecs/service:Service", "router", {"launchType": "FARGATE", "desiredCount": 2.0, "tags": tags}
    )
    vcpu, memory = price_record(service, ctx(task, service))
    assert vcpu.monthly_usd == pytest.approx(2 * H * 1 * 0.04048)  # 59.10
    assert memory.monthly_usd == pytest.approx(2 * H * 2 * 0.004445)  # 12.98
    assert vcpu.bucket == "operations"
    assert price_record(task, ctx(task, service)) == []  # priced once, through the service


def test_log_group_ingests_its_component_share() -> None:
    router = ResourceRecord(
        "aws:cloudwatch/logGroup:LogGroup", "r", {"tags": {"inferplan:component": "router"}}
    )
    pool = ResourceRecord(
        "aws:cloudwatch/logGroup:LogGroup",
        "p",
        {"tags": {"inferplan:component": "pool", "inferplan:pool": "h100"}},
    )
    t = traffic(log_router=Amount(10.0, 100.0), **{"log_pool:h100": Amount(4.0, 40.0)})
    (line,) = price_record(router, ctx(router, traffic=t))
    assert line.monthly_usd == pytest.approx(5.0) and line.worst_case_usd == pytest.approx(50.0)
    (line,) = price_record(pool, ctx(pool, traffic=t))
    assert line.monthly_usd == pytest.approx(2.0)


def test_the_flow_log_group_is_priced_as_vended_logs() -> None:
    flow = ResourceRecord(
        "aws:cloudwatch/logGroup:LogGroup", "vpc-flow", {"tags": {"inferplan:component": "network"}}
    )
    (line,) = price_record(flow, ctx(flow, traffic=traffic(log_network=Amount(20.0, 300.0))))
    assert line.item == "VPC flow logs (vended to CloudWatch Logs)"
    assert line.monthly_usd == pytest.approx(20 * 0.50) and line.worst_case_usd == pytest.approx(300 * 0.50)


def test_the_access_log_bucket_stores_a_year_of_alb_logs() -> None:
    bucket = ResourceRecord("aws:s3/bucket:Bucket", "logs", {"tags": {"inferplan:component": "access-logs"}})
    (line,) = price_record(bucket, ctx(bucket, traffic=traffic(**{"log_access-logs": Amount(2.0, 10.0)})))
    # 2 GB written a month, kept 365 days: 24 GB at steady state, at S3 Standard's $0.023/GB-month.
    assert line.monthly_usd == pytest.approx(24 * 0.023) and line.worst_case_usd == pytest.approx(120 * 0.023)
    (unknown,) = price_record(bucket, ctx(bucket))  # no plan: usage unknown, priced at 0 and said so
    assert unknown.monthly_usd == 0.0 and "usage unknown" in unknown.note


def test_kms_key_and_secret_are_monthly_items() -> None:
    key = ResourceRecord("aws:kms/key:Key", "key", {})
    secret = ResourceRecord("aws:secretsmanager/secret:Secret", "s", {"kmsKeyId": "k"})
    assert [ln.monthly_usd for ln in price_record(key, ctx(key))] == [pytest.approx(1.0)]
    assert [ln.monthly_usd for ln in price_record(secret, ctx(secret))] == [pytest.approx(0.40)]


def test_region_without_a_row_is_estimated_from_the_factor() -> None:
    record = ResourceRecord("aws:ec2/natGateway:NatGateway", "nat", {})
    hours = price_record(record, ctx(record, region="eu-central-1"))[0]
    assert hours.unit_usd == pytest.approx(0.045 * 1.25) and hours.estimated
    assert "us-east-1 x 1.25" in hours.note


def test_instance_priced_in_its_own_region_is_not_estimated() -> None:
    record = asg("l40s", "g6e.xlarge", 1.0, 1.0, 1.0)
    (line,) = price_record(record, ctx(record, region="eu-central-1"))
    assert line.unit_usd == pytest.approx(2.327) and not line.estimated


def test_mock_style_inputs_strings_and_component_resources() -> None:
    record = asg("l40s", "g6e.xlarge", "1", "3", "2")  # type: ignore[arg-type]
    (line,) = price_record(record, ctx(record))
    assert line.quantity == pytest.approx(2 * H)
    component = ResourceRecord("aws:kms/key:Key", "k", {}, custom=False)
    assert price_record(component, ctx(component)) == []


def test_worst_case_is_never_below_expected_for_any_line() -> None:
    records = [
        asg("a", "g6e.xlarge", 2.0, 1.0, 2.0),  # a maxSize below the expectation
        ResourceRecord("aws:apigatewayv2/api:Api", "api", {"protocolType": "HTTP"}),
    ]
    costs = price_resources(records, ctx(*records, traffic=traffic(requests=Amount(10e6, 1e6))))
    assert all(ln.worst_case_usd >= ln.monthly_usd for ln in costs.lines)
    assert costs.monthly_worst_case_usd >= costs.monthly_expected_usd > 0
