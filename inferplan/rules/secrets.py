"""`secrets-encrypted`: every secret (frontier API keys) is encrypted with a customer-managed KMS key.

Without `kmsKeyId` Secrets Manager uses the AWS-managed key `aws/secretsmanager`, whose policy we
cannot restrict or rotate on our terms. A key id a preview cannot know yet is the id of a key created
in the same stack — a customer-managed key — so it counts as one.
"""

from __future__ import annotations

from collections.abc import Sequence

from inferplan.resources import ResourceRecord
from inferplan.rules.findings import Finding, finding, is_unknown

SECRET = "aws:secretsmanager/secret:Secret"


def key_problem(record: ResourceRecord) -> str | None:
    key = record.get("kmsKeyId")
    if is_unknown(key):
        return None
    if not isinstance(key, str) or not key.strip():
        return "has no kmsKeyId, so it uses the AWS-managed key aws/secretsmanager (use the stack's KMS key)"
    if key.startswith("alias/aws/") or ":alias/aws/" in key:
        return f"uses the AWS-managed key {key} (use the stack's customer-managed KMS key)"
    return None


def secrets_encrypted(
    records: Sequence[ResourceRecord], stack: str, expects_secrets: bool | None = None
) -> tuple[Finding, ...]:
    rule = "secrets-encrypted"
    secrets = [r for r in records if r.type == SECRET]
    out = []
    for record in secrets:
        problem = key_problem(record)
        if problem:
            out.append(finding(rule, "fail", record.name, f"secret '{record.name}' {problem}"))
    if out:
        return tuple(out)
    if not secrets:
        if expects_secrets:
            return (
                finding(
                    rule,
                    "warn",
                    stack,
                    "the spec declares frontier entries but no aws:secretsmanager/secret:Secret was registered "
                    "for their keys, so there is nothing to check yet",
                ),
            )
        return (
            finding(rule, "pass", stack, "no secrets in this stack (no frontier entries): nothing to check"),
        )
    return (
        finding(
            rule, "pass", stack, f"{len(secrets)} secret(s), each encrypted with a customer-managed KMS key"
        ),
    )
