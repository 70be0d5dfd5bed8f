"""`init --stack NAME [--region R]`: write a commented stack file that plans at once.

The new stack has every required field and safe defaults: one small GPU pool (one L40S node, at most
two) serving Llama 3.1 8B, one internal workload, no frontier API, private networking, a JWT gateway.
Its budget is not a guess: the planner prices the draft and the budget leaves 30% headroom over the
expected and worst-case month. An existing stack file is never overwritten.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from inferplan.commands.catalog import known_regions
from inferplan.commands.schema import MODELINE
from inferplan.cost import estimate
from inferplan.errors import EXIT_OK, SpecInputError, SpecInputErrors, UserError
from inferplan.planner import build_plan
from inferplan.rules import evaluate_plan
from inferplan.spec import did_you_mean
from inferplan.stackfile import check_stack_name, project_root, read_stack, stack_file

HEADROOM = 1.3  # budget over the priced month: traffic grows, prices drift
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")

TEMPLATE = """\
{modeline}
# {stack} — a new inferplan stack (written by `python -m inferplan init`). Edit it, then:
#
#   python -m inferplan plan --stack {stack}      # offline: resources, sizing, cost, policy
#   pulumi preview --stack {stack}                # the real preview (Pulumi CLI + AWS credentials)
#
# Everything under `inferplan:platform` is Spec v1 (README, "Spec reference"; `python -m inferplan
# schema` for editors). `python -m inferplan catalog models|gpus|instances|commitments|hardware|apis`
# lists what you can name below.
config:
  aws:region: {region}
  inferplan:platform:
    region: {region:<25} # must equal aws:region above
    environment: dev                      # dev | staging | prod (prod: a NAT gateway per AZ, 2 router tasks)
    network:
      cidr: 10.20.0.0/16                  # the VPC; pick a block that does not overlap your others
      availability_zones: 2               # one private subnet per AZ (the internal ALB needs two)
      egress: nat                         # nat: the router can reach frontier APIs; none: nothing leaves the VPC
    residency:
      allowed_regions: {allowed:<17} # where confidential and regulated data may be processed
    budget:
      monthly_usd: {monthly:<19} # expected spend must stay under this ({headroom} the priced month)
      hard_cap_usd: {hard_cap:<18} # every pool at max_nodes must stay under this
      alert_emails: []                    # who AWS Budgets and the pool alarms notify, e.g. [platform@example.com]
    autoscaling:
      max_nodes_per_pool: 2               # no pool may declare more than this
      peak_to_average: 3.0                # the busiest hour carries 3x the average hour
    operations:
      monthly_usd: 500                    # staff and on-call time: the fourth cost bucket (0 hides it)
    gateway:
      auth: jwt
      # Your identity provider: the issuer URL and the audience your tokens carry.
      jwt: {{issuer: "https://id.example.com", audience: [inference-{stack}]}}
      rate_limit: {{requests_per_second: 20, burst: 40}}
    pools:
      # g6e.xlarge: 1x L40S (48 GB). One node always up (scaling reads the nodes' own metrics), a second at peak.
      - {{name: l40s, instance_type: g6e.xlarge, capacity: on_demand, min_nodes: 1, max_nodes: 2}}
    models:
      - {{name: llama-8b, model: meta-llama/Llama-3.1-8B-Instruct, quantization: bf16, max_context: 16384, pool: l40s}}
    # A frontier API as a route or fallback (needs egress: nat): replace `frontier: []` with, e.g.:
    # frontier:
    #   - {{name: claude-haiku, provider: anthropic, model: claude-haiku-4-5,
    #      processing_regions: [us-east-1], secret: anthropic-api-key, monthly_cap_usd: 300}}
    frontier: []
    workloads:
      # What calls the platform: volume, typical call size, how sensitive the data is, where it goes.
      - {{name: assistant, calls_per_day: 2000, input_tokens: 800, output_tokens: 200,
         sensitivity: internal, route: llama-8b, latency_slo_ms: {{ttft: 1500, tpot: 80}}}}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name: writes stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--region", default="us-east-1", help="AWS region (default: us-east-1)")


def _round_up(value: float, step: int = 100) -> int:
    return int(math.ceil(value / step) * step)


def draft(stack: str, region: str, monthly: int = 1_000_000, hard_cap: int = 1_000_000) -> str:
    return TEMPLATE.format(
        modeline=MODELINE,
        stack=stack,
        region=region,
        allowed=f"[{region}]",
        monthly=monthly,
        hard_cap=hard_cap,
        headroom=f"{HEADROOM:g}x",
    )


def stack_text(stack: str, region: str) -> str:
    """The new stack file: the draft priced by the planner, its budget set from that price."""
    where = f"stacks/Pulumi.{stack}.yaml"
    try:
        plan = build_plan(stack, read_stack(draft(stack, region), where, stack).platform)
        costs = estimate(plan)
    except (SpecInputError, SpecInputErrors) as exc:
        raise UserError(f"cannot start a stack in {region}: {exc}") from None
    text = draft(
        stack,
        region,
        monthly=_round_up(costs.monthly_expected_usd * HEADROOM),
        hard_cap=_round_up(costs.monthly_worst_case_usd * HEADROOM),
    )
    loaded = read_stack(text, where, stack)
    findings = evaluate_plan(build_plan(stack, loaded.platform), costs)
    blocking = [f for f in findings if f.blocking]
    if blocking:  # e.g. no GPU price in this region: the budget rules fail closed
        raise UserError(f"cannot start a stack in {region}: {blocking[0].rule}: {blocking[0].message}")
    return text


def run(args: argparse.Namespace) -> int:
    check_stack_name(args.stack)
    regions = known_regions()
    if not REGION.match(args.region) or args.region not in regions:
        raise UserError(
            f"--region: no prices for '{args.region}'{did_you_mean(args.region, regions)} "
            f"(regions with prices: {', '.join(regions)})"
        )
    root = project_root()
    path = stack_file(args.stack, root)
    if path.exists():
        raise UserError(f"{path.relative_to(root)} already exists; pick another --stack or edit that file")
    text = stack_text(args.stack, args.region)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # never overwrite, even if it appeared meanwhile
            handle.write(text)
    except FileExistsError:
        raise UserError(
            f"{path.relative_to(root)} already exists; pick another --stack or edit that file"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    shown = Path(path.relative_to(root)) if path.is_relative_to(root) else path
    print(f"wrote {shown}; plan it with: python -m inferplan plan --stack {args.stack}")
    return EXIT_OK
