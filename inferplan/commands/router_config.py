"""`python -m inferplan router-config --stack NAME`: the LiteLLM config the router will run, for review."""

from __future__ import annotations

import argparse
import sys

from inferplan.errors import EXIT_OK, EXIT_POLICY
from inferplan.planner import build_plan
from inferplan.router_config import router_config
from inferplan.stackfile import load_stack

EPILOG = """\
Prints the LiteLLM proxy config (YAML) generated from the stack: one model alias per workload,
fallbacks only where the policy allows them, timeouts and retries from the latency SLOs, provider
budgets from the frontier caps split over the planned tasks x workers, keys and the master key as
os.environ/ references (never values), and the admission check (custom_auth) that admits only each
workload's own alias from its gateway route. The comment header says why each route and fallback is
in or out.

exit codes:
  0  printed
  1  a workload's route itself is refused by the policy (e.g. confidential data routed to a frontier
     API): that workload would have no alias; the config is still printed
  2  invalid input
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument(
        "--stack", required=True, metavar="NAME", help="stack to read (stacks/Pulumi.NAME.yaml)"
    )


def run(args: argparse.Namespace) -> int:
    loaded = load_stack(args.stack)
    config = router_config(build_plan(loaded.stack, loaded.platform))
    sys.stdout.write(config.to_yaml())
    for decision in config.refused:
        print(
            f"{loaded.file}: workloads.{decision.workload}.route: refused: {decision.reason} "
            "(route it to a self-hosted model)",
            file=sys.stderr,
        )
    return EXIT_POLICY if config.refused else EXIT_OK
