"""Reading `stacks/Pulumi.<stack>.yaml`: YAML with positions, Spec v1 validation, errors as `file:line:col`.

The same file is what `pulumi preview --stack <stack>` reads; the program gets the mapping through
`pulumi.Config("inferplan").require_object("platform")` and validates it with `validate_platform`,
passing the positions when the file is at hand so both paths print the same errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from inferplan.errors import (
    SpecInputError,
    SpecInputErrors,
    UserError,
    escape,
    format_path,
    shown,
    unsafe_char,
)
from inferplan.overrides import apply_overrides
from inferplan.safe_yaml import MAX_BYTES, YamlRefused, mark, parse_yaml
from inferplan.spec import NAME_RULE, Path_, Platform, cross_reference_problems, did_you_mean

PLATFORM_KEY = "inferplan:platform"
REGION_KEY = "aws:region"
STACKS_DIR = "stacks"
STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")  # what `pulumi stack init` accepts, no path

# Any number in a stack, whatever its field: beyond these, float arithmetic overflows or loses meaning.
# Each field has a tighter bound of its own in spec.py; these also cover catalog overrides.
NUMBER_MAX = 1e15
NUMBER_MIN = 1e-9  # smallest size of a non-zero number


@dataclass(frozen=True)
class SpecError:
    """One problem a person can act on: where it is and what to change."""

    file: str
    line: int
    col: int
    path: str
    message: str
    origin: str = ""  # `--set PATH=VALUE` when the value came from the command line, not the file

    def __str__(self) -> str:
        where = self.origin or f"{self.file}:{self.line}:{self.col}"
        # Paths and messages echo the user's keys and values: escaped, the error stays one harmless line.
        return escape(f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}")


class SpecErrors(Exception):
    """Every problem found in one stack file, raised together."""

    def __init__(self, errors: Sequence[SpecError]):
        super().__init__("\n".join(map(str, errors)))
        self.errors = tuple(errors)


@dataclass(frozen=True)
class Positions:
    """Where each key and value of the platform mapping starts in the file (1-based line and column)."""

    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    root: tuple[int, int] = (1, 1)
    overrides: dict[Path_, str] = field(default_factory=dict)  # path -> the `--set` that gave its value

    def origin(self, path: Path_) -> str:
        """The `--set PATH=VALUE` argument that gave `path` (or an ancestor) its value, else ''."""
        for cut in range(len(path), 0, -1):
            if path[:cut] in self.overrides:
                return f"--set {self.overrides[path[:cut]]}"
        return ""

    def error(self, path: Path_, message: str, *, key: bool = False) -> SpecError:
        """A located error: at the key or value in the file, or at the `--set` that gave the value."""
        line, col = self.of(path, key=key)
        return SpecError(self.file, line, col, format_path(path), message, self.origin(path))

    def of(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """The closest known position: the key or value itself, else its nearest ancestor."""
        table = self.keys if key else self.values
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            if prefix in table:
                return table[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return self.root


@dataclass(frozen=True)
class LoadedStack:
    stack: str
    file: str
    platform: Platform
    aws_region: str
    config: Mapping[str, Any]  # the whole `config:` mapping, as Pulumi would see it (`--set` applied)
    positions: Positions | None = None  # where each spec value came from (file or `--set`)
    overrides: tuple[str, ...] = ()  # the `--set PATH=VALUE` arguments applied, as given


def stack_file(stack: str, root: Path) -> Path:
    return root / STACKS_DIR / f"Pulumi.{stack}.yaml"


def _walk(
    node: yaml.Node,
    path: Path_,
    pos: Positions,
    dupes: list[tuple[Path_, str]],
    ancestors: frozenset[int] = frozenset(),
) -> None:
    if id(node) in ancestors:  # a YAML alias that contains itself
        dupes.append((path, "a YAML alias refers to itself; write the value out"))
        return
    ancestors = ancestors | {id(node)}
    pos.values[path] = mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                dupes.append((child, f"duplicate key '{key}' (YAML keeps only the last one)"))
            seen.add(key)
            pos.keys[child] = mark(key_node)
            _walk(value_node, child, pos, dupes, ancestors)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), pos, dupes, ancestors)


def yaml_error(exc: yaml.YAMLError, file: str) -> SpecError:
    """One located line for anything the YAML reader refused."""
    if isinstance(exc, YamlRefused):
        return SpecError(file, exc.line, exc.col, "", exc.message)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return SpecError(file, line, col, "", f"YAML syntax error: {exc.problem or exc}")
    return SpecError(file, 1, 1, "", f"YAML error: {str(exc).splitlines()[0] if str(exc) else exc}")


def _value_problems(value: Any, path: Path_, out: list[tuple[Path_, str, bool]]) -> None:
    """Strings with control characters and numbers out of any sane range, anywhere in the spec."""
    stack: list[tuple[Any, Path_]] = [(value, path)]
    seen: set[int] = set()  # containers already visited: YAML aliases share them, and may contain themselves
    while stack:
        item, where = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            if id(item) in seen:
                continue
            seen.add(id(item))
        if isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and (bad := unsafe_char(key)) is not None:
                    out.append(((*where, key), f"key contains the control character U+{ord(bad):04X}", True))
                stack.append((child, (*where, str(key))))
        elif isinstance(item, list | tuple):
            stack.extend((child, (*where, index)) for index, child in enumerate(item))
        elif isinstance(item, str) and (bad := unsafe_char(item)) is not None:
            out.append((where, f"contains the control character U+{ord(bad):04X}; remove it", False))
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > NUMBER_MAX:
            out.append((where, f"is out of range: at most {NUMBER_MAX:.0e} (got {shown(item)})", False))
        elif isinstance(item, float) and math.isfinite(item):
            if abs(item) > NUMBER_MAX:
                out.append((where, f"is out of range: at most {NUMBER_MAX:.0e} (got {shown(item)})", False))
            elif 0 < abs(item) < NUMBER_MIN:
                out.append((where, f"is too small: 0 or at least {NUMBER_MIN:.0e} (got {item:.3g})", False))


def _find(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return key_node, value_node
    return None


def _bound(value: Any) -> str:
    return (
        f"{value:,}"
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        else f"{value:g}"
    )


BOUNDS = {
    "less_than_equal": ("le", "must be at most"),
    "less_than": ("lt", "must be below"),
    "greater_than_equal": ("ge", "must be at least"),
    "greater_than": ("gt", "must be greater than"),
}


def _message(err: Mapping[str, Any]) -> str:
    """Pydantic's error, said the way a stack author needs it."""
    kind, got, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"must be one of {expected} (got {shown(got)})"
    if kind == "missing":
        return "is required"
    if kind in BOUNDS:
        name, words = BOUNDS[kind]
        value = ctx.get(name)
        bound = _bound(int(value) if isinstance(value, float) and value.is_integer() else value)
        return f"{words} {bound} (got {shown(got)})"
    if kind == "finite_number":
        return f"must be a finite number (got {shown(got)})"
    if kind in ("too_short", "string_too_short"):
        return f"must not be empty (got {shown(got)})"
    if kind == "string_pattern_mismatch":
        return (
            f"must be {NAME_RULE} (got {shown(got)})"
            if err["loc"][-1] in ("name", "secret")
            else (f"does not match {ctx.get('pattern')} (got {shown(got)})")
        )
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number (got {shown(got)})"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number (got {shown(got)})"
    if kind in ("string_type",):
        return f"must be a string (got {shown(got)})"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list (got {shown(got)})"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of keys to values (got {shown(got)})"
    text = str(err["msg"])
    text = text.removeprefix("Value error, ")
    return (
        f"{text[0].lower()}{text[1:]} (got {shown(got)})"
        if got is not None and not isinstance(got, dict | list)
        else text
    )


