"""What a change to a stack does, from two Plan JSON v1 documents: the pull-request review.

Pure: `diff_plans(base, head)` reads two dicts (as loaded from `plan --out` files) and returns a typed
`PlanDiff` — resources added, removed and changed (by type and name, with the changed input keys as
dotted paths), the cost delta per line and in total, the policy verdicts that changed, route changes,
and what lies downstream of each change in the dependency graph. A section whose engine did not run
(no `costs` or `policy` key) yields nothing: absent, never faked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from inferplan.dependencies import ResourceKey, downstream, is_component, key_of, resource_graph
from inferplan.plan import SCHEMA
from inferplan.topology import Topology, topology_from_json

Action = Literal["create", "delete", "update"]
PolicyKind = Literal["new-failure", "fixed", "changed"]
CENT = 0.005  # money compares to the cent: Plan JSON rounds to cents


class PlanJsonError(ValueError):
    """The document is not Plan JSON v1 (the message says what is wrong, in one line)."""


def check_plan_json(doc: Any) -> Mapping[str, Any]:
    """`doc` itself when it is Plan JSON v1, else PlanJsonError."""
    if not isinstance(doc, Mapping):
        raise PlanJsonError(f"not Plan JSON v1: expected a JSON object, found {type(doc).__name__}")
    if doc.get("schema") != SCHEMA:
        raise PlanJsonError(f"not Plan JSON v1: schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    resources = doc.get("resources")
    if not isinstance(resources, list):
        raise PlanJsonError("not Plan JSON v1: `resources` is missing or not a list")
    for index, resource in enumerate(resources):
        if not (
            isinstance(resource, Mapping)
            and isinstance(resource.get("type"), str)
            and isinstance(resource.get("name"), str)
        ):
            raise PlanJsonError(f"not Plan JSON v1: resources[{index}] has no string `type` and `name`")
        depends = resource.get("depends_on", [])
        if not (isinstance(depends, list) and all(isinstance(d, str) for d in depends)):
            raise PlanJsonError(f"not Plan JSON v1: resources[{index}].depends_on is not a list of names")
        if not isinstance(resource.get("parent", ""), str | None):
            raise PlanJsonError(f"not Plan JSON v1: resources[{index}].parent is not a name")
        if not isinstance(resource.get("inputs", {}), Mapping):
            raise PlanJsonError(f"not Plan JSON v1: resources[{index}].inputs is not an object")
    for key in ("routes", "policy"):
        if key in doc and not isinstance(doc[key], list):
            raise PlanJsonError(f"not Plan JSON v1: `{key}` is not a list")
    if "costs" in doc and not isinstance(doc["costs"], Mapping):
        raise PlanJsonError("not Plan JSON v1: `costs` is not an object")
    return doc


def empty_plan(stack: str, region: str = "") -> dict[str, Any]:
    """The base of a stack that does not exist yet: everything in the head is added."""
    return {"schema": SCHEMA, "stack": stack, "region": region, "resources": [], "routes": []}


def _is_empty(doc: Mapping[str, Any]) -> bool:
    return not doc.get("resources") and not doc.get("routes")


# ---------------------------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class InputChange:
    """One changed input, at a dotted path (`mixedInstancesPolicy.launchTemplate.overrides[0].instanceType`)."""

    path: str
    before: Any  # None when the key was absent (see `kind`)
    after: Any
    kind: Literal["added", "removed", "changed"]

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class ResourceChange:
    key: ResourceKey
    action: Action
    changes: tuple[InputChange, ...] = ()  # update only
    downstream: tuple[ResourceKey, ...] = ()  # resources this change reaches (not itself)
    component: str = ""  # the component it sits in, for grouping

    @property
    def changed_keys(self) -> tuple[str, ...]:
        return tuple(c.path for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.key.type, "name": self.key.name, "action": self.action}
        if self.component:
            out["component"] = self.component
        if self.changes:
            out["changed_keys"] = list(self.changed_keys)
            out["changes"] = [c.to_json() for c in self.changes]
        out["downstream"] = [{"type": k.type, "name": k.name} for k in self.downstream]
        return out


def _path(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def input_changes(before: Any, after: Any, prefix: str = "") -> list[InputChange]:
    """Leaf-level differences; lists of equal length compare element by element (`a[0].b`)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: list[InputChange] = []
        for key in sorted(set(before) | set(after), key=str):
            path = _path(prefix, str(key))
            if key not in before:
                out.append(InputChange(path, None, after[key], "added"))
            elif key not in after:
                out.append(InputChange(path, before[key], None, "removed"))
            else:
                out.extend(input_changes(before[key], after[key], path))
        return out
    if isinstance(before, str) and isinstance(after, str) and before != after:
        parsed = _json_document(before), _json_document(after)
        if parsed[0] is not None and parsed[1] is not None:  # e.g. ECS containerDefinitions
            return input_changes(parsed[0], parsed[1], prefix)
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            out.extend(input_changes(b, a, f"{prefix}[{index}]"))
        return out
    if before != after or isinstance(before, bool) != isinstance(after, bool):
        return [InputChange(prefix or "(inputs)", before, after, "changed")]
    return []


