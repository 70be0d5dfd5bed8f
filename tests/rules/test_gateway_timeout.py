"""gateway-timeout (advisory): a call the SLO lets run past the gateway's 30 s limit is flagged."""

from __future__ import annotations

from inferplan.planner import build_plan
from inferplan.rules import evaluate_plan
from inferplan.rules.gateway import gateway_timeout
from inferplan.stackfile import load_stack


def plan_with(**workload_changes):
    loaded = load_stack("dev")
    workload = loaded.platform.workloads[0].model_copy(update=workload_changes)
    platform = loaded.platform.model_copy(update={"workloads": (workload,)})
    return build_plan("dev", platform)


def test_a_call_within_thirty_seconds_passes():
    [found] = gateway_timeout(plan_with())  # 1.5 s + 80 x 80 ms = 7.9 s
    assert (found.rule, found.status, found.subject, found.severity) == (
        "gateway-timeout",
        "pass",
        "ticket-triage",
        "advisory",
    )


def test_a_call_the_slo_lets_run_past_thirty_seconds_warns_and_does_not_block():
    plan = plan_with(output_tokens=2000)  # 1.5 s + 2000 x 80 ms = 161.5 s
    [found] = gateway_timeout(plan)
    assert (found.status, found.subject) == ("warn", "ticket-triage")
    assert "162 s" in found.message and "30 s" in found.message
    assert not any(f.blocking for f in evaluate_plan(plan, None) if f.rule == "gateway-timeout")


def test_a_workload_without_a_tpot_is_named_not_silently_passed():
    [found] = gateway_timeout(plan_with(latency_slo_ms=None))
    assert found.subject == "dev" and "ticket-triage" in found.message and "will be cut" in found.message
