"""The resources section: what `pulumi up` would create, grouped by the component that owns it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from inferplan.resources import ResourceRecord


def _top_component(record: ResourceRecord, by_name: dict[str, ResourceRecord]) -> str:
    """The outermost component a resource sits in ('' for a resource registered at the top level)."""
    current, top = record, ""
    seen: set[str] = set()
    while current.parent and current.parent in by_name and current.parent not in seen:
        seen.add(current.parent)
        current = by_name[current.parent]
        top = current.name
    return top


def groups(records: Sequence[ResourceRecord]) -> list[tuple[ResourceRecord | None, list[ResourceRecord]]]:
    """(component, its custom resources sorted by type and name), components in first-seen order."""
    by_name = {r.name: r for r in records}
    order: list[str] = []
    members: dict[str, list[ResourceRecord]] = {}
    for record in records:
        if not record.custom:
            continue
        top = _top_component(record, by_name)
        if top not in members:
            order.append(top)
            members[top] = []
        members[top].append(record)
    components = sorted(order, key=lambda n: (n == "", by_name[n].type if n in by_name else "", n))
    return [(by_name.get(name), sorted(members[name], key=lambda r: (r.type, r.name))) for name in components]


def ordered(records: Sequence[ResourceRecord]) -> list[ResourceRecord]:
    """A stable order for JSON: components first, then their resources by type and name."""
    components = sorted((r for r in records if not r.custom), key=lambda r: (r.type, r.name))
    return components + [r for _, members in groups(records) for r in members]


def _lines(records: Iterable[ResourceRecord], indent: str) -> list[str]:
    records = list(records)
    width = max((len(r.type) for r in records), default=0)
    return [f"{indent}+ {r.type.ljust(width)}  {r.name}" for r in records]


def render_text(records: Sequence[ResourceRecord]) -> str:
    lines = ["Resources"]
    for component, members in groups(records):
        if component is None:
            lines.extend(_lines(members, "  "))
        else:
            lines.append(f"  + {component.type}  {component.name}")
            lines.extend(_lines(members, "      "))
    return "\n".join(lines)


def render_markdown(records: Sequence[ResourceRecord]) -> str:
    lines = [
        "<details><summary>Resources</summary>",
        "",
        "| | type | name | component |",
        "|---|---|---|---|",
    ]
    for component, members in groups(records):
        owner = component.name if component else ""
        lines.extend(f"| + | `{r.type}` | `{r.name}` | {owner} |" for r in members)
    lines += ["", "</details>"]
    return "\n".join(lines)
