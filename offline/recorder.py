"""Run the Pulumi program (`__main__.py`) under Pulumi's mocks and record what it registers.

This is the adapter between the planner and Pulumi for the offline `plan` command: no CLI, no AWS
credentials, no provider plugin. Every resource registration reaches our monitor, which keeps its
type token, name, parent, dependencies and inputs; invokes (availability zones, AMI lookups) get
plausible answers. What it records is what `pulumi up` would be asked to create.
"""

from __future__ import annotations

import asyncio
import json
import logging
import runpy
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks

from inferplan.resources import ResourceRecord

PROJECT = "inferplan"
ACCOUNT_ID = "123456789012"  # the placeholder account the mocks answer with


@dataclass
class Recording:
    """What one run of the program registered (in registration order) and what it logged."""

    resources: list[ResourceRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    failed: bool = False  # the program raised (e.g. the policy gate stopped it)


class _LogCollector(logging.Handler):
    def __init__(self, recording: Recording) -> None:
        super().__init__(level=logging.WARNING)
        self.recording = recording

    def emit(self, record: logging.LogRecord) -> None:
        target = self.recording.errors if record.levelno >= logging.ERROR else self.recording.warnings
        target.append(record.getMessage())


def _name_of(urn: str) -> str:
    """The logical name in a URN; empty for none and for the root stack (not a parent worth showing)."""
    if not urn or "::pulumi:pulumi:Stack::" in urn:
        return ""
    return urn.rsplit("::", 1)[-1]


class _Mocks(pulumi.runtime.Mocks):
    """Answers resource registrations with their inputs as state, and the invokes the program uses."""

    def __init__(self, region: str, recording: Recording) -> None:
        self.region = region
        self.recording = recording

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        ident = f"{args.name}-id"
        arn = f"arn:aws:{args.typ.split(':')[1].split('/')[0]}:{self.region}:{ACCOUNT_ID}:{args.name}"
        state.setdefault("arn", arn)
        if args.typ == "aws:lb/loadBalancer:LoadBalancer":
            state.setdefault("dnsName", f"internal-{args.name}.{self.region}.elb.amazonaws.com")
        if args.typ == "aws:apigatewayv2/api:Api":
            state.setdefault("apiEndpoint", f"https://{args.name}.execute-api.{self.region}.amazonaws.com")
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            state.setdefault("latestVersion", 1)  # the first version, as EC2 numbers them
        if args.typ == "aws:ec2/vpcEndpoint:VpcEndpoint" and args.inputs.get("vpcEndpointType") == "Gateway":
            state.setdefault("prefixListId", f"pl-{args.name}")  # the service's managed prefix list
        if args.typ == "aws:s3/bucket:Bucket":
            state.setdefault("bucket", args.inputs.get("bucket") or args.name)
        return ident, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        token = args.token
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{letter}" for letter in "abc"]
            return {"names": names, "zoneIds": [f"z-{n}" for n in names], "id": self.region}, []
        if token == "aws:ec2/getAmi:getAmi":
            return {
                "id": "ami-0mock0dlami0gpu",
                "name": "Deep Learning Base OSS Nvidia Driver GPU AMI (mock)",
            }, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
                "userId": "mock",
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        return {}, []


class _Monitor(pulumi_mocks.MockMonitor):
    """Keeps each registration's parent and dependencies, which `MockResourceArgs` does not carry."""

    def __init__(self, mocks: _Mocks, recording: Recording) -> None:
        super().__init__(mocks)
        self.recording = recording

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = pulumi.runtime.rpc.deserialize_properties(request.object)
        parent = _name_of(request.parent)
        depends = sorted({_name_of(u) for u in request.dependencies} - {parent, ""})
        self.recording.resources.append(
            ResourceRecord(
                type=request.type,
                name=request.name,
                inputs=_plain(inputs),
                parent=parent or None,
                custom=bool(request.custom),
                depends_on=tuple(depends),
            )
        )
        return response


UNKNOWN = "<unknown at preview>"  # one fixed marker, so two plans of the same stack compare equal


def _plain(value: Any) -> Any:
    """Inputs as JSON-able values (secrets stay marked, so a test can see that one was present)."""
    if isinstance(value, pulumi.output.Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        if value.get(pulumi.runtime.rpc._special_sig_key) == pulumi.runtime.rpc._special_secret_sig:
            return {"secret": True}
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return json.loads(json.dumps(value, default=str))


def record(stack: str, config: Mapping[str, Any], program: Path) -> Recording:
    """Run `program` for `stack` with `config` (the stack file's `config:` mapping) under mocks."""
    recording = Recording()
    region = str(config.get("aws:region", "us-east-1"))
    # YAML makes `expires: 2099-03-31` a date; Pulumi config carries JSON, where it is a string.
    flat = {
        key: value if isinstance(value, str) else json.dumps(value, default=str)
        for key, value in config.items()
    }

    logger = logging.getLogger(f"inferplan.offline.{stack}")
    logger.propagate = False
    logger.handlers = [_LogCollector(recording)]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = _Mocks(region, recording)
    pulumi.runtime.set_all_config(flat)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=True, logger=logger, monitor=_Monitor(mocks, recording)
    )

    root = str(program.parent)
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)

    @pulumi.runtime.test  # type: ignore[misc]
    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")

    try:
        run()
    except pulumi.RunError as exc:
        recording.failed = True
        if str(exc) not in recording.errors:
            recording.errors.append(str(exc))
    finally:
        if added:
            sys.path.remove(root)
        loop.close()
        asyncio.set_event_loop(None)
    return recording
