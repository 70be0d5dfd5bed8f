"""API Gateway (HTTP API) in front of the router, emulated from the resources the program registers.

It applies, to a request with a forged (unsigned) JWT, what API Gateway documents for HTTP APIs:
- a route matches on its exact route key `METHOD /path`, else 404;
- a JWT route (docs: "Control access to HTTP APIs with JWT authorizers") needs a token whose `iss` is
  the authorizer's issuer, one of whose `aud` is among its audiences and that has not expired, else
  401; when the route has authorization scopes, the token's `scope` (space-separated) or `scp` claim
  must hold at least one of them, else 403;
- the integration's request parameters ("Transform API requests for HTTP APIs") then rewrite the
  request: `overwrite:path`, `overwrite:header.<h>` (replacing whatever the client sent; a value
  `$context.authorizer.claims.<c>` is that claim), `remove:header.<h>`;
and forwards the result to the router. Signature checking (JWKS) is API Gateway's and not emulated:
the forged tokens test what the routes and integrations say, which is what the stack controls.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.router.proxy_process import RouterProcess


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    forwarded: bool  # whether the request reached the router


class GatewayEmulator:
    def __init__(self, recording: Any, router: RouterProcess) -> None:
        resources = recording.resources
        [authorizer] = [r for r in resources if r.type == "aws:apigatewayv2/authorizer:Authorizer"]
        self.issuer = authorizer.inputs["jwtConfiguration"]["issuer"]
        self.audiences = set(authorizer.inputs["jwtConfiguration"]["audiences"])
        integrations = {
            f"{r.name}-id": r.inputs
            for r in resources
            if r.type == "aws:apigatewayv2/integration:Integration"
        }
        self.routes = {
            r.inputs["routeKey"]: (r.inputs, integrations[r.inputs["target"].removeprefix("integrations/")])
            for r in resources
            if r.type == "aws:apigatewayv2/route:Route"
        }
        self.router = router

    def token(self, scopes: str | None = None, **claims: Any) -> dict[str, Any]:
        """A token as the identity provider would issue it (override any claim)."""
        base: dict[str, Any] = {
            "iss": self.issuer,
            "aud": sorted(self.audiences)[0],
            "sub": "client-42",
            "exp": time.time() + 300,
        }
        if scopes is not None:
            base["scope"] = scopes
        return {**base, **claims}

    def call(
        self,
        path: str,
        body: Any,
        token: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> Answer:
        found = self.routes.get(f"{method} {path}")
        if found is None:
            return Answer(404, {"message": "Not Found"}, forwarded=False)
        route, integration = found
        if route.get("authorizationType") == "JWT":
            if token is None:
                return Answer(401, {"message": "Unauthorized"}, forwarded=False)
            audiences = token.get("aud")
            audiences = {audiences} if isinstance(audiences, str) else set(audiences or ())
            if (
                token.get("iss") != self.issuer
                or not audiences & self.audiences
                or token["exp"] < time.time()
            ):
                return Answer(401, {"message": "Unauthorized"}, forwarded=False)
            required = set(route.get("authorizationScopes") or ())
            held = set(str(token.get("scope", "")).split()) | set(token.get("scp") or ())
            if required and not required & held:
                return Answer(403, {"message": "Forbidden"}, forwarded=False)
        outgoing = {k.lower(): v for k, v in (headers or {}).items()}
        outgoing["authorization"] = "Bearer <the client's JWT>"  # passed through; the router ignores it
        target = path
        for key, value in (integration.get("requestParameters") or {}).items():
            action, _, where = key.partition(":")
            if where == "path":
                target = value
                continue
            header = where.removeprefix("header.").lower()
            if action == "remove":
                outgoing.pop(header, None)
            elif action == "overwrite":
                claim = value.removeprefix("$context.authorizer.claims.")
                outgoing[header] = str(token.get(claim, "")) if token and claim != value else value
        status, answer = self.router.post(target, body, outgoing)
        return Answer(status, answer, forwarded=True)
