"""Shared test helpers: example stacks as mutable config, and the Pulumi program run under mocks in-process."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

# LiteLLM must never fetch its price map from the internet, whichever test imports it first.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_STACKS = ("dev", "prod-eu", "sovereign", "hybrid")


def stack_config(stack: str) -> dict[str, Any]:
    """The `config:` mapping of an example stack (a fresh copy the test may edit)."""
    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(document["config"])


def write_stack(root: Path, stack: str, config: dict[str, Any]) -> Path:
    """Write a stack file under `root/stacks/` (for CLI and loader tests on edited stacks)."""
    (root / "stacks").mkdir(parents=True, exist_ok=True)
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


@pytest.fixture(autouse=True)
def no_local_price_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the price cache of the checkout (`preflight --refresh-prices` writes one)."""
    from inferplan.preflight.prices_cache import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("cache") / "prices.json"))


@pytest.fixture(scope="session")
def shared_recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One recording cache for the whole run, shared by pytest-xdist's workers (entries are written
    atomically): `plan` of the same input runs the program once."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # each worker's basetemp sits in the run's own
    folder = base / "recordings"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def no_user_recording_cache(shared_recordings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's recording cache (~/.cache/inferplan); `plan` processes inherit it."""
    from inferplan.recording_cache import CACHE_DIR_ENV

    monkeypatch.setenv(CACHE_DIR_ENV, str(shared_recordings))


@pytest.fixture
def record() -> Callable[..., Any]:
    """`__main__.py` under Pulumi mocks for a stack name and config mapping (run once per input in a test
    run, a deep copy for each caller: tests/recordings.py)."""
    from tests.recordings import recording

    def _record(stack: str, config: dict[str, Any] | None = None) -> Any:
        return recording(stack, config)

    return _record
