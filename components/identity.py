"""Who runs `pulumi up`, as the `aws:PrincipalArn` patterns a resource policy can exempt from a deny.

The router's config object and (when a stack keeps them in state) its frontier keys are written by the
deployer, and the AWS provider reads each back right after writing it. A deny-everyone-but-the-router
policy must therefore spare the deployer, which grants it nothing it did not already hold: it wrote
the value.
"""

from __future__ import annotations

import re

ASSUMED_ROLE = re.compile(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.+")


def assumed_role_name(caller_arn: str) -> str | None:
    """The role's name when the caller is an assumed-role session, else None."""
    match = ASSUMED_ROLE.fullmatch(caller_arn)
    return match.group(3) if match else None


def deployer_principal_arns(caller_arn: str) -> list[str]:
    """`aws:PrincipalArn` patterns of the caller (an assumed role's session ARN becomes its role's ARN)."""
    match = ASSUMED_ROLE.fullmatch(caller_arn)
    if match is None:
        return [caller_arn]
    partition, account, role = match.groups()
    # A session ARN drops the role's path: match the role with and without one.
    return [f"arn:{partition}:iam::{account}:role/{role}", f"arn:{partition}:iam::{account}:role/*/{role}"]
