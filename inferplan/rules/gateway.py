"""`gateway-auth`: the API gateway authenticates every route, throttles, and writes access logs.

Judged on the resources themselves (what the program or the preview registers), so a route added by
hand around the planner is caught as well. An `authorizerId` a preview cannot know yet is the id of
an authorizer created in the same stack, which is what we want, so it counts as set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inferplan.resources import ResourceRecord
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
            f"{len(routes)} route(s) with an authorizer; {len(stages)} stage(s) with throttling and access logs",
        ),
    )
