"""Merging imported workloads into `stacks/Pulumi.<stack>.yaml` without touching anything else in it.

ruamel.yaml's round-trip parser says where the platform mapping, its `workloads:` list and each
entry sit in the file; new entries are inserted as text at the end of that list, in its own
indentation, so every other byte of the file — comments, flow mappings wrapped by hand, blank lines
— stays as it was. The result is parsed again and must equal the old data plus the change, or
nothing is written; the file is replaced atomically.

A workload whose name is already in the stack is never overwritten silently: it is skipped and
reported, unless `--replace` is given, which rewrites that one entry with the new measured fields
(`calls_per_day`, `input_tokens`, `output_tokens`, `peak_to_average`, `token_percentiles`,
`current`) and keeps every field a person decided (sensitivity, route, fallback, SLOs...).
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from inferplan.errors import UserError
from inferplan.stackfile import PLATFORM_KEY
from inferplan.usage.render import entry_text

MEASURED = (
    "calls_per_day",
    "input_tokens",
    "output_tokens",
    "peak_to_average",
    "token_percentiles",
    "current",
)


@dataclass(frozen=True)
class Entry:
    """One imported workload: its data and the comment saying where it came from."""

    data: Mapping[str, Any]
    origin: str


@dataclass(frozen=True)
class MergeResult:
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    skipped: tuple[str, ...]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such stack file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read ({exc})") from None


def _platform(text: str, path: Path) -> CommentedMap:
    try:
        document = YAML().load(text)
    except YAMLError as exc:
        raise UserError(f"{path}: YAML syntax error ({str(exc).splitlines()[0]})") from None
    config = document.get("config") if isinstance(document, CommentedMap) else None
    platform = config.get(PLATFORM_KEY) if isinstance(config, CommentedMap) else None
    if not isinstance(platform, CommentedMap):
        raise UserError(f"{path}: no `config: {PLATFORM_KEY}:` mapping")
    workloads = platform.get("workloads")
    if workloads is not None and not isinstance(workloads, CommentedSeq):
        raise UserError(f"{path}: `workloads` is not a list")
    return platform


def existing_names(path: Path) -> list[str]:
    """Workload names already in the stack file."""
    workloads = _platform(_read(path), path).get("workloads") or []
    return [str(w.get("name")) for w in workloads if isinstance(w, CommentedMap)]


def _next_key_line(path_maps: Sequence[tuple[CommentedMap, str]], total: int) -> int:
    """The line (0-based) of the first key after `key` in the innermost map that has one."""
    for mapping, key in path_maps:
        keys = list(mapping.keys())
        index = keys.index(key)
        if index + 1 < len(keys):
            return int(mapping.lc.key(keys[index + 1])[0])
    return total


def _content_end(lines: Sequence[str], boundary: int) -> int:
    """Just after the last line before `boundary` that is neither blank nor only a comment."""
    end = boundary
    while end > 0 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def merge_into(path: Path, entries: Sequence[Entry], *, replace: bool) -> MergeResult:
    """Add (or with `replace`, refresh) imported workloads in the stack file; returns what happened."""
    text = _read(path)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    document = YAML().load(text)
    config = document["config"] if isinstance(document, CommentedMap) and "config" in document else None
    platform = _platform(text, path)
    assert isinstance(config, CommentedMap)
    workloads = platform.get("workloads")
    existing = {str(w.get("name")): i for i, w in enumerate(workloads or []) if isinstance(w, CommentedMap)}
    enclosing = [(platform, "workloads"), (config, PLATFORM_KEY), (document, "config")]

    added = [e for e in entries if str(e.data["name"]) not in existing]
    refreshed = [e for e in entries if str(e.data["name"]) in existing] if replace else []
    skipped = [] if replace else [str(e.data["name"]) for e in entries if str(e.data["name"]) in existing]
    expected = yaml.safe_load(text)
    expected_workloads = expected["config"][PLATFORM_KEY].setdefault("workloads", [])
    if expected_workloads is None:
        expected["config"][PLATFORM_KEY]["workloads"] = expected_workloads = []

    edits: list[tuple[int, int, str]] = []  # (first line, end line, replacement text), 0-based
    key_col = int(platform.lc.key(next(iter(platform)))[1])  # indentation of the platform's keys
    if workloads is not None and len(workloads) > 0 and not workloads.fa.flow_style():
        dash = int(workloads.lc.item(0)[1]) - 2
        end = _content_end(lines, _next_key_line(enclosing, len(lines)))
        if added:
            edits.append((end, end, "".join(entry_text(e.data, e.origin, dash) for e in added)))
        for e in refreshed:
            i = existing[str(e.data["name"])]
            start = int(workloads.lc.item(i)[0])
            stop = _content_end(lines, int(workloads.lc.item(i + 1)[0])) if i + 1 < len(workloads) else end
            merged = _refreshed(workloads[i], e.data)
            edits.append((start, stop, entry_text(merged, f"refreshed: {e.origin}", dash, review=False)))
            expected_workloads[i] = merged
    elif added:
        if workloads is not None and len(workloads) > 0:
            raise UserError(
                f"{path}: `workloads` is a flow-style list; write it as a block list (one `- ` per "
                "workload) to merge into it, or paste the output of import-usage"
            )
        body = "".join(entry_text(e.data, e.origin, key_col + 2) for e in added)
        if workloads is not None:  # `workloads: []` on one line
            line = int(platform.lc.key("workloads")[0])
            edits.append((line, line + 1, f"{' ' * key_col}workloads:\n{body}"))
        else:
            end = _content_end(lines, _next_key_line(enclosing[1:], len(lines)))
            edits.append((end, end, f"{' ' * key_col}workloads:\n{body}"))
    expected_workloads.extend(dict(e.data) for e in added)
    if not edits:
        return MergeResult((), (), tuple(skipped))
    for start, stop, replacement in sorted(edits, reverse=True):
        lines[start:stop] = [replacement]
    merged_text = "".join(lines)
    if yaml.safe_load(merged_text) != expected:
        raise UserError(
            f"{path}: could not merge without changing other parts of the file; nothing was written "
            "(paste the output of import-usage under workloads: instead)"
        )
    _write_atomically(path, merged_text)
    return MergeResult(
        tuple(str(e.data["name"]) for e in added),
        tuple(str(e.data["name"]) for e in refreshed),
        tuple(skipped),
    )


def _refreshed(current: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The existing entry with the measured fields taken from the import, the rest kept."""
    merged = {k: _plain(v) for k, v in current.items() if k not in MEASURED}
    for key in MEASURED:
        if key in new:
            merged[key] = copy.deepcopy(new[key])
    order = ["name", *MEASURED]
    return {
        **{k: merged[k] for k in order if k in merged},
        **{k: v for k, v in merged.items() if k not in order},
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _write_atomically(path: Path, text: str) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
