"""GpuNodePool: the launch template, security group, role and Auto Scaling group each pool registers."""

from __future__ import annotations

import json

import pytest

from inferplan import cloud_init
from inferplan.plan import VLLM_PORT
from tests.components.recorded import named, of_type, plan_of, record, recorded, tagged
from tests.conftest import EXAMPLE_STACKS, stack_config

ASG = "aws:autoscaling/group:Group"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
SG = "aws:ec2/securityGroup:SecurityGroup"


def pools_and_records(stack):
    return [(pool, recorded(stack)) for pool in plan_of(stack).pools]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_launch_templates_require_imdsv2_with_a_hop_limit_of_one(stack):
    templates = of_type(recorded(stack), LT)
    assert len(templates) == len(plan_of(stack).pools)
    for template in templates:
        options = template.inputs["metadataOptions"]
        assert options["httpTokens"] == "required"
        assert options["httpPutResponseHopLimit"] == 1  # vLLM runs with --network=host: no extra hop
        assert options["httpEndpoint"] == "enabled"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_root_volume_is_encrypted_gp3_sized_by_the_plan(stack):
    for pool, records in pools_and_records(stack):
        template = tagged(records, LT, "inferplan:pool", pool.name)
        ebs = template.get("blockDeviceMappings", 0, "ebs")
        assert ebs["encrypted"] == "true"
        assert ebs["volumeType"] == "gp3"
        assert ebs["volumeSize"] == pool.root_volume_gib


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_nodes_get_no_public_ip_no_key_pair_and_detailed_monitoring(stack):
    for template in of_type(recorded(stack), LT):
        [interface] = template.inputs["networkInterfaces"]
        assert interface["associatePublicIpAddress"] == "false"
        assert "keyName" not in template.inputs
        assert template.inputs["monitoring"] == {"enabled": True}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_node_security_group_admits_only_the_load_balancer_on_the_vllm_port(stack):
    records = recorded(stack)
    alb_sg = named(records, f"{stack}-alb-sg")
    for pool in plan_of(stack).pools:
        group = tagged(records, SG, "inferplan:pool", pool.name)
        [rule] = group.inputs["ingress"]
        assert rule["securityGroups"] == [f"{alb_sg.name}-id"]  # the mock id of the ALB's group
        assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", VLLM_PORT, VLLM_PORT)
        assert not rule.get("cidrBlocks") and not rule.get("ipv6CidrBlocks") and not rule.get("self")
        # ...and nobody adds a rule to it from outside.
        extra = [
            r
            for r in of_type(records, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            + of_type(records, "aws:ec2/securityGroupRule:SecurityGroupRule")
            if r.inputs.get("securityGroupId") == f"{group.name}-id"
        ]
        assert extra == []
        # The launch template puts exactly this group on the node.
        template = tagged(records, LT, "inferplan:pool", pool.name)
        assert template.get("networkInterfaces", 0, "securityGroups") == [f"{group.name}-id"]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_no_security_group_opens_ssh(stack):
    records = recorded(stack)
    rules = [rule for g in of_type(records, SG) for rule in g.inputs.get("ingress", [])]
    rules += [r.inputs for r in of_type(records, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")]
    for rule in rules:
        low = rule.get("fromPort", 0)
        high = rule.get("toPort", 65535)
        assert not low <= 22 <= high, rule


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_group_size_follows_the_spec_and_the_plan(stack):
    spec = {p["name"]: p for p in stack_config(stack)["inferplan:platform"]["pools"]}
    for pool, records in pools_and_records(stack):
        group = tagged(records, ASG, "inferplan:pool", pool.name)
        assert group.inputs["minSize"] == spec[pool.name]["min_nodes"]
        assert group.inputs["maxSize"] == spec[pool.name]["max_nodes"]
        assert group.inputs["desiredCapacity"] == pool.nodes_needed
        assert (
            len(group.inputs["vpcZoneIdentifiers"])
            == stack_config(stack)["inferplan:platform"]["network"]["availability_zones"]
        )
        assert all("private" in subnet for subnet in group.inputs["vpcZoneIdentifiers"])


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_on_demand_pools_take_the_launch_template_directly(stack):
    # AWS refuses a warm pool on a group with a mixed-instances policy, so on-demand pools have none.
    for pool, records in pools_and_records(stack):
        group = tagged(records, ASG, "inferplan:pool", pool.name)
        template = tagged(records, LT, "inferplan:pool", pool.name)
        assert "mixedInstancesPolicy" not in group.inputs
        assert group.inputs["launchTemplate"]["id"] == f"{template.name}-id"
        assert template.inputs["instanceType"] == pool.instance_type
        assert group.inputs["capacityRebalance"] is False


def _capacity(kind, base=0):
    def edit(platform):
        platform["pools"][0].update(capacity=kind, on_demand_base=base, warm_pool=0)

    return edit


def test_spot_pool_is_all_spot_with_capacity_rebalance():
    records = record("dev", _capacity("spot"))
    [group] = of_type(records, ASG)
    distribution = group.inputs["mixedInstancesPolicy"]["instancesDistribution"]
    assert distribution["onDemandBaseCapacity"] == 0
    assert distribution["onDemandPercentageAboveBaseCapacity"] == 0
    assert distribution["spotAllocationStrategy"] == "price-capacity-optimized"
    assert group.inputs["capacityRebalance"] is True


def test_mixed_pool_keeps_its_on_demand_base_and_spot_above_it():
    records = record("dev", _capacity("mixed", base=1))
    [group] = of_type(records, ASG)
    distribution = group.inputs["mixedInstancesPolicy"]["instancesDistribution"]
    assert distribution["onDemandBaseCapacity"] == 1
    assert distribution["onDemandPercentageAboveBaseCapacity"] == 0
    assert group.inputs["capacityRebalance"] is True


def test_warm_pool_and_its_launch_hook_only_where_asked():
    records = recorded("prod-eu")
    h100 = tagged(records, ASG, "inferplan:pool", "h100")
    assert h100.inputs["warmPool"]["minSize"] == 1
    assert h100.inputs["warmPool"]["poolState"] == "Stopped"
    [hook] = h100.inputs["initialLifecycleHooks"]
    assert hook["name"] == cloud_init.WEIGHTS_READY_HOOK
    assert hook["lifecycleTransition"] == "autoscaling:EC2_INSTANCE_LAUNCHING"
    h200 = tagged(records, ASG, "inferplan:pool", "h200")
    assert "warmPool" not in h200.inputs
    assert "initialLifecycleHooks" not in h200.inputs
    [dev] = of_type(recorded("dev"), ASG)
    assert "warmPool" not in dev.inputs


def test_only_warm_pools_may_complete_their_launch_hook():
    records = recorded("prod-eu")
    for pool, warm in (("h100", True), ("h200", False)):
        policy = json.loads(named(records, f"prod-eu-{pool}-node-policy").inputs["policy"])
        actions = [s["Action"] for s in policy["Statement"]]
        assert ("autoscaling:CompleteLifecycleAction" in actions) is warm


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_elb_health_checks_wait_for_a_large_model_download(stack):
    for group in of_type(recorded(stack), ASG):
        assert group.inputs["healthCheckType"] == "ELB"
        assert group.inputs["healthCheckGracePeriod"] >= 1800  # 30 min: boot + ~140 GiB from S3 + load
        assert group.inputs["waitForCapacityTimeout"] == "0"
        refresh = group.inputs["instanceRefresh"]
        assert refresh["strategy"] == "Rolling"
        assert refresh["preferences"]["minHealthyPercentage"] == 50
        assert refresh["preferences"]["skipMatching"] is True


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_scaling_tracks_vllm_queue_and_batch_per_engine(stack):
    # (running + waiting) / max_num_seqs: the waiting queue alone reads 0 on a group that keeps up.
    records = recorded(stack)
    policies = of_type(records, "aws:autoscaling/policy:Policy")
    groups = of_type(records, ASG)
    assert len(policies) == len(groups)
    slots = {m.pool: m.max_num_seqs for m in plan_of(stack).models}
    for policy in policies:
        assert policy.inputs["policyType"] == "TargetTrackingScaling"
        tracking = policy.inputs["targetTrackingConfiguration"]
        metrics = {m["id"]: m for m in tracking["customizedMetricSpecification"]["metrics"]}
        assert metrics["running"]["metricStat"]["metric"]["metricName"] == "vllm:num_requests_running"
        assert metrics["waiting"]["metricStat"]["metric"]["metricName"] == "vllm:num_requests_waiting"
        pool = policy.name.removeprefix(f"{stack}-").removesuffix("-queue-depth")
        assert slots[pool] > 0
        assert metrics["load"]["expression"] == f"(running + waiting) / {slots[pool]}"
        assert metrics["load"]["returnData"] is True
        for ident in ("running", "waiting"):
            stat = metrics[ident]["metricStat"]
            assert stat["stat"] == "Average" and metrics[ident]["returnData"] is False
            assert stat["metric"]["namespace"] == "inferplan/vllm"
            [dimension] = stat["metric"]["dimensions"]
            assert dimension["name"] == "AutoScalingGroupName"
            assert dimension["value"] == policy.inputs["autoscalingGroupName"]
            assert dimension["value"] in {g.inputs["name"] for g in groups}
        assert 0 < tracking["targetValue"] == cloud_init.LOAD_TARGET < 1


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_alarm_fires_when_a_group_sits_at_its_ceiling(stack):
    records = recorded(stack)
    for pool in plan_of(stack).pools:
        group = tagged(records, ASG, "inferplan:pool", pool.name)
        alarm = tagged(records, "aws:cloudwatch/metricAlarm:MetricAlarm", "inferplan:pool", pool.name)
        assert alarm.inputs["namespace"] == "AWS/AutoScaling"
        assert alarm.inputs["metricName"] == "GroupInServiceInstances"
        assert alarm.inputs["dimensions"] == {"AutoScalingGroupName": group.inputs["name"]}
        assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm.inputs["threshold"] == pool.max_nodes
        assert "GroupInServiceInstances" in group.inputs["enabledMetrics"]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_each_pool_logs_to_its_own_encrypted_log_group(stack):
    records = recorded(stack)
    [key] = of_type(records, "aws:kms/key:Key")
    for pool in plan_of(stack).pools:
        logs = tagged(records, "aws:cloudwatch/logGroup:LogGroup", "inferplan:pool", pool.name)
        assert logs.inputs["name"] == f"/inferplan/{stack}/{pool.name}"
        assert logs.inputs["retentionInDays"] > 0
        assert logs.inputs["kmsKeyId"] == f"arn:aws:kms:{plan_of(stack).region}:123456789012:{key.name}"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_node_role_reads_only_its_models_prefix_and_writes_only_its_log_group(stack):
    records = recorded(stack)
    bucket = tagged(records, "aws:s3/bucket:Bucket", "inferplan:component", "model-store")
    for pool in plan_of(stack).pools:
        policy = json.loads(named(records, f"{stack}-{pool.name}-node-policy").inputs["policy"])
        statements = {s["Sid"]: s for s in policy["Statement"]}
        assert all(s["Effect"] == "Allow" for s in statements.values())
        assert all("*" not in str(s["Action"]) for s in statements.values())
        [model] = pool.models
        assert statements["ReadOwnModelWeights"]["Action"] == "s3:GetObject"
        assert statements["ReadOwnModelWeights"]["Resource"] == [f"{_arn(stack, bucket)}/models/{model}/*"]
        assert statements["ListOwnModelPrefixes"]["Condition"] == {
            "StringLike": {"s3:prefix": [f"models/{model}/*"]}
        }
        assert statements["DecryptWeightsThroughS3"]["Action"] == "kms:Decrypt"
        log_arn = _arn(stack, named(records, f"{stack}-{pool.name}-logs"))
        assert statements["WriteOwnLogGroup"]["Resource"] == [log_arn, f"{log_arn}:*"]
        actions = {
            a
            for s in statements.values()
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        assert {a for a in actions if a.startswith("s3:")} == {"s3:ListBucket", "s3:GetObject"}  # no writes
        # Session Manager, and nothing of SSM's parameters or documents (no managed policy attached).
        assert {a for a in actions if a.startswith("ssm:")} == {"ssm:UpdateInstanceInformation"}
        assert {a.split(":")[0] for a in statements["SessionManager"]["Action"]} == {
            "ssmmessages",
            "ec2messages",
        }
        region = plan_of(stack).region
        assert (
            statements["SessionManagerRegistration"]["Resource"]
            == f"arn:aws:ec2:{region}:123456789012:instance/*"
        )
        assert not [
            a
            for a in of_type(records, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a.inputs.get("role") == f"{stack}-{pool.name}-node-role-id" or pool.name in a.name
        ]


def _arn(stack, resource):
    """The ARN the offline mocks give a resource (service from its type, then its name)."""
    service = resource.type.split(":")[1].split("/")[0]
    return f"arn:aws:{service}:{plan_of(stack).region}:123456789012:{resource.name}"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_pool_pulls_only_the_stack_s_vllm_mirror(stack):
    records = recorded(stack)
    region = plan_of(stack).region
    for pool in plan_of(stack).pools:
        policy = json.loads(named(records, f"{stack}-{pool.name}-node-policy").inputs["policy"])
        statements = {s["Sid"]: s for s in policy["Statement"]}
        assert (
            statements["PullVllmImage"]["Resource"]
            == f"arn:aws:ecr:{region}:123456789012:repository/{stack}/vllm-openai"
        )
    [repository] = [r for r in of_type(records, "aws:ecr/repository:Repository") if "vllm" in r.name]
    assert repository.inputs["name"] == f"{stack}/vllm-openai"
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repository.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_node_security_groups_reach_only_the_vpc_s_endpoints_and_s3_never_the_internet(stack):
    """With NAT too: only the router needs the internet (frontier APIs), never a GPU node."""
    records = recorded(stack)
    cidr = plan_of(stack).network.cidr
    for pool in plan_of(stack).pools:
        group = tagged(records, SG, "inferplan:pool", pool.name)
        rules = group.inputs["egress"]
        assert all((r["protocol"], r["fromPort"], r["toPort"]) == ("tcp", 443, 443) for r in rules)
        assert [r.get("cidrBlocks") for r in rules if r.get("cidrBlocks")] == [[cidr]]
        assert [r.get("prefixListIds") for r in rules if r.get("prefixListIds")] == [
            [f"pl-{stack}-s3-gateway-endpoint"]  # the S3 gateway endpoint's prefix list (offline mock id)
        ]
        assert not any(r.get("ipv6CidrBlocks") for r in rules)


def test_a_pool_without_a_ceiling_registers_no_group():
    from offline.recorder import record as run
    from tests.conftest import ROOT

    config = stack_config("dev")
    del config["inferplan:platform"]["pools"][0]["max_nodes"]
    recording = run("dev", config, ROOT / "__main__.py")
    assert recording.failed
    assert of_type(recording.resources, ASG) == []
