"""Group keys (project ids, API keys, ARNs, team aliases) turned into spec workload names.

A name must follow the spec's rule (`spec.NAME_RULE`): lower-case letters, digits and '-', starting
with a letter, at most 20 characters. Sanitising can map two keys to one name; the second and later
get a numeric suffix, and every rename is reported so nobody wonders where a workload came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_LEN = 20
UNSET = "unset"  # a record whose group field is empty or missing
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")


@dataclass(frozen=True)
class Naming:
    """The workload name chosen for one group key, and why it differs from the key when it does."""

    key: str
    name: str
    note: str = ""  # empty when the key was already a valid name


def _arn_tail(value: str) -> str:
    """The meaningful part of an AWS ARN: the role of an assumed-role session, else the last segment."""
    resource = value.split(":", 5)[-1]
    parts = [p for p in resource.split("/") if p]
    if len(parts) >= 2 and parts[0] in ("assumed-role", "role"):
        return parts[1]
    return parts[-1] if parts else value


def sanitise(key: str) -> str:
    """A name following the spec's rule, as close to the key as it can be."""
    text = _arn_tail(key) if key.startswith("arn:") else key
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not text:
        text = UNSET
    if not text[0].isalpha():
        text = f"w-{text}"
    return text[:MAX_LEN].rstrip("-")


def _with_suffix(base: str, n: int) -> str:
    suffix = f"-{n}"
    return base[: MAX_LEN - len(suffix)].rstrip("-") + suffix


def assign_names(keys: Sequence[str], taken: Iterable[str] = ()) -> list[Naming]:
    """One distinct valid name per key, in the keys' order; `taken` names are avoided too.

    Keys are resolved in sorted order so the same keys always get the same names, whatever order the
    records came in.
    """
    used = set(taken)
    chosen: dict[str, Naming] = {}
    for key in sorted(set(keys)):
        base = sanitise(key)
        name, n = base, 1
        while name in used:
            n += 1
            name = _with_suffix(base, n)
        used.add(name)
        if name == key:
            note = ""
        elif name != base:
            note = f"'{key}' -> '{name}' (sanitised to '{base}', which another key already took)"
        else:
            note = f"'{key}' -> '{name}' (sanitised to the name rule)"
        chosen[key] = Naming(key, name, note)
    assert all(_NAME.match(n.name) for n in chosen.values())
    return [chosen[k] for k in keys]
