"""Where a workload's calls may go: the residency/egress verdict the router config, the data-flow graph,
the cost engine and the report all read (written here once).

A self-hosted model keeps data in the VPC: always allowed. A frontier API is allowed only for
`public`/`internal` data and only when the VPC has egress; confidential and regulated data never leave
(residency: only the allowed regions may process it, and a frontier API is not ours). `residency-dataflow`
turns a refused route into a failure and a refused fallback into a warning; the router config leaves
refused targets out, so they are not even callable.
"""

from __future__ import annotations

from inferplan.spec import Platform, Workload

Verdict = tuple[bool, str]  # (allowed, why)


def fallback_allowed(workload: Workload, target: str, platform: Platform) -> Verdict:
    """May this workload's calls reach `target` (as fallback, or as route)? `(allowed, why)`."""
    if platform.model(target) is not None:
        return True, f"'{target}' is self-hosted: the data stays in the VPC"
    frontier = platform.frontier_entry(target)
    if frontier is None:
        return False, f"no model or frontier entry named '{target}'"
    if workload.sensitivity in ("confidential", "regulated"):
        return False, (
            f"{workload.sensitivity} data never goes to a frontier API "
            f"('{target}' is {frontier.provider}, processing in {', '.join(frontier.processing_regions)})"
        )
    if platform.network.egress == "none":
        return False, f"network.egress is none: '{target}' ({frontier.provider}) is unreachable from the VPC"
    return (
        True,
        f"{workload.sensitivity} data may go to {frontier.provider} ({', '.join(frontier.processing_regions)})",
    )
