"""Physical names and cost-allocation tags, derived from the stack and never typed by hand (DESIGN.md,
Conventions).

Every AWS name a stack creates comes from here, so the planner (which states them in the Plan), the
components (which create them) and the node start-up scripts (which look them up) cannot disagree.
"""

from __future__ import annotations

import hashlib
import re

# Purposes of the stack's buckets: each is `<stack>-<purpose>-<account>` (`bucket_name`).
MODELS_BUCKET = "models"
ROUTER_CONFIG_BUCKET = "router-config"
ACCESS_LOGS_BUCKET = "access-logs"


def physical(stack: str, *parts: str) -> str:
    """`prod-eu-h100-asg`: the stack name, then the parts."""
    return "-".join((stack, *parts))


def log_group_name(stack: str, what: str) -> str:
    """A stack's log group: under /inferplan/<stack>/, the prefix the stack key lets CloudWatch Logs use."""
    return f"/inferplan/{stack}/{what}"


def secret_name(stack: str, secret: str) -> str:
    """Secrets Manager name of a router secret (a frontier key, the master key); docs/front-door.md
    shows how to set a frontier key's value."""
    return f"inferplan/{stack}/{secret}"


def group_name(stack: str, pool: str) -> str:
    """A pool's Auto Scaling group (the scaling metric's dimension and the ceiling alarm name it)."""
    return physical(stack, pool, "asg")


# The AWS service principals that deliver access logs into the stack's access-log bucket.
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
S3_LOG_DELIVERY_SERVICE = "logging.s3.amazonaws.com"


def node_role_name(stack: str, pool: str) -> str:
    """IAM role of a pool's nodes; the model store's bucket policy names it before it exists."""
    return physical(stack, pool, "node")


def access_log_prefix(purpose: str) -> str:
    """Where the server access logs of the stack's `<purpose>` bucket land in its access-log bucket."""
    return f"s3/{purpose}/"


def fit_name(name: str, limit: int) -> str:
    """`name` if it fits AWS's length limit, else a prefix plus a short stable hash (still unique)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: limit - 7].rstrip('-')}-{digest}"


def bucket_name(stack: str, purpose: str, account: str) -> str:
    """Globally unique: `<stack>-<purpose>-<account>` in S3's alphabet, at most 63 characters."""
    stem = re.sub(r"[^a-z0-9-]+", "-", stack.lower()).strip("-")
    suffix = f"-{purpose}-{account}"
    return f"{stem[: 63 - len(suffix)].rstrip('-')}{suffix}"


def stack_tags(stack: str, environment: str) -> dict[str, str]:
    """Cost-allocation tags every taggable resource carries (AWS Budgets filters on them)."""
    return {"inferplan:stack": stack, "inferplan:environment": environment}


def component_tags(stack: str, environment: str, component: str, **extra: str) -> dict[str, str]:
    return {**stack_tags(stack, environment), "inferplan:component": component, **extra}
