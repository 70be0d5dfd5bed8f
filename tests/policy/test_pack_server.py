"""The pack as the Pulumi CLI runs it: `policy/__main__.py` serves the analyzer over gRPC on 127.0.0.1.

We start it, ask for its policies, and send it an AnalyzeStack request built from recorded resources,
the way the engine does during `pulumi preview --policy-pack policy`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from inferplan.resources import ResourceRecord
from inferplan.rules import RULES
from tests.conftest import ROOT, stack_config


def start(env_extra: dict[str, str]) -> tuple[subprocess.Popen[str], analyzer_pb2_grpc.AnalyzerStub]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env.update(env_extra)
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-u", str(ROOT / "policy" / "__main__.py")],
        cwd=ROOT / "policy",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = proc.stdout.readline().strip()
    assert port.isdigit(), proc.stderr.read() if proc.stderr else port
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return proc, analyzer_pb2_grpc.AnalyzerStub(channel)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait(timeout=10)


def run_env(stack: str, with_config: bool) -> dict[str, str]:
    env = {"PULUMI_STACK": stack, "PULUMI_PROJECT": "inferplan", "PULUMI_DRY_RUN": "true"}
    if with_config:
        config = stack_config(stack)
        env["PULUMI_CONFIG"] = json.dumps(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
        )
    return env


@pytest.fixture
def sovereign_pack() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    proc, stub = start(run_env("sovereign", with_config=True))
    try:
        yield stub
    finally:
        stop(proc)


def request(records: list[ResourceRecord], region: str) -> analyzer_pb2.AnalyzeStackRequest:
    provider_props = struct_pb2.Struct()
    provider_props.update({"region": region})
    provider = analyzer_pb2.AnalyzerProviderResource(
        type="pulumi:providers:aws", properties=provider_props, urn="urn:provider", name="default"
    )
    resources = []
    for r in records:
        props = struct_pb2.Struct()
        props.update(json.loads(json.dumps(dict(r.inputs))))
        resources.append(
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=props,
                urn=f"urn:pulumi:stack::inferplan::{r.type}::{r.name}",
                name=r.name,
                options=analyzer_pb2.AnalyzerResourceOptions(),
                provider=provider,
            )
        )
    return analyzer_pb2.AnalyzeStackRequest(resources=resources)


def test_the_pack_serves_one_policy_per_rule(sovereign_pack):
    info = sovereign_pack.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "inferplan"
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert list(levels) == list(RULES)
    assert levels["autoscaler-capacity"] == analyzer_pb2.ADVISORY
    assert levels["residency-dataflow"] == analyzer_pb2.MANDATORY
    schema = {p.name: p.configSchema for p in info.policies}
    assert "max_nodes_per_pool" in schema["autoscaler-bounded"].properties


def test_the_pack_passes_sovereign_and_catches_a_nat_added_around_the_planner(sovereign_pack, recorded):
    records = list(recorded["sovereign"])
    clean = sovereign_pack.AnalyzeStack(request(records, "eu-central-1"))
    assert [(d.policyName, d.message) for d in clean.diagnostics] == []
    assert {n.policy_name for n in clean.not_applicable} == set()

    nat = ResourceRecord(
        "aws:ec2/natGateway:NatGateway", "sovereign-sneaky-nat", {"connectivityType": "public"}
    )
    broken = sovereign_pack.AnalyzeStack(request([*records, nat], "eu-central-1"))
    found = [(d.policyName, d.enforcementLevel, d.urn) for d in broken.diagnostics]
    assert (
        "residency-dataflow",
        analyzer_pb2.MANDATORY,
        "urn:pulumi:stack::inferplan::aws:ec2/natGateway:NatGateway::sovereign-sneaky-nat",
    ) in found


def test_without_config_the_pack_reads_the_stack_file(recorded):
    proc, stub = start(run_env("sovereign", with_config=False))
    try:
        answer = stub.AnalyzeStack(request(list(recorded["sovereign"]), "eu-central-1"))
    finally:
        stop(proc)
    assert list(answer.diagnostics) == []
    assert "residency-dataflow" not in {n.policy_name for n in answer.not_applicable}