def _json_document(text: str) -> Any:
    """A string input that holds a JSON object or list, parsed; None for any other string."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict | list) else None


def _top_component(name: str, parents: Mapping[str, str | None], components: set[str]) -> str:
    top, seen = "", set()
    current = parents.get(name)
    while current and current not in seen:
        seen.add(current)
        if current in components:
            top = current
        current = parents.get(current)
    return top


def _resource_changes(base: Mapping[str, Any], head: Mapping[str, Any]) -> tuple[ResourceChange, ...]:
    base_res = [r for r in base.get("resources") or [] if isinstance(r, Mapping)]
    head_res = [r for r in head.get("resources") or [] if isinstance(r, Mapping)]
    before = {key_of(r): r for r in base_res if not is_component(r)}
    after = {key_of(r): r for r in head_res if not is_component(r)}
    base_graph, head_graph = resource_graph(base_res), resource_graph(head_res)

    def owners(doc_res: Sequence[Mapping[str, Any]]) -> Callable[[str], str]:
        parents = {str(r["name"]): r.get("parent") for r in doc_res}
        components = {str(r["name"]) for r in doc_res if is_component(r)}
        return lambda name: _top_component(name, parents, components)

    base_owner, head_owner = owners(base_res), owners(head_res)

    out: list[ResourceChange] = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            out.append(ResourceChange(key, "create", (), downstream(head_graph, key), head_owner(key.name)))
        elif key not in after:
            out.append(ResourceChange(key, "delete", (), downstream(base_graph, key), base_owner(key.name)))
        else:
            changes = input_changes(before[key].get("inputs") or {}, after[key].get("inputs") or {})
            if changes:
                out.append(
                    ResourceChange(
                        key, "update", tuple(changes), downstream(head_graph, key), head_owner(key.name)
                    )
                )
    return tuple(out)


# ------------------------------------------------------------------------------------------------- costs


@dataclass(frozen=True)
class CostLineDelta:
    """One cost line in base and head (None where the line does not exist on that side)."""

    item: str
    type: str  # the resource it prices ("" for usage lines: tokens, operations)
    name: str
    unit: str
    base_monthly: float | None
    head_monthly: float | None
    base_worst: float | None
    head_worst: float | None
    base_quantity: float | None = None
    head_quantity: float | None = None
    base_name: str = ""  # the resource's name in the base, when the line was matched across a rename

    @property
    def delta_monthly(self) -> float:
        return (self.head_monthly or 0.0) - (self.base_monthly or 0.0)

    @property
    def delta_worst(self) -> float:
        return (self.head_worst or 0.0) - (self.base_worst or 0.0)

    @property
    def status(self) -> Literal["added", "removed", "changed"]:
        if self.base_monthly is None:
            return "added"
        if self.head_monthly is None:
            return "removed"
        return "changed"

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "type": self.type,
            "name": self.name,
            "unit": self.unit,
            "status": self.status,
            "base_name": self.base_name or self.name,
            "base_quantity": self.base_quantity,
            "head_quantity": self.head_quantity,
            "base_monthly_usd": self.base_monthly,
            "head_monthly_usd": self.head_monthly,
            "delta_monthly_usd": round(self.delta_monthly, 2),
            "base_worst_case_usd": self.base_worst,
            "head_worst_case_usd": self.head_worst,
            "delta_worst_case_usd": round(self.delta_worst, 2),
        }


@dataclass(frozen=True)
class CostDelta:
    base_expected: float
    head_expected: float
    base_worst: float
    head_worst: float
    lines: tuple[CostLineDelta, ...]  # only the lines that moved, largest expected change first
    base_api_only: float | None = None
    head_api_only: float | None = None

    @property
    def delta_expected(self) -> float:
        return self.head_expected - self.base_expected

    @property
    def delta_worst(self) -> float:
        return self.head_worst - self.base_worst

    def to_json(self) -> dict[str, Any]:
        return {
            "base_monthly_expected_usd": self.base_expected,
            "head_monthly_expected_usd": self.head_expected,
            "delta_monthly_expected_usd": round(self.delta_expected, 2),
            "base_monthly_worst_case_usd": self.base_worst,
            "head_monthly_worst_case_usd": self.head_worst,
            "delta_monthly_worst_case_usd": round(self.delta_worst, 2),
            "base_api_only_monthly_usd": self.base_api_only,
            "head_api_only_monthly_usd": self.head_api_only,
            "lines": [line.to_json() for line in self.lines],
        }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass
class _LineSum:
    unit: str = ""
    monthly: float = 0.0
    worst: float = 0.0
    quantity: float | None = None


def _cost_lines(costs: Mapping[str, Any]) -> dict[tuple[str, str, str], _LineSum]:
    """Lines keyed by (resource type, resource name, item); repeated keys add up."""
    out: dict[tuple[str, str, str], _LineSum] = {}
    for line in costs.get("lines") or []:
        if not isinstance(line, Mapping):
            continue
        key = (str(line.get("type") or ""), str(line.get("name") or ""), str(line.get("item") or ""))
        entry = out.setdefault(key, _LineSum(unit=str(line.get("unit") or "")))
        monthly = _number(line.get("monthly_usd")) or 0.0
        entry.monthly += monthly
        worst = _number(line.get("worst_case_usd"))
        entry.worst += monthly if worst is None else worst
        quantity = _number(line.get("quantity"))
        if quantity is not None:
            entry.quantity = (entry.quantity or 0.0) + quantity
    return out


def _total(costs: Mapping[str, Any], key: str, lines: Mapping[Any, _LineSum], worst: bool) -> float:
    value = _number(costs.get(key))
    if value is not None:
        return value
    return sum(v.worst if worst else v.monthly for v in lines.values())


LineKey = tuple[str, str, str]


def _pair_lines(
    before: Mapping[LineKey, _LineSum], after: Mapping[LineKey, _LineSum]
) -> list[tuple[LineKey | None, LineKey | None]]:
    """Lines matched across the plans: by (type, name, item), then what is left by (type, item) in name
    order — the same charge on a renamed resource (e.g. a plan the gate stopped, priced from the spec
    with derived names) is one line that may have moved, not a removal plus an addition."""
    pairs: list[tuple[LineKey | None, LineKey | None]] = [(k, k) for k in sorted(set(before) & set(after))]
    gone: dict[tuple[str, str], list[LineKey]] = {}
    new: dict[tuple[str, str], list[LineKey]] = {}
    for key in sorted(set(before) - set(after)):
        gone.setdefault((key[0], key[2]), []).append(key)
    for key in sorted(set(after) - set(before)):
        new.setdefault((key[0], key[2]), []).append(key)
    for group in sorted(set(gone) | set(new)):
        olds, news = gone.get(group, []), new.get(group, [])
        matched = min(len(olds), len(news)) if group[0] else 0  # usage lines ("" type) keep their names
        pairs += list(zip(olds[:matched], news[:matched], strict=True))
        pairs += [(k, None) for k in olds[matched:]] + [(None, k) for k in news[matched:]]
    return pairs


def cost_delta(base: Mapping[str, Any], head: Mapping[str, Any]) -> CostDelta | None:
    """None unless both plans were priced (an empty base counts as priced at zero)."""
    head_costs = head.get("costs")
    base_costs = base.get("costs")
    if not isinstance(head_costs, Mapping):
        return None
    if not isinstance(base_costs, Mapping):
        if not _is_empty(base):
            return None
        base_costs = {}
    before, after = _cost_lines(base_costs), _cost_lines(head_costs)
    lines: list[CostLineDelta] = []
    for base_key, head_key in _pair_lines(before, after):
        b, a = before.get(base_key) if base_key else None, after.get(head_key) if head_key else None
        key = head_key or base_key
        assert key is not None
        line = CostLineDelta(
            item=key[2],
            type=key[0],
            name=key[1],
            base_name=base_key[1] if base_key and base_key != key else "",
            unit=(a or b or _LineSum()).unit,
            base_monthly=round(b.monthly, 2) if b else None,
            head_monthly=round(a.monthly, 2) if a else None,
            base_worst=round(b.worst, 2) if b else None,
            head_worst=round(a.worst, 2) if a else None,
            base_quantity=b.quantity if b else None,
            head_quantity=a.quantity if a else None,
        )
        if b is None or a is None or abs(line.delta_monthly) >= CENT or abs(line.delta_worst) >= CENT:
            lines.append(line)
    lines.sort(key=lambda ln: (-abs(ln.delta_monthly), -abs(ln.delta_worst), ln.type, ln.name, ln.item))
    return CostDelta(
        base_expected=round(_total(base_costs, "monthly_expected_usd", before, False), 2),
        head_expected=round(_total(head_costs, "monthly_expected_usd", after, False), 2),
        base_worst=round(_total(base_costs, "monthly_worst_case_usd", before, True), 2),
        head_worst=round(_total(head_costs, "monthly_worst_case_usd", after, True), 2),
        lines=tuple(lines),
        base_api_only=_number(base_costs.get("api_only_monthly_usd")),
        head_api_only=_number(head_costs.get("api_only_monthly_usd")),
    )


# ------------------------------------------------------------------------------------------------ policy


@dataclass(frozen=True)
class Verdict:
    rule: str
    subject: str
    severity: str  # mandatory | advisory
    status: str  # pass | warn | fail
    message: str
    waived: bool = False

    @property
    def failing(self) -> bool:
        return self.status == "fail" and not self.waived

    @property
    def blocking(self) -> bool:
        """A failing mandatory rule nobody waived: `diff` exits 1 so the PR check fails."""
        return self.failing and self.severity == "mandatory"

    @property
    def shown_status(self) -> str:
        return f"{self.status} (waived)" if self.waived else self.status

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "severity": self.severity,
            "status": self.status,
            "waived": self.waived,
            "message": self.message,
        }


@dataclass(frozen=True)
class PolicyChange:
    rule: str
    subject: str
    kind: PolicyKind
    before: Verdict | None
    after: Verdict | None

    @property
    def severity(self) -> str:
        return (self.after or self.before or _NO_VERDICT).severity

    @property
    def message(self) -> str:
        return (self.after or self.before or _NO_VERDICT).message

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "kind": self.kind,
            "severity": self.severity,
            "before": self.before.shown_status if self.before else None,
            "after": self.after.shown_status if self.after else None,
            "message": self.message,
        }


_NO_VERDICT = Verdict("", "", "", "", "")


@dataclass(frozen=True)
class PolicyDelta:
    changes: tuple[PolicyChange, ...]
    failing: tuple[Verdict, ...]  # every failing, unwaived verdict of the head (changed or not)

    @property
    def blocking(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.failing if v.blocking)

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [c.to_json() for c in self.changes],
            "failing": [v.to_json() for v in self.failing],
            "blocking": len(self.blocking),
        }


def verdicts(doc: Mapping[str, Any]) -> tuple[Verdict, ...] | None:
    """The plan's policy verdicts, or None when the policy engine did not run for it."""
    entries = doc.get("policy")
    if not isinstance(entries, list):
        return None
    return tuple(
        Verdict(
            rule=str(e.get("rule") or ""),
            subject=str(e.get("subject") or ""),
            severity=str(e.get("severity") or "mandatory"),
            status=str(e.get("status") or ""),
            message=str(e.get("message") or ""),
            waived=bool(e.get("waived", False)),
        )
        for e in entries
        if isinstance(e, Mapping)
    )


