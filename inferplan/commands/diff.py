"""`diff BASE.json HEAD.json`: what a change does to a stack, for a pull-request review.

Exit 1 when the head plan has a mandatory policy failure nobody waived (so a CI check fails), 2 when
a file cannot be read or is not Plan JSON v1. A BASE of `/dev/null` is an empty plan: the stack is new.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from inferplan.diff import PlanJsonError, check_plan_json, diff_plans, empty_plan
from inferplan.errors import EXIT_OK, EXIT_POLICY, UserError
from inferplan.report.diff_markdown import render_markdown, render_text

FORMATS = ("text", "markdown", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "base", type=Path, help="Plan JSON of the base (`plan --out`); /dev/null for a new stack"
    )
    parser.add_argument("head", type=Path, help="Plan JSON of the head")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")


def load_plan_json(path: Path, *, allow_empty: bool = False) -> dict[str, Any]:
    """A Plan JSON v1 file as a dict, or a one-line UserError saying what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UserError(f"{path}: cannot read: {reason}") from None
    if allow_empty and not text.strip():
        return empty_plan("")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg} (write it with `plan --out FILE`)"
        ) from None
    try:
        check_plan_json(doc)
    except PlanJsonError as exc:
        raise UserError(f"{path}: {exc} (write it with `plan --out FILE`)") from None
    return dict(doc)


def run(args: argparse.Namespace) -> int:
    base = load_plan_json(args.base, allow_empty=str(args.base) == os.devnull)
    head = load_plan_json(args.head)
    diff = diff_plans(base, head)
    if args.format == "json":
        sys.stdout.write(json.dumps(diff.to_json(), indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(diff))
    else:
        sys.stdout.write(render_text(diff))
    return EXIT_POLICY if diff.blocking else EXIT_OK
