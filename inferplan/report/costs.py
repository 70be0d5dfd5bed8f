"""The cost section of `plan`: totals, the four buckets, the lines, API-only and break-even, unit
economics per model, and rent or buy."""

from __future__ import annotations

from collections.abc import Callable

from inferplan.cost.buy import BuyScenario, OwnedPool
from inferplan.cost.model import BUCKETS, CostLine, Costs

TEXT_LINES = 12  # the terminal shows the largest lines; JSON and Markdown carry every line


def _usd(value: float) -> str:
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def _per(value: float) -> str:
    """A per-call or per-outcome figure: cents matter."""
    return f"${value:,.4f}"


def _calls(value: float | None) -> str:
    return "never (the API stays cheaper)" if value is None else f"{value:,.0f} calls/month"


def _line_label(ln: CostLine) -> str:
    where = ln.resource_name or ln.bucket
    flags = (" ~" if ln.estimated else "") + (" (unpriced)" if not ln.priced else "")
    return f"{where}: {ln.item}{flags}"


def _summary(costs: Costs) -> list[tuple[str, str]]:
    rows = [
        ("expected / month", _usd(costs.monthly_expected_usd)),
        ("worst case / month", _usd(costs.monthly_worst_case_usd)),
        (f"API only / month ({costs.api_only_model})", _usd(costs.api_only_monthly_usd)),
        ("break-even", _calls(costs.breakeven_calls_per_month)),
    ]
    per_self, per_api = costs.per_1000_calls_self_hosted, costs.per_1000_calls_api
    if per_self is not None and per_api is not None:
        rows.append(("per 1,000 calls: this stack / API only", f"{_usd(per_self)} / {_usd(per_api)}"))
    unit = costs.unit
    if unit is not None and unit.plan_usd_per_million_tokens is not None:
        api = unit.api_only_usd_per_million_tokens
        rows.append(
            (
                "per million tokens: this stack / API only",
                f"{_usd(unit.plan_usd_per_million_tokens)} / {'n/a' if api is None else _usd(api)}",
            )
        )
    if costs.buy is not None:
        rows.append(
            (
                "if bought (cost.buy)",
                f"{_usd(costs.buy.plan_monthly_usd)} (owned_hardware {_usd(costs.buy.monthly_usd)})",
            )
        )
    return rows


def _maybe(value: float | None, show: Callable[[float], str]) -> str:
    return "n/a" if value is None else show(value)


def _months(value: float | None) -> str:
    return "never" if value is None else f"{value:,.1f} months"


def _share(value: float | None) -> str:
    return _maybe(value, lambda v: f"{v:.1%}" if v >= 0.001 else f"{v:.3%}")


def per_model_text(costs: Costs) -> list[str]:
    """Each self-hosted model by the call and by the token, and how busy its pool's nodes are."""
    if costs.unit is None:
        return []
    out = []
    for m in costs.unit.per_model:
        busy = costs.unit.utilization.get(m.pool)
        out.append(
            f"  model {m.model} (pool {m.pool}): {_usd(m.monthly_usd)}/month, "
            f"{_maybe(m.usd_per_1000_calls, _usd)} per 1,000 calls, "
            f"{_maybe(m.usd_per_million_tokens, _usd)} per million tokens, GPU utilization {_share(busy)}"
        )
    return out


def _parts(owned: OwnedPool) -> str:
    return " + ".join(f"{name} {_usd(usd)}" for name, usd in owned.rent_parts)


def rent_or_buy_text(buy: BuyScenario | None) -> list[str]:
    if buy is None:
        return []
    out = ["  rent or buy (USD per month):"]
    for p in buy.pools:
        out += [
            f"    pool {p.pool} ({p.nodes} x {p.instance_type}): rent {_usd(p.rent_monthly_usd)} ({_parts(p)})",
            f"      buy {_usd(p.monthly_usd)}: depreciation {_usd(p.depreciation_monthly_usd)}, power "
            f"{_usd(p.power_monthly_usd)}, colocation {_usd(p.colo_monthly_usd)}, support "
            f"{_usd(p.support_monthly_usd)}, financing {_usd(p.financing_monthly_usd)} "
            f"(purchase {_usd(p.purchase_usd)})",
            f"      API only {_maybe(p.api_only_monthly_usd, _usd)}; payback against renting "
            f"{_months(p.payback_months)}, against API only {_months(p.payback_months_vs_api_only)}",
        ]
    return out


