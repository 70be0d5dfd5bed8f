"""Waivers: a stack may accept a known failure of one rule on one subject, with a reason, until a date.

A waived finding keeps its status (it still fails) and gains a `waived` mark, so the output always
shows what was accepted and why. From the day after `expires` the waiver no longer waives: the finding
blocks again and the report says which waiver ran out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from inferplan.rules.findings import Finding
from inferplan.spec import Waiver


def apply_waivers(
    findings: Iterable[Finding], waivers: Iterable[Waiver], today: date | None = None
) -> tuple[Finding, ...]:
    """Mark the findings a waiver covers (same rule and subject); passes need no waiver and get none."""
    today = today or date.today()
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
        active = waiver.expires >= today
        message = item.message
        if not active:
            message += f" (waiver expired on {waiver.expires.isoformat()}: renew it or fix this)"
        out.append(
            replace(
                item,
                waived=active,
                waiver_reason=waiver.reason,
                waiver_expires=waiver.expires,
                message=message,
            )
        )
    return tuple(out)


def unused_waivers(findings: Iterable[Finding], waivers: Iterable[Waiver]) -> tuple[Waiver, ...]:
    """Waivers that match no warning or failure (a typo in rule or subject, or the problem was fixed)."""
    hit = {(f.rule, f.subject) for f in findings if f.status != "pass"}
    return tuple(w for w in waivers if (w.rule, w.subject) not in hit)
