"""The one public door: an API Gateway HTTP API that authenticates, authorizes, throttles and logs.

    client --HTTPS + JWT--> POST /<workload>/v1/chat/completions (scopes of that workload)
        --integration of that workload (VPC link)--> internal ALB :ROUTER_LISTENER_PORT /v1/chat/completions
           with X-Inferplan-Workload: <workload> (overwritten, whatever the client sent)

Every route is one workload's (`inferplan.front_door.GatewayPlan.routes`): its JWT authorizer checks
issuer and audience, and the route requires one of the workload's `callers` scopes, so a token without
it gets 403 before anything reaches the VPC. Its integration overwrites the path and the workload
header the router's admission check compares with the body's `model`, so a token for one workload
cannot name another, nor a fallback group. There is no other route and no quick-create `target`.
Throttling is the stage default from `gateway.rate_limit`; access logs go as JSON to an encrypted log
group.

An HTTP API waits at most 30 s for its integration and buffers the response (no streaming), so a
workload whose calls take longer must be called from inside the VPC or through another front door.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.logs import stack_log_group
from inferplan.front_door import GatewayPlan, GatewayRoute
from inferplan.plan import ROUTER_LISTENER_PORT

ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "time": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "subject": "$context.authorizer.claims.sub",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "error": "$context.error.message",
}


@dataclass
class InferenceGatewayArgs:
    gateway: GatewayPlan
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # the private subnets the VPC link lands in
    key_arn: pulumi.Input[str]  # the stack key (components/encryption.py)
    alb_security_group_id: pulumi.Input[str]  # components/load_balancer.py
    router_listener_arn: pulumi.Input[str]


class InferenceGateway(pulumi.ComponentResource):
    api: aws.apigatewayv2.Api
    stage: aws.apigatewayv2.Stage
    authorizer: aws.apigatewayv2.Authorizer
    routes: list[aws.apigatewayv2.Route]
    url: pulumi.Output[str]  # https://<custom domain> or the API's execute-api endpoint
    domain_target: pulumi.Output[str] | None  # where the custom domain's DNS record points

    def __init__(
        self, name: str, args: InferenceGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("inferplan:components:InferenceGateway", name, None, opts)
        self.plan = plan = args.gateway
        self.args = args
        self.tags = {**dict(plan.tags), "inferplan:component": "gateway"}
        log_group = stack_log_group(
            plan.name("gateway", "logs"),
            plan.stack,
            "gateway",
            args.key_arn,
            self._tagged("gateway", "logs"),
            self,
        )
        link = self._vpc_link()
        self.api, self.authorizer = self._api()
        self.routes = [self._route(route, link) for route in plan.routes]
        self.stage = self._stage(log_group)
        self.url, self.domain_target = self._domain()
        self.register_outputs({"url": self.url, "api_id": self.api.id, "stage": self.stage.name})

    def endpoint(self, path: str) -> pulumi.Output[str]:
        """The public URL of `path` (e.g. `/lead-scoring/v1/chat/completions`)."""
        return self.url.apply(lambda base: base.rstrip("/") + path)

    def _child(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on))

    def _tagged(self, *parts: str) -> dict[str, str]:
        return {**self.tags, "Name": self.plan.name(*parts)}

    # --- into the VPC: the link's ENIs may open connections to the ALB's router listener only ---------

    def _vpc_link(self) -> aws.apigatewayv2.VpcLink:
        plan, args = self.plan, self.args
        group = aws.ec2.SecurityGroup(
            plan.name("gateway", "vpc-link-sg"),
            name=plan.name("gateway-vpc-link"),
            vpc_id=args.vpc_id,
            description="inferplan API gateway VPC link: to the internal ALB's router listener only",
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=ROUTER_LISTENER_PORT,
                    to_port=ROUTER_LISTENER_PORT,
                    security_groups=[args.alb_security_group_id],
                    description="the ALB's router listener",
                )
            ],
            tags=self._tagged("gateway-vpc-link"),
            opts=self._child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            plan.name("alb-from-gateway"),
            security_group_id=args.alb_security_group_id,
            referenced_security_group_id=group.id,
            ip_protocol="tcp",
            from_port=ROUTER_LISTENER_PORT,
            to_port=ROUTER_LISTENER_PORT,
            description="API gateway VPC link to the router listener",
            tags=self._tagged("alb-from-gateway"),
            opts=self._child(),
        )
        return aws.apigatewayv2.VpcLink(
            plan.name("gateway", "vpc-link"),
            name=plan.name("gateway"),
            security_group_ids=[group.id],
            subnet_ids=list(args.subnet_ids),
            tags=self._tagged("gateway"),
            opts=self._child(),
        )

    # --- the API, its authorizer, one route and integration per workload -----------------------------

    def _api(self) -> tuple[aws.apigatewayv2.Api, aws.apigatewayv2.Authorizer]:
        plan = self.plan
        api = aws.apigatewayv2.Api(
            plan.name("api"),
            name=plan.name("gateway"),
            protocol_type="HTTP",
            description=f"inferplan {plan.stack}: OpenAI-compatible inference, one route per workload",
            # With a custom domain, clients use it (and its TLS policy); the default endpoint is off.
            disable_execute_api_endpoint=plan.domain_name is not None,
            tags=self._tagged("gateway"),
            opts=self._child(),
        )
        authorizer = aws.apigatewayv2.Authorizer(
            plan.name("gateway", "jwt"),
            api_id=api.id,
            name=plan.name("jwt"),
            authorizer_type="JWT",
            identity_sources=["$request.header.Authorization"],
            jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
                issuer=plan.issuer, audiences=list(plan.audiences)
            ),
            opts=self._child(),
        )
        return api, authorizer

    def _route(self, route: GatewayRoute, link: aws.apigatewayv2.VpcLink) -> aws.apigatewayv2.Route:
        plan = self.plan
        integration = aws.apigatewayv2.Integration(
            plan.name("integration", route.slug),
            api_id=self.api.id,
            description=f"workload {route.workload}: the router listener of the internal ALB, over the VPC link",
            integration_type="HTTP_PROXY",
            integration_method="POST",
            integration_uri=self.args.router_listener_arn,
            connection_type="VPC_LINK",
            connection_id=link.id,
            payload_format_version="1.0",  # the only one HTTP_PROXY takes
            timeout_milliseconds=plan.integration_timeout_ms,
            request_parameters=dict(route.request_parameters),
            opts=self._child(),
        )
        return aws.apigatewayv2.Route(
            plan.name("route", route_slug(route.route_key)),
            api_id=self.api.id,
            route_key=route.route_key,
            authorization_type="JWT",
            authorizer_id=self.authorizer.id,
            authorization_scopes=list(route.scopes),
            target=integration.id.apply(lambda i: f"integrations/{i}"),
            opts=self._child(),
        )

    def _stage(self, log_group: aws.cloudwatch.LogGroup) -> aws.apigatewayv2.Stage:
        plan = self.plan
        return aws.apigatewayv2.Stage(
            plan.name("gateway", "stage"),
            api_id=self.api.id,
            name="$default",
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=plan.rate_limit_rps,
                throttling_burst_limit=plan.burst,
                detailed_metrics_enabled=True,
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=log_group.arn, format=json.dumps(ACCESS_LOG_FORMAT)
            ),
            tags=self._tagged("gateway"),
            opts=self._child(self.routes),
        )

    # --- optional custom domain --------------------------------------------------------------------------

    def _domain(self) -> tuple[pulumi.Output[str], pulumi.Output[str] | None]:
        plan = self.plan
        if plan.domain_name is None:
            return self.api.api_endpoint, None
        certificate_arn: pulumi.Input[str]
        if plan.certificate_arn:
            certificate_arn = plan.certificate_arn
        else:
            # An ACM certificate validated by DNS: `pulumi up` waits until its CNAME is published.
            certificate = aws.acm.Certificate(
                plan.name("gateway", "certificate"),
                domain_name=plan.domain_name,
                validation_method="DNS",
                tags={**self.tags, "Name": plan.domain_name},
                opts=self._child(),
            )
            certificate.domain_validation_options.apply(_log_validation_records)
            certificate_arn = aws.acm.CertificateValidation(
                plan.name("gateway", "certificate-validation"),
                certificate_arn=certificate.arn,
                opts=self._child(),
            ).certificate_arn
        domain = aws.apigatewayv2.DomainName(
            plan.name("gateway", "domain"),
            domain_name=plan.domain_name,
            domain_name_configuration=aws.apigatewayv2.DomainNameDomainNameConfigurationArgs(
                certificate_arn=certificate_arn, endpoint_type="REGIONAL", security_policy="TLS_1_2"
            ),
            tags={**self.tags, "Name": plan.domain_name},
            opts=self._child(),
        )
        aws.apigatewayv2.ApiMapping(
            plan.name("gateway", "mapping"),
            api_id=self.api.id,
            domain_name=domain.id,
            stage=self.stage.name,
            opts=self._child(),
        )
        # Point the domain's DNS (CNAME or alias) at the returned target.
        return pulumi.Output.from_input(f"https://{plan.domain_name}"), (
            domain.domain_name_configuration.target_domain_name
        )


def route_slug(route_key: str) -> str:
    """`POST /v1/{proxy+}` -> `post-v1-proxy`: a logical name derived from the route key."""
    words = "".join(c if c.isalnum() else " " for c in route_key.lower()).split()
    return "-".join(words)


def _log_validation_records(options: Sequence[object] | None) -> None:
    for option in options or []:
        name, kind, value = (
            getattr(option, "resource_record_name", None),
            getattr(option, "resource_record_type", None),
            getattr(option, "resource_record_value", None),
        )
        if name and value:
            pulumi.log.info(f"publish {kind} {name} -> {value} to validate the gateway's certificate")
