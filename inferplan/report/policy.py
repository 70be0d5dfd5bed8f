"""The policy section of `plan`: every rule's verdict, waivers, and where the data can flow.

Passes are listed too: a reviewer should see that a rule ran and what it found, not only what broke.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inferplan import graph
from inferplan.plan import Plan
from inferplan.rules import RULES, Finding, unused_waivers

MARK = {"pass": "pass", "warn": "WARN", "fail": "FAIL"}
ORDER = {name: index for index, name in enumerate(RULES)}


def ordered(findings: Sequence[Finding]) -> list[Finding]:
    """Failures first (unwaived before waived), then warnings, then passes; then in rule-table order."""
    rank = {"fail": 0, "warn": 1, "pass": 2}
    return sorted(
        findings, key=lambda f: (rank[f.status], f.waived, ORDER.get(f.rule, len(ORDER)), f.subject)
    )


def summary(findings: Sequence[Finding]) -> str:
    blocking = sum(1 for f in findings if f.blocking)
    failed = sum(1 for f in findings if f.status == "fail" and not f.waived)
    warned = sum(1 for f in findings if f.status == "warn" and not f.waived)
    waived = sum(1 for f in findings if f.waived)
    passed = sum(1 for f in findings if f.status == "pass")
    verdict = (
        f"{blocking} mandatory rule(s) failed: nothing may be provisioned"
        if blocking
        else "no mandatory rule failed"
    )
    return f"{verdict} ({passed} pass, {warned} warn, {failed} fail, {waived} waived)"


def _waiver_note(item: Finding) -> str:
    if item.waiver_expires is None:
        return ""
    if item.waived:
        return f" [waived until {item.waiver_expires.isoformat()}: {item.waiver_reason}]"
    if item.waiver_refused is not None:
        return f" [waiver refused by the organisation's policy config: {item.waiver_reason}]"
    return f" [waiver expired {item.waiver_expires.isoformat()}: {item.waiver_reason}]"


def _unused(findings: Sequence[Finding], plan: Plan) -> list[str]:
    """Waivers that match no warning or failure: a typo in rule/subject, or the problem is gone."""
    return [
        f"{w.rule} / {w.subject} (until {w.expires.isoformat()}) matches no finding; fix its rule or subject, "
        "or remove it"
        for w in unused_waivers(findings, plan.platform.policy.waivers)
    ]


def to_json(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [f.to_json() for f in ordered(findings)]


def render_text(findings: Sequence[Finding], plan: Plan | None = None) -> str:
    if not findings:
        return ""
    rule_width = max(len(f.rule) for f in findings)
    subject_width = min(28, max(len(f.subject) for f in findings))
    lines = [f"Policy: {summary(findings)}"]
    for item in ordered(findings):
        advisory = " (advisory)" if item.severity == "advisory" else ""
        lines.append(
            f"  {MARK[item.status]}  {item.rule.ljust(rule_width)}  {item.subject.ljust(subject_width)}  "
            f"{item.message}{advisory}{_waiver_note(item)}"
        )
    if plan is not None:
        lines.append(f"  Data flow: {graph.internet_summary(plan)}")
        lines.extend(f"  Unused waiver: {text}" for text in _unused(findings, plan))
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(findings: Sequence[Finding], plan: Plan | None = None) -> str:
    if not findings:
        return ""
    icon = {"pass": "✅", "warn": "⚠️", "fail": "❌"}
    lines = [
        "### Policy",
        "",
        f"**{summary(findings)}**",
        "",
        "| | rule | severity | subject | message |",
        "|---|---|---|---|---|",
    ]
    for item in ordered(findings):
        waived = " (waived)" if item.waived else ""
        lines.append(
            f"| {icon[item.status]}{waived} | `{item.rule}` | {item.severity} | `{_cell(item.subject)}` | "
            f"{_cell(item.message + _waiver_note(item))} |"
        )
    if plan is not None:
        lines += ["", f"**Data flow:** {_cell(graph.internet_summary(plan))}"]
        lines.extend(f"- unused waiver: {text}" for text in _unused(findings, plan))
    return "\n".join(lines)
