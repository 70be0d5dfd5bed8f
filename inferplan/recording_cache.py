"""What the Pulumi program recorded under mocks, kept between `plan` runs in the user's cache directory.

The recording is a pure function of its input: the stack, the validated config `plan` hands the
program, the program's and the planner's source (`__main__.py`, `components/`, `inferplan/`,
`offline/`, the catalogs among them), the stack file (for error positions), the price cache the
program was told to read, the organisation's policy config and today's date (which waivers count),
and the interpreter with its installed packages (pulumi-aws's version
decides the tokens and inputs). The key is a sha256 of all of that, so any change is a new entry.
Running the program costs seconds (importing pulumi-aws alone); reading an entry, milliseconds.

The cache lives in `$INFERPLAN_CACHE_DIR`, else `$XDG_CACHE_HOME/inferplan`, else `~/.cache/inferplan`,
never in the project. It is an optimisation only: a missing, corrupt or unreadable entry is a miss,
and a cache that cannot be written is skipped, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

CACHE_DIR_ENV = "INFERPLAN_CACHE_DIR"
FORMAT = "inferplan.recording/v1"
SOURCES = ("__main__.py", "components", "inferplan", "offline")  # what the program runs, under the root
KEEP = 64  # entries kept (least recently used go first); one is ~100 KB for prod-eu


class RecordedResource(BaseModel):
    """One registration, as `python -m offline` prints it."""

    model_config = ConfigDict(frozen=True)
    type: str
    name: str
    inputs: dict[str, Any]
    parent: str | None = None
    custom: bool
    depends_on: tuple[str, ...] = ()


class RecordedProgram(BaseModel):
    """The answer of `python -m offline`: what the program registered, logged, and whether it stopped."""

    model_config = ConfigDict(frozen=True)
    resources: tuple[RecordedResource, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    failed: bool


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True)
    format: Literal["inferplan.recording/v1"]
    key: str
    answer: RecordedProgram


def cache_dir() -> Path | None:
    """Where recordings are kept; None when there is no user cache directory to use."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser() / "recordings"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec: a relative value is invalid and ignored
        return Path(xdg) / "inferplan" / "recordings"
    try:
        return Path.home() / ".cache" / "inferplan" / "recordings"
    except RuntimeError:  # no home directory to speak of
        return None


def _source_files(root: Path) -> list[tuple[str, Path]]:
    """Every file of the program and the planner (byte code excluded), by its path under the root."""
    files: list[tuple[str, Path]] = []
    for name in SOURCES:
        top = root / name
        if top.is_file():
            files.append((name, top))
            continue
        for folder, dirs, names in os.walk(top, followlinks=True):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            files += [
                (os.path.relpath(os.path.join(folder, n), root), Path(folder, n))
                for n in sorted(names)
                if not n.endswith((".pyc", ".pyo"))
            ]
    return files


def _installed() -> list[str]:
    """The installed distributions with their versions (the dist-info names on the import path)."""
    found: set[str] = set()
    for entry in sys.path:
        try:
            found.update(n for n in os.listdir(entry or ".") if n.endswith((".dist-info", ".egg-info")))
        except OSError:  # a zip file or a folder that does not exist
            continue
    return sorted(found)


def _read(path: Path | None) -> bytes:
    if path is None:
        return b"<none>"
    try:
        return path.read_bytes()
    except OSError:
        return b"<unreadable>"


def recording_key(
    stack: str,
    config_text: str,
    root: Path,
    stack_file: Path | None,
    prices: Path | None,
    policy_config: Path | None = None,
) -> str:
    """The sha256 of everything the recording depends on (see the module docstring)."""
    digest = hashlib.sha256()

    def part(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    part("format", FORMAT.encode())
    part("python", f"{sys.version}\0{sys.executable}".encode())
    part("installed", "\n".join(_installed()).encode())
    part("stack", stack.encode())
    part("config", config_text.encode())
    part("stack file", _read(stack_file))
    part("prices", _read(prices))
    part("policy config", _read(policy_config))
    part("today", date.today().isoformat().encode())  # a waiver's expiry is judged against it
    for name, path in _source_files(root):
        part(f"source {name}", _read(path))
    return digest.hexdigest()


def load(key: str) -> RecordedProgram | None:
    """The cached recording for `key`, or None (no cache, no entry, or an entry that does not parse)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{key}.json"
    try:
        entry = _Entry.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError):
        return None
    if entry.key != key or entry.answer.failed:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept longest
    return entry.answer


def store(key: str, answer: RecordedProgram) -> None:
    """Keep a successful recording (atomically, so a reader never sees half an entry); never raises."""
    folder = cache_dir()
    if folder is None or answer.failed:
        return
    entry = _Entry(format=FORMAT, key=key, answer=answer)
    scratch = folder / f".{key}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        scratch.write_text(entry.model_dump_json())
        scratch.replace(folder / f"{key}.json")
        _prune(folder)
    except OSError:
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    """Drop the least recently used entries beyond KEEP."""
    entries = []
    for path in folder.glob("*.json"):
        try:
            entries.append((path.stat().st_mtime, path))
        except OSError:
            continue
    for _, path in sorted(entries, reverse=True)[KEEP:]:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
