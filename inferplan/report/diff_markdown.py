"""Renderers of a `PlanDiff`: Markdown for a pull-request comment, and plain text for a terminal.

The first line is what a reviewer reads first — `+3 ~1 -0 · +$4,210/mo expected · 1 policy failing` —
then the tables (resources, costs, policy, routes, downstream) and the Mermaid picture of the head.
Sections whose engine did not run are left out, never filled with zeros.
"""

from __future__ import annotations

import base64
import difflib
import json
import re
from collections.abc import Sequence
from typing import Any

from inferplan.dependencies import ResourceKey
from inferplan.diff import (
    CostDelta,
    InputChange,
    PlanDiff,
    PolicyDelta,
    ResourceChange,
    RouteChange,
    SizingChange,
    Verdict,
)
from inferplan.report.mermaid import mermaid_block

MARK = {"create": "+", "update": "~", "delete": "-"}
MAX_VALUE_CHARS = 60  # an input value longer than this is summarised in the tables
MAX_NAMES = 6  # downstream names listed before "+N more"
MAX_COST_LINES = 20
MAX_HUNKS = 3  # changed line groups shown for one long string input
COLLAPSE_ROWS = 20  # a resource table longer than this is folded into <details>
BLOCKED_COSTS = "The head is priced from the plan alone: its resources were not registered."
BLOCKED_HEAD = (
    "The policy gate stopped the head plan, so the program registered no resources: resource changes "
    "are not known until the failing mandatory rules pass (or are waived)."
)


# ----------------------------------------------------------------------------------------------- numbers


def money(value: float) -> str:
    """`$4,210` (cents only below $100, where they matter)."""
    amount = abs(value)
    text = f"${amount:,.0f}" if amount >= 100 else f"${amount:,.2f}"
    return f"-{text}" if value < 0 and round(amount, 2) > 0 else text


def signed_money(value: float) -> str:
    if abs(value) < 0.005:
        return "±$0"
    return ("+" if value > 0 else "") + money(value)


def _policy_count(n: int) -> str:
    if n == 0:
        return "no policy failing"
    return f"{n} {'policy' if n == 1 else 'policies'} failing"


def summary_line(diff: PlanDiff) -> str:
    """`+3 ~1 -0 · +$4,210/mo expected · 1 policy failing` (each part only when its engine ran)."""
    if diff.blocked == "head":
        parts = ["resources not planned (blocked by policy)"]
    else:
        parts = [f"+{diff.added} ~{diff.changed} -{diff.removed}"]
    if diff.costs is not None:
        parts.append(f"{signed_money(round(diff.costs.delta_expected))}/mo expected")
    if diff.policy is not None:
        parts.append(_policy_count(len(diff.policy.failing)))
    return " · ".join(parts)


# ------------------------------------------------------------------------------------------------ values


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS or "\n" in value:
            return f"({len(value):,} chars)"
        return value
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else f"({type(value).__name__}, {len(text):,} chars)"


