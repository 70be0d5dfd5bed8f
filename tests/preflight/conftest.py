"""Preflight fixtures: moto as a real HTTP server on 127.0.0.1, a loopback server replaying recorded AWS
answers moto lacks (Service Quotas for EC2 codes, the Price List API), and a throwaway project root.

Every test gets AWS_ACCESS_KEY_ID/SECRET "testing", empty AWS config files and no instance metadata
lookups, so nothing reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import copy
import json
import logging
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from inferplan import cli

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).resolve().parent / "recorded"
AWS_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_PRICING",
    "AWS_ENDPOINT_URL_SERVICE_QUOTAS",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "INFERPLAN_PRICE_CACHE",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    # moto's werkzeug server logs every request to stderr; the tests assert on stderr being one line.
    logging.getLogger("werkzeug").disabled = True
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_url(moto_server: str) -> str:
    """The moto server with its state reset, so secrets from one test never leak into another."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=5)
    return moto_server


@pytest.fixture
def no_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS settings at all: every variable unset, config and credentials files empty, no IMDS."""
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "aws-config"
    credentials = tmp_path / "aws-credentials"
    config.write_text("")
    credentials.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("INFERPLAN_PRICE_CACHE", str(tmp_path / "cache" / "prices.json"))
    return tmp_path


@pytest.fixture
def aws_env(no_aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return no_aws_env


# --- recorded answers moto does not give ----------------------------------------------------------


@dataclass
class FakeAws:
    """A loopback server answering the JSON-protocol calls moto lacks, from files in `recorded/`.

    `quotas` maps quota code -> recorded GetServiceQuota answer (absent codes answer
    NoSuchResourceException); `products` maps (instanceType, regionCode) -> recorded GetProducts answer.
    `deny` lists X-Amz-Target values (or "sts") answered with access denied. Requests are kept.
    """

    url: str = ""
    quotas: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    deny: set[str] = field(default_factory=set)
    garbage: bool = False  # answer every call with a body that is not an AWS answer
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def quota(self, code: str, value: float | None = None) -> None:
        answer = json.loads((RECORDED / f"get_service_quota_{code}.json").read_text())
        if value is not None:
            answer["Quota"]["Value"] = value
        self.quotas[code] = answer

    def product(self, instance_type: str, region: str) -> None:
        self.products[(instance_type, region)] = json.loads(
            (RECORDED / f"get_products_{instance_type}_{region}.json").read_text()
        )

    def answer(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.requests.append((target, body))
        if target in self.deny:
            return 400, {"__type": "AccessDeniedException", "message": f"not authorized to perform {target}"}
        if target == "ServiceQuotasV20190624.GetServiceQuota":
            if body.get("QuotaCode") in self.quotas:
                return 200, self.quotas[body["QuotaCode"]]
            return 400, {
                "__type": "NoSuchResourceException",
                "message": "The request failed because the specified service does not exist.",
            }
        if target == "ServiceQuotasV20190624.GetAWSDefaultServiceQuota":
            return 400, {"__type": "NoSuchResourceException", "message": "no default quota recorded"}
        if target == "AWSPriceListService.GetProducts":
            terms = {f["Field"]: f["Value"] for f in body.get("Filters", [])}
            recorded = self.products.get((terms.get("instanceType", ""), terms.get("regionCode", "")))
            return 200, recorded or {"FormatVersion": "aws_v1", "PriceList": []}
        return 400, {"__type": "UnknownOperationException", "message": target}


STS_DENIED = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>AccessDenied</Code><Message>User is not authorized to perform: sts:GetCallerIdentity</Message>"
    "</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
)


@pytest.fixture
def fake_aws() -> Iterator[FakeAws]:
    fake = FakeAws()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if fake.garbage:
                self._send(200, b"<html>captive portal</html>", "text/html")
                return
            target = self.headers.get("X-Amz-Target", "")
            if not target and b"Action=GetCallerIdentity" in raw:
                fake.requests.append(("sts", {}))
                self._send(403, STS_DENIED.encode(), "text/xml")
                return
            status, payload = fake.answer(target, json.loads(raw or b"{}"))
            self._send(status, json.dumps(payload).encode(), "application/x-amz-json-1.1")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


# --- a project root with editable stacks ------------------------------------------------------------


def example_config(stack: str) -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(document["config"])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """`project(stack, edit=None, name=None, extra_config=None)` writes an (edited) example stack into a fresh project root
    (the current directory) and returns the stack name to pass to --stack."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: inferplan\nruntime: python\nstackConfigDir: stacks\n")
    monkeypatch.chdir(root)

    def write(
        stack: str,
        edit: Callable[[dict[str, Any]], None] | None = None,
        name: str | None = None,
        extra_config: dict[str, Any] | None = None,
    ) -> str:
        config = {**example_config(stack), **(extra_config or {})}
        if edit:
            edit(config["inferplan:platform"])
        name = name or stack
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(
            yaml.safe_dump({"config": config}, sort_keys=False)
        )
        return name

    return write


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def preflight(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Outcome]:
    """Run `python -m inferplan preflight ...` through the real CLI entry point (only this command registered,
    so the test does not depend on the other commands being importable)."""
    monkeypatch.setattr(cli, "COMMANDS", {"preflight": cli.COMMANDS["preflight"]})

    def run(*args: str) -> Outcome:
        code = cli.main(["preflight", *args])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def client(url: str, service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=url)
