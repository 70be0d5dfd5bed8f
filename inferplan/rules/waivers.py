"""Waivers: a stack may accept a known failure of one rule on one subject, with a reason, until a date.

A waived finding keeps its status (it still fails) and gains a `waived` mark, so the output always
shows what was accepted and why. From the day after `expires` the waiver no longer waives: the finding
blocks again and the report says which waiver ran out.

Residency and security rules (`GUARDED_RULES`) are not the stack's to waive: a stack file's waiver of
one counts only where the organisation's policy config allows that rule —
`{"<rule>": {"waivable": {"max_days": N}}}`, the file the CrossGuard pack takes as
`--policy-pack-config` (each policy reads its own entry) and the offline gate as
`--policy-config` / `$INFERPLAN_POLICY_CONFIG` — and never for longer than it allows (from today;
`DEFAULT_MAX_DAYS` when the entry names no `max_days`). Other rules (budgets, autoscaler limits) stay
the stack's call, capped only where the organisation's config says `waivable` for them too. A waiver
refused this way waives nothing, and the finding says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from inferplan.rules.findings import Finding
from inferplan.spec import Waiver

GUARDED_RULES = frozenset(
    {
        "residency-region",
        "residency-dataflow",
        "network-private",
        "gateway-auth",
        "secrets-encrypted",
        "endpoint-policies",
    }
)
DEFAULT_MAX_DAYS = 90
WAIVABLE = "waivable"  # the key of a rule's entry in the organisation's policy config


@dataclass(frozen=True)
class Allowance:
    """The organisation lets stacks waive one rule, for at most `max_days` from the day of the plan."""

    max_days: int = DEFAULT_MAX_DAYS


def allowance(rule_config: Any) -> Allowance | None:
    """One rule's entry of the organisation's config (`{"waivable": {"max_days": 30}}`), or None."""
    if not isinstance(rule_config, Mapping):
        return None
    entry = rule_config.get(WAIVABLE)
    if entry is True:
        return Allowance()
    if not isinstance(entry, Mapping):
        return None
    days = entry.get("max_days", DEFAULT_MAX_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        return None  # malformed: the pack's schema refuses it; the offline loader reports it
    return Allowance(max_days=days)


def allowances(config: Mapping[str, Any]) -> dict[str, Allowance]:
    """Every rule the organisation's whole config file lets a stack waive."""
    found = {rule: allowance(entry) for rule, entry in config.items()}
    return {rule: a for rule, a in found.items() if a is not None}


def refusal(waiver: Waiver, allowed: Allowance | None, today: date) -> str | None:
    """Why the organisation does not let this waiver count, or None."""
    if allowed is None:
        if waiver.rule in GUARDED_RULES:
            return (
                f"the organisation's policy config does not let a stack waive {waiver.rule} "
                f'(a residency or security rule: add "{waiver.rule}": {{"{WAIVABLE}": {{"max_days": N}}}} '
                "to it, or fix this)"
            )
        return None
    latest = today + timedelta(days=allowed.max_days)
    if waiver.expires > latest:
        return (
            f"it expires {waiver.expires.isoformat()}, beyond the organisation's allowance of "
            f"{allowed.max_days} days for {waiver.rule} (at the latest {latest.isoformat()})"
        )
    return None


def apply_waivers(
    findings: Iterable[Finding],
    waivers: Iterable[Waiver],
    today: date | None = None,
    allowed: Mapping[str, Allowance] | None = None,
) -> tuple[Finding, ...]:
    """Mark the findings a waiver covers (same rule and subject); passes need no waiver and get none.

    `allowed` is the organisation's allowances by rule (`allowances`); None or empty: none."""
    today = today or date.today()
    allowed = allowed or {}
    by_key: dict[tuple[str, str], Waiver] = {}
    for waiver in waivers:
        current = by_key.get((waiver.rule, waiver.subject))
        # Of two waivers for the same finding, the one that lasts longer wins.
        if current is None or waiver.expires > current.expires:
            by_key[(waiver.rule, waiver.subject)] = waiver
    out = []
    for item in findings:
        found = by_key.get((item.rule, item.subject))
        if found is None or item.status == "pass":
            out.append(item)
            continue
        waiver = found
        refused = refusal(waiver, allowed.get(waiver.rule), today)
        active = waiver.expires >= today and refused is None
        message = item.message
        if refused is not None:
            message += f" (waiver refused: {refused})"
        elif not active:
            message += f" (waiver expired on {waiver.expires.isoformat()}: renew it or fix this)"
        out.append(
            replace(
                item,
                waived=active,
                waiver_reason=waiver.reason,
                waiver_expires=waiver.expires,
                waiver_refused=refused,
                message=message,
            )
        )
    return tuple(out)


def unused_waivers(findings: Iterable[Finding], waivers: Iterable[Waiver]) -> tuple[Waiver, ...]:
    """Waivers that match no warning or failure (a typo in rule or subject, or the problem was fixed)."""
    hit = {(f.rule, f.subject) for f in findings if f.status != "pass"}
    return tuple(w for w in waivers if (w.rule, w.subject) not in hit)
