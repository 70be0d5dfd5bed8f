"""egress: where a workload's calls may go — the verdict the router config, graph and costs read."""

from __future__ import annotations

import pytest

from inferplan.egress import fallback_allowed
from tests.rules.conftest import plan_of


@pytest.mark.parametrize(
    ("sensitivity", "allowed"),
    [("public", True), ("internal", True), ("confidential", False), ("regulated", False)],
)
def test_frontier_target_only_for_public_and_internal(sensitivity: str, allowed: bool) -> None:
    platform = plan_of("dev").platform
    triage = platform.workloads[0].model_copy(update={"sensitivity": sensitivity})
    ok, reason = fallback_allowed(triage, "claude-haiku", platform)
    assert ok is allowed
    assert (sensitivity in reason) if not allowed else ("anthropic" in reason)


@pytest.mark.parametrize("sensitivity", ["public", "internal", "confidential", "regulated"])
def test_self_hosted_target_always_allowed(sensitivity: str) -> None:
    platform = plan_of("prod-eu").platform
    extraction = platform.workloads[2].model_copy(update={"sensitivity": sensitivity})
    assert fallback_allowed(extraction, "llama-70b", platform)[0] is True


def test_no_frontier_target_without_egress() -> None:
    platform = plan_of("dev", lambda p: p["network"].update(egress="none", availability_zones=2)).platform
    ok, reason = fallback_allowed(platform.workloads[0], "claude-haiku", platform)
    assert not ok and "egress is none" in reason


def test_an_unknown_target_is_refused() -> None:
    platform = plan_of("dev").platform
    assert fallback_allowed(platform.workloads[0], "nobody", platform)[0] is False


def test_the_plan_router_config_follows_the_verdicts() -> None:
    """The config's decisions are exactly the rule's verdicts (nothing re-decided downstream)."""
    plan = plan_of("prod-eu", lambda p: p["workloads"][2].update(fallback="claude-sonnet"))
    workloads = {w.name: w for w in plan.platform.workloads}
    for decision in plan.front_door.router.config.decisions:
        verdict = fallback_allowed(workloads[decision.workload], decision.target, plan.platform)
        assert (decision.allowed, decision.reason) == verdict
    assert any(not d.allowed for d in plan.front_door.router.config.decisions)
