"""gateway-auth: an authorizer and scopes on every route, throttling and access logs on the stage."""

from __future__ import annotations

import pytest

from inferplan.rules.gateway import gateway_auth
from tests.conftest import EXAMPLE_STACKS
from tests.rules.conftest import failures, rec

API = rec("aws:apigatewayv2/api:Api", "dev-api", protocolType="HTTP")
ROUTE = rec(
    "aws:apigatewayv2/route:Route",
    "dev-route-chat",
    routeKey="POST /ticket-triage/v1/chat/completions",
    authorizationType="JWT",
    authorizerId="dev-jwt-id",
    authorizationScopes=["inferplan/ticket-triage"],
)
STAGE = rec(
    "aws:apigatewayv2/stage:Stage",
    "dev-stage",
    name="$default",
    defaultRouteSettings={"throttlingRateLimit": 20.0, "throttlingBurstLimit": 40.0},
    accessLogSettings={
        "destinationArn": "arn:aws:logs:us-east-1:1:log-group:gw",
        "format": '{"requestId":"$context.requestId"}',
    },
)


def test_a_gateway_with_jwt_routes_throttling_and_access_logs_passes():
    found = gateway_auth([API, ROUTE, STAGE], "dev", expects_gateway=True)
    assert [(f.rule, f.status, f.subject) for f in found] == [("gateway-auth", "pass", "dev")]


SCOPES = {"authorizationScopes": ["inferplan/ticket-triage"]}


@pytest.mark.parametrize(
    "inputs",
    [
        {"routeKey": "POST /v1/chat/completions", "authorizationType": "NONE", "authorizerId": "x", **SCOPES},
        {"routeKey": "POST /v1/chat/completions", "authorizationType": "JWT", **SCOPES},
        {"routeKey": "POST /v1/chat/completions", **SCOPES},
    ],
)
def test_a_route_without_an_authorizer_fails(inputs):
    route = rec("aws:apigatewayv2/route:Route", "dev-route-open", **inputs)
    bad = failures(gateway_auth([API, ROUTE, route, STAGE], "dev", True))
    assert [(f.rule, f.subject) for f in bad] == [("gateway-auth", "dev-route-open")]


@pytest.mark.parametrize("scopes", [None, []])
def test_a_route_without_scopes_fails_because_any_token_could_call_it(scopes):
    inputs = {
        "routeKey": "POST /x/v1/chat/completions",
        "authorizationType": "JWT",
        "authorizerId": "dev-jwt-id",
    }
    route = rec("aws:apigatewayv2/route:Route", "dev-route-any", **inputs, authorizationScopes=scopes)
    bad = failures(gateway_auth([API, ROUTE, route, STAGE], "dev", True))
    assert [(f.rule, f.subject) for f in bad] == [("gateway-auth", "dev-route-any")]
    assert "authorizationScopes" in bad[0].message


def test_a_stage_without_throttling_or_access_logs_fails():
    stage = rec("aws:apigatewayv2/stage:Stage", "dev-stage", name="$default")
    bad = failures(gateway_auth([API, ROUTE, stage], "dev", True))
    assert [(f.rule, f.subject) for f in bad] == [("gateway-auth", "dev-stage")]
    assert "throttlingRateLimit" in bad[0].message and "accessLogSettings" in bad[0].message


def test_an_api_without_a_stage_fails():
    bad = failures(gateway_auth([API, ROUTE], "dev", True))
    assert [(f.rule, f.subject) for f in bad] == [("gateway-auth", "dev-api")]


def test_quick_create_target_fails():
    api = rec("aws:apigatewayv2/api:Api", "dev-api", protocolType="HTTP", target="arn:aws:lambda:x")
    bad = failures(gateway_auth([api, ROUTE, STAGE], "dev", True))
    assert [(f.rule, f.subject) for f in bad] == [("gateway-auth", "dev-api")]


def test_no_gateway_is_only_a_pass_when_none_is_expected():
    assert [f.status for f in gateway_auth([], "dev", expects_gateway=False)] == ["pass"]
    assert [f.status for f in gateway_auth([], "dev", expects_gateway=True)] == ["warn"]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_stacks_have_no_gateway_failure(stack, recorded):
    assert failures(gateway_auth(recorded[stack], stack, True)) == []