def _unknown_key(path: Path_, model: type[BaseModel]) -> str:
    """'unknown key' with a 'did you mean' drawn from the fields allowed at that place."""
    fields = _fields_at(model, path[:-1])
    return f"unknown key '{path[-1]}'{did_you_mean(str(path[-1]), fields)}" + (
        f"; allowed: {', '.join(fields)}" if fields and not did_you_mean(str(path[-1]), fields) else ""
    )


def _fields_at(model: type[BaseModel], path: Path_) -> list[str]:
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        info = current.model_fields.get(str(part))
        if info is None:
            return []
        current = _inner_model(info.annotation)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def validate_platform(data: Any, aws_region: str | None, positions: Positions) -> Platform:
    """The typed spec, or SpecErrors listing every problem (types, enums, keys and references)."""
    problems: list[tuple[Path_, str, bool]] = []  # (path, message, points at the key)
    platform: Platform | None = None
    if not isinstance(data, Mapping):
        problems.append(((), f"`{PLATFORM_KEY}` must be a mapping (got {type(data).__name__})", False))
    else:
        generic: list[tuple[Path_, str, bool]] = []
        _value_problems(data, (), generic)
        # A control character is said first; a number out of range only where its field has no bound.
        flagged = {path for path, message, _ in generic if "control character" in message}
        problems.extend(p for p in generic if p[0] in flagged)
        missing: dict[Path_, list[str]] = {}  # parent -> required keys it lacks, reported together
        try:
            platform = Platform.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc: Path_ = tuple(str(p) if not isinstance(p, int) else p for p in err["loc"])
                if loc in flagged:
                    continue  # already said, with the bound
                if err["type"] == "extra_forbidden":
                    problems.append((loc, _unknown_key(loc, Platform), True))
                elif err["type"] == "missing":
                    missing.setdefault(loc[:-1], []).append(str(loc[-1]))
                else:
                    problems.append((loc, _message(err), False))
        said = {path for path, _, _ in problems}
        problems.extend(p for p in generic if p[0] not in flagged and p[0] not in said)
        for parent, keys in missing.items():
            names = ", ".join(f"'{k}'" for k in keys)
            noun = "key" if len(keys) == 1 else "keys"
            problems.append(
                (parent, f"required {noun} {names} {'is' if len(keys) == 1 else 'are'} missing", False)
            )
        problems.extend((p, m, False) for p, m in cross_reference_problems(data, aws_region))
    if problems or platform is None:
        ordered = sorted(problems, key=lambda p: (positions.origin(p[0]), positions.of(p[0], key=p[2])))
        raise SpecErrors([positions.error(path, message, key=at_key) for path, message, at_key in ordered])
    return platform


