"""The recommendation, first in every report: per workload the option it takes, the runner-up and why.

Monthly figures of options are marginal: what that one workload adds to the stack's month on that
option, every other workload staying where it is (`inferplan.decide`). Stack totals: the planned
month, the compliant API-only month (tokens only; workloads no API may serve are left out and named)
and the month with every workload a self-hosted model may serve on one.
"""

from __future__ import annotations

from typing import Any

from inferplan.cost.model import Costs
from inferplan.decide.types import Breakeven, Decision, Option, WorkloadDecision
from inferplan.plan import Plan


def _usd(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def all_self_hosted_usd(decision: Decision, costs: Costs) -> float | None:
    """The planned month with the all-self-hosted choice instead (the rest of the stack unchanged)."""
    if decision.all_self_hosted_objective_usd is None:
        return None
    return costs.monthly_expected_usd - decision.objective_usd + decision.all_self_hosted_objective_usd


def current(plan: Plan, d: WorkloadDecision) -> tuple[str, float | None] | None:
    """What an imported workload runs on today (`current`, from import-usage) and what it costs."""
    spec = next((w for w in plan.spec.workloads if w.name == d.workload), None)
    if spec is None or spec.current is None:
        return None
    return f"{spec.current.provider}/{spec.current.model}", spec.current.monthly_usd


def chosen_usd(d: WorkloadDecision) -> float | None:
    return next((o.monthly_usd for o in d.options if o.target == d.chosen), None)


def moves(plan: Plan) -> list[tuple[WorkloadDecision, str, float, float]]:
    """Per workload with today's spend: (decision, today's model, today's $/month, the saving)."""
    out = []
    for d in plan.decision.workloads:
        today = current(plan, d)
        usd = chosen_usd(d)
        if today is not None and today[1] is not None and usd is not None:
            out.append((d, today[0], today[1], today[1] - usd))
    return out


def summary(plan: Plan, costs: Costs | None) -> str:
    decision = plan.decision
    hosted = [d for d in decision.workloads if d.chosen_kind == "model"]
    apis = [d for d in decision.workloads if d.chosen_kind != "model"]
    models = sorted({d.chosen for d in hosted})
    parts = [
        f"{len(hosted)} workload(s) self-hosted"
        + (f" on {', '.join(models)}" if models else "")
        + f", {len(apis)} on APIs"
    ]
    if costs is not None:
        covered = len(decision.workloads) - len(costs.api_only_excluded)
        parts.append(
            f"{_usd(costs.monthly_expected_usd)}/month planned against {_usd(costs.api_only_monthly_usd)} API-only"
            + (
                f" (tokens of the {covered} of {len(decision.workloads)} workloads an API may serve)"
                if costs.api_only_excluded
                else " (tokens only)"
            )
        )
        every = all_self_hosted_usd(decision, costs)
        if every is not None:
            parts.append(f"{_usd(every)} all self-hosted")
    gaps = [d.difference_usd for d in decision.workloads if not d.auto and d.difference_usd is not None]
    saving = sum(-gap for gap in gaps if gap < -1.0)
    if saving > 0:
        parts.append(f"declared routes leave {_usd(saving)}/month on the table (route-cost)")
    today = moves(plan)
    if today:
        spent = sum(m[2] for m in today)
        saved = sum(m[3] for m in today)
        parts.append(
            f"today these {len(today)} imported workload(s) spend {_usd(spent)}/month on their APIs; the "
            f"recommendation {'saves' if saved >= 0 else 'adds'} {_usd(abs(saved))}/month on them "
            "(before the platform's fixed costs)"
        )
    return "; ".join(parts)


def _option_json(o: Option) -> dict[str, Any]:
    return {
        "target": o.target,
        "kind": o.kind,
        "shape": o.shape or None,
        "eligible": o.eligible,
        "reason": o.reason,
        "monthly_usd": o.monthly_usd,
        "usd_per_1k_calls": None if o.usd_per_1k_calls is None else round(o.usd_per_1k_calls, 4),
        "usd_per_million_tokens": None
        if o.usd_per_million_tokens is None
        else round(o.usd_per_million_tokens, 4),
        "beyond_ceiling": o.beyond_ceiling or None,
    }


def _breakeven_json(b: Breakeven | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {
        "self_hosted": b.model,
        "api": b.api,
        "calls_per_month": round(b.calls_per_month, 1),
        "breakeven_calls_per_month": None
        if b.breakeven_calls_per_month is None
        else round(b.breakeven_calls_per_month),
        "breakeven_api_usd": None if b.breakeven_api_usd is None else round(b.breakeven_api_usd, 2),
        "cheaper_at_declared_volume": b.cheaper,
        "explanation": b.explanation,
    }


def _workload_json(plan: Plan, d: WorkloadDecision) -> dict[str, Any]:
    today = current(plan, d)
    usd = chosen_usd(d)
    return {
        "current": None if today is None else {"model": today[0], "monthly_usd": today[1]},
        "saving_usd": None if today is None or today[1] is None or usd is None else round(today[1] - usd, 2),
        "workload": d.workload,
        "declared": d.declared,
        "chosen": d.chosen,
        "kind": d.chosen_kind,
        "runner_up": d.runner_up,
        "runner_up_extra_usd": d.difference_usd,
        "fallback": d.fallback,
        "options": [_option_json(o) for o in d.options],
        "breakeven": _breakeven_json(d.breakeven),
    }


def to_json(plan: Plan, costs: Costs | None) -> dict[str, Any]:
    decision = plan.decision
    every = all_self_hosted_usd(decision, costs) if costs is not None else None
    return {
        "workloads": [_workload_json(plan, d) for d in decision.workloads],
        "monthly_usd": None if costs is None else round(costs.monthly_expected_usd, 2),
        "api_only_monthly_usd": None if costs is None else round(costs.api_only_monthly_usd, 2),
        "api_only_excluded": [] if costs is None else sorted(costs.api_only_excluded),
        "all_self_hosted_monthly_usd": None if every is None else round(every, 2),
        "all_self_hosted_excluded": list(decision.all_self_hosted_excluded),
        "shapes": dict(decision.shapes),
        "not_built": list(decision.not_built),
        "models": [_breakeven_json(b) for b in decision.models],
        "solver": {
            "status": decision.status,
            "variables": decision.variables,
        },
        "summary": summary(plan, costs),
    }


def _choice_line(d: WorkloadDecision) -> str:
    chosen = next((o for o in d.options if o.target == d.chosen), None)
    how = "auto" if d.auto else "declared"
    what = f"{d.chosen} ({d.chosen_kind}{', ' + chosen.shape if chosen and chosen.shape else ''})"
    cost = f"{_usd(chosen.monthly_usd)}/month" if chosen else ""
    if d.runner_up is None:
        runner = "no other eligible option"
    elif d.difference_usd is not None and d.difference_usd < 0:
        runner = f"{d.runner_up} would save {_usd(-d.difference_usd)}"
    else:
        runner = f"runner-up {d.runner_up} +{_usd(d.difference_usd)}"
    beyond = next((o.beyond_ceiling for o in d.options if o.target == d.runner_up and o.beyond_ceiling), "")
    if beyond:
        runner += f" but {beyond}"
    return f"{d.workload:<20} {how:<8} -> {what}: {cost}; {runner}"


def render_text(plan: Plan, costs: Costs | None) -> str:
    decision = plan.decision
    out = ["Decision (self-host or API, per workload; monthly figures are what each workload adds):"]
    out.append(f"  {summary(plan, costs)}")
    for d in decision.workloads:
        out.append(f"  {_choice_line(d)}")
        today = current(plan, d)
        if today is not None:
            usd, mine = today[1], chosen_usd(d)
            if usd is None or mine is None:
                out.append(f"      today: {today[0]} (no spend known)")
            else:
                verb = "saves" if usd >= mine else "adds"
                out.append(
                    f"      today: {today[0]} at {_usd(usd)}/month; the choice {verb} {_usd(abs(usd - mine))}/month"
                )
        ineligible = [o for o in d.options if not o.eligible]
        for o in ineligible:
            out.append(f"      not eligible: {o.target}: {o.reason}")
        if d.fallback:
            out.append(f"      fallback: {d.fallback}" + (" (auto)" if d.declared_fallback == "auto" else ""))
        if d.breakeven is not None:
            out.append(f"      break-even: {d.breakeven.explanation}")
    for b in decision.models:
        out.append(f"  model {b.subject}: {b.explanation}")
    if costs is not None:
        for workload, why in sorted(costs.api_only_excluded.items()):
            out.append(f"  API-only leaves out {workload}: {why}")
    out += [f"  not built: {line}" for line in decision.not_built]
    return "\n".join(out)


def render_markdown(plan: Plan, costs: Costs | None) -> str:
    decision = plan.decision
    out = ["### Decision: self-host or API", "", summary(plan, costs) + ".", ""]
    out += [
        "| workload | route | chosen | $/month | runner-up | difference | break-even |",
        "|---|---|---|---:|---|---:|---|",
    ]
    for d in decision.workloads:
        chosen = next((o for o in d.options if o.target == d.chosen), None)
        diff = "—" if d.difference_usd is None else (
            f"saves {_usd(-d.difference_usd)}" if d.difference_usd < 0 else f"+{_usd(d.difference_usd)}"
        )  # fmt: skip
        be = "—" if d.breakeven is None else d.breakeven.explanation
        today = current(plan, d)
        now = "—" if today is None else f"{today[0]} {_usd(today[1])}"
        out.append(
            f"| `{d.workload}` | {d.declared} | `{d.chosen}` ({d.chosen_kind}) | "
            f"{_usd(chosen.monthly_usd if chosen else None)} | {now} | {d.runner_up or '—'} | {diff} | {be} |"
        )
    rows = [(d.workload, o) for d in decision.workloads for o in d.options]
    out += [
        "",
        "<details><summary>Every option</summary>",
        "",
        "| workload | option | kind | eligible | $/month | $/1k calls | why |",
        "|---|---|---|---|---:|---:|---|",
    ]
    for workload, o in rows:
        per_k = "—" if o.usd_per_1k_calls is None else f"${o.usd_per_1k_calls:,.4f}"
        out.append(
            f"| `{workload}` | `{o.target}`{' on ' + o.shape if o.shape else ''} | {o.kind} | "
            f"{'yes' if o.eligible else 'no'} | {_usd(o.monthly_usd)} | {per_k} | {o.reason} |"
        )
    out += ["", "</details>"]
    if costs is not None and costs.api_only_excluded:
        out += [""] + [
            f"- API-only leaves out `{w}`: {why}" for w, why in sorted(costs.api_only_excluded.items())
        ]
    if decision.not_built:
        out += [""] + [f"- not built: {line}" for line in decision.not_built]
    return "\n".join(out)