def policy_delta(base: Mapping[str, Any], head: Mapping[str, Any]) -> PolicyDelta | None:
    """Verdicts keyed by (rule, subject): new failures, fixes and other status changes."""
    after_list = verdicts(head)
    if after_list is None:
        return None
    failing = tuple(v for v in after_list if v.failing)
    before_list = verdicts(base)
    if before_list is None and not _is_empty(base):
        return PolicyDelta((), failing)  # the base predates the policy engine: no changes to tell
    before = {(v.rule, v.subject): v for v in before_list or ()}
    after = {(v.rule, v.subject): v for v in after_list}
    changes: list[PolicyChange] = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if b is not None and a is not None and (b.status, b.waived) == (a.status, a.waived):
            continue
        if b is None and a is not None and a.status == "pass":
            continue  # a new passing check is not news
        if a is None and b is not None and b.status == "pass":
            continue
        was_failing = b is not None and b.failing
        is_failing = a is not None and a.failing
        kind: PolicyKind = (
            "new-failure" if is_failing and not was_failing else "fixed" if was_failing else "changed"
        )
        changes.append(PolicyChange(key[0], key[1], kind, b, a))
    rank = {"new-failure": 0, "fixed": 1, "changed": 2}
    changes.sort(key=lambda c: (rank[c.kind], c.rule, c.subject))
    return PolicyDelta(tuple(changes), failing)


