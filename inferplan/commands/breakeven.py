"""`breakeven --stack NAME --out breakeven.png`: self-hosted vs API-only cost by volume, as a chart and text."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inferplan.cost.breakeven import VolumeModel
from inferplan.cost.engine import breakeven_model
from inferplan.cost.model import Costs
from inferplan.errors import EXIT_OK
from inferplan.planner import build_plan
from inferplan.preflight.prices_cache import add_cache_argument, requested_cache
from inferplan.stackfile import load_stack


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name: reads stacks/Pulumi.<stack>.yaml")
    parser.add_argument(
        "--out", type=Path, help="also draw the chart into this PNG (nothing is written without it)"
    )
    add_cache_argument(parser)


def render_text(stack: str, costs: Costs, model: VolumeModel) -> str:
    per_self, per_api = costs.per_1000_calls_self_hosted, costs.per_1000_calls_api
    be = costs.breakeven_calls_per_month
    lines = [
        f"break-even · stack {stack} · API-only model {costs.api_only_model}",
        f"  declared volume          {model.calls_per_month:,.0f} calls/month",
        f"  this stack               ${costs.monthly_expected_usd:,.0f}/month"
        + (f" (${per_self:,.2f} per 1,000 calls)" if per_self is not None else ""),
        f"  API only                 ${costs.api_only_monthly_usd:,.0f}/month"
        + (f" (${per_api:,.2f} per 1,000 calls)" if per_api is not None else ""),
        f"  fixed part               ${model.fixed_usd:,.0f}/month (network, gateway, router, operations, ...)",
        f"  per call (usage)         ${model.per_call_usd:,.6f} self-hosted · ${model.api_per_call_usd:,.6f} API",
        f"  long-run marginal        ${model.marginal_usd_per_call:,.6f} per call self-hosted (nodes full)",
    ]
    for pool in model.pools:
        capacity = f"{pool.calls_per_node:,.0f} calls/month per node" if pool.scales else "fixed size"
        lines.append(f"  pool {pool.name:<19} ${pool.node_usd:,.0f}/month per node, {capacity}")
    if be is None:
        lines.append("  break-even               never: the API stays cheaper per call than a full node")
    else:
        lines.append(
            f"  break-even               {be:,.0f} calls/month (${model.api_usd(be):,.0f}/month either way)"
        )
        where = "above" if model.calls_per_month >= be else "below"
        lines.append(f"  the declared volume is {where} break-even")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from inferplan.cost.chart import plot_breakeven

    loaded = load_stack(args.stack)
    plan = build_plan(loaded.stack, loaded.platform, prices_cache=requested_cache(args.prices_cache))
    costs, model = breakeven_model(plan)
    sys.stdout.write(render_text(plan.stack, costs, model))
    if args.out is None:  # files go only where the user says
        sys.stdout.write("  chart                    not drawn (pass --out FILE.png)\n")
        return EXIT_OK
    out = plot_breakeven(
        model, args.out, title=f"inferplan · {plan.stack}: self-hosted vs API-only ({costs.api_only_model})"
    )
    sys.stdout.write(f"  chart                    {out}\n")
    return EXIT_OK
