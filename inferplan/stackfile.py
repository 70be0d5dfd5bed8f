"""Reading `stacks/Pulumi.<stack>.yaml`: YAML with positions, Spec v1 validation, errors as `file:line:col`.

The same file is what `pulumi preview --stack <stack>` reads; the program gets the mapping through
`pulumi.Config("inferplan").require_object("platform")` and validates it with `validate_platform`,
passing the positions when the file is at hand so both paths print the same errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from inferplan.errors import SpecInputError, format_path
from inferplan.spec import NAME_RULE, Path_, Platform, cross_reference_problems, did_you_mean

PLATFORM_KEY = "inferplan:platform"
REGION_KEY = "aws:region"
STACKS_DIR = "stacks"


@dataclass(frozen=True)
class SpecError:
    """One problem a person can act on: where it is and what to change."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


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
    config: Mapping[str, Any]  # the whole `config:` mapping, as Pulumi would see it


def stack_file(stack: str, root: Path) -> Path:
    return root / STACKS_DIR / f"Pulumi.{stack}.yaml"


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


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
    pos.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                dupes.append((child, f"duplicate key '{key}' (YAML keeps only the last one)"))
            seen.add(key)
            pos.keys[child] = _mark(key_node)
            _walk(value_node, child, pos, dupes, ancestors)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), pos, dupes, ancestors)


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 20x faster on big stacks


def parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (with positions) and the plain data, from one parse."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _find(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return key_node, value_node
    return None


def _message(err: Mapping[str, Any]) -> str:
    """Pydantic's error, said the way a stack author needs it."""
    kind, got, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"must be one of {expected} (got {got!r})"
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        return (
            f"must be {NAME_RULE} (got {got!r})"
            if err["loc"][-1] in ("name", "secret")
            else (f"does not match {ctx.get('pattern')} (got {got!r})")
        )
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number (got {got!r})"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number (got {got!r})"
    if kind in ("string_type",):
        return f"must be a string (got {got!r})"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list (got {got!r})"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of keys to values (got {got!r})"
    text = str(err["msg"])
    text = text.removeprefix("Value error, ")
    return (
        f"{text[0].lower()}{text[1:]} (got {got!r})"
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
        try:
            platform = Platform.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc: Path_ = tuple(err["loc"])
                if err["type"] == "extra_forbidden":
                    problems.append((loc, _unknown_key(loc, Platform), True))
                elif err["type"] == "missing":
                    problems.append((loc[:-1], f"required key '{loc[-1]}' is missing", False))
                else:
                    problems.append((loc, _message(err), False))
        problems.extend((p, m, False) for p, m in cross_reference_problems(data, aws_region))
    if problems or platform is None:
        errors = []
        for path, message, at_key in sorted(problems, key=lambda p: positions.of(p[0], key=p[2])):
            line, col = positions.of(path, key=at_key)
            errors.append(SpecError(positions.file, line, col, format_path(path), message))
        raise SpecErrors(errors)
    return platform


def load_stack(stack: str, root: Path | None = None) -> LoadedStack:
    """Read and validate one stack file; raises SpecErrors (never a traceback for bad input)."""
    root = root or project_root()
    path = stack_file(stack, root)
    shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if not path.is_file():
        existing = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in (root / STACKS_DIR).glob("Pulumi.*.yaml")
        )
        hint = did_you_mean(stack, existing) or (f" (stacks here: {', '.join(existing)})" if existing else "")
        raise SpecErrors([SpecError(shown, 1, 1, "", f"no such stack file{hint}")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecErrors(
            [SpecError(shown, 1, 1, "", f"not UTF-8 text (byte {exc.start}): save it as UTF-8")]
        ) from None
    try:
        document, data = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecErrors(
            [SpecError(shown, line, col, "", f"YAML syntax error: {exc.problem or exc}")]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecErrors([SpecError(shown, 1, 1, "", f"YAML error: {exc}")]) from None

    config_pair = _find(document, "config") if document is not None else None
    platform_pair = _find(config_pair[1], PLATFORM_KEY) if config_pair else None
    if config_pair is None or platform_pair is None or not isinstance(data, dict):
        raise SpecErrors([SpecError(shown, 1, 1, "", f"no `config: {PLATFORM_KEY}:` mapping in this file")])
    positions = Positions(shown, root=_mark(platform_pair[0]))
    dupes: list[tuple[Path_, str]] = []
    _walk(platform_pair[1], (), positions, dupes)
    config = data.get("config") or {}
    region = config.get(REGION_KEY)
    try:
        platform = validate_platform(
            config.get(PLATFORM_KEY), region if isinstance(region, str) else None, positions
        )
    except SpecErrors as exc:
        extra = [SpecError(shown, *positions.of(p, key=True), format_path(p), m) for p, m in dupes]
        raise SpecErrors([*extra, *exc.errors]) from None
    if dupes:
        raise SpecErrors([SpecError(shown, *positions.of(p, key=True), format_path(p), m) for p, m in dupes])
    assert isinstance(region, str)  # validate_platform reports a missing aws:region
    return LoadedStack(stack=stack, file=shown, platform=platform, aws_region=region, config=config)


def project_root() -> Path:
    """The folder holding `Pulumi.yaml`: the current one if it has it, else the one beside this package."""
    cwd = Path.cwd()
    return cwd if (cwd / "Pulumi.yaml").is_file() else Path(__file__).resolve().parents[1]


def positions_for(stack: str, root: Path | None = None) -> Positions:
    """Positions of the platform mapping in the stack file, or an empty map when it cannot be read.

    The Pulumi program gets the spec as a plain mapping from `pulumi.Config`; reading the file again
    only for positions lets it print the same `file:line:col` errors as the CLI.
    """
    root = root or project_root()
    path = stack_file(stack, root)
    shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        document, _ = parse_yaml(path.read_text())
    except (OSError, yaml.YAMLError):
        return Positions(shown)
    config_pair = _find(document, "config") if document is not None else None
    platform_pair = _find(config_pair[1], PLATFORM_KEY) if config_pair else None
    if platform_pair is None:
        return Positions(shown)
    positions = Positions(shown, root=_mark(platform_pair[0]))
    _walk(platform_pair[1], (), positions, [])
    return positions


def located(error: SpecInputError, stack: str, root: Path | None = None) -> SpecError:
    """A sizing- or pricing-time error, placed in the stack file like a validation error."""
    positions = positions_for(stack, root)
    line, col = positions.of(error.path)
    return SpecError(positions.file, line, col, format_path(error.path), error.message)