def rent_or_buy_markdown(buy: BuyScenario | None) -> list[str]:
    if buy is None:
        return []
    out = [
        "",
        "#### Rent or buy",
        "",
        "| pool | nodes | rent / month | buy / month | of which depreciation | power | colocation | support "
        "| financing | purchase | API only / month | payback vs rent | payback vs API only |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in buy.pools:
        out.append(
            f"| {p.pool} ({p.instance_type}) | {p.nodes} | {_usd(p.rent_monthly_usd)} ({_parts(p)}) | "
            f"{_usd(p.monthly_usd)} | {_usd(p.depreciation_monthly_usd)} | {_usd(p.power_monthly_usd)} | "
            f"{_usd(p.colo_monthly_usd)} | {_usd(p.support_monthly_usd)} | {_usd(p.financing_monthly_usd)} | "
            f"{_usd(p.purchase_usd)} | {_maybe(p.api_only_monthly_usd, _usd)} | {_months(p.payback_months)} | "
            f"{_months(p.payback_months_vs_api_only)} |"
        )
    return out


def per_model_markdown(costs: Costs) -> list[str]:
    if costs.unit is None or not costs.unit.per_model:
        return []
    out = [
        "",
        "| model | pool | calls / month | USD / month | per 1,000 calls | per million tokens | GPU utilization |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for m in costs.unit.per_model:
        out.append(
            f"| {m.model} | {m.pool} | {m.calls_per_month:,.0f} | {_usd(m.monthly_usd)} | "
            f"{_maybe(m.usd_per_1000_calls, _usd)} | {_maybe(m.usd_per_million_tokens, _usd)} | "
            f"{_share(costs.unit.utilization.get(m.pool))} |"
        )
    return out


def render_text(costs: Costs) -> str:
    out = ["Costs (USD per month; ~ = estimated)"]
    out += [f"  {label:<48} {value}" for label, value in _summary(costs)]
    out.append("  buckets (expected / worst case):")
    worst = costs.buckets_worst_case
    out += [f"    {b:<16} {_usd(costs.buckets[b]):>12} {_usd(worst[b]):>12}" for b in BUCKETS]
    ranked = sorted(costs.lines, key=lambda ln: ln.worst_case_usd, reverse=True)
    shown, rest = ranked[:TEXT_LINES], ranked[TEXT_LINES:]
    out.append(f"  largest lines (expected / worst case), {len(shown)} of {len(ranked)}:")
    width = max((len(_line_label(ln)) for ln in shown), default=0)
    for ln in shown:
        out.append(f"    {_line_label(ln):<{width}} {_usd(ln.monthly_usd):>12} {_usd(ln.worst_case_usd):>12}")
    if rest:
        rest_expected = sum(ln.monthly_usd for ln in rest)
        rest_worst = sum(ln.worst_case_usd for ln in rest)
        label = f"{len(rest)} more lines (--format json or markdown lists them)"
        out.append(f"    {label:<{width}} {_usd(rest_expected):>12} {_usd(rest_worst):>12}")
    out += per_model_text(costs)
    out += rent_or_buy_text(costs.buy)
    for o in costs.outcomes:
        parts = [f"{t} {_per(v)}" for t, v in o.per_target.items()]
        routed = f"; as routed {_per(o.routed_usd)}" if o.routed_usd is not None else ""
        out.append(f"  cost per accepted outcome, {o.workload}: " + ", ".join(parts) + routed)
    out += [f"  warning: {w}" for w in warnings(costs)]
    out += [f"  note: {n}" for n in costs.notes]
    out += [f"  unpriced: {u}" for u in costs.unpriced]
    if costs.assumptions:
        out.append("  assumptions:")
        out += [f"    - {a}" for a in costs.assumptions]
    return "\n".join(out)


def warnings(costs: Costs) -> list[str]:
    """What makes the comparison with API-only lean one way unseen (said once, in every format)."""
    declared = any(
        ln.bucket == "operations" and ln.resource_type == "" and ln.monthly_usd > 0 for ln in costs.lines
    )
    if declared:
        return []
    return [
        "operations.monthly_usd is 0: staff, on-call and upgrade time is not counted, so self-hosting "
        "looks cheaper than it is; set it (the fourth cost bucket)"
    ]


def render_markdown(costs: Costs) -> str:
    out = ["### Costs", "", "| | USD / month |", "|---|---:|"]
    out += [f"| {label} | {value} |" for label, value in _summary(costs)]
    out += ["", "| bucket | expected | worst case |", "|---|---:|---:|"]
    worst = costs.buckets_worst_case
    out += [f"| {b} | {_usd(costs.buckets[b])} | {_usd(worst[b])} |" for b in BUCKETS]
    out += ["", "| line | qty | unit | expected | worst case |", "|---|---:|---|---:|---:|"]
    for ln in sorted(costs.lines, key=lambda ln: ln.worst_case_usd, reverse=True):
        out.append(
            f"| {_line_label(ln)} | {ln.quantity:,.2f} | {ln.unit} | {_usd(ln.monthly_usd)} | "
            f"{_usd(ln.worst_case_usd)} |"
        )
    out += per_model_markdown(costs)
    out += rent_or_buy_markdown(costs.buy)
    if costs.outcomes:
        out += ["", "| workload | cost per accepted outcome | as routed |", "|---|---|---:|"]
        for o in costs.outcomes:
            per = ", ".join(f"{t} {_per(v)}" for t, v in o.per_target.items())
            routed = _per(o.routed_usd) if o.routed_usd is not None else "n/a"
            out.append(f"| {o.workload} | {per} | {routed} |")
    if costs.notes or costs.unpriced or warnings(costs):
        out.append("")
        out += [f"- warning: {w}" for w in warnings(costs)]
        out += [f"- note: {n}" for n in costs.notes]
        out += [f"- unpriced: {u}" for u in costs.unpriced]
    if costs.assumptions:
        out += ["", "<details><summary>Assumptions</summary>", ""]
        out += [f"- {a}" for a in costs.assumptions]
        out += ["", "</details>"]
    return "\n".join(out)
