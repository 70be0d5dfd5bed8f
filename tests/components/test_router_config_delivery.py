"""The router's config travels as the task definition says: S3 object -> LiteLLM's bucket loader -> Router,
and its admission check: S3 object -> LiteLLM's `custom_auth` remote loader -> the hook function.

The program is recorded under mocks; the objects it uploads are put into a moto S3 bucket (a real HTTP
server on 127.0.0.1) with the bucket name, keys and encryption the program registered. Then, with the
container's environment as ECS would set it (plain `environment` plus one fake value per `secrets`
entry), LiteLLM's own bucket reader fetches the config and LiteLLM's Router is built from it. Every
`os.environ/` reference in the config must be satisfied by the task definition. (tests/router/
test_proxy_process.py starts the whole proxy this way.)
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import logging
import os
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # before litellm is imported: no price-map fetch

import boto3
import pytest
import yaml
from litellm.proxy.common_utils.load_config_utils import get_config_from_bucket
from litellm.proxy.types_utils.utils import get_instance_fn
from litellm.secret_managers.main import get_secret
from moto.server import ThreadedMotoServer

from inferplan.router_config import GUARD_ENV
from tests.recordings import recording
from tests.router.litellm_harness import proxy_like_router

AWS_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    logging.getLogger("werkzeug").disabled = True
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=5)
    yield url
    server.stop()


def router_resources(stack: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the container definition, the inputs of each object of the config bucket) for `stack`."""
    recorded = recording(stack)
    [task] = [r for r in recorded.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"]
    objects = [dict(r.inputs) for r in recorded.resources if r.type == "aws:s3/bucketObjectv2:BucketObjectv2"]
    [definition] = json.loads(task.inputs["containerDefinitions"])
    return definition, objects


def env_refs(value: Any) -> set[str]:
    """Every NAME of an `os.environ/NAME` value in the config."""
    if isinstance(value, dict):
        return set().union(*(env_refs(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(env_refs(v) for v in value)) if value else set()
    if isinstance(value, str) and value.startswith("os.environ/"):
        return {value.removeprefix("os.environ/")}
    return set()


@pytest.mark.parametrize("stack", ["dev", "prod-eu", "sovereign"])
def test_litellm_loads_the_uploaded_config_with_the_task_environment(moto, monkeypatch, tmp_path, stack):
    definition, objects = router_resources(stack)
    environment = {e["name"]: e["value"] for e in definition["environment"]}
    injected = {s["name"]: f"fake-key-for-{s['name']}" for s in definition["secrets"]}

    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "empty").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto)
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", moto)
    for name, value in {**environment, **injected}.items():
        monkeypatch.setenv(name, value)

    region = environment["AWS_DEFAULT_REGION"]
    bucket, key = environment["LITELLM_CONFIG_BUCKET_NAME"], environment["LITELLM_CONFIG_BUCKET_OBJECT_KEY"]
    s3 = boto3.client("s3", region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    kms_key = boto3.client("kms", region_name=region).create_key()["KeyMetadata"]["Arn"]
    for obj in objects:
        assert obj["serverSideEncryption"] == "aws:kms"
        s3.put_object(
            Bucket=bucket,
            Key=obj["key"],
            Body=obj["content"].encode(),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=kms_key,
        )
    [obj] = [o for o in objects if o["key"] == key]

    config = asyncio.run(
        get_config_from_bucket(
            bucket_type=environment.get("LITELLM_CONFIG_BUCKET_TYPE"), bucket_name=bucket, object_key=key
        )
    )
    assert config == yaml.safe_load(obj["content"])

    refs = env_refs(config)
    assert "VLLM_BASE_URL" in refs
    assert refs <= set(environment) | set(injected), "the config reads a variable the task does not set"
    for name in refs:
        assert get_secret(f"os.environ/{name}") == (environment | injected)[name]

    async def build() -> Any:
        return proxy_like_router(config)

    router = asyncio.run(build())
    aliases = {m["model_name"] for m in config["model_list"] if m["model_info"].get("discoverable", True)}
    assert aliases and aliases <= set(router.get_model_names())

    # custom_auth: the proxy resolves os.environ/INFERPLAN_ROUTER_GUARD, then loads the s3:// module
    # (a config loaded from a bucket reaches get_instance_fn with a non-None config_file_path).
    assert config["general_settings"]["custom_auth"] == f"os.environ/{GUARD_ENV}"
    hook = get_instance_fn(
        value=get_secret(config["general_settings"]["custom_auth"]), config_file_path="bucket"
    )
    assert inspect.iscoroutinefunction(hook) and hook.__name__ == "user_api_key_auth"
    assert hook.__module__ == "litellm/inferplan_guard"  # loaded from the object, not from this checkout


def test_the_proxy_reads_the_bucket_variables_the_task_sets():
    """proxy_server.py needs the `litellm[proxy]` extras to import, so its source is read instead."""
    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations
    source = (Path(spec.submodule_search_locations[0]) / "proxy" / "proxy_server.py").read_text()
    for name in (
        "LITELLM_CONFIG_BUCKET_NAME",
        "LITELLM_CONFIG_BUCKET_OBJECT_KEY",
        "LITELLM_CONFIG_BUCKET_TYPE",
    ):
        assert f'os.environ.get("{name}")' in source
