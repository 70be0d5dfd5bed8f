"""Reading YAML someone else wrote, safely: bounded in size, depth and alias expansion, with positions.

Both the stack file reader (`stackfile`) and `--set PATH=VALUE` (`overrides`) parse through here, so a
hostile document or value ends quickly in one located line, never in minutes of alias expansion.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from inferplan.errors import shown

# What a stack file may be before it is read into memory: hostile input must end quickly in one located
# line (an alias bomb of a few hundred bytes expands to billions of values; deep nesting overflows the
# YAML composer's stack). Real stacks are a few kilobytes; a generated 1,000-workload one about 300 KB.
MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64  # nested mappings and lists (Spec v1 needs 6)
MAX_VALUES = 500_000  # keys and values after YAML aliases are expanded


def mark(node: yaml.Node | yaml.Event) -> tuple[int, int]:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class YamlRefused(yaml.YAMLError):
    """A document refused before it is built: too large, too deep, an alias bomb, a tag on the wrong value."""

    def __init__(self, line: int, col: int, message: str):
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 20x faster on big stacks


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader, where a value that does not fit its explicit tag (`!!int llama-8b`) is a YAML error."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, IndexError, ArithmeticError) as exc:
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            reason = str(exc).split(";")[0] if isinstance(exc, ValueError) else "not a valid value"
            line, col = mark(node)
            raise YamlRefused(
                line,
                col,
                f"{shown(node.value)} cannot be read as {tag} ({reason}); remove the tag or fix the value",
            ) from None


# YAML 1.2 (what Pulumi reads the file with) makes `1e6` a number; PyYAML's YAML 1.1 needs a dot.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"), list("-+0123456789")
)


def _check_structure(text: str) -> None:
    """Refuse, before building anything, a document nested too deep or whose aliases expand too far.

    Reads libyaml's event stream and stops at the first event past a limit, so a hostile document costs
    no more than the events before that point (composing a 50,000-deep list crashes the C composer;
    expanding a nine-level alias bomb takes minutes and gigabytes).
    """
    loader = _Loader(text)
    try:
        depth, values = 0, 0
        sizes: dict[str, int] = {}  # anchor -> values it stands for, once its node is complete
        frames: list[list[Any]] = []  # open collections: [anchor, values so far]
        while loader.check_event():
            event = loader.get_event()
            added = 0
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line, col = mark(event)
                    raise YamlRefused(
                        line, col, f"nested deeper than {MAX_DEPTH} levels of mappings and lists; flatten it"
                    )
                frames.append([event.anchor, 1])
                values += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                anchor, added = frames.pop()
                if anchor:
                    sizes[anchor] = added
            elif isinstance(event, yaml.ScalarEvent):
                added = 1
                values += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                added = sizes.get(str(event.anchor), 1)  # an alias inside its own anchor: reported later
                values += added
            if frames and not isinstance(event, yaml.CollectionStartEvent):
                frames[-1][1] += added
            if values > MAX_VALUES:
                line, col = mark(event)
                raise YamlRefused(
                    line,
                    col,
                    f"more than {MAX_VALUES:,} keys and values once YAML aliases are expanded "
                    "(an alias bomb?); write the values out",
                )
    finally:
        loader.dispose()


def parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (with positions) and the plain data; raises a YAMLError for anything it refuses."""
    if len(text) > MAX_BYTES:
        raise YamlRefused(
            1, 1, f"larger than {MAX_BYTES // (1024 * 1024)} MiB; a stack file is a few kilobytes"
        )
    _check_structure(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()
