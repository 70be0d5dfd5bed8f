"""The router as deployed, run for real on 127.0.0.1: LiteLLM's own proxy process, its config and its
admission check fetched from S3 (moto), the task definition's environment, and mock upstreams.

What is real: the `litellm` console script of the pinned version, started with the container's
`command` and `environment` exactly as the program registers them, plus one value per `secrets` entry
(ECS would inject those); the config object and the guard object, uploaded to a bucket of the
registered name and loaded by LiteLLM's own bucket loader and `custom_auth` remote loader.

What stands in for AWS: moto serves S3 (`AWS_ENDPOINT_URL_S3`); VLLM_BASE_URL points at a loopback
server answering like vLLM behind the ALB (it picks the model by MODEL_HEADER, as the listener rule
does); each frontier provider's base URL points at a loopback server answering like that provider.
Only those three test settings differ from the task's environment (`TEST_ENVIRONMENT`).

The filesystem is the task's too: with `readonlyRootFilesystem` the process runs in its own mount
namespace (`unshare`, a user namespace where needed) whose root is remounted read-only, with an empty
tmpfs at each of the container's `mountPoints` (the task's volumes). What stays unproven offline is the
image's own layout: this is the pinned LiteLLM package of requirements-dev.txt, not the image.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from inferplan.plan import MODEL_HEADER

LITELLM = Path(sys.executable).parent / "litellm"
PROJECT = Path(__file__).resolve().parents[2]
AWS_ENV_DROPPED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)
# Provider base URLs LiteLLM reads from the environment when a deployment sets no api_base.
PROVIDER_BASE_ENV = {"anthropic": ("ANTHROPIC_API_BASE",), "openai": ("OPENAI_BASE_URL", "OPENAI_API_BASE")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Upstream:
    """A loopback HTTP server answering chat calls like vLLM (OpenAI API) or Anthropic's Messages API.

    `failing` holds the served model names (vLLM: MODEL_HEADER) that answer 500; every request is kept.
    """

    flavour: str  # "openai" | "anthropic"
    failing: set[str] = field(default_factory=set)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.loads(raw or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                upstream.seen.append(Seen(self.path, headers, body))
                name = headers.get(MODEL_HEADER.lower()) or str(body.get("model"))
                status, payload = upstream.answer(name, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def answer(self, name: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if name in self.failing:
            return 500, {"error": {"message": f"{name} is down", "type": "server_error"}}
        text = f"answer from {name}"
        if self.flavour == "anthropic":
            return 200, {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body.get("model"),
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 5, "output_tokens": 3},
            }
        return 200, {
            "id": "cmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": body.get("model"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class Deployed:
    """What the program registers for the router: the container definition and the two S3 objects."""

    container: dict[str, Any]
    objects: dict[str, str]  # object key -> content

    @property
    def environment(self) -> dict[str, str]:
        return {e["name"]: e["value"] for e in self.container["environment"]}

    @property
    def secret_names(self) -> list[str]:
        return [s["name"] for s in self.container["secrets"]]


def deployed_router(recording: Any) -> Deployed:
    [task] = [r for r in recording.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"]
    [container] = json.loads(task.inputs["containerDefinitions"])
    objects = {
        r.inputs["key"]: r.inputs["content"]
        for r in recording.resources
        if r.type == "aws:s3/bucketObjectv2:BucketObjectv2"
    }
    return Deployed(container=dict(container), objects=objects)


class Moto:
    """moto's S3 (and friends) as a real HTTP server on loopback."""

    def __init__(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").disabled = True
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def put(self, region: str, bucket: str, objects: Mapping[str, str]) -> None:
        import boto3

        s3 = boto3.client(
            "s3",
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        for key, content in objects.items():
            s3.put_object(Bucket=bucket, Key=key, Body=content.encode())

    def stop(self) -> None:
        self.server.stop()


def _hidden_by(mounts: list[str], paths: tuple[Path, ...]) -> list[Path]:
    """Those of `paths` (resolved, none inside another) that a mount at one of `mounts` would hide."""
    resolved = sorted({p.resolve() for p in paths})
    outermost = [p for p in resolved if not any(o != p and p.is_relative_to(o) for o in resolved)]
    return [p for p in outermost if any(p.is_relative_to(m) for m in mounts)]


def read_only_root(container: Mapping[str, Any], argv: list[str]) -> list[str]:
    """`argv` as the task runs it: a read-only root with the container's mount points writable.

    The test's own interpreter and checkout stand in for the image's: where they live under one of the
    task's mount points (a clone in /tmp, with its .venv), they are bound back read-only on top of that
    volume's empty tmpfs, staged meanwhile on a tmpfs of the namespace's own (nothing else is kept)."""
    if not container.get("readonlyRootFilesystem"):
        return argv
    mounts = [str(m["containerPath"]) for m in container.get("mountPoints", []) if not m.get("readOnly")]
    kept = _hidden_by(mounts, (Path(sys.prefix), Path(sys.base_prefix), PROJECT))
    staging = next(
        d
        for d in ("/mnt", "/media", "/srv", "/opt")
        if Path(d).is_dir() and not _hidden_by(mounts, (Path(d),))
    )
    q = shlex.quote
    steps = [f"mount -t tmpfs -o size=1m tmpfs {staging}"] if kept else []
    steps += [f"mkdir {staging}/{i} && mount --bind {q(str(p))} {staging}/{i}" for i, p in enumerate(kept)]
    steps += ["mount -o remount,bind,ro /", *(f"mount -t tmpfs -o size=256m tmpfs {q(m)}" for m in mounts)]
    steps += [
        f"mkdir -p {q(str(p))} && mount --bind {staging}/{i} {q(str(p))} && mount -o remount,bind,ro {q(str(p))}"
        for i, p in enumerate(kept)
    ]
    script = " && ".join([*steps, 'exec "$@"'])
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return ["unshare", *user, "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", *argv]


def mounts_of(pid: int) -> dict[str, tuple[str, str]]:
    """Mount point -> (filesystem type, options) as process `pid` sees them."""
    out = {}
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        fields = line.split()
        separator = fields.index("-")
        out[fields[4]] = (fields[separator + 1], fields[5])
    return out


class RouterProcess:
    """`litellm` started with the container's command and environment; `stop()` ends it (and only it)."""

    def __init__(
        self,
        deployed: Deployed,
        moto: Moto,
        vllm_url: str,
        frontier_urls: Mapping[str, str],
        log: Path,
        workers: int | None = None,
    ) -> None:
        environment = deployed.environment
        region = environment["AWS_DEFAULT_REGION"]
        moto.put(region, environment["LITELLM_CONFIG_BUCKET_NAME"], deployed.objects)
        self.port = free_port()
        command = list(deployed.container["command"])
        command[command.index("--port") + 1] = str(self.port)
        if workers is not None:
            command[command.index("--num_workers") + 1] = str(workers)
        self.command = command
        # The test settings: moto instead of S3, loopback upstreams instead of the ALB and the providers.
        self.test_environment = {
            "AWS_ENDPOINT_URL_S3": moto.url,
            "VLLM_BASE_URL": f"{vllm_url}/v1",
            **{name: url for p, url in frontier_urls.items() for name in PROVIDER_BASE_ENV[p]},
        }
        env = {k: v for k, v in os.environ.items() if k not in AWS_ENV_DROPPED}
        env.update(
            {
                # What the task role gives the container (moto accepts any key).
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_EC2_METADATA_DISABLED": "true",
                **environment,
                **{name: f"test-value-of-{name}-0123456789abcdef" for name in deployed.secret_names},
                **self.test_environment,
            }
        )
        self.log = log
        self.process = subprocess.Popen(
            read_only_root(deployed.container, [str(LITELLM), *command, "--host", "127.0.0.1"]),
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 300.0) -> float:
        """Seconds until /health/liveliness answers; raises with the log tail if the proxy exits first."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError(f"the proxy exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health/liveliness", timeout=1):
                    return time.monotonic() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError(f"the proxy did not answer within {timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def post(
        self, path: str, body: Any, headers: Mapping[str, str] | None = None, timeout_s: float = 60
    ) -> tuple[int, dict[str, Any]]:
        return self.request("POST", path, body, headers, timeout_s)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 60,
    ) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"content-type": "application/json", **(headers or {})},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw or b"{}")
            except ValueError:
                return error.code, {"raw": raw.decode(errors="replace")}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
