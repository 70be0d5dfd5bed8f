"""The preflight sequence: ask AWS, then judge the answers with the pure checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from inferplan.plan import Plan
from inferplan.preflight import aws as calls
from inferplan.preflight.aws import Aws
from inferplan.preflight.checks import (
    Finding,
    Identity,
    chosen_zones,
    identity_finding,
    offering_findings,
    pool_targets,
    quota_findings,
    quota_needs,
    secret_findings,
    secret_names,
    zone_findings,
)
from inferplan.progress import Progress


@dataclass(frozen=True)
class PreflightReport:
    stack: str
    region: str
    identity: Identity
    zones: tuple[str, ...]  # the AZs the network will use
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> bool:
        return any(f.status == "fail" for f in self.findings)

    def count(self, status: str) -> int:
        return sum(1 for f in self.findings if f.status == status)


def run_preflight(
    plan: Plan, aws: Aws, progress: Progress | None = None, config: Mapping[str, object] | None = None
) -> PreflightReport:
    """Every check against the account `aws` reaches; raises AwsError when it cannot go on.

    `config` is the stack file's `config:` mapping (frontier keys kept in Pulumi config).
    """
    region = aws.target.region
    progress = progress or Progress("preflight", enabled=False)
    pools = pool_targets(plan)
    needs, unknown_quotas = quota_needs(pools, plan.catalog)
    secrets = secret_names(plan)
    progress.add(3 + len(needs) + len(secrets))

    progress.step("who am I (STS)")
    identity = calls.caller_identity(aws)
    progress.step("availability zones")
    available = calls.available_zones(aws)
    zones = chosen_zones(available, plan.network.availability_zones)
    progress.step("instance type offerings")
    shapes = set(plan.catalog.instances) | {p.instance_type for p in pools if p.instance_type}
    offerings = calls.instance_type_offerings(aws, shapes)

    answers = {}
    for need in needs:
        progress.step(f"quota {need.code}")
        answers[need.code] = calls.service_quota(aws, need.code)
    secret_answers = {}
    for name in secrets:
        progress.step(f"secret {name}")
        secret_answers[name] = calls.describe_secret(aws, name)

    findings = [
        identity_finding(identity),
        *zone_findings(available, plan.network.availability_zones, region),
        *offering_findings(pools, plan.catalog, zones, offerings, region),
        *unknown_quotas,
        *quota_findings(needs, answers, region),
        *secret_findings(plan, secret_answers, region, config),
    ]
    return PreflightReport(plan.stack, region, identity, zones, tuple(findings))
