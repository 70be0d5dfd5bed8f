"""Plan JSON of example stacks and edited copies, built the way `plan --out` builds it.

Each edited stack lives in its own project root (symlinks to this repo's code, its own `stacks/`), so
base and head share the stack name — and so the physical names — exactly as in a pull request.
"""

from __future__ import annotations

import functools
import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inferplan.commands.plan import build_report
from inferplan.report import to_json
from offline.project import linked_project
from tests.conftest import stack_config, write_stack

_roots = tempfile.TemporaryDirectory(prefix="inferplan-review-")
_counter = itertools.count()

Edit = Callable[[dict[str, Any]], None]


def new_project() -> Path:
    return linked_project(Path(_roots.name) / f"project-{next(_counter)}")


def plan_json(stack: str, edit: Edit | None = None, root: Path | None = None) -> dict[str, Any]:
    """Plan JSON v1 of an example stack, its `inferplan:platform` mapping edited first by `edit`."""
    config = stack_config(stack)
    if edit is not None:
        edit(config["inferplan:platform"])
    root = root or new_project()
    write_stack(root, stack, config)
    return to_json(build_report(stack, root))


@functools.cache
def example_plan(stack: str) -> dict[str, Any]:
    """An unedited example stack's Plan JSON (built once per test run)."""
    return plan_json(stack)


def pool(platform: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in platform["pools"] if p["name"] == name)


def model(platform: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in platform["models"] if m["name"] == name)


def workload(platform: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in platform["workloads"] if w["name"] == name)


def raise_h100_and_context(platform: dict[str, Any]) -> None:
    """The reviewed change of docs/examples/prod-eu-diff.md: more h100 nodes, a longer llama context."""
    pool(platform, "h100")["max_nodes"] = 4
    platform["budget"]["hard_cap_usd"] = 350_000  # room for the fourth node's worst case
    model(platform, "llama-70b")["max_context"] = 32_768


@functools.cache
def edited_plan(name: str) -> dict[str, Any]:
    """The edited prod-eu plans the tests share (each built once per test run)."""
    edits: dict[str, Edit] = {
        "raise-h100-and-context": raise_h100_and_context,
        "raise-h100-only": lambda p: pool(p, "h100").__setitem__("max_nodes", 4),
        "cidr": lambda p: p["network"].__setitem__("cidr", "10.41.0.0/16"),
        "confidential-fallback": lambda p: workload(p, "contract-extraction").update(
            fallback="claude-sonnet", fallback_rate=0.05
        ),
    }
    return plan_json("prod-eu", edits[name])
