"""`schema`: a JSON Schema of the whole stack file that editors (and jsonschema) validate with."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from inferplan.commands.schema import MODELINE, SCHEMA_FILE, render, stack_schema
from tests.cli.conftest import inferplan
from tests.conftest import EXAMPLE_STACKS, ROOT


def document(stack: str) -> dict[str, Any]:
    """The stack file as an editor sees it (YAML 1.2: dates stay strings, as in Pulumi's JSON config)."""
    return json.loads(
        json.dumps(yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()), default=str)
    )


def errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(stack_schema())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_example_stacks_are_valid(stack):
    assert errors(document(stack)) == []


def _platform(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["config"]["inferplan:platform"]


BROKEN = {
    "missing required region": lambda d: _platform(d).pop("region"),
    "unknown environment": lambda d: _platform(d).update(environment="production"),
    "volume beyond its bound": lambda d: _platform(d)["workloads"][0].update(calls_per_day=1e300),
    "misspelt key": lambda d: _platform(d)["pools"][0].update(warmpool=1),
    "nodes as text": lambda d: _platform(d)["pools"][0].update(max_nodes="three"),
    "no platform at all": lambda d: d["config"].pop("inferplan:platform"),
}


@pytest.mark.parametrize("edit", BROKEN.values(), ids=BROKEN.keys())
def test_broken_stacks_are_rejected(edit):
    doc = copy.deepcopy(document("prod-eu"))
    edit(doc)
    assert errors(doc), "the schema accepted a broken stack"


def test_bounds_enums_and_descriptions_come_from_the_models():
    defs = stack_schema()["$defs"]
    calls = defs["Workload"]["properties"]["calls_per_day"]
    assert calls["maximum"] == 1e9 and calls["minimum"] == 0 and calls["description"]
    assert set(defs["Platform"]["properties"]["environment"]["enum"]) == {"dev", "staging", "prod"}
    assert {"region", "environment", "residency", "budget", "gateway"} <= set(defs["Platform"]["required"])
    assert defs["Pool"]["additionalProperties"] is False
    undescribed = [
        f"{model}.{name}"
        for model in (
            *("Platform", "Network", "Budget", "Pool", "Model", "Frontier", "Workload", "Gateway"),
            *(
                "Quality",
                "CurrentUsage",
                "TokenPercentiles",
                "Measured",
                "SizingSettings",
                "CatalogOverrides",
            ),
        )
        for name, field in defs[model]["properties"].items()
        if not field.get("description")
    ]
    assert undescribed == []


def test_the_checked_in_schema_is_current_and_the_stacks_name_it():
    assert (ROOT / SCHEMA_FILE).read_text() == render(), (
        "regenerate: python -m inferplan schema --out schema/..."
    )
    for stack in EXAMPLE_STACKS:
        assert (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text().splitlines()[0] == MODELINE
    assert (ROOT / "stacks" / MODELINE.split("=", 1)[1]).resolve() == (ROOT / SCHEMA_FILE).resolve()


def test_the_command_prints_it():
    done = inferplan("schema", check=True)
    assert json.loads(done.stdout) == stack_schema()


def readme_rows() -> list[tuple[list[str], bool]]:
    """(fields, marked required) per row of the README's spec table; `a.b` / `.c` names a.b and a.c."""
    rows = []
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = re.split(r"(?<!\\)\|", line)
        if len(cells) < 4 or not cells[1].strip().startswith("`"):
            continue
        names = re.findall(r"`([^`]+)`", cells[1])
        first = names[0]
        fields = [first] + [first.rsplit(".", 1)[0] + n for n in names[1:] if n.startswith(".")]
        rows.append((fields, "**required**" in cells[2]))
    return rows


SECTIONS = {
    "Platform": "",
    "Residency": "residency.",
    "Budget": "budget.",
    "Jwt": "gateway.jwt.",
    "RateLimit": "gateway.rate_limit.",
    "Pool": "pools[].",
    "Model": "models[].",
    "Frontier": "frontier[].",
    "Workload": "workloads[].",
}


def test_the_readme_spec_table_marks_exactly_the_required_fields():
    defs = stack_schema()["$defs"]
    required = {
        prefix + name for model, prefix in SECTIONS.items() for name in defs[model].get("required", [])
    }
    sections = {"residency", "budget", "gateway", "gateway.jwt", "gateway.rate_limit"}
    rows = readme_rows()
    assert rows, "no spec table in the README"
    for fields, marked in rows:
        assert marked == any(f in required for f in fields), (fields, marked)
    listed = {f for fields, _ in rows for f in fields}
    assert required - sections <= listed, sorted(required - sections - listed)
