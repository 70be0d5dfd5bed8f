"""Plan every stack of a pull request's base and head offline, diff them, and write one PR comment.

    python scripts/pr_review.py --base BASE_CHECKOUT --head HEAD_CHECKOUT --out DIR

Each side is planned with its own code (`python -m inferplan plan --stack S --format json --out ...`
run in that checkout); the diff runs with the head's code. A stack absent from the base is diffed
against an empty plan (all added); a stack absent from the head is listed as removed. Writes
DIR/comment.md (the comment body, starting with the hidden marker the workflow finds it by), and the
plan JSON files under DIR/base and DIR/head.

Exit code: 1 when a head plan has a mandatory policy failure nobody waived, 2 when a head stack cannot
be planned or diffed, else 0 — the workflow fails the check on anything but 0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MARKER = "<!-- inferplan-plan -->"
MAX_COMMENT_CHARS = 60_000  # GitHub refuses comments over 65,536 characters


@dataclass(frozen=True)
class Outcome:
    stack: str
    markdown: str
    exit_code: int


def stacks_in(checkout: Path) -> list[str]:
    prefix, suffix = "Pulumi.", ".yaml"
    return sorted(
        p.name[len(prefix) : -len(suffix)] for p in (checkout / "stacks").glob(f"{prefix}*{suffix}")
    )


def _inferplan(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inferplan", *args],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        check=False,
    )


def plan(checkout: Path, stack: str, out: Path) -> tuple[bool, str]:
    """(written, error): exit 1 (a blocked plan) still writes its JSON, which the diff reads."""
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _inferplan(checkout, "plan", "--stack", stack, "--format", "json", "--out", str(out))
    if done.returncode in (0, 1) and out.is_file():
        return True, ""
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return False, "\n".join(lines[-10:]) or f"plan exited {done.returncode}"


def review_stack(base: Path, head: Path, out: Path, stack: str) -> Outcome:
    head_json, base_json = out / "head" / f"{stack}.json", out / "base" / f"{stack}.json"
    ok, error = plan(head, stack, head_json)
    if not ok:
        body = f"**`{stack}`** · the head cannot be planned\n\n```\n{error}\n```\n"
        return Outcome(stack, body, 2)
    notes = []
    base_arg = os.devnull
    if (base / "stacks" / f"Pulumi.{stack}.yaml").is_file():
        base_ok, base_error = plan(base, stack, base_json)
        if base_ok:
            base_arg = str(base_json)
        else:
            first = base_error.splitlines()[-1] if base_error else ""
            notes.append(f"_The base could not be planned ({first}); compared with an empty plan._")
    done = _inferplan(head, "diff", base_arg, str(head_json), "--format", "markdown")
    if done.returncode not in (0, 1):
        error = done.stderr.strip() or f"diff exited {done.returncode}"
        return Outcome(stack, f"**`{stack}`** · the diff failed\n\n```\n{error}\n```\n", 2)
    return Outcome(stack, done.stdout + ("\n" + "\n".join(notes) + "\n" if notes else ""), done.returncode)


def comment(outcomes: list[Outcome], removed: list[str]) -> str:
    blocking = [o.stack for o in outcomes if o.exit_code == 1]
    broken = [o.stack for o in outcomes if o.exit_code == 2]
    if broken:
        verdict = f"❌ cannot plan: {', '.join(broken)}"
    elif blocking:
        verdict = f"❌ mandatory policy failing in {', '.join(blocking)}"
    else:
        verdict = "✅ no mandatory policy failing"
    head = [MARKER, f"## inferplan plan · {verdict}", ""]
    sections = [o.markdown.strip() for o in outcomes]
    sections += [
        f"**`{stack}`** · stack removed: every resource of it would be destroyed" for stack in removed
    ]
    body = "\n".join(head) + "\n" + "\n\n---\n\n".join(sections) + "\n"
    if len(body) > MAX_COMMENT_CHARS:  # keep every stack's summary line; the rest is in the job summary
        firsts = [s.splitlines()[0] for s in sections if s]
        body = (
            "\n".join(head)
            + "\n"
            + "\n\n".join(firsts)
            + "\n\n_The full diff is too long for a comment: see the workflow run's summary._\n"
        )
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", type=Path, required=True, help="checkout of the pull request's base")
    parser.add_argument("--head", type=Path, required=True, help="checkout of the pull request's head")
    parser.add_argument("--out", type=Path, required=True, help="where to write comment.md and plan JSON")
    args = parser.parse_args(argv)
    base, head, out = args.base.resolve(), args.head.resolve(), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    sys.path.insert(0, str(head))
    from inferplan.progress import Progress  # the head's own reporter: quiet when not on a terminal

    stacks = stacks_in(head)
    removed = [s for s in stacks_in(base) if s not in stacks]
    outcomes = []
    with Progress("plan", total=len(stacks)) as progress:
        for stack in stacks:
            progress.step(stack)
            outcomes.append(review_stack(base, head, out, stack))
    full = comment(outcomes, removed)
    (out / "comment.md").write_text(full)
    (out / "full.md").write_text(
        MARKER + "\n" + "\n\n---\n\n".join(o.markdown.strip() for o in outcomes) + "\n"
    )
    return max((o.exit_code for o in outcomes), default=0)


if __name__ == "__main__":
    sys.exit(main())
