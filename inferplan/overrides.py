"""`--set PATH=VALUE`: what-if edits of a spec, applied to the parsed mapping before validation.

PATH is relative to `inferplan:platform`; list entries are picked by name or index and mapping keys by
name: `workloads[lead-scoring].calls_per_day`, `pools[h100].max_nodes`, `pools[0].max_nodes`,
`cost.prices[nat_gateway]`. VALUE is read as YAML (`4`, `fp8`, `[eu-west-1]`, `{ttft: 900}`, `null`),
and a plain `1e6` is a number. The stack file itself is never changed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from inferplan.errors import SpecPath, UserError, format_path, shown
from inferplan.safe_yaml import parse_yaml
from inferplan.spec import did_you_mean

_PATH = re.compile(r"^[^.\[\]]+(\.[^.\[\]]+|\[[^\[\]]+\])*$")
_PART = re.compile(r"\[([^\[\]]+)\]|([^.\[\]]+)")
_NUMBER = re.compile(r"^[-+]?(\d[\d_]*\.?\d*|\.\d+)([eE][-+]?\d+)?$")


class OverrideError(UserError):
    """A `--set` that cannot be applied: bad syntax, or it names an entry the spec does not have."""

    def __init__(self, argument: str, message: str):
        super().__init__(f"--set {shown(argument)[1:-1]}: {message}")


def split(argument: str) -> tuple[list[str | int], Any]:
    """The path parts (names; `[n]` as int) and the value of one `PATH=VALUE`."""
    path_text, sep, value_text = argument.partition("=")
    if not sep or not path_text.strip():
        raise OverrideError(argument, "expected PATH=VALUE, e.g. workloads[lead-scoring].calls_per_day=1e6")
    text = path_text.strip()
    if not _PATH.match(text):
        raise OverrideError(argument, "cannot read PATH; write it like workloads[lead-scoring].calls_per_day")
    parts: list[str | int] = []
    for selector, name in _PART.findall(text):
        if selector:
            parts.append(int(selector) if selector.strip().isdigit() else f"[{selector.strip()}]")
        else:
            parts.append(name.strip())
    return parts, _value(argument, value_text)


def _value(argument: str, text: str) -> Any:
    if _NUMBER.match(text.strip()):
        number = float(text.replace("_", ""))
        return int(number) if number.is_integer() and re.fullmatch(r"[-+]?[\d_]+", text.strip()) else number
    try:
        _, value = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise OverrideError(argument, f"VALUE is not YAML ({str(exc).splitlines()[0]})") from None
    return value


def apply_overrides(platform: Any, arguments: Sequence[str]) -> tuple[Any, dict[SpecPath, str]]:
    """A copy of `platform` with every `--set` applied, and which resolved path each one set."""
    data = copy.deepcopy(platform) if platform is not None else {}
    given: dict[SpecPath, str] = {}
    for argument in arguments:
        parts, value = split(argument)
        data, path = _set(data, parts, value, argument)
        given[path] = argument
    return data, given


def _set(data: Any, parts: list[str | int], value: Any, argument: str) -> tuple[Any, SpecPath]:
    if not isinstance(data, dict):
        raise OverrideError(argument, "the stack's inferplan:platform is not a mapping")
    node: Any = data
    path: list[str | int] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(node, list):
            position = _entry(node, part, path, argument)
            path.append(position)
            if last:
                node[position] = value
            else:
                node = node[position]
            continue
        if not isinstance(node, dict):
            raise OverrideError(
                argument, f"{format_path(tuple(path))} is {shown(node)}, not a mapping or a list"
            )
        key = part[1:-1] if isinstance(part, str) and part.startswith("[") else str(part)
        path.append(key)
        if last:
            node[key] = value
        else:
            if key not in node or node[key] is None:
                if isinstance(parts[index + 1], int):
                    raise OverrideError(argument, f"{format_path(tuple(path))} has no entries to pick from")
                node[key] = {}  # a missing section (`operations.monthly_usd=...`) starts empty
            node = node[key]
    return data, tuple(path)


def _entry(items: list[Any], part: str | int, path: list[str | int], argument: str) -> int:
    """The index of the list entry `part` picks: `[name]` by its `name`, `[n]` by position."""
    where = format_path(tuple(path))
    if isinstance(part, int):
        if part >= len(items):
            raise OverrideError(argument, f"{where} has {len(items)} entries; [{part}] is not one of them")
        return part
    name = part[1:-1] if part.startswith("[") else part
    names = [str(item.get("name")) for item in items if isinstance(item, Mapping)]
    for position, item in enumerate(items):
        if isinstance(item, Mapping) and item.get("name") == name:
            return position
    raise OverrideError(argument, f"no {where} entry named '{name}'{did_you_mean(name, names)}")
