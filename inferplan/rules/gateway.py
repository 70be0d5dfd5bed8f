"""`gateway-auth`: the API gateway authenticates and authorizes every route, throttles, and writes
access logs. `gateway-timeout` (advisory): no workload's SLO lets a call outlive the gateway's 30 s limit.

A route without authorization scopes admits any valid token of the issuer, for any workload: every
route must require scopes (each workload's `callers`, docs/front-door.md).

Judged on the resources themselves (what the program or the preview registers), so a route added by
hand around the planner is caught as well. An `authorizerId` a preview cannot know yet is the id of
an authorizer created in the same stack, which is what we want, so it counts as set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inferplan.plan import GATEWAY_TIMEOUT_MS, Plan
from inferplan.resources import ResourceRecord
from inferplan.router_config import healthy_call_ms
from inferplan.rules.findings import Finding, finding, is_unknown

API = "aws:apigatewayv2/api:Api"
ROUTE = "aws:apigatewayv2/route:Route"
STAGE = "aws:apigatewayv2/stage:Stage"


def _set(value: Any) -> bool:
    return is_unknown(value) or (value is not None and value != "" and value != [] and value != {})


def _positive(value: Any) -> bool:
    if is_unknown(value):
        return True
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def route_problems(record: ResourceRecord) -> list[str]:
    problems = []
    kind = record.get("authorizationType")
    if not _set(kind) or (isinstance(kind, str) and kind.upper() == "NONE"):
        problems.append("authorizationType is NONE (set JWT)")
    if not _set(record.get("authorizerId")):
        problems.append("has no authorizerId (attach the stack's JWT authorizer)")
    if not _set(record.get("authorizationScopes")):
        problems.append("has no authorizationScopes, so any token of the issuer may call it (require scopes)")
    return problems


def stage_problems(record: ResourceRecord) -> list[str]:
    problems = []
    if not (
        _positive(record.get("defaultRouteSettings", "throttlingRateLimit"))
        and _positive(record.get("defaultRouteSettings", "throttlingBurstLimit"))
    ):
        problems.append(
            "defaultRouteSettings has no throttlingRateLimit/throttlingBurstLimit (set gateway.rate_limit)"
        )
    if not (
        _set(record.get("accessLogSettings", "destinationArn"))
        and _set(record.get("accessLogSettings", "format"))
    ):
        problems.append(
            "has no accessLogSettings (destinationArn and format: send access logs to a log group)"
        )
    return problems


def gateway_auth(
    records: Sequence[ResourceRecord], stack: str, expects_gateway: bool | None = None
) -> tuple[Finding, ...]:
    """An authorizer on every route, throttling and access logs on every stage, a stage on every API."""
    rule = "gateway-auth"
    apis = [r for r in records if r.type == API]
    routes = [r for r in records if r.type == ROUTE]
    stages = [r for r in records if r.type == STAGE]
    out = []
    for record in routes:
        if problems := route_problems(record):
            out.append(finding(rule, "fail", record.name, f"route '{record.name}': " + "; ".join(problems)))
    for record in stages:
        if problems := stage_problems(record):
            out.append(finding(rule, "fail", record.name, f"stage '{record.name}': " + "; ".join(problems)))
    for record in apis:
        if _set(record.get("target")):
            out.append(
                finding(
                    rule,
                    "fail",
                    record.name,
                    f"API '{record.name}' sets `target` (quick create), which adds a default route without an "
                    "authorizer; declare routes with the JWT authorizer instead",
                )
            )
    if apis and not stages:
        out.append(
            finding(
                rule,
                "fail",
                apis[0].name,
                f"API '{apis[0].name}' has no stage, so neither throttling nor access logs are configured; "
                "add a stage with defaultRouteSettings throttling and accessLogSettings",
            )
        )
    if out:
        return tuple(out)
    if not apis and not routes and not stages:
        if expects_gateway:
            return (
                finding(
                    rule,
                    "warn",
                    stack,
                    "the spec declares a gateway but no aws:apigatewayv2/api:Api was registered, so there is "
                    "nothing to check yet",
                ),
            )
        return (finding(rule, "pass", stack, "no gateway in this stack: nothing to check"),)
    return (
        finding(
            rule,
            "pass",
            stack,
            f"{len(routes)} route(s) with an authorizer and scopes; {len(stages)} stage(s) with throttling and "
            "access logs",
        ),
    )


def gateway_timeout(plan: Plan) -> list[Finding]:
    """Advisory: a call the SLO lets run past the gateway's 30 s limit is cut with a 504 mid-generation.

    The expected duration is `router_config.healthy_call_ms` (the SLO's ttft + tpot x output_tokens, the
    same arithmetic the router's timeouts use); a workload without a tpot cannot be judged and is named in
    one pass finding, so nobody reads silence as "fits".
    """
    limit_s = GATEWAY_TIMEOUT_MS / 1000
    findings: list[Finding] = []
    unjudged: list[str] = []
    for w in plan.platform.workloads:
        expected_ms = healthy_call_ms(w)
        if expected_ms is None or w.latency_slo_ms is None or w.latency_slo_ms.tpot is None:
            unjudged.append(w.name)
            continue
        seconds = expected_ms / 1000
        if seconds > limit_s:
            findings.append(
                finding(
                    "gateway-timeout",
                    "warn",
                    w.name,
                    f"calls may take {seconds:.0f} s (ttft + tpot x {w.output_tokens} output tokens) but the "
                    f"gateway ends every call at {limit_s:.0f} s: lower output_tokens or tpot, or call the "
                    "router from inside the VPC",
                )
            )
        else:
            findings.append(
                finding(
                    "gateway-timeout",
                    "pass",
                    w.name,
                    f"calls take up to {seconds:.0f} s of the {limit_s:.0f} s limit",
                )
            )
    if unjudged:
        findings.append(
            finding(
                "gateway-timeout",
                "pass",
                plan.stack,
                f"no tpot in the latency SLO of {', '.join(unjudged)}: calls longer than {limit_s:.0f} s "
                "will be cut by the gateway",
            )
        )
    return findings
