"""Imported workloads as spec YAML (with the review comments) and the import report.

The YAML goes to stdout or `--out` so it can be pasted under `workloads:`; the report goes to stderr.
Entries are written as text in the block style of the example stacks, and every one is parsed back
and validated against the spec's own `Workload` model before anything is written, so the command
never emits an entry the planner would reject for its shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from inferplan.spec import Workload
from inferplan.usage.aggregate import ImportedWorkload, Summary

SENSITIVITY = "internal"
REVIEW = "REVIEW: logs cannot tell; set public, internal, confidential or regulated"
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(value: Any) -> str:
    """A YAML scalar that reads back as exactly `value` (strings quoted unless plainly safe)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return format(value, "f") if "e" in text else text  # PyYAML reads 1e-05 as a string
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text)


def _flow(values: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in values.items()) + "}"


def entry_data(w: ImportedWorkload, route: str) -> dict[str, Any]:
    """One `workloads:` entry as data, checked against the spec's Workload model."""
    data: dict[str, Any] = {
        "name": w.name,
        "calls_per_day": w.calls_per_day,
        "input_tokens": w.input_tokens,
        "output_tokens": w.output_tokens,
        "sensitivity": SENSITIVITY,
        "route": route,
    }
    if w.peak_to_average is not None:
        data["peak_to_average"] = w.peak_to_average
    if w.percentiles is not None:
        data["token_percentiles"] = w.percentiles.model_dump()
    current: dict[str, Any] = {"provider": w.provider, "model": w.model}
    if w.monthly_usd is not None:
        current["monthly_usd"] = w.monthly_usd
    data["current"] = current
    Workload.model_validate(data)
    return data


def entry_text(data: Mapping[str, Any], origin: str, indent: int, *, review: bool = True) -> str:
    """The entry as block YAML, its dash at column `indent`, with the origin and review comments."""
    pad, inner = " " * indent, " " * (indent + 2)
    lines = [f"{pad}# {origin}"]
    for i, (key, value) in enumerate(data.items()):
        text = _flow(value) if isinstance(value, Mapping) else scalar(value)
        line = f"{pad}- {key}: {text}" if i == 0 else f"{inner}{key}: {text}"
        if key == "sensitivity" and review:
            line += f"  # {REVIEW}"
        elif key == "route" and value == "auto":
            line += "  # the planner chooses"
        lines.append(line)
    text = "\n".join(lines) + "\n"
    parsed = yaml.safe_load(text)
    if parsed != [dict(data)]:  # the text must read back as exactly the data
        raise AssertionError(f"workload {data.get('name')} does not round-trip through YAML: {parsed!r}")
    return text


def origin(w: ImportedWorkload, summary: Summary) -> str:
    key = ", ".join(f"{k}={v}" for k, v in zip(summary.group_by, w.key, strict=True))
    text = f"imported from {summary.source} ({key}): {w.calls:,} calls in {summary.days:.2f} days"
    if w.cost_basis:
        text += f"; cost from {w.cost_basis}"
    return text


def workloads_yaml(summary: Summary, route: str) -> str:
    """The `workloads:` document, headed by where it came from."""
    head = (
        f"# Imported by `python -m inferplan import-usage --source {summary.source}` from "
        f"{', '.join(summary.inputs)}\n"
        f"# span {summary.start:%Y-%m-%d %H:%M} to {summary.end:%Y-%m-%d %H:%M} UTC ({summary.days:.2f} days); "
        "review every sensitivity before planning\n"
        "workloads:\n"
    )
    return head + "".join(entry_text(entry_data(w, route), origin(w, summary), 2) for w in summary.workloads)


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def report(summary: Summary, extra: Sequence[str] = ()) -> str:
    """What was read, what became of it, and what a person must look at."""
    s = summary
    lines = [
        f"import-usage · {s.source} · {len(s.inputs)} input{'s' if len(s.inputs) != 1 else ''} · "
        f"{s.records:,} records: {s.used:,} used, {s.bad:,} bad, "
        f"{sum(s.skipped.values()):,} skipped, {s.outside:,} outside the window",
        f"span {s.start:%Y-%m-%d %H:%M} to {s.end:%Y-%m-%d %H:%M} UTC ({s.days:.2f} days, from {s.span_from}); "
        f"grouped by {', '.join(s.group_by)}",
        "",
        f"  {'workload':<20} {'calls/day':>12} {'in':>7} {'out':>7} {'p95 in':>7} {'p95 out':>7} "
        f"{'peak/avg':>8}  {'current':<36} {'$/month':>12}",
    ]
    for w in s.workloads:
        p = w.percentiles
        lines.append(
            f"  {w.name:<20} {w.calls_per_day:>12,.2f} {w.input_tokens:>7,} {w.output_tokens:>7,} "
            f"{(f'{p.input_p95:,}' if p else '-'):>7} {(f'{p.output_p95:,}' if p else '-'):>7} "
            f"{(f'{w.peak_to_average:.2f}' if w.peak_to_average is not None else '-'):>8}  "
            f"{(w.provider + '/' + w.model)[:36]:<36} {_money(w.monthly_usd):>12}"
        )
    total = sum(w.monthly_usd or 0.0 for w in s.workloads)
    lines.append(
        f"  {'total':<20} {sum(w.calls_per_day for w in s.workloads):>12,.2f}{'':>80}{total:>12,.2f}"
    )
    lines += [
        "",
        f"review sensitivity: every imported workload is '{SENSITIVITY}' until you say otherwise: "
        + ", ".join(w.name for w in s.workloads),
    ]
    if s.renames:
        lines.append("names:")
        lines += [f"  {r}" for r in s.renames]
    for w in s.workloads:
        lines += [f"note: {w.name} {n}" for n in w.notes]
    lines += [f"note: {n}" for n in s.notes]
    if s.skipped:
        lines.append("skipped: " + "; ".join(f"{n:,} {reason}" for reason, n in s.skipped.items()))
    if s.bad:
        lines.append(f"bad records ({s.bad:,}; not used):")
        lines += [f"  {b.where}: {b.problem}" for b in s.bad_shown]
        if s.bad > len(s.bad_shown):
            lines.append(f"  ... and {s.bad - len(s.bad_shown):,} more")
    lines += list(extra)
    return "\n".join(lines) + "\n"
