"""Which options may serve a workload: each filter the decision engine applies, written once.

An option is a self-hosted model of the stack (on one GPU shape) or a frontier / open-model API entry.
It is eligible when every filter passes: the data may flow there (sensitivity, residency, egress:
the router's own verdict), the calls fit its context window, it meets the workload's latency SLO,
it is at or above the workload's quality floor, and it has a price. Each filter answers
`(passes, why)`; `judge` keeps the first refusal as the reason, else the data-flow reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inferplan.egress import fallback_allowed
from inferplan.spec import Platform, Workload

Check = tuple[bool, str]


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    reason: str


def data_flow(workload: Workload, target: str, platform: Platform) -> Check:
    """The router's residency/egress verdict (confidential and regulated data never reach an API)."""
    return fallback_allowed(workload, target, platform)


def api_sensitivity(workload: Workload, target: str) -> Check:
    """Confidential and regulated data never go to an API, whatever its regions (the router's rule too)."""
    if workload.sensitivity in ("confidential", "regulated"):
        del target
        return False, f"{workload.sensitivity} data never goes to an API"
    return True, f"{workload.sensitivity} data may go to an API"


def context_fits(workload: Workload, window: int | None, target: str) -> Check:
    tokens = workload.input_tokens + workload.output_tokens
    if window is None:
        return True, f"'{target}' has no known context window"
    if tokens > window:
        return False, f"calls of {tokens:,} tokens exceed the {window:,}-token window of '{target}'"
    return True, f"calls of {tokens:,} tokens fit the {window:,}-token window"


def quality_floor(floor: int | None, tier: int | None, target: str, why_floor: str) -> Check:
    if floor is None:
        return True, "no quality floor"
    if tier is None:
        return (
            False,
            f"'{target}' has no quality tier in the catalog; the workload needs tier {floor} ({why_floor})",
        )
    if tier < floor:
        return (
            False,
            f"'{target}' is quality tier {tier}, below the workload's floor of {floor} ({why_floor})",
        )
    return True, f"quality tier {tier} >= {floor}"


def latency(meets: bool, target: str, detail: str) -> Check:
    if meets:
        return True, "meets the latency SLO"
    return False, f"'{target}' misses the workload's latency SLO ({detail})"


def priced(has_price: bool, target: str, what: str) -> Check:
    if has_price:
        return True, "priced"
    return False, f"no price for '{target}' ({what})"


def judge(checks: Sequence[Check]) -> Verdict:
    """Eligible when all pass; the reason is the first refusal, else the first check's (data flow)."""
    for ok, why in checks:
        if not ok:
            return Verdict(False, why)
    return Verdict(True, checks[0][1] if checks else "")
