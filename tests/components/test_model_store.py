"""ModelStore: the weights bucket is private, KMS-encrypted, versioned, TLS only, and read by the pools only."""

from __future__ import annotations

import json

import pytest

from components.model_store import ModelStore, ModelStoreArgs
from inferplan.names import bucket_name
from offline.recorder import _Mocks
from tests.components.recorded import named, of_type, plan_of, record, record_components, recorded, tagged
from tests.conftest import EXAMPLE_STACKS

BUCKET = "aws:s3/bucket:Bucket"


def store(stack):
    records = recorded(stack)
    bucket = tagged(records, BUCKET, "inferplan:component", "model-store")
    attached = [r for r in records if r.inputs.get("bucket") == f"{bucket.name}-id"]
    return records, bucket, {r.type.rsplit(":", 1)[-1]: r for r in attached}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_bucket_is_encrypted_with_the_stack_key_and_a_bucket_key(stack):
    records, bucket, parts = store(stack)
    [key] = of_type(records, "aws:kms/key:Key")
    [rule] = parts["BucketServerSideEncryptionConfiguration"].inputs["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"].endswith(f":{key.name}")
    assert rule["bucketKeyEnabled"] is True
    assert bucket.inputs["bucket"] == bucket_name(stack, "models", "123456789012")


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_bucket_blocks_public_access_owns_its_objects_and_keeps_versions(stack):
    _, _, parts = store(stack)
    block = parts["BucketPublicAccessBlock"].inputs
    assert all(
        block[k] is True
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    assert parts["BucketOwnershipControls"].inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert parts["BucketVersioning"].inputs["versioningConfiguration"]["status"] == "Enabled"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_policy_denies_plain_http_and_objects_to_all_but_the_pools_admin_and_root(stack):
    records, bucket, parts = store(stack)
    policy = json.loads(parts["BucketPolicy"].inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    tls = statements["DenyInsecureTransport"]
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", "*", "s3:*")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    objects = statements["DenyObjectAccessOutsideThePools"]
    assert (objects["Effect"], objects["Principal"]) == ("Deny", "*")
    assert {"s3:GetObject*", "s3:PutObject*"} <= set(objects["Action"])
    allowed = set(objects["Condition"]["ArnNotEquals"]["aws:PrincipalArn"])
    roles = {r.inputs["name"] for r in of_type(records, "aws:iam/role:Role")}
    node_roles = {f"{stack}-{pool.name}-node" for pool in plan_of(stack).pools}
    assert node_roles <= roles  # the names the policy uses are the roles the pools register
    assert allowed == {
        *(f"arn:aws:iam::123456789012:role/{name}" for name in node_roles),
        f"arn:aws:iam::123456789012:role/{stack}-weights-admin",
        "arn:aws:iam::123456789012:root",
    }
    # Both statements cover the bucket's objects.
    arn = f"arn:aws:s3:{plan_of(stack).region}:123456789012:{bucket.name}"
    assert f"{arn}/*" in tls["Resource"] and objects["Resource"] == f"{arn}/*"


def trust_principals(records, stack):
    role = named(records, f"{stack}-weights-admin")
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRole" and set(statement["Principal"]) == {"AWS"}
    return statement["Principal"]["AWS"]


def test_weights_admin_role_is_assumable_by_the_deployer_not_the_account():
    records = recorded("prod-eu")
    assert trust_principals(records, "prod-eu") == ["arn:aws:iam::123456789012:user/mock"]  # the mock caller
    assert named(records, "prod-eu-weights-admin").tag("inferplan:component") == "model-store"


def test_named_admins_are_the_only_principals_of_the_weights_admin_role():
    admins = [
        "arn:aws:iam::123456789012:role/ml-platform/weights-uploader",
        "arn:aws:iam::123456789012:user/ci",
    ]
    records = record("prod-eu", lambda p: p.update(model_store={"admins": admins}))
    assert trust_principals(records, "prod-eu") == sorted(admins)


def test_an_assumed_role_deployer_is_trusted_as_its_role_with_its_path():
    """A session ARN drops the role's path; the trust policy needs the role's real ARN (get_role)."""

    class AssumedRole(_Mocks):
        def call(self, args):
            if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
                arn = "arn:aws:sts::123456789012:assumed-role/Deployer/ci-session"
                return {"accountId": "123456789012", "arn": arn, "userId": "x"}, []
            if args.token == "aws:iam/getRole:getRole":
                return {"arn": f"arn:aws:iam::123456789012:role/platform/{args.args['name']}"}, []
            return super().call(args)

    def build():
        ModelStore("t-store", ModelStoreArgs(store=plan_of("dev").store, key_arn="arn:aws:kms:k"))

    records = record_components(build, mocks=AssumedRole)
    assert trust_principals(records, "dev") == ["arn:aws:iam::123456789012:role/platform/Deployer"]


def test_bucket_names_are_valid_s3_names_for_any_stack():
    assert bucket_name("prod-eu", "models", "123456789012") == "prod-eu-models-123456789012"
    long = bucket_name("My_Very.Long-Stack-Name-" + "x" * 60, "models", "123456789012")
    assert len(long) <= 63 and long == long.lower() and "_" not in long and "." not in long
    assert long.endswith("-models-123456789012")
