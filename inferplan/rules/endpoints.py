"""`endpoint-policies`: every VPC endpoint has a policy that keeps the stack's data in its account.

Without a policy an endpoint admits any principal to any resource of its service, in any account: a
node could copy weights into someone else's bucket through the S3 gateway endpoint, with no NAT and
no internet gateway in sight. A policy passes when every statement that allows any principal
(`"Principal": "*"`) is limited by `aws:PrincipalAccount` or `aws:ResourceAccount` to named accounts,
or only reads objects of the buckets AWS owns that ECR and the CloudWatch agent need
(`inferplan.perimeter.AWS_OWNED_OBJECTS`). Judged on the planned intents by the gate, on the
registered resources by `plan`, and on a preview's resources by the CrossGuard pack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from inferplan.perimeter import ACCOUNT_KEYS, AWS_OWNED_ACTIONS, AWS_OWNED_OBJECTS
from inferplan.resources import ResourceRecord
from inferplan.rules.findings import Finding, finding, is_unknown

RULE = "endpoint-policies"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
STRING_EQUALS = ("StringEquals", "StringEqualsIgnoreCase", "ForAnyValue:StringEquals")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _anyone(principal: Any) -> bool:
    """`"*"`, `{"AWS": "*"}` or a list holding `"*"`: any principal of any account."""
    if isinstance(principal, Mapping):
        return any("*" in _as_list(v) for v in principal.values())
    return "*" in _as_list(principal)


def _account_limited(condition: Any) -> bool:
    """An equality on aws:PrincipalAccount or aws:ResourceAccount to named accounts (no wildcard)."""
    if not isinstance(condition, Mapping):
        return False
    wanted = {k.lower() for k in ACCOUNT_KEYS}
    for operator in STRING_EQUALS:
        block = condition.get(operator)
        if not isinstance(block, Mapping):
            continue
        for key, values in block.items():
            named = [v for v in _as_list(values) if isinstance(v, str) and v]
            if key.lower() in wanted and named and not any("*" in v or "?" in v for v in named):
                return True
    return False


def _aws_owned_read(statement: Mapping[str, Any]) -> bool:
    actions = _as_list(statement.get("Action"))
    resources = _as_list(statement.get("Resource"))
    return (
        bool(actions)
        and bool(resources)
        and all(a in AWS_OWNED_ACTIONS for a in actions)
        and all(isinstance(r, str) and AWS_OWNED_OBJECTS.match(r) for r in resources)
        and "NotAction" not in statement
        and "NotResource" not in statement
    )


def statement_problems(document: Mapping[str, Any]) -> list[str]:
    """What in one policy document lets data leave the account (empty: nothing)."""
    problems = []
    statements = _as_list(document.get("Statement"))
    if not statements:
        return ["has no statements"]
    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement:
            problems.append(f"statement {statement.get('Sid') or index} allows by NotPrincipal")
            continue
        if not _anyone(statement.get("Principal")):
            continue
        if _account_limited(statement.get("Condition")) or _aws_owned_read(statement):
            continue
        problems.append(
            f"statement {statement.get('Sid') or index} allows any principal without an "
            "aws:PrincipalAccount or aws:ResourceAccount condition"
        )
    return problems


def _document(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return None


def endpoint_policies(records: Sequence[ResourceRecord], stack: str) -> tuple[Finding, ...]:
    """Every VPC endpoint among `records` limited to named accounts (and AWS's own buckets)."""
    endpoints = [r for r in records if r.type == VPC_ENDPOINT and r.custom]
    out = []
    for record in endpoints:
        policy = record.get("policy")
        service = str(record.get("serviceName", default=record.name))
        if is_unknown(policy):
            out.append(
                finding(
                    RULE,
                    "warn",
                    record.name,
                    f"endpoint '{record.name}' ({service}): its policy cannot be known before deployment",
                )
            )
            continue
        if policy is None or (isinstance(policy, str) and not policy.strip()):
            out.append(
                finding(
                    RULE,
                    "fail",
                    record.name,
                    f"endpoint '{record.name}' ({service}) has no policy, so it admits any principal to any "
                    "account's resources (give it a policy limited to this account: inferplan.perimeter)",
                )
            )
            continue
        document = _document(policy)
        problems = ["is not a JSON policy document"] if document is None else statement_problems(document)
        if problems:
            out.append(
                finding(
                    RULE,
                    "fail",
                    record.name,
                    f"endpoint '{record.name}' ({service}): {'; '.join(problems)} (limit it to this account)",
                )
            )
    if out:
        return tuple(out)
    if not endpoints:
        return (finding(RULE, "pass", stack, "no VPC endpoints to check"),)
    return (
        finding(
            RULE,
            "pass",
            stack,
            f"{len(endpoints)} VPC endpoints, each limited to this account's principals and the stack's "
            "resources (AWS-owned ECR layer and CloudWatch agent buckets: read only)",
        ),
    )
