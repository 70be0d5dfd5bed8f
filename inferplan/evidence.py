"""Evidence a security review asks for, planned: where the ALB and the stack's buckets log their requests.

VPC flow logs are the network plan's (`NetworkPlan.flow_logs`); this module plans the access-log bucket.
Its bucket policy must let the region's Elastic Load Balancing log delivery write: in the Regions AWS
opened before August 2022 that is a per-region AWS account (`catalog/elb_log_accounts.csv`, from the
ALB user guide), in the others the service principal `logdelivery.elasticloadbalancing.amazonaws.com`.
"""

from __future__ import annotations

from functools import cache

from inferplan import names
from inferplan.catalog import read_rows
from inferplan.plan import LOG_RETENTION_DAYS, AccessLogPlan, Tags

ALB_LOG_PREFIX = "alb"
# The buckets whose server access logs the stack keeps (the access-log bucket itself is not logged:
# logging it into itself would log its own log deliveries without end).
LOGGED_BUCKETS = (names.MODELS_BUCKET, names.ROUTER_CONFIG_BUCKET)


@cache
def elb_log_accounts() -> dict[str, str]:
    """Region -> the Elastic Load Balancing account that delivers its access logs (older Regions only)."""
    return {row["region"]: row["account"] for row in read_rows("elb_log_accounts.csv")}


def plan_access_logs(stack: str, region: str, tags: Tags) -> AccessLogPlan:
    return AccessLogPlan(
        resource_prefix=stack,
        bucket_purpose=names.ACCESS_LOGS_BUCKET,
        expiry_days=LOG_RETENTION_DAYS,
        alb_prefix=ALB_LOG_PREFIX,
        logged_buckets=LOGGED_BUCKETS,
        elb_account=elb_log_accounts().get(region),
        tags=tags,
    )