def excerpt(before: str, after: str, context: int = 24, limit: int = 100) -> tuple[str, str]:
    """The part of two strings that differs, with a little context (e.g. one vLLM flag on a long line)."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1

    def cut(text: str) -> str:
        lo, hi = max(0, start - context), min(len(text), len(text) - end + context)
        middle = text[lo:hi]
        if len(middle) > limit:
            middle = middle[:limit] + "…"
        return ("…" if lo > 0 else "") + middle + ("…" if hi < len(text) and not middle.endswith("…") else "")

    return cut(before), cut(after)


def _decoded(text: str) -> str | None:
    """Base64 text (EC2 userData) decoded, or None when it is not base64 of UTF-8 text."""
    compact = "".join(text.split())
    if len(compact) < 16 or len(compact) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", compact):
        return None
    try:
        return base64.b64decode(compact, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def string_hunks(before: str, after: str, limit: int = MAX_HUNKS) -> tuple[str, list[tuple[str, str]]]:
    """(note, [(old, new)]) for two long strings: the changed lines, each cut to the part that differs."""
    note = ""
    decoded = _decoded(before), _decoded(after)
    if decoded[0] is not None and decoded[1] is not None:
        before, after, note = decoded[0], decoded[1], " (base64, decoded)"
    if "\n" not in before and "\n" not in after:
        return note, [excerpt(before, after)]
    old, new = before.splitlines(), after.splitlines()
    hunks: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        a, b = " ⏎ ".join(x.strip() for x in old[i1:i2]), " ⏎ ".join(x.strip() for x in new[j1:j2])
        hunks.append(excerpt(a, b) if a and b else (a[:100] or "—", b[:100] or "—"))
    if len(hunks) > limit:
        note += f" ({len(hunks) - limit} more changed line group(s))"
    return note, hunks[:limit]


def _long_strings(change: InputChange) -> bool:
    return (
        change.kind == "changed"
        and isinstance(change.before, str)
        and isinstance(change.after, str)
        and (max(len(change.before), len(change.after)) > MAX_VALUE_CHARS or "\n" in change.before)
    )


def change_text(change: InputChange) -> str:
    """One line: `path: before → after`; long strings show only the lines and the part that changed."""
    if _long_strings(change):
        note, hunks = string_hunks(change.before, change.after)
        return f"{change.path}{note}: " + "; ".join(f"{a} → {b}" for a, b in hunks)
    if change.kind == "added":
        return f"{change.path}: + {_value(change.after)}"
    if change.kind == "removed":
        return f"{change.path}: - {_value(change.before)}"
    return f"{change.path}: {_value(change.before)} → {_value(change.after)}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def short(key: ResourceKey, keys: Sequence[ResourceKey]) -> str:
    """A resource's name, with its type's last part when another listed resource shares the name."""
    twins = sum(1 for k in keys if k.name == key.name)
    return f"{key.name} ({key.type.rsplit(':', 1)[-1]})" if twins > 1 else key.name


def _names(keys: Sequence[ResourceKey], limit: int = MAX_NAMES) -> str:
    shown = ", ".join(f"`{short(k, keys)}`" for k in keys[:limit])
    return shown + (f" +{len(keys) - limit} more" if len(keys) > limit else "")


def root_changes(diff: PlanDiff) -> list[ResourceChange]:
    """Updates and deletes that no other update or delete already reaches (the causes, not the echoes)."""
    relevant = [r for r in diff.resources if r.action != "create" and r.downstream]
    reached = {k for r in relevant for k in r.downstream}
    return [r for r in relevant if r.key not in reached]


# -------------------------------------------------------------------------------------------------- Markdown


def _resources_md(diff: PlanDiff) -> str:
    if not diff.resources:
        return ""
    rows = ["| | type | name | changed inputs |", "|---|---|---|---|"]
    for r in diff.resources:
        changes = "<br/>".join(_cell(f"`{change_text(c)}`") for c in r.changes)
        rows.append(f"| {MARK[r.action]} | `{r.key.type}` | `{r.key.name}` | {changes} |")
    title = f"Resources: +{diff.added} ~{diff.changed} -{diff.removed}"
    if len(diff.resources) > COLLAPSE_ROWS:
        return "<details><summary>" + title + "</summary>\n\n" + "\n".join(rows) + "\n\n</details>"
    return f"#### {title}\n\n" + "\n".join(rows)


def _costs_md(costs: CostDelta | None, blocked: str | None = None) -> str:
    if costs is None:
        return ""
    rows = [
        "#### Cost (USD per month)",
        "",
        *([f"_{BLOCKED_COSTS}_", ""] if blocked == "head" else []),
        "| item | resource | expected | Δ expected | worst case | Δ worst case |",
        "|---|---|---|---|---|---|",
        f"| **total** | | {money(costs.base_expected)} → {money(costs.head_expected)} | "
        f"**{signed_money(costs.delta_expected)}** | {money(costs.base_worst)} → {money(costs.head_worst)} | "
        f"**{signed_money(costs.delta_worst)}** |",
    ]
    for line in costs.lines[:MAX_COST_LINES]:
        before = "—" if line.base_monthly is None else money(line.base_monthly)
        after = "—" if line.head_monthly is None else money(line.head_monthly)
        worst_before = "—" if line.base_worst is None else money(line.base_worst)
        worst_after = "—" if line.head_worst is None else money(line.head_worst)
        rows.append(
            f"| {_cell(line.item)} | {_code(line.name)} | {before} → {after} | {signed_money(line.delta_monthly)} "
            f"| {worst_before} → {worst_after} | {signed_money(line.delta_worst)} |"
        )
    hidden = len(costs.lines) - MAX_COST_LINES
    if hidden > 0:
        rows += ["", f"{hidden} smaller line(s) moved too (see `--format json`)."]
    api_only = (costs.base_api_only, costs.head_api_only)
    if api_only[0] is not None and api_only[1] is not None and abs(api_only[1] - api_only[0]) >= 0.005:
        rows += [
            "",
            f"API-only alternative: {money(api_only[0])} → {money(api_only[1])} per month.",
        ]
    return "\n".join(rows)


def _status(verdict: Verdict | None) -> str:
    return "—" if verdict is None else verdict.shown_status


def _policy_md(policy: PolicyDelta | None) -> str:
    if policy is None:
        return ""
    changed = {(c.rule, c.subject) for c in policy.changes}
    still = [v for v in policy.failing if (v.rule, v.subject) not in changed]
    if not policy.changes and not still:
        return ""  # the summary line already says "no policy failing"
    rows = [
        "#### Policy",
        "",
        "| | rule | subject | severity | before → after | message |",
        "|---|---|---|---|---|---|",
    ]
    for c in policy.changes:
        label = {"new-failure": "**new failure**", "fixed": "fixed", "changed": "changed"}[c.kind]
        rows.append(
            f"| {label} | `{c.rule}` | {_cell(c.subject)} | {c.severity} | {_status(c.before)} → "
            f"{_status(c.after)} | {_cell(c.message)} |"
        )
    for v in still:
        rows.append(
            f"| still failing | `{v.rule}` | {_cell(v.subject)} | {v.severity} | {v.status} → {v.status} "
            f"| {_cell(v.message)} |"
        )
    if policy.blocking:
        rows += ["", f"**{len(policy.blocking)} mandatory rule(s) fail: this change cannot be provisioned.**"]
    return "\n".join(rows)


def _routes_md(routes: Sequence[RouteChange]) -> str:
    if not routes:
        return ""
    rows = ["#### Routes", "", "| workload | before | after |", "|---|---|---|"]
    for r in routes:
        rows.append(
            f"| `{r.workload}` | {_cell(RouteChange.describe(r.before))} | {_cell(RouteChange.describe(r.after))} |"
        )
    return "\n".join(rows)


def _sizing_md(sizing: Sequence[SizingChange]) -> str:
    if not sizing:
        return ""
    rows = ["#### Sizing", "", "| | kind | name | changed |", "|---|---|---|---|"]
    for c in sizing:
        changes = "<br/>".join(_cell(f"`{change_text(x)}`") for x in c.changes)
        rows.append(f"| {MARK[c.action]} | {c.kind} | `{c.name}` | {changes} |")
    return "\n".join(rows)


def _downstream_md(diff: PlanDiff) -> str:
    roots = root_changes(diff)
    if not roots:
        return ""
    rows = [
        "#### Downstream",
        "",
        "What each change reaches through the dependency graph (a resource consuming another's outputs).",
        "",
        "| change | reaches | resources |",
        "|---|---|---|",
    ]
    for r in roots:
        rows.append(
            f"| {MARK[r.action]} `{r.key.name}` ({r.key.type.rsplit(':', 1)[-1]}) | {len(r.downstream)} | "
            f"{_names(r.downstream)} |"
        )
    return "\n".join(rows)


def render_markdown(diff: PlanDiff) -> str:
    stack = f"**`{diff.stack}`** · " if diff.stack else ""
    notes = []
    if diff.new_stack:
        notes.append("new stack: everything is added")
    elif diff.blocked == "base":
        notes.append("the base plan was blocked by policy, so everything shows as added")
    elif not diff.has_changes:
        notes.append("no change")
    if diff.costs is not None:
        notes.append(f"worst case {signed_money(diff.costs.delta_worst)}/mo")
    first = stack + summary_line(diff) + (f" ({'; '.join(notes)})" if notes else "")
    if not diff.has_changes and not (diff.policy and diff.policy.failing):
        return first + "\n"
    parts = [
        first,
        _policy_md(diff.policy),
        _costs_md(diff.costs, diff.blocked),
        _resources_md(diff) if diff.blocked != "head" else BLOCKED_HEAD,
        _routes_md(diff.routes),
        _sizing_md(diff.sizing),
        _downstream_md(diff),
    ]
    topology = diff.head_topology
    if topology.workloads or topology.models:
        parts.append("#### Platform after this change\n\n" + mermaid_block(topology))
    return "\n\n".join(p for p in parts if p) + "\n"


# ------------------------------------------------------------------------------------------------------ text


def render_text(diff: PlanDiff) -> str:
    lines = [f"inferplan diff · stack {diff.stack}" + (" (new stack)" if diff.new_stack else ""), ""]
    lines.append(summary_line(diff))
    if diff.blocked == "head":
        lines.append(BLOCKED_HEAD)
    if diff.resources:
        lines += ["", "Resources"]
        width = max(len(r.key.type) for r in diff.resources)
        for r in diff.resources:
            lines.append(f"  {MARK[r.action]} {r.key.type.ljust(width)}  {r.key.name}")
            lines.extend(f"        {change_text(c)}" for c in r.changes)
    if diff.costs is not None:
        c = diff.costs
        lines += [
            "",
            "Cost (USD per month)",
            f"  expected    {money(c.base_expected)} → {money(c.head_expected)} ({signed_money(c.delta_expected)})",
            f"  worst case  {money(c.base_worst)} → {money(c.head_worst)} ({signed_money(c.delta_worst)})",
        ]
        for line in c.lines[:MAX_COST_LINES]:
            where = f" [{line.name}]" if line.name else ""
            lines.append(
                f"    {signed_money(line.delta_monthly):>10} expected  {signed_money(line.delta_worst):>10} worst"
                f"  {line.item}{where}"
            )
    if diff.policy is not None:
        lines += ["", f"Policy: {_policy_count(len(diff.policy.failing))}"]
        for p in diff.policy.changes:
            lines.append(
                f"  {p.kind:<11}  {p.rule}  {p.subject}: {_status(p.before)} → {_status(p.after)} · {p.message}"
            )
        changed = {(p.rule, p.subject) for p in diff.policy.changes}
        for v in diff.policy.failing:
            if (v.rule, v.subject) not in changed:
                lines.append(f"  still fail   {v.rule}  {v.subject} · {v.message}")
    if diff.routes:
        lines += ["", "Routes"]
        for route in diff.routes:
            before, after = RouteChange.describe(route.before), RouteChange.describe(route.after)
            lines.append(f"  {route.workload}: {before} → {after}")
    if diff.sizing:
        lines += ["", "Sizing"]
        for sized in diff.sizing:
            lines.append(f"  {MARK[sized.action]} {sized.kind} {sized.name}")
            lines.extend(f"        {change_text(x)}" for x in sized.changes)
    roots = root_changes(diff)
    if roots:
        lines += ["", "Downstream"]
        for root in roots:
            names = ", ".join(short(k, root.downstream) for k in root.downstream[:MAX_NAMES])
            more = f" +{len(root.downstream) - MAX_NAMES} more" if len(root.downstream) > MAX_NAMES else ""
            lines.append(
                f"  {MARK[root.action]} {root.key.name} reaches {len(root.downstream)}: {names}{more}"
            )
    return "\n".join(lines) + "\n"
