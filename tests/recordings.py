"""The Pulumi program under mocks, run once per input in a test run and shared by every test asking for it.

A recording is a pure function of the stack, its config and the program (what `plan`'s recording cache
relies on too, inferplan/recording_cache.py); recording prod-eu in-process takes seconds and dozens of
tests ask for the same input. The key is the config as the JSON `plan` would send the program (key order
kept: the program sees it in that order), and what the program reads from its environment: the
organisation's policy config (named by $INFERPLAN_POLICY_CONFIG, with its content) and the price cache
$INFERPLAN_USE_PRICE_CACHE names. Each caller gets its own deep copy, so a test that edits what
it got cannot change what another test sees.

Not for a test that observes the run itself (a patched `pulumi.export`, say): call
`offline.recorder.record` for that.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, stack_config

_recordings: dict[tuple[str, ...], Any] = {}


def _environment() -> tuple[str, ...]:
    """The environment variables the program reads, each with the content of the file it names."""
    from inferplan.policy_config import ENV as POLICY_CONFIG_ENV
    from inferplan.preflight.prices_cache import USE_ENV

    parts: list[str] = []
    for name in (POLICY_CONFIG_ENV, USE_ENV):
        value = os.environ.get(name, "")
        try:
            content = Path(value).read_text() if value else ""
        except OSError:
            content = "<unreadable>"
        parts += [value, content]
    return tuple(parts)


def recording(stack: str, config: Mapping[str, Any] | None = None, program: Path | None = None) -> Any:
    """`offline.recorder.record(stack, config, program)` (the example stack's config and `__main__.py` by
    default), run the first time this input is asked for; a fresh deep copy every time."""
    from offline.recorder import record

    config = stack_config(stack) if config is None else config
    program = program or ROOT / "__main__.py"
    key = (stack, json.dumps(config, default=str), str(program.resolve()), *_environment())
    if key not in _recordings:
        _recordings[key] = record(stack, copy.deepcopy(dict(config)), program)
    return copy.deepcopy(_recordings[key])
