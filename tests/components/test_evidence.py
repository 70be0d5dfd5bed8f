"""Evidence: VPC flow logs, the access-log bucket, and the access logs of the weights and config buckets."""

from __future__ import annotations

import json

import pytest

from inferplan.evidence import elb_log_accounts
from inferplan.names import ELB_LOG_DELIVERY_SERVICE
from inferplan.plan import LOG_RETENTION_DAYS
from tests.components.recorded import named, of_type, plan_of, recorded
from tests.conftest import EXAMPLE_STACKS

ACCOUNT = "123456789012"


def arn_of(stack, record):
    """The ARN the offline mocks give a resource."""
    service = record.type.split(":")[1].split("/")[0]
    return f"arn:aws:{service}:{plan_of(stack).region}:{ACCOUNT}:{record.name}"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_flow_of_the_vpc_goes_to_a_kms_encrypted_log_group(stack):
    records = recorded(stack)
    [flow] = of_type(records, "aws:ec2/flowLog:FlowLog")
    group = named(records, f"{stack}-vpc-flow-logs")
    key = named(records, f"{stack}-key")
    assert flow.inputs["vpcId"] == f"{stack}-vpc-id" and flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestination"] == arn_of(stack, group)
    assert group.inputs["name"] == f"/inferplan/{stack}/vpc-flow"  # under the prefix the key admits
    assert group.inputs["kmsKeyId"] == arn_of(stack, key)
    assert group.inputs["retentionInDays"] == LOG_RETENTION_DAYS == 365
    role = named(records, f"{stack}-vpc-flow-logs-role")
    assert flow.inputs["iamRoleArn"] == arn_of(stack, role)
    [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}  # no confused deputy
    policy = json.loads(named(records, f"{stack}-vpc-flow-logs-policy").inputs["policy"])
    writes = next(s for s in policy["Statement"] if s["Sid"] == "WriteFlowLogGroup")
    assert writes["Resource"] == [arn_of(stack, group), f"{arn_of(stack, group)}:*"]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_access_log_bucket_is_sse_s3_private_tls_only_and_expires(stack):
    records = recorded(stack)
    bucket = named(records, f"{stack}-access-logs")
    assert bucket.inputs["bucket"] == f"{stack}-access-logs-{ACCOUNT}"
    [rule] = named(records, f"{stack}-access-logs-encryption").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}  # ALB logs: SSE-S3 only
    block = named(records, f"{stack}-access-logs-public-access").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"))
    assert block["restrictPublicBuckets"] is True
    [lifecycle] = named(records, f"{stack}-access-logs-lifecycle").inputs["rules"]
    assert lifecycle["status"] == "Enabled" and lifecycle["expiration"] == {"days": LOG_RETENTION_DAYS}
    policy = json.loads(named(records, f"{stack}-access-logs-policy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    tls = statements["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {s["Effect"] for s in statements.values()} == {"Allow", "Deny"}
    # Nobody but the two log deliveries is allowed anything.
    allows = [s for s in statements.values() if s["Effect"] == "Allow"]
    assert all(s["Action"] == "s3:PutObject" for s in allows)


def test_alb_logs_are_written_by_the_region_s_elb_account_or_the_delivery_service():
    records = recorded("prod-eu")  # eu-central-1: a Region from before August 2022
    policy = json.loads(named(records, "prod-eu-access-logs-policy").inputs["policy"])
    alb = next(s for s in policy["Statement"] if s["Sid"] == "AlbAccessLogDelivery")
    assert alb["Principal"] == {"AWS": "arn:aws:iam::054676820928:root"}  # ELB's account in Frankfurt
    bucket = arn_of("prod-eu", named(records, "prod-eu-access-logs"))
    assert alb["Resource"] == f"{bucket}/alb/AWSLogs/{ACCOUNT}/*"
    # A newer Region has no such account: the log delivery service principal writes instead.
    assert "eu-central-2" not in elb_log_accounts() and plan_of("prod-eu").access_logs.elb_account
    newer = plan_of(
        "dev", lambda p: p.update(region="eu-central-2", residency={"allowed_regions": ["eu-central-2"]})
    )
    assert newer.access_logs.elb_account is None
    from components.access_logs import access_log_policy

    statement = access_log_policy(newer.access_logs, "arn:aws:s3:::b", ACCOUNT, "aws")["Statement"][1]
    assert statement["Principal"] == {"Service": ELB_LOG_DELIVERY_SERVICE}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_weights_and_config_buckets_log_their_requests_into_it_under_their_own_prefixes(stack):
    records = recorded(stack)
    target = f"{stack}-access-logs-{ACCOUNT}"
    logging = {r.inputs["bucket"]: r.inputs for r in of_type(records, "aws:s3/bucketLogging:BucketLogging")}
    assert logging == {
        f"{stack}-models-id": {
            "bucket": f"{stack}-models-id",
            "targetBucket": target,
            "targetPrefix": "s3/models/",
        },
        f"{stack}-router-config-id": {
            "bucket": f"{stack}-router-config-id",
            "targetBucket": target,
            "targetPrefix": "s3/router-config/",
        },
    }
    policy = json.loads(named(records, f"{stack}-access-logs-policy").inputs["policy"])
    s3 = next(s for s in policy["Statement"] if s["Sid"] == "S3ServerAccessLogDelivery")
    assert s3["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert s3["Condition"]["ArnLike"]["aws:SourceArn"] == [
        f"arn:aws:s3:::{stack}-models-{ACCOUNT}",
        f"arn:aws:s3:::{stack}-router-config-{ACCOUNT}",
    ]
    assert s3["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_router_config_bucket_expires_replaced_versions(stack):
    [rule] = named(recorded(stack), f"{stack}-router-config-lifecycle").inputs["rules"]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_router_task_writes_only_to_its_own_tmp_volume(stack):
    [task] = of_type(recorded(stack), "aws:ecs/taskDefinition:TaskDefinition")
    [container] = json.loads(task.inputs["containerDefinitions"])
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]
    assert task.inputs["volumes"] == [{"name": "tmp"}]  # Fargate task storage, gone with the task
