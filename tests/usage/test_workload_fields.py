"""The workload fields import-usage writes: the spec accepts and bounds them, and sizing reads peak_to_average."""

from __future__ import annotations

from typing import Any

import pytest

from inferplan.sizing.replicas import demand
from inferplan.spec import Platform
from inferplan.stackfile import Positions, SpecErrors, validate_platform
from tests.conftest import stack_config


def _dev(extra_workload: dict[str, Any] | None = None) -> dict[str, Any]:
    config = stack_config("dev")
    if extra_workload is not None:
        config["inferplan:platform"]["workloads"].append(extra_workload)
    return config


def _batch(**fields: Any) -> dict[str, Any]:
    return {
        "name": "nightly-batch",
        "calls_per_day": 1440,
        "input_tokens": 600,
        "output_tokens": 80,
        "sensitivity": "internal",
        "route": "llama-8b",
        **fields,
    }


def test_sizing_uses_each_workloads_own_peak_to_average() -> None:
    # ticket-triage: 4000 calls a day at the stack's 3.0 -> 4000 / 1440 x 3 = 8.333 a minute at peak;
    # nightly-batch: 1440 a day at its own 1.5 -> 1.5 a minute. Together 9.833.
    config = _dev(_batch(peak_to_average=1.5))
    platform = Platform.model_validate(config["inferplan:platform"])
    assert demand(platform, "llama-8b").peak_calls_per_min == pytest.approx(9.8333, abs=1e-3)
    # Without its own factor the batch falls back to the stack's 3.0: 8.333 + 3.0.
    plain = Platform.model_validate(_dev(_batch())["inferplan:platform"])
    assert demand(plain, "llama-8b").peak_calls_per_min == pytest.approx(11.3333, abs=1e-3)


def test_imported_fields_validate() -> None:
    config = _dev(
        _batch(
            peak_to_average=4.2,
            current={"provider": "openai", "model": "gpt-4o-2024-08-06", "monthly_usd": 1234.5},
            token_percentiles={"input_p50": 500, "input_p95": 1800, "output_p50": 60, "output_p95": 240},
        )
    )
    platform = validate_platform(config["inferplan:platform"], "us-east-1", Positions("dev.yaml"))
    w = platform.workloads[-1]
    assert w.current is not None and w.current.monthly_usd == 1234.5
    assert w.token_percentiles is not None and w.token_percentiles.output_p95 == 240


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        ({"peak_to_average": 0.5}, "workloads[1].peak_to_average", "must be at least 1 (got 0.5)"),
        ({"peak_to_average": 30}, "workloads[1].peak_to_average", "must be at most 24 (got 30)"),
        ({"current": {"provider": "openai"}}, "workloads[1].current", "required key 'model' is missing"),
        (
            {"current": {"provider": "openai", "model": "m", "monthly_usd": -1}},
            "workloads[1].current.monthly_usd",
            "must be at least 0 (got -1)",
        ),
        (
            {"token_percentiles": {"input_p50": 1, "input_p95": 2, "output_p50": 3}},
            "workloads[1].token_percentiles",
            "output_p95",
        ),
        (
            {"current": {"provider": "openai", "model": "m", "spend": 3}},
            "workloads[1].current.spend",
            "unknown key",
        ),
    ],
)
def test_imported_fields_are_bounded(fields: dict[str, Any], path: str, message: str) -> None:
    config = _dev(_batch(**fields))
    with pytest.raises(SpecErrors) as caught:
        validate_platform(config["inferplan:platform"], "us-east-1", Positions("dev.yaml"))
    errors = [str(e) for e in caught.value.errors]
    assert any(
        f"{path}:" in e and message.replace(">= 0", "greater than or equal to 0") in e for e in errors
    ), errors
