"""secrets-encrypted: every secret uses a customer-managed KMS key."""

from __future__ import annotations

import pytest

from inferplan.rules.findings import UNKNOWN_SENTINELS
from inferplan.rules.secrets import secrets_encrypted
from tests.conftest import EXAMPLE_STACKS
from tests.rules.conftest import failures, rec

SECRET = "aws:secretsmanager/secret:Secret"


@pytest.mark.parametrize(
    "key",
    [
        "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        sorted(UNKNOWN_SENTINELS)[0],
    ],
)
def test_a_secret_with_a_customer_managed_key_passes(key):
    found = secrets_encrypted([rec(SECRET, "dev-anthropic-api-key", kmsKeyId=key)], "dev", True)
    assert [(f.rule, f.status, f.subject) for f in found] == [("secrets-encrypted", "pass", "dev")]


@pytest.mark.parametrize(
    "inputs",
    [
        {},
        {"kmsKeyId": ""},
        {"kmsKeyId": "alias/aws/secretsmanager"},
        {"kmsKeyId": "arn:aws:kms:us-east-1:1:alias/aws/secretsmanager"},
    ],
)
def test_a_secret_without_a_customer_managed_key_fails(inputs):
    bad = failures(secrets_encrypted([rec(SECRET, "dev-anthropic-api-key", **inputs)], "dev", True))
    assert [(f.rule, f.subject) for f in bad] == [("secrets-encrypted", "dev-anthropic-api-key")]
    assert "aws/secretsmanager" in bad[0].message


def test_no_secrets_pass_only_without_frontier_entries():
    assert [f.status for f in secrets_encrypted([], "sovereign", expects_secrets=False)] == ["pass"]
    assert [f.status for f in secrets_encrypted([], "dev", expects_secrets=True)] == ["warn"]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_stacks_have_no_unencrypted_secret(stack, recorded):
    assert failures(secrets_encrypted(recorded[stack], stack, True)) == []
