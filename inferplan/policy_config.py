"""The organisation's policy config, read by the offline gate the way the CrossGuard pack reads it.

The pack takes it as `pulumi preview --policy-pack-config <file>` and hands each policy its own entry.
The program's gate (under `pulumi up` and `plan`) reads the same file from `$INFERPLAN_POLICY_CONFIG`,
which `plan --policy-config <file>` sets for it, so both judge a stack's waivers against the same
allowances (`inferplan.rules.waivers`). Without a file, nothing is allowed: a stack cannot waive a
residency or security rule on its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inferplan.errors import UserError
from inferplan.rules.findings import RULES
from inferplan.rules.waivers import WAIVABLE, Allowance, allowances

ENV = "INFERPLAN_POLICY_CONFIG"
MAX_DAYS_LIMIT = 3650  # a "waiver" of ten years is no waiver
ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")


@dataclass(frozen=True)
class PolicyConfig:
    """The organisation's config: one entry per policy (rule id), as `--policy-pack-config` takes it."""

    entries: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def allowances(self) -> dict[str, Allowance]:
        return allowances(self.entries)


def problems(entries: Any) -> list[str]:
    """What in a config file the pack would refuse or this module would misread (empty: none)."""
    if not isinstance(entries, Mapping):
        return ["the file is not a JSON object of policy name -> settings"]
    out = []
    for name, entry in entries.items():
        if name not in RULES and name != "all":
            out.append(f"{name!r} is not a policy of the pack (one of: {', '.join(RULES)}, all)")
            continue
        if isinstance(entry, str):
            if entry not in ENFORCEMENT_LEVELS:
                out.append(f"{name}: {entry!r} is not an enforcement level ({', '.join(ENFORCEMENT_LEVELS)})")
            continue
        if not isinstance(entry, Mapping) or WAIVABLE not in entry:
            continue
        waivable = entry[WAIVABLE]
        if waivable is True:
            continue
        days = waivable.get("max_days") if isinstance(waivable, Mapping) else None
        if not isinstance(waivable, Mapping) or set(waivable) - {"max_days"}:
            out.append(f'{name}.{WAIVABLE}: expected true or {{"max_days": <days>}}')
        elif "max_days" in waivable and (
            isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS_LIMIT
        ):
            out.append(
                f"{name}.{WAIVABLE}.max_days: expected a whole number of days from 1 to {MAX_DAYS_LIMIT}"
            )
    return out


def load_policy_config(path: Path) -> PolicyConfig:
    """The config file at `path`; one UserError (exit 2) listing every problem, never half a config."""
    try:
        entries = json.loads(path.read_text())
    except OSError as exc:
        raise UserError(f"cannot read the policy config {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UserError(f"{path}: not JSON ({exc})") from None
    found = problems(entries)
    if found:
        raise UserError(f"{path}: " + "; ".join(found))
    return PolicyConfig(entries=dict(entries), source=str(path))


def from_environment(environ: Mapping[str, str] | None = None) -> PolicyConfig:
    """The config `$INFERPLAN_POLICY_CONFIG` names, else an empty one (nothing waivable)."""
    value = (environ if environ is not None else os.environ).get(ENV, "")
    return load_policy_config(Path(value)) if value else PolicyConfig()
