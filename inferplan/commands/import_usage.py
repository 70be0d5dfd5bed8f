"""`import-usage FILE... --source SOURCE`: provider usage records -> `workloads:` ready for a stack.

The YAML goes to stdout (or `--out`, or merged into a stack with `--stack NAME --write`); the report
— what was read, bad records with their place, names changed, sensitivities to review — to stderr.
docs/usage-import.md walks through exporting from each source.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from inferplan.errors import EXIT_OK, UserError
from inferplan.stackfile import project_root, stack_file
from inferplan.usage import anthropic, bedrock, csvfile, litellm, openai
from inferplan.usage.aggregate import Summary, Window, summarise
from inferplan.usage.merge import Entry, existing_names, merge_into
from inferplan.usage.records import Records
from inferplan.usage.render import entry_data, origin, report, workloads_yaml

READERS: dict[str, tuple[Callable[[Sequence[Path], Sequence[str] | None], Records], tuple[str, ...]]] = {
    "openai": (openai.read_files, openai.DEFAULT_GROUP_BY),
    "anthropic": (anthropic.read_files, anthropic.DEFAULT_GROUP_BY),
    "litellm": (litellm.read_files, litellm.DEFAULT_GROUP_BY),
    "bedrock": (bedrock.read_files, bedrock.DEFAULT_GROUP_BY),
    "csv": (csvfile.read_files, csvfile.DEFAULT_GROUP_BY),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE", help="exported usage files")
    parser.add_argument("--source", required=True, choices=sorted(READERS), help="what wrote the files")
    parser.add_argument(
        "--group-by",
        nargs="+",
        metavar="KEY",
        help="the source's own field names, dotted for nested ones (defaults: "
        + "; ".join(f"{s}: {', '.join(d)}" for s, (_, d) in sorted(READERS.items()))
        + ")",
    )
    parser.add_argument("--since", help="first day or time to count (YYYY-MM-DD or ISO 8601, UTC; inclusive)")
    parser.add_argument("--until", help="end of the span (YYYY-MM-DD or ISO 8601, UTC; exclusive)")
    parser.add_argument("--out", type=Path, help="write the workloads YAML here instead of stdout")
    parser.add_argument("--stack", help="with --write: merge into stacks/Pulumi.<stack>.yaml")
    parser.add_argument(
        "--write", action="store_true", help="merge into the --stack file (keeps its comments)"
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="with --write: refresh the measured fields of workloads that already exist (else they are skipped)",
    )
    parser.add_argument(
        "--route", default="auto", help="route of the imported workloads (default: auto, the planner chooses)"
    )
    parser.add_argument(
        "--calls",
        action="append",
        default=[],
        metavar="NAME=N",
        help="calls of one workload over the span, for sources that count no requests (anthropic)",
    )
    parser.add_argument(
        "--dsn", help="litellm: read SpendLogs from the proxy's PostgreSQL database instead of files"
    )


def _when(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{flag} {text!r}: not a date (use YYYY-MM-DD or an ISO 8601 time)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _calls(values: Sequence[str]) -> dict[str, int]:
    calls: dict[str, int] = {}
    for value in values:
        name, sep, number = value.partition("=")
        try:
            count = int(number.replace(",", "").replace("_", ""))
        except ValueError:
            count = -1
        if not sep or not name or count <= 0:
            raise UserError(f"--calls {value!r}: expected NAME=N with N a positive whole number")
        calls[name] = count
    return calls


def _check(args: argparse.Namespace) -> None:
    if args.dsn and args.source != "litellm":
        raise UserError("--dsn reads LiteLLM's database: it needs --source litellm")
    if args.dsn and args.files:
        raise UserError("give either FILE... or --dsn, not both")
    if not args.dsn and not args.files:
        raise UserError("no usage files given (or, for litellm, --dsn)")
    if args.write and not args.stack:
        raise UserError("--write needs --stack NAME")
    if args.replace and not args.write:
        raise UserError("--replace only applies with --stack NAME --write")
    if args.write and args.out:
        raise UserError("give either --out or --stack NAME --write, not both")
    if args.calls and args.source != "anthropic":
        raise UserError(f"--calls is for sources that count no requests; {args.source} records count them")


def _read(args: argparse.Namespace, work_dir: Path) -> tuple[Records, list[str]]:
    if args.dsn:
        return litellm.read_database(args.dsn, args.group_by, work_dir), ["LiteLLM database (--dsn)"]
    read, _ = READERS[args.source]
    return read(args.files, args.group_by), [str(f) for f in args.files]


def import_summary(args: argparse.Namespace, work_dir: Path) -> Summary:
    records, inputs = _read(args, work_dir)
    return summarise(
        records,
        source=args.source,
        inputs=inputs,
        window=Window(_when(args.since, "--since"), _when(args.until, "--until")),
        calls_by_name=_calls(args.calls),
        work_dir=work_dir,
    )


def _unset_keys(summary: Summary) -> list[str]:
    """Group-by fields no record had: usually an export made without that grouping."""
    return [
        f"no record has {key}: every workload is 'unset' on it (was the export grouped by {key}?)"
        for i, key in enumerate(summary.group_by)
        if summary.workloads and all(w.key[i] == "unset" for w in summary.workloads)
    ]


def run(args: argparse.Namespace) -> int:
    _check(args)
    with tempfile.TemporaryDirectory(prefix="inferplan-import-") as tmp:
        summary = import_summary(args, Path(tmp))
    extra = [f"note: {n}" for n in _unset_keys(summary)]
    entries = [Entry(entry_data(w, args.route), origin(w, summary)) for w in summary.workloads]
    if args.stack:
        path = stack_file(args.stack, project_root())
        if args.write:
            result = merge_into(path, entries, replace=args.replace)
            extra.append(
                f"{path}: added {', '.join(result.added) or 'none'}"
                + (f"; refreshed {', '.join(result.replaced)}" if result.replaced else "")
            )
            if result.skipped:
                extra.append(
                    f"skipped (already in the stack; --replace refreshes their measured fields): "
                    f"{', '.join(result.skipped)}"
                )
        else:
            taken = set(existing_names(path))
            clash = [e.data["name"] for e in entries if e.data["name"] in taken]
            extra.append(
                f"{path}: nothing written (add --write);"
                + (f" already there: {', '.join(map(str, clash))}" if clash else " no name clashes")
            )
    text = workloads_yaml(summary, args.route)
    if args.out:
        _write(args.out, text)
        extra.append(f"wrote {args.out}")
    elif not args.write:
        sys.stdout.write(text)
    sys.stderr.write(report(summary, extra))
    return EXIT_OK


def _write(path: Path, text: str) -> None:
    try:
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"--out {path}: cannot write ({exc})") from None
