"""`python -m inferplan <command>`: argument parsing and exit codes, nothing else.

Each command lives in `inferplan/commands/<name>.py` with `add_arguments(parser)` and
`run(args) -> int`. Exit codes (DESIGN.md): 0 ok · 1 a mandatory policy failed · 2 invalid input.
`-C DIR` runs as if started in DIR (like git and make); the project root is the nearest folder
above it holding `Pulumi.yaml`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from inferplan import __version__
from inferplan.errors import EXIT_INVALID, SpecInputError, SpecInputErrors, UserError, escape
from inferplan.stackfile import SpecErrors, located_all

# name -> (module under inferplan.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("plan", "offline plan of a stack: resources, sizing, cost, policy verdicts"),
    "init": (
        "init",
        "start a new stack: a commented stack file with every required field, that plans at once",
    ),
    "schema": ("schema", "the JSON Schema of a stack file (Spec v1), for editors and CI"),
    "catalog": (
        "catalog",
        "what the planner knows: models, GPUs, instances and API prices, with their dates",
    ),
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


class _Parser(argparse.ArgumentParser):
    """argparse, with the user's own text escaped in its error line (exit 2 as usual)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {escape(message)}\n")


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command `argv` names: its first positional, skipping the global options (`-C DIR`)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "-C":
            skip = True
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the `commands` named (default: all) get their arguments, so only their modules load.

    Every command is listed either way (for `--help`); importing one command's module costs what it uses
    (boto3 for preflight, polars for import-usage, scipy for plan), so `main` loads just the one it runs.
    """
    wanted = set(COMMANDS if commands is None else commands)
    parser = _Parser(
        prog="python -m inferplan",
        description="Plan, size, price and check a hybrid LLM inference platform on AWS.",
    )
    parser.add_argument("--version", action="version", version=f"inferplan {__version__}")
    parser.add_argument(
        "-C",
        dest="directory",
        type=Path,
        metavar="DIR",
        help="run as if started in DIR (the project is the nearest folder above it with Pulumi.yaml)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name in wanted:
            command = importlib.import_module(f"inferplan.commands.{module}")
            command.add_arguments(sub_parser)
            sub_parser.set_defaults(run=command.run)
    return parser


def _enter(directory: Path) -> None:
    """`-C DIR`: change into DIR, which must hold a project (a `Pulumi.yaml` here or above)."""
    try:
        os.chdir(directory)
    except OSError as exc:
        raise UserError(f"-C {escape(str(directory))}: {exc.strerror or exc}") from None
    here = Path.cwd()
    if not any((folder / "Pulumi.yaml").is_file() for folder in (here, *here.parents)):
        raise UserError(f"-C {escape(str(directory))}: no Pulumi.yaml there or in any folder above it")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = chosen_command(argv)
    args = build_parser([] if command is None else [command]).parse_args(argv)
    try:
        if args.directory is not None:
            _enter(args.directory)
        code: int = args.run(args)
    except SpecErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        if len(exc.errors) > 1:  # one error is one line; several get a count
            print(f"{len(exc.errors)} errors; nothing was planned.", file=sys.stderr)
        return EXIT_INVALID
    except (SpecInputError, SpecInputErrors) as exc:  # found while sizing or pricing, one or several
        stack = getattr(args, "stack", None)
        found = exc.errors if isinstance(exc, SpecInputErrors) else (exc,)
        shown = (
            [str(e) for e in located_all(exc, stack).errors]
            if isinstance(stack, str)
            else [f"error: {escape(str(e))}" for e in found]
        )
        for text in shown:
            print(text, file=sys.stderr)
        if len(shown) > 1:
            print(f"{len(shown)} errors; nothing was planned.", file=sys.stderr)
        return exc.exit_code
    except UserError as exc:
        print(f"error: {escape(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `... | head` closed the pipe: not an error of ours
        return 0
    return code
