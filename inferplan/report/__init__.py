"""Renderers of a planned stack: text (Terraform-style), Markdown (PR comments) and Plan JSON v1.

`PlanReport` is everything one `plan` run knows; each section has its own module here and is
rendered only when its engine produced something (absent, never faked).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inferplan import graph
from inferplan.cost.model import Costs
from inferplan.plan import SCHEMA, Plan, PoolPlan
from inferplan.report import costs as costs_section
from inferplan.report import decision as decision_section
from inferplan.report import front_door as front_door_section
from inferplan.report import mermaid as mermaid_section
from inferplan.report import policy as policy_section
from inferplan.report import resources as resources_section
from inferplan.report import routes as routes_section
from inferplan.resources import ResourceRecord
from inferplan.rules import Finding
from inferplan.sizing import export as sizing_section

FORMATS = ("text", "json", "markdown")


@dataclass(frozen=True)
class PlanReport:
    plan: Plan
    resources: tuple[ResourceRecord, ...]
    findings: tuple[Finding, ...] = ()  # policy verdicts: plan rules + resource rules (inferplan.rules)
    costs: Costs | None = None  # priced on the recorded resources (or the plan's resource intents)
    warnings: tuple[str, ...] = ()  # what the Pulumi program warned about while registering
    overrides: tuple[str, ...] = ()  # `--set PATH=VALUE` what-if edits applied to the stack file's spec

    @property
    def to_create(self) -> int:
        return sum(1 for r in self.resources if r.custom)

    @property
    def blocked(self) -> tuple[Finding, ...]:
        """Mandatory failures nobody waived: `plan` exits 1 and the gate registers nothing."""
        return tuple(f for f in self.findings if f.blocking)

    def plan_line(self) -> str:
        if self.blocked:
            return (
                f"Plan: blocked by {len(self.blocked)} mandatory policy failure(s); nothing would be created."
            )
        return f"Plan: {self.to_create} to create, 0 to change, 0 to destroy."


def to_json(report: PlanReport) -> dict[str, Any]:
    """Plan JSON v1 (DESIGN.md): a contract — add keys freely, never rename."""
    plan = report.plan
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "stack": plan.stack,
        "region": plan.region,
        "environment": plan.platform.environment,
        "summary": {"create": report.to_create},
        "decision": decision_section.to_json(plan, report.costs),
        "resources": [r.to_json() for r in resources_section.ordered(report.resources)],
        "models": [sizing_section.model_json(m) for m in plan.models],
        "pools": [pool_json(p, report.costs) for p in plan.pools],
        "routes": routes_section.to_json(plan),
        "front_door": front_door_section.to_json(plan),
        "policy": policy_section.to_json(report.findings),
        "dataflow": graph.to_json(plan),
    }
    if report.costs is not None:
        out["costs"] = report.costs.to_json()
        out["costs"]["warnings"] = costs_section.warnings(report.costs)
    if report.overrides:
        out["overrides"] = overrides_json(report.overrides)
    out["warnings"] = list(report.warnings)
    if plan.prices.cache_note:
        out["prices_cache"] = plan.prices.cache_note
    return out


def pool_json(pool: PoolPlan, costs: Costs | None) -> dict[str, Any]:
    """A pool as sized, with its purchase and the busy share of its nodes at the declared volume."""
    out = {**sizing_section.pool_json(pool), "purchase": pool.purchase}
    busy = costs.unit.utilization.get(pool.name) if costs is not None and costs.unit is not None else None
    out["utilization"] = None if busy is None else round(busy, 4)
    return out


def overrides_json(arguments: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each `--set` as given, with the path and the value it set (Plan JSON `overrides`)."""
    from inferplan.overrides import split

    out = []
    for argument in arguments:
        path, value = split(argument)
        text = "".join(
            f"[{p}]" if isinstance(p, int) else (p if p.startswith("[") else f".{p}") for p in path
        )
        out.append({"set": argument, "path": text.lstrip("."), "value": value})
    return out


def overrides_line(report: PlanReport) -> str:
    if not report.overrides:
        return ""
    return "What-if (--set, the stack file is unchanged): " + ", ".join(report.overrides)


def warnings_text(report: PlanReport) -> str:
    if not report.warnings:
        return ""
    return "\n".join(["Warnings from the program:", *(f"  ! {w}" for w in report.warnings)])


def warnings_markdown(report: PlanReport) -> str:
    if not report.warnings:
        return ""
    return "\n".join(["### Warnings", "", *(f"- {w}" for w in report.warnings)])


def render_text(report: PlanReport) -> str:
    plan = report.plan
    parts = [
        f"inferplan plan · stack {plan.stack} · {plan.region} · {plan.platform.environment}",
        overrides_line(report),
        decision_section.render_text(plan, report.costs),
        resources_section.render_text(report.resources),
        sizing_section.render_text(plan.models, plan.pools),
        routes_section.render_text(plan),
        front_door_section.render_text(plan),
        costs_section.render_text(report.costs) if report.costs else "",
        policy_section.render_text(report.findings, plan),
        warnings_text(report),
        report.plan_line(),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def render_markdown(report: PlanReport) -> str:
    plan = report.plan
    parts = [
        f"## inferplan plan: `{plan.stack}` ({plan.region}, {plan.platform.environment})",
        f"**{report.plan_line()}**" if report.blocked else f"**Plan: {report.to_create} to create.**",
        (
            "**What-if** (`--set`, the stack file is unchanged): "
            + ", ".join(f"`{a}`" for a in report.overrides)
        )
        if report.overrides
        else "",
        decision_section.render_markdown(plan, report.costs),
        policy_section.render_markdown(report.findings, plan),
        warnings_markdown(report),
        costs_section.render_markdown(report.costs) if report.costs else "",
        sizing_section.render_markdown(plan.models, plan.pools),
        routes_section.render_markdown(plan),
        front_door_section.render_markdown(plan),
        mermaid_section.render_markdown(plan),
        resources_section.render_markdown(report.resources),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


RENDERERS: dict[str, Callable[[PlanReport], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": lambda report: json.dumps(to_json(report), indent=2, sort_keys=False) + "\n",
}


def render(report: PlanReport, fmt: str) -> str:
    return RENDERERS[fmt](report)