def check_stack_name(stack: str) -> None:
    if not STACK_NAME.match(stack) or ".." in stack:
        raise UserError(
            f"--stack {shown(stack)}: not a stack name (letters, digits, '-', '_' and '.', at most 100 characters)"
        )


def load_stack(stack: str, root: Path | None = None, overrides: Sequence[str] = ()) -> LoadedStack:
    """Read and validate one stack file, `--set PATH=VALUE` overrides applied first; raises SpecErrors."""
    check_stack_name(stack)
    root = root or project_root()
    path = stack_file(stack, root)
    where = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if not path.is_file():
        existing = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in (root / STACKS_DIR).glob("Pulumi.*.yaml")
        )
        hint = did_you_mean(stack, existing) or (f" (stacks here: {', '.join(existing)})" if existing else "")
        raise SpecErrors([SpecError(where, 1, 1, "", f"no such stack file{hint}")])
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SpecErrors(
                [
                    yaml_error(
                        YamlRefused(
                            1,
                            1,
                            f"larger than {MAX_BYTES // (1024 * 1024)} MiB; a stack file is a few kilobytes",
                        ),
                        where,
                    )
                ]
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecErrors(
            [SpecError(where, 1, 1, "", f"not UTF-8 text (byte {exc.start}): save it as UTF-8")]
        ) from None
    except OSError as exc:
        raise SpecErrors([SpecError(where, 1, 1, "", f"cannot read: {exc.strerror or exc}")]) from None
    return read_stack(text, where, stack, overrides)


def read_stack(text: str, where: str, stack: str, overrides: Sequence[str] = ()) -> LoadedStack:
    """Validate the text of one stack file (shown as `where` in errors); raises SpecErrors."""
    try:
        document, data = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise SpecErrors([yaml_error(exc, where)]) from None
    except RecursionError:  # defence in depth: _check_structure bounds the nesting first
        raise SpecErrors([SpecError(where, 1, 1, "", "nested too deeply; flatten it")]) from None

    config_pair = _find(document, "config") if document is not None else None
    platform_pair = _find(config_pair[1], PLATFORM_KEY) if config_pair else None
    config = data.get("config") if isinstance(data, dict) else None
    if platform_pair is None or not isinstance(config, dict):
        raise SpecErrors([SpecError(where, 1, 1, "", f"no `config: {PLATFORM_KEY}:` mapping in this file")])
    positions = Positions(where, root=mark(platform_pair[0]))
    dupes: list[tuple[Path_, str]] = []
    _walk(platform_pair[1], (), positions, dupes)
    platform_data = config.get(PLATFORM_KEY)
    if overrides:
        platform_data, given = apply_overrides(platform_data, overrides)
        positions.overrides.update(given)
    region = config.get(REGION_KEY)
    try:
        platform = validate_platform(platform_data, region if isinstance(region, str) else None, positions)
    except SpecErrors as exc:
        extra = [positions.error(p, m, key=True) for p, m in dupes]
        raise SpecErrors([*extra, *exc.errors]) from None
    if dupes:
        raise SpecErrors([positions.error(p, m, key=True) for p, m in dupes])
    assert isinstance(region, str)  # validate_platform reports a missing aws:region
    return LoadedStack(
        stack=stack,
        file=where,
        platform=platform,
        aws_region=region,
        config={**config, PLATFORM_KEY: platform_data},
        positions=positions,
        overrides=tuple(overrides),
    )


def project_root(start: Path | None = None) -> Path:
    """The nearest folder holding `Pulumi.yaml`, from `start` (the current folder) upwards.

    Outside any project (no `Pulumi.yaml` above the current folder) it is the project this package
    belongs to, so `python -m inferplan` also works from elsewhere.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return Path(__file__).resolve().parents[1]


def positions_for(stack: str, root: Path | None = None) -> Positions:
    """Positions of the platform mapping in the stack file, or an empty map when it cannot be read.

    The Pulumi program gets the spec as a plain mapping from `pulumi.Config`; reading the file again
    only for positions lets it print the same `file:line:col` errors as the CLI.
    """
    root = root or project_root()
    path = stack_file(stack, root)
    where = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        document, _ = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError, RecursionError):
        return Positions(where)
    config_pair = _find(document, "config") if document is not None else None
    platform_pair = _find(config_pair[1], PLATFORM_KEY) if config_pair else None
    if platform_pair is None:
        return Positions(where)
    positions = Positions(where, root=mark(platform_pair[0]))
    _walk(platform_pair[1], (), positions, [])
    return positions


def located(
    error: SpecInputError, stack: str, root: Path | None = None, positions: Positions | None = None
) -> SpecError:
    """A sizing- or pricing-time error, placed in the stack file (or at its `--set`) like a validation error."""
    return (positions or positions_for(stack, root)).error(error.path, error.message)


def located_all(
    error: SpecInputError | SpecInputErrors,
    stack: str,
    root: Path | None = None,
    positions: Positions | None = None,
) -> SpecErrors:
    """One or several planning-time errors, each placed in the stack file, to be raised together."""
    found = positions or positions_for(stack, root)
    errors = error.errors if isinstance(error, SpecInputErrors) else (error,)
    return SpecErrors([found.error(e.path, e.message) for e in errors])
