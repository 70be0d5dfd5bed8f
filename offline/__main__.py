"""`python -m offline --stack NAME [--root DIR]`: record the program's resources as JSON on stdout.

The planner's CLI runs this in a child process, so `inferplan/` never imports pulumi and each plan
gets a fresh Pulumi runtime.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from offline.recorder import record


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m offline")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument(
        "--config",
        help="'-': read the stack's `config:` mapping as JSON from stdin (what `plan` validated, "
        "`--set` applied) instead of the stack file",
    )
    args = parser.parse_args()
    root: Path = args.root.resolve()
    if args.config == "-":
        config = json.load(sys.stdin)
    else:
        document = yaml.safe_load((root / "stacks" / f"Pulumi.{args.stack}.yaml").read_text()) or {}
        config = document.get("config") or {}
    recording = record(args.stack, config, root / "__main__.py")
    json.dump(
        {
            "resources": [r.to_json() | {"custom": r.custom} for r in recording.resources],
            "errors": recording.errors,
            "warnings": recording.warnings,
            "failed": recording.failed,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
