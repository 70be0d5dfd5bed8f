"""Helpers for the self-hosted components' tests: example stacks recorded once, edited ones on demand."""

from __future__ import annotations

import asyncio
import base64
import functools
import shlex
from collections.abc import Callable, Iterable
from typing import Any

import yaml

from inferplan.plan import Plan
from inferplan.planner import build_plan
from inferplan.resources import ResourceRecord
from inferplan.spec import Platform
from tests.conftest import stack_config
from tests.recordings import recording

Edit = Callable[[dict[str, Any]], None]


def record(stack: str, edit: Edit | None = None) -> tuple[ResourceRecord, ...]:
    """The program under mocks for an example stack, `edit` applied to its platform mapping first (run once
    per input in a test run: tests/recordings.py)."""
    config = stack_config(stack)
    if edit is not None:
        edit(config["inferplan:platform"])
    recorded = recording(stack, config)
    assert not recorded.failed, recorded.errors
    return tuple(recorded.resources)


@functools.cache
def recorded(stack: str) -> tuple[ResourceRecord, ...]:
    """The example stack's resources (recorded once per test run; do not mutate)."""
    return record(stack)


def record_components(
    build: Callable[[], None], region: str = "us-east-1", mocks: type[Any] | None = None
) -> tuple[ResourceRecord, ...]:
    """Run `build` (which constructs components directly) under the offline mocks (or a subclass of
    them that answers some invokes differently); what it registered."""
    import pulumi

    from offline.recorder import Recording, _Mocks, _Monitor

    recording = Recording()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = (mocks or _Mocks)(region, recording)
    pulumi.runtime.set_mocks(
        mocks, project="inferplan", stack="t", preview=True, monitor=_Monitor(mocks, recording)
    )
    try:
        pulumi.runtime.test(build)()
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return tuple(recording.resources)


def plan_of(stack: str, edit: Edit | None = None) -> Plan:
    config = stack_config(stack)
    if edit is not None:
        edit(config["inferplan:platform"])
    return build_plan(stack, Platform.model_validate(config["inferplan:platform"]))


def of_type(records: Iterable[ResourceRecord], token: str) -> list[ResourceRecord]:
    return [r for r in records if r.type == token]


def tagged(records: Iterable[ResourceRecord], token: str, key: str, value: str) -> ResourceRecord:
    """The one resource of `token` whose tag `key` is `value` (how the cost engine joins them)."""
    [found] = [r for r in records if r.type == token and r.tag(key) == value]
    return found


def named(records: Iterable[ResourceRecord], name: str) -> ResourceRecord:
    [found] = [r for r in records if r.name == name]
    return found


def user_data_of(template: ResourceRecord) -> str:
    return base64.b64decode(template.inputs["userData"]).decode()


def cloud_config_of(template: ResourceRecord) -> dict[str, Any]:
    text = user_data_of(template)
    assert text.startswith("#cloud-config\n")
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    return document


def written(document: dict[str, Any], path: str) -> str:
    [content] = [f["content"] for f in document["write_files"] if f["path"] == path]
    return str(content)


def vllm_command(document: dict[str, Any]) -> list[str]:
    """The `docker run … vllm serve …` argv of the node's run script."""
    script = written(document, "/opt/inferplan/bin/run-vllm.sh")
    [line] = [line for line in script.splitlines() if line.startswith("exec ")]
    return shlex.split(line)[1:]


def contains_run(haystack: list[str], needle: tuple[str, ...]) -> bool:
    """Whether `needle` occurs in `haystack` as one contiguous run (the planned args, in order)."""
    n = len(needle)
    return any(tuple(haystack[i : i + n]) == needle for i in range(len(haystack) - n + 1))
