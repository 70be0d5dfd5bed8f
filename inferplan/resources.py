"""A resource as the planner sees it: a Pulumi type token, a name and its inputs.

The offline recorder produces these from the program run under mocks; the CrossGuard pack builds
them from the resources a real preview hands it; the cost engine and the policy rules read only
this shape, so one function serves all three.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResourceRecord:
    type: str  # Pulumi type token, e.g. "aws:ec2/vpc:Vpc"
    name: str  # logical name as registered
    inputs: Mapping[str, Any] = field(default_factory=dict)  # camelCase keys, as preview props
    parent: str | None = None  # logical name of the parent component, if any
    custom: bool = True  # False for component resources
    depends_on: tuple[str, ...] = ()  # logical names of resources whose outputs feed this one

    def get(self, *path: str | int, default: Any = None) -> Any:
        """A nested input, or `default` when any step is missing."""
        value: Any = self.inputs
        for key in path:
            if isinstance(key, int):
                if not isinstance(value, list | tuple) or key >= len(value):
                    return default
                value = value[key]
            elif isinstance(value, Mapping) and key in value:
                value = value[key]
            else:
                return default
        return value

    @property
    def tags(self) -> Mapping[str, Any]:
        """Tags as a mapping, whether given as a mapping or (Auto Scaling groups) a list of {key, value}."""
        tags = self.inputs.get("tags")
        if isinstance(tags, Mapping):
            return tags
        if isinstance(tags, list):
            return {t["key"]: t.get("value") for t in tags if isinstance(t, Mapping) and "key" in t}
        return {}

    def tag(self, key: str) -> str | None:
        value = self.tags.get(key)
        return None if value is None else str(value)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "name": self.name, "inputs": dict(self.inputs)}
        if self.parent:
            out["parent"] = self.parent
        if self.depends_on:
            out["depends_on"] = list(self.depends_on)
        return out
