"""`python -m inferplan <command>`: argument parsing and exit codes, nothing else.

Each command lives in `inferplan/commands/<name>.py` with `add_arguments(parser)` and
`run(args) -> int`. Exit codes (DESIGN.md): 0 ok · 1 a mandatory policy failed · 2 invalid input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from inferplan.errors import EXIT_INVALID, SpecInputError, UserError
from inferplan.stackfile import SpecErrors, located

# name -> (module under inferplan.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("plan", "offline plan of a stack: resources, sizing, cost, policy verdicts"),
    "preflight": ("preflight", "check the AWS account: identity, GPU offerings per AZ, vCPU quotas, secrets"),
    "router-config": ("router_config", "print the LiteLLM router config generated for a stack (YAML)"),
    "size": ("size", "memory, tensor-parallel split and throughput of one model on one GPU shape"),
    "breakeven": ("breakeven", "self-hosted vs API-only cost by call volume: break-even figures and chart"),
    "diff": (
        "diff",
        "compare two Plan JSON files: resources, cost and policy deltas, downstream (PR review)",
    ),
    "import-usage": (
        "import_usage",
        "provider usage records (OpenAI, Anthropic, LiteLLM, Bedrock, CSV) -> workloads for a stack",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m inferplan",
        description="Plan, size, price and check a hybrid LLM inference platform on AWS.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        command = importlib.import_module(f"inferplan.commands.{module}")
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        command.add_arguments(sub_parser)
        sub_parser.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except SpecErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        noun = "error" if len(exc.errors) == 1 else "errors"
        print(f"{len(exc.errors)} {noun}; nothing was planned.", file=sys.stderr)
        return EXIT_INVALID
    except SpecInputError as exc:
        stack = getattr(args, "stack", None)
        print(located(exc, stack) if isinstance(stack, str) else f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `... | head` closed the pipe: not an error of ours
        return 0
    return code
