"""The routes section: where each workload's calls go, and what they fall back to."""

from __future__ import annotations

from typing import Any

from inferplan.plan import Plan


def to_json(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "workload": r.workload,
            "sensitivity": r.sensitivity,
            "target": r.target,
            "target_kind": r.target_kind,
            "fallback": r.fallback,
            "fallback_kind": r.fallback_kind,
        }
        for r in plan.routes
    ]


def render_text(plan: Plan) -> str:
    if not plan.routes:
        return ""
    width = max(len(r.workload) for r in plan.routes)
    lines = ["Routes"]
    for r in plan.routes:
        fallback = f" → fallback {r.fallback} ({r.fallback_kind})" if r.fallback else ""
        lines.append(
            f"  {r.workload.ljust(width)}  [{r.sensitivity}]  {r.target} ({r.target_kind}){fallback}"
        )
    return "\n".join(lines)


def render_markdown(plan: Plan) -> str:
    if not plan.routes:
        return ""
    lines = ["### Routes", "", "| workload | sensitivity | route | fallback |", "|---|---|---|---|"]
    for r in plan.routes:
        fallback = f"{r.fallback} ({r.fallback_kind})" if r.fallback else "—"
        lines.append(f"| `{r.workload}` | {r.sensitivity} | {r.target} ({r.target_kind}) | {fallback} |")
    return "\n".join(lines)
