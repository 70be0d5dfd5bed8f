"""Mutants of the example stacks, and what the planner makes of one: a plan, a located error, or else.

Shared by the property-based test (tests/spec/test_fuzz.py, hypothesis drives the `random.Random`)
and the benchmark (benchmarks/fuzz_stacks.py, 10,000 seeded mutants). Everything runs in-process:
validate, build the plan, price it, judge the plan-level policy rules and render the reports — not
the Pulumi program under mocks, which reads the same validated spec.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
from dataclasses import dataclass
from typing import Any

import yaml

from inferplan.catalog import builtin_catalog
from inferplan.cost import estimate
from inferplan.cost.engine import breakeven_model
from inferplan.errors import SpecInputError, SpecInputErrors, UserError
from inferplan.planner import build_plan
from inferplan.report import PlanReport, render
from inferplan.rules import evaluate_plan
from inferplan.stackfile import SpecErrors, located, located_all, read_stack
from tests.conftest import EXAMPLE_STACKS, ROOT

FILE = "stacks/Pulumi.fuzz.yaml"
LOCATED = re.compile(r"^(stacks/Pulumi\.fuzz\.yaml:\d+:\d+|--set [^\n]*): ")
TEXTS = {stack: (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text() for stack in EXAMPLE_STACKS}
DOCS = {stack: yaml.safe_load(text) for stack, text in TEXTS.items()}

HOSTILE_STRINGS = (
    "",
    " ",
    "x" * 300,
    "ev\nil",
    "\x1b[31mred\x1b[0m",
    "\u202etxt",
    "zero\u200bwidth",
    "ünïcödé-名前",
    "1e300",
    "-0",
    "NaN",
    "~",
    "@",
    "null",
    "${aws:region}",
)
HOSTILE_NUMBERS = (0, -1, 1, 0.5, -0.0, 1e-300, 1e300, 10**20, 10**400, 2**63, math.pi, 1e9, 1e15 + 1, 7)
CATALOG_ROWS = tuple(
    (
        kind,
        [
            json.loads(row.model_dump_json(exclude={"source", "as_of"}))
            for row in getattr(builtin_catalog(), kind).values()
        ],
    )
    for kind in ("models", "gpus", "instances", "instance_prices")
)
TAGS = ("!!int", "!!float", "!!bool", "!!timestamp", "!!str", "!!null", "!!binary", "!!set", "!!python/none")


def _paths(
    value: Any, path: tuple[Any, ...] = (), above: frozenset[int] = frozenset()
) -> list[tuple[Any, ...]]:
    """Every path in a mutant (which may share values, or contain itself, after an alias edit)."""
    out = [path]
    if id(value) in above or len(path) > 12:
        return out
    inner = above | {id(value)}
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_paths(child, (*path, key), inner))
    elif isinstance(value, list):
        for index, child in enumerate(value[:50]):
            out.extend(_paths(child, (*path, index), inner))
    return out


def _get(root: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        root = root[part]
    return root


def _value(rng: random.Random) -> Any:
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(HOSTILE_NUMBERS) * rng.choice((1, -1))
    if kind == 1:
        return rng.choice(HOSTILE_STRINGS)
    if kind == 2:
        return [rng.choice(HOSTILE_NUMBERS) for _ in range(rng.choice((0, 1, 3, 2000)))]  # huge lists
    if kind == 3:
        return {rng.choice(HOSTILE_STRINGS) or "k": rng.choice(HOSTILE_NUMBERS)}
    if kind == 4:
        return rng.choice((None, True, False))
    if kind == 5:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 12)))
    if kind == 6:
        return rng.uniform(-1e6, 1e6)
    return rng.randrange(-5, 100_000)


def mutate(rng: random.Random) -> str:
    """The text of one mutant of an example stack: one to three edits, then maybe a text-level one."""
    stack = rng.choice(EXAMPLE_STACKS)
    doc = copy.deepcopy(DOCS[stack])
    platform = doc["config"]["inferplan:platform"]
    for _ in range(rng.randrange(1, 4)):
        paths = [p for p in _paths(platform) if p]
        path = rng.choice(paths)
        parent = _get(platform, path[:-1])
        op = rng.randrange(8)
        value = _get(platform, path)
        if op >= 6 and isinstance(value, int | float) and not isinstance(value, bool):  # a plausible tweak
            try:
                parent[path[-1]] = type(value)(value * rng.choice((0.5, 2, 3, 10)))
            except OverflowError:
                parent[path[-1]] = value
        elif op == 0:  # delete a key or an entry
            del parent[path[-1]]
        elif op == 1:  # swap in a value of another type, or an extreme one
            parent[path[-1]] = _value(rng)
        elif op == 2 and isinstance(parent, dict):  # an unknown key
            parent[rng.choice(HOSTILE_STRINGS) or "extra"] = _value(rng)
        elif op == 3 and isinstance(parent, list):  # duplicate an entry many times
            parent.extend([copy.deepcopy(parent[path[-1]])] * rng.choice((1, 50)))
        elif op == 4:  # share one value in two places: YAML writes an anchor and an alias
            target = rng.choice(paths)
            holder = _get(platform, target[:-1])
            holder[target[-1]] = _get(platform, path)
        else:  # drop a whole section
            platform.pop(rng.choice(list(platform)), None)
    if rng.random() < 0.15:  # a catalog override row (a negotiated price, a fine-tuned model) gone wrong
        kind, rows = rng.choice(CATALOG_ROWS)
        row = dict(rng.choice(rows))
        field = rng.choice(
            [k for k, v in row.items() if isinstance(v, int | float) and not isinstance(v, bool)]
        )
        row[field] = rng.choice((*HOSTILE_NUMBERS, row[field] * 1000, row[field] / 1000))
        platform.setdefault("catalog", {}).setdefault(kind, []).append(row)
    try:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=rng.random() < 0.5)
    except (yaml.YAMLError, RecursionError, ValueError):
        text = TEXTS[stack]
    lines = text.splitlines()
    edit = rng.randrange(8)
    if edit == 0 and lines:  # an explicit tag on some scalar
        index = rng.randrange(len(lines))
        lines[index] = re.sub(
            r": (\S)", lambda m: f": {rng.choice(TAGS)} {m.group(1)}", lines[index], count=1
        )
    elif edit == 1 and lines:  # a random line lost
        del lines[rng.randrange(len(lines))]
    elif edit == 2 and lines:  # deep nesting
        index = rng.randrange(len(lines))
        depth = rng.choice((10, 70, 5000))
        lines[index] = re.sub(r": (\S.*)$", ": " + "[" * depth + "1" + "]" * depth, lines[index], count=1)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Outcome:
    kind: str  # "plan" | "located" | "other"
    detail: str = ""


def _check_error_lines(lines: list[str]) -> Outcome:
    for line in lines:
        if not LOCATED.match(line) or "\n" in line or "\x1b" in line or "\u202e" in line:
            return Outcome("other", f"unlocated or unsafe error line: {line!r}")
    return Outcome("located", lines[0])


def outcome(text: str) -> Outcome:
    """What the planner makes of one stack text: every outcome must be a plan or a located error."""
    try:
        loaded = read_stack(text, FILE, "fuzz")
    except SpecErrors as exc:
        return _check_error_lines([str(e) for e in exc.errors])
    except Exception as exc:  # anything else is what the fuzzer looks for
        return Outcome("other", f"{type(exc).__name__} while reading: {exc}"[:300])
    try:
        plan = build_plan("fuzz", loaded.platform)
        costs = estimate(plan)
        findings = evaluate_plan(plan, costs)
        report = PlanReport(plan=plan, resources=(), findings=findings, costs=costs)
        breakeven_model(plan)  # the break-even curve divides by each pool's capacity
        document = json.loads(render(report, "json"))
        json.dumps(document, allow_nan=False)  # no Infinity or NaN in Plan JSON
        for fmt in ("text", "markdown"):
            shown = render(report, fmt)
            if "inf" in re.findall(r"\b(?:inf|nan)\b", shown.lower()) or "nan" in re.findall(
                r"\b(?:inf|nan)\b", shown.lower()
            ):
                return Outcome("other", f"inf or nan in the {fmt} report")
    except SpecInputError as exc:
        return _check_error_lines([str(located(exc, "fuzz", positions=loaded.positions))])
    except SpecInputErrors as exc:  # several at once (e.g. every pool without a price)
        return _check_error_lines(
            [str(e) for e in located_all(exc, "fuzz", positions=loaded.positions).errors]
        )
    except UserError as exc:
        return Outcome("other", f"unlocated UserError: {exc}"[:300])
    except Exception as exc:
        return Outcome("other", f"{type(exc).__name__} while planning: {exc}"[:300])
    return Outcome("plan")
