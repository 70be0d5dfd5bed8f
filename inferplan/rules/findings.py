"""The one shape every policy rule returns, and the limits resource-level rules check against.

A rule is a pure function that returns findings; the gate in `__main__.py`, the `plan` report and the
CrossGuard pack all read the same `Finding`s, so a verdict never differs between the three.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

Severity = Literal["mandatory", "advisory"]
Status = Literal["pass", "warn", "fail"]

# Rule ids are a contract (issue 6): reports, waivers and the CrossGuard pack name rules by these.
RULES: dict[str, Severity] = {
    "budget-expected": "mandatory",
    "budget-worst-case": "mandatory",
    "autoscaler-bounded": "mandatory",
    "autoscaler-capacity": "advisory",
    "residency-region": "mandatory",
    "residency-dataflow": "mandatory",
    "frontier-needs-egress": "mandatory",
    "network-private": "mandatory",
    "gateway-auth": "mandatory",
    "gateway-timeout": "advisory",
    "secrets-encrypted": "mandatory",
    "route-cost": "advisory",
    "image-reachable": "mandatory",
    "endpoint-policies": "mandatory",
}


@dataclass(frozen=True)
class Finding:
    """One verdict of one rule on one subject; `message` says what to change when it is not a pass."""

    rule: str
    severity: Severity
    status: Status
    subject: str  # a pool, workload, frontier entry or resource name, or the stack name
    message: str
    waived: bool = False
    waiver_reason: str | None = None
    waiver_expires: date | None = None  # set when a waiver matched, expired or not
    waiver_refused: str | None = None  # why the organisation's config does not let the waiver count

    @property
    def blocking(self) -> bool:
        """A mandatory failure nobody waived: this is what stops the gate and makes `plan` exit 1."""
        return self.severity == "mandatory" and self.status == "fail" and not self.waived

    @property
    def waiver_expired(self) -> bool:
        return self.waiver_expires is not None and not self.waived and self.waiver_refused is None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "status": self.status,
            "subject": self.subject,
            "message": self.message,
            "waived": self.waived,
        }
        if self.waiver_expires is not None:
            out["waiver"] = {
                "reason": self.waiver_reason,
                "expires": self.waiver_expires.isoformat(),
                "expired": self.waiver_expired,
            }
            if self.waiver_refused is not None:
                out["waiver"]["refused"] = self.waiver_refused
        return out


def finding(rule: str, status: Status, subject: str, message: str) -> Finding:
    """A finding with the rule's registered severity (so a rule cannot drift from the contract)."""
    return Finding(rule=rule, severity=RULES[rule], status=status, subject=subject, message=message)


def blocking(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(f for f in findings if f.blocking)


@dataclass(frozen=True)
class Limits:
    """What resource-level rules compare against: the stack's spec, or an organisation's pack config.

    `None` / empty means "not configured": a rule with no limit says so instead of inventing one.
    """

    stack: str
    region: str | None = None
    allowed_regions: tuple[str, ...] = ()
    max_nodes_per_pool: int | None = None
    monthly_usd: float | None = None
    hard_cap_usd: float | None = None
    expects_gateway: bool | None = None  # None: unknown (the pack without the spec)
    expects_secrets: bool | None = None

    def tightened(self, config: Mapping[str, Any]) -> Limits:
        """The stricter of these limits and an organisation's values (`--policy-pack-config`)."""

        def lower(mine: float | None, theirs: Any) -> Any:
            if not isinstance(theirs, int | float) or isinstance(theirs, bool):
                return mine
            return theirs if mine is None else min(mine, theirs)

        regions = self.allowed_regions
        theirs = config.get("allowed_regions")
        if isinstance(theirs, list | tuple) and theirs:
            allowed = tuple(str(r) for r in theirs)
            regions = tuple(r for r in regions if r in allowed) if regions else allowed
            if not regions:
                regions = ("(none: the stack's and the organisation's allowed regions do not overlap)",)
        max_nodes = lower(self.max_nodes_per_pool, config.get("max_nodes_per_pool"))
        return replace(
            self,
            allowed_regions=regions,
            max_nodes_per_pool=None if max_nodes is None else int(max_nodes),
            monthly_usd=lower(self.monthly_usd, config.get("monthly_usd")),
            hard_cap_usd=lower(self.hard_cap_usd, config.get("hard_cap_usd")),
        )


# Values a preview cannot know yet (outputs of resources not created). Pulumi marks them with these
# sentinels (pulumi.runtime.rpc.UNKNOWN and pulumi_policy's typed variants); listed here because the
# planner never imports pulumi.
UNKNOWN_SENTINELS = frozenset(
    {
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (and the SDK's generic UNKNOWN)
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
    }
)


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def truthy(value: Any) -> bool:
    """AWS schema booleans arrive as bools or as strings ("true") under mocks and in previews."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True