# ------------------------------------------------------------------------------------------------ routes


@dataclass(frozen=True)
class RouteChange:
    workload: str
    before: Mapping[str, Any] | None = field(default=None, hash=False)
    after: Mapping[str, Any] | None = field(default=None, hash=False)

    @property
    def changed_keys(self) -> tuple[str, ...]:
        if self.before is None or self.after is None:
            return ()
        return tuple(c.path for c in input_changes(self.before, self.after))

    @staticmethod
    def describe(route: Mapping[str, Any] | None) -> str:
        if route is None:
            return "—"
        text = f"{route.get('target')} ({route.get('target_kind')})"
        if route.get("fallback"):
            text += f", fallback {route.get('fallback')} ({route.get('fallback_kind')})"
        return f"[{route.get('sensitivity')}] {text}"

    def to_json(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "before": dict(self.before) if self.before is not None else None,
            "after": dict(self.after) if self.after is not None else None,
        }


def route_changes(base: Mapping[str, Any], head: Mapping[str, Any]) -> tuple[RouteChange, ...]:
    def by_workload(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        routes = doc.get("routes") or []
        return {str(r["workload"]): r for r in routes if isinstance(r, Mapping) and "workload" in r}

    before, after = by_workload(base), by_workload(head)
    return tuple(
        RouteChange(name, before.get(name), after.get(name))
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    )


# ------------------------------------------------------------------------------------------------ sizing


@dataclass(frozen=True)
class SizingChange:
    """A served model or GPU pool whose sizing moved (Plan JSON `models` / `pools`, keyed by name)."""

    kind: Literal["model", "pool"]
    name: str
    action: Action
    changes: tuple[InputChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "action": self.action,
            "changes": [c.to_json() for c in self.changes],
        }


def sizing_changes(base: Mapping[str, Any], head: Mapping[str, Any]) -> tuple[SizingChange, ...]:
    """Models and pools added, removed or re-sized; nothing when a plan has no sizing to compare."""
    out: list[SizingChange] = []
    for key, kind in (("models", "model"), ("pools", "pool")):
        after_list, before_list = head.get(key), base.get(key)
        if not isinstance(after_list, list) or not (isinstance(before_list, list) or _is_empty(base)):
            continue
        before = {str(e["name"]): e for e in before_list or [] if isinstance(e, Mapping) and "name" in e}
        after = {str(e["name"]): e for e in after_list if isinstance(e, Mapping) and "name" in e}
        for name in sorted(set(before) | set(after)):
            the_kind: Literal["model", "pool"] = "model" if kind == "model" else "pool"
            if name not in before:
                out.append(SizingChange(the_kind, name, "create"))
            elif name not in after:
                out.append(SizingChange(the_kind, name, "delete"))
            else:
                changes = input_changes(before[name], after[name])
                if changes:
                    out.append(SizingChange(the_kind, name, "update", tuple(changes)))
    return tuple(out)


# -------------------------------------------------------------------------------------------------- diff


@dataclass(frozen=True)
class PlanDiff:
    stack: str
    region: str
    resources: tuple[ResourceChange, ...]
    routes: tuple[RouteChange, ...]
    sizing: tuple[SizingChange, ...]
    costs: CostDelta | None  # None: a plan was not priced
    policy: PolicyDelta | None  # None: the head has no policy verdicts
    head_topology: Topology
    new_stack: bool = False  # the base was empty: the stack is added by this change
    # "head": the gate stopped the head plan, so it has no resources to compare (they are unknown, not
    # deleted); "base": the base was stopped, so every head resource shows as added.
    blocked: Literal["base", "head"] | None = None

    def _count(self, action: Action) -> int:
        return sum(1 for r in self.resources if r.action == action)

    @property
    def added(self) -> int:
        return self._count("create")

    @property
    def changed(self) -> int:
        return self._count("update")

    @property
    def removed(self) -> int:
        return self._count("delete")

    @property
    def blocking(self) -> tuple[Verdict, ...]:
        return self.policy.blocking if self.policy else ()

    @property
    def has_changes(self) -> bool:
        policy_changes = bool(self.policy and self.policy.changes)
        costs_moved = bool(self.costs and self.costs.lines)
        return bool(self.resources or self.routes or self.sizing or policy_changes or costs_moved)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "inferplan.diff/v1",
            "stack": self.stack,
            "region": self.region,
            "new_stack": self.new_stack,
            "blocked": self.blocked,
            "summary": {"create": self.added, "update": self.changed, "delete": self.removed},
            "resources": [r.to_json() for r in self.resources],
            "routes": [r.to_json() for r in self.routes],
            "sizing": [c.to_json() for c in self.sizing],
            "costs": self.costs.to_json() if self.costs else None,
            "policy": self.policy.to_json() if self.policy else None,
        }


def is_blocked(doc: Mapping[str, Any]) -> bool:
    """A plan the policy gate stopped: a blocking verdict, and so no resource registered at all."""
    custom = [r for r in doc.get("resources") or [] if isinstance(r, Mapping) and not is_component(r)]
    return not custom and any(v.blocking for v in verdicts(doc) or ())


def diff_plans(base: Mapping[str, Any], head: Mapping[str, Any]) -> PlanDiff:
    """Everything that changes from `base` to `head` (both Plan JSON v1; see `check_plan_json`)."""
    blocked: Literal["base", "head"] | None = (
        "head" if is_blocked(head) else "base" if is_blocked(base) else None
    )
    return PlanDiff(
        stack=str(head.get("stack") or base.get("stack") or ""),
        region=str(head.get("region") or ""),
        # A blocked head registered nothing: its resources are unknown, not deleted.
        resources=() if blocked == "head" else _resource_changes(base, head),
        routes=route_changes(base, head),
        sizing=sizing_changes(base, head),
        costs=cost_delta(base, head),
        policy=policy_delta(base, head),
        head_topology=topology_from_json(head),
        new_stack=_is_empty(base) and not _is_empty(head),
        blocked=blocked,
    )
