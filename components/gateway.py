"""The one public door: an API Gateway HTTP API that authenticates, throttles and logs every call.

    client --HTTPS + JWT--> HTTP API ($default stage) --VPC link--> internal ALB :ROUTER_LISTENER_PORT

Every route carries the JWT authorizer (issuer and audiences from `gateway.jwt`); there is no other
route and no quick-create `target`. The integration strips MODEL_HEADER, so a client cannot ask the
ALB for a model's target group (the gateway reaches only the router listener anyway; this is the
second lock). Throttling is the stage default from `gateway.rate_limit`; access logs go as JSON to an
encrypted log group.

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
from inferplan.plan import GATEWAY_TIMEOUT_MS, MODEL_HEADER, ROUTER_LISTENER_PORT, Plan

ROUTES = ("POST /v1/{proxy+}", "GET /v1/models")
INTEGRATION_TIMEOUT_MS = GATEWAY_TIMEOUT_MS  # the HTTP API maximum
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
    plan: Plan
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

    def __init__(
        self, name: str, args: InferenceGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("inferplan:components:InferenceGateway", name, None, opts)
        plan = args.plan
        spec = plan.platform.gateway
        child = pulumi.ResourceOptions(parent=self)
        tags = {**plan.tags, "inferplan:component": "gateway"}

        def tagged(name: str) -> dict[str, str]:
            return {**tags, "Name": name}

        log_group = stack_log_group(
            plan.name("gateway", "logs"),
            plan.stack,
            "gateway",
            args.key_arn,
            tagged(plan.name("gateway", "logs")),
            self,
        )

        # --- into the VPC: the link's ENIs may open connections to the ALB's router listener only ---
        link_group = aws.ec2.SecurityGroup(
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
            tags=tagged(plan.name("gateway-vpc-link")),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            plan.name("alb-from-gateway"),
            security_group_id=args.alb_security_group_id,
            referenced_security_group_id=link_group.id,
            ip_protocol="tcp",
            from_port=ROUTER_LISTENER_PORT,
            to_port=ROUTER_LISTENER_PORT,
            description="API gateway VPC link to the router listener",
            tags=tagged(plan.name("alb-from-gateway")),
            opts=child,
        )
        link = aws.apigatewayv2.VpcLink(
            plan.name("gateway", "vpc-link"),
            name=plan.name("gateway"),
            security_group_ids=[link_group.id],
            subnet_ids=list(args.subnet_ids),
            tags=tagged(plan.name("gateway")),
            opts=child,
        )

        # --- the API -------------------------------------------------------------------------------
        self.api = aws.apigatewayv2.Api(
            plan.name("api"),
            name=plan.name("gateway"),
            protocol_type="HTTP",
            description=f"inferplan {plan.stack}: OpenAI-compatible inference, one model alias per workload",
            # With a custom domain, clients use it (and its TLS policy); the default endpoint is off.
            disable_execute_api_endpoint=spec.domain is not None,
            tags=tagged(plan.name("gateway")),
            opts=child,
        )
        self.authorizer = aws.apigatewayv2.Authorizer(
            plan.name("gateway", "jwt"),
            api_id=self.api.id,
            name=plan.name("jwt"),
            authorizer_type="JWT",
            identity_sources=["$request.header.Authorization"],
            jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
                issuer=spec.jwt.issuer, audiences=list(spec.jwt.audience)
            ),
            opts=child,
        )
        integration = aws.apigatewayv2.Integration(
            plan.name("gateway", "router"),
            api_id=self.api.id,
            description="the router listener of the internal ALB, over the VPC link",
            integration_type="HTTP_PROXY",
            integration_method="ANY",
            integration_uri=args.router_listener_arn,
            connection_type="VPC_LINK",
            connection_id=link.id,
            payload_format_version="1.0",  # the only one HTTP_PROXY takes
            timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
            request_parameters={f"remove:header.{MODEL_HEADER.lower()}": "''"},
            opts=child,
        )
        self.routes = [
            aws.apigatewayv2.Route(
                plan.name("route", route_slug(key)),
                api_id=self.api.id,
                route_key=key,
                authorization_type="JWT",
                authorizer_id=self.authorizer.id,
                target=integration.id.apply(lambda i: f"integrations/{i}"),
                opts=child,
            )
            for key in ROUTES
        ]
        self.stage = aws.apigatewayv2.Stage(
            plan.name("gateway", "stage"),
            api_id=self.api.id,
            name="$default",
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=spec.rate_limit.requests_per_second,
                throttling_burst_limit=spec.rate_limit.burst,
                detailed_metrics_enabled=True,
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=log_group.arn, format=json.dumps(ACCESS_LOG_FORMAT)
            ),
            tags=tagged(plan.name("gateway")),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.routes),
        )

        # --- optional custom domain ----------------------------------------------------------------
        self.domain_target: pulumi.Output[str] | None = None
        if spec.domain is None:
            self.url = self.api.api_endpoint
        else:
            certificate_arn: pulumi.Input[str]
            if spec.domain.certificate_arn:
                certificate_arn = spec.domain.certificate_arn
            else:
                # An ACM certificate validated by DNS: `pulumi up` waits until its CNAME is published.
                certificate = aws.acm.Certificate(
                    plan.name("gateway", "certificate"),
                    domain_name=spec.domain.name,
                    validation_method="DNS",
                    tags=tagged(spec.domain.name),
                    opts=child,
                )
                certificate.domain_validation_options.apply(_log_validation_records)
                certificate_arn = aws.acm.CertificateValidation(
                    plan.name("gateway", "certificate-validation"),
                    certificate_arn=certificate.arn,
                    opts=child,
                ).certificate_arn
            domain = aws.apigatewayv2.DomainName(
                plan.name("gateway", "domain"),
                domain_name=spec.domain.name,
                domain_name_configuration=aws.apigatewayv2.DomainNameDomainNameConfigurationArgs(
                    certificate_arn=certificate_arn, endpoint_type="REGIONAL", security_policy="TLS_1_2"
                ),
                tags=tagged(spec.domain.name),
                opts=child,
            )
            aws.apigatewayv2.ApiMapping(
                plan.name("gateway", "mapping"),
                api_id=self.api.id,
                domain_name=domain.id,
                stage=self.stage.name,
                opts=child,
            )
            self.url = pulumi.Output.from_input(f"https://{spec.domain.name}")
            # Point the domain's DNS (CNAME or alias) here.
            self.domain_target = domain.domain_name_configuration.target_domain_name

        self.register_outputs({"url": self.url, "api_id": self.api.id, "stage": self.stage.name})

    def endpoint(self, path: str) -> pulumi.Output[str]:
        """The public URL of `path` (e.g. `/v1/chat/completions`)."""
        return self.url.apply(lambda base: base.rstrip("/") + path)


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
