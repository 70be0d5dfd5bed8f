"""Helpers for rule tests: plans from example stacks (optionally edited) and their recorded resources."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from inferplan.plan import Plan
from inferplan.planner import build_plan
from inferplan.resources import ResourceRecord
from inferplan.spec import Platform
from tests.conftest import EXAMPLE_STACKS, stack_config


def plan_of(stack: str, edit: Callable[[dict[str, Any]], None] | None = None) -> Plan:
    """build_plan on an example stack; `edit` changes a copy of its `inferplan:platform` mapping first."""
    config = stack_config(stack)
    if edit is not None:
        edit(config["inferplan:platform"])
    return build_plan(stack, Platform.model_validate(config["inferplan:platform"]))


def only(findings: Any, rule: str) -> list[Any]:
    return [f for f in findings if f.rule == rule]


def failures(findings: Any, rule: str | None = None) -> list[Any]:
    return [f for f in findings if f.status == "fail" and (rule is None or f.rule == rule)]


def rec(type_: str, logical_name: str, **inputs: Any) -> ResourceRecord:
    return ResourceRecord(type=type_, name=logical_name, inputs=inputs)


@functools.cache
def recorded_stacks() -> dict[str, tuple[ResourceRecord, ...]]:
    """The resources each example stack registers under Pulumi mocks (recorded once per test run)."""
    from tests.recordings import recording

    out = {}
    for stack in EXAMPLE_STACKS:
        recorded = recording(stack)
        assert not recorded.failed, recorded.errors
        out[stack] = tuple(recorded.resources)
    return out


@pytest.fixture
def recorded() -> dict[str, tuple[ResourceRecord, ...]]:
    return recorded_stacks()
