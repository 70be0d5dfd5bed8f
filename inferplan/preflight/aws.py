"""The boto3 calls preflight makes, each returning typed answers; every botocore failure that stops the
run becomes one `AwsError` line (exit 2) — never a traceback.

Endpoints: `--endpoint-url` sends every service to one URL (moto, LocalStack); per-service overrides
win over it (`service_endpoints`), and without either botocore's own settings apply
(`AWS_ENDPOINT_URL_<SERVICE>`, profiles).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from inferplan.errors import UserError
from inferplan.preflight.checks import Identity, QuotaAnswer, QuotaUnknown, QuotaValue, SecretAnswer
from inferplan.preflight.prices_cache import SpotPriceRow

# Short timeouts and few retries: an unreachable endpoint should fail in seconds, not minutes.
CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
# The Price List API answers from a few regions only; us-east-1 serves prices of every region.
PRICING_REGION = "us-east-1"

DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
}
REJECTED = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidSignatureException",
}


STACK_TAG = "inferplan:stack"  # Plan.tags: every resource the stack creates carries it
# Everything botocore raises for a failed call (ResponseParserError is not a BotoCoreError).
AWS_FAILURES = (BotoCoreError, ClientError, ResponseParserError)


class AwsError(UserError):
    """A failure that stops preflight: no credentials, no network, or access denied (exit 2)."""


@dataclass(frozen=True)
class AwsTarget:
    region: str
    profile: str | None = None
    endpoint_url: str | None = None
    service_endpoints: Mapping[str, str] = field(default_factory=dict)  # botocore service name -> URL


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    """The service's message on one line: an HTML error page (a proxy, a wrong endpoint) becomes its title."""
    text = str(exc.response.get("Error", {}).get("Message", "")).strip()
    if "<" in text and ">" in text:
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        text = title.group(1) if title else re.sub(r"<[^>]+>", " ", text)
        text = f"an HTML page: {text.strip()}"
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


def describe(exc: BaseException, action: str, endpoint: str) -> str:
    """One actionable line for a botocore failure while doing `action`."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            f"no AWS credentials found while {action} (set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY, run `aws configure` or `aws sso login`, or pass --profile)"
        )
    if isinstance(exc, ProfileNotFound):
        return f"AWS profile not found: {exc.kwargs.get('profile', '?')} (see `aws configure list-profiles`)"
    if isinstance(exc, NoRegionError):
        return f"no AWS region while {action} (pass --region)"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        url = exc.kwargs.get("endpoint_url") or endpoint
        return f"cannot reach {url} while {action} (check the network, proxy settings or --endpoint-url)"
    if isinstance(exc, ResponseParserError):
        return f"{endpoint or 'the endpoint'} gave an answer that is not AWS's while {action} (check --endpoint-url)"
    if isinstance(exc, ClientError):
        code, message = error_code(exc), error_message(exc)
        if code in DENIED:
            return f"access denied while {action}: {message or code} (grant the permission to this identity)"
        if code in REJECTED:
            return f"AWS rejected the credentials while {action}: {message or code} (refresh or replace them)"
        return f"AWS answered {code or 'an error'} while {action}: {message or exc}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"AWS call failed while {action}: {text}"


@contextmanager
def aws_errors(action: str, endpoint: str = "") -> Iterator[None]:
    """Turn any botocore failure, or an answer we cannot read, inside the block into one `AwsError` line."""
    try:
        yield
    except AWS_FAILURES as exc:
        raise AwsError(describe(exc, action, endpoint)) from None
    except (KeyError, TypeError, ValueError) as exc:  # parsing the answer inside the block
        raise AwsError(
            f"{endpoint or 'the endpoint'} gave an answer we cannot read while {action} "
            f"({type(exc).__name__}: {exc}; check --endpoint-url)"
        ) from None


class Aws:
    """One boto3 session (default credential chain, or --profile) and its clients."""

    def __init__(self, target: AwsTarget) -> None:
        self.target = target
        with aws_errors("opening the AWS session"):
            self.session = boto3.session.Session(profile_name=target.profile, region_name=target.region)
        self._clients: dict[tuple[str, str], Any] = {}

    def endpoint(self, service: str) -> str | None:
        return self.target.service_endpoints.get(service) or self.target.endpoint_url

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.target.region)
        if key not in self._clients:
            with aws_errors(f"creating the {service} client"):
                self._clients[key] = self.session.client(
                    service, region_name=key[1], endpoint_url=self.endpoint(service), config=CLIENT_CONFIG
                )
        return self._clients[key]

    def where(self, service: str) -> str:
        return self.endpoint(service) or f"the {service} endpoint in {self.target.region}"


def caller_identity(aws: Aws) -> Identity:
    with aws_errors("asking STS who we are (sts:GetCallerIdentity)", aws.where("sts")):
        answer = aws.client("sts").get_caller_identity()
        return Identity(account=str(answer["Account"]), arn=str(answer["Arn"]), user_id=str(answer["UserId"]))


def available_zones(aws: Aws) -> tuple[str, ...]:
    """AZ names in state `available`, as `aws.getAvailabilityZones({state: "available"})` returns them."""
    with aws_errors("listing availability zones (ec2:DescribeAvailabilityZones)", aws.where("ec2")):
        answer = aws.client("ec2").describe_availability_zones(
            Filters=[{"Name": "state", "Values": ["available"]}]
        )
        return tuple(sorted(str(z["ZoneName"]) for z in answer.get("AvailabilityZones", [])))


def instance_type_offerings(aws: Aws, instance_types: Iterable[str]) -> dict[str, frozenset[str]]:
    """AZs of the region offering each shape (a shape offered nowhere maps to an empty set)."""
    wanted = sorted(set(instance_types))
    found: dict[str, set[str]] = {t: set() for t in wanted}
    if not wanted:
        return {}
    with aws_errors("listing instance type offerings (ec2:DescribeInstanceTypeOfferings)", aws.where("ec2")):
        pages = (
            aws.client("ec2")
            .get_paginator("describe_instance_type_offerings")
            .paginate(
                LocationType="availability-zone",
                Filters=[{"Name": "instance-type", "Values": wanted}],
            )
        )
        for page in pages:
            for offer in page.get("InstanceTypeOfferings", []):
                found.setdefault(str(offer["InstanceType"]), set()).add(str(offer["Location"]))
    return {t: frozenset(zones) for t, zones in found.items()}


def service_quota(aws: Aws, code: str) -> QuotaAnswer:
    """The applied EC2 quota, else the AWS default; `unknown` with the reason when neither answers.

    Access denied here does not stop preflight: it makes this one quota unknown.
    """
    client = aws.client("service-quotas")
    calls: tuple[tuple[Literal["applied", "default"], str, Any], ...] = (
        ("applied", "GetServiceQuota", client.get_service_quota),
        ("default", "GetAWSDefaultServiceQuota", client.get_aws_default_service_quota),
    )
    reason = ""
    for origin, name, call in calls:
        with aws_errors(f"reading quota {code} (servicequotas:{name})", aws.where("service-quotas")):
            try:
                quota = call(ServiceCode="ec2", QuotaCode=code)["Quota"]
                value = float(quota["Value"])
                return QuotaValue(code, str(quota.get("QuotaName", code)), value, origin=origin)
            except ClientError as exc:
                answer = f"{error_code(exc)}: {error_message(exc)}"
                if error_code(exc) in DENIED:
                    denied = f"access denied: {error_message(exc) or error_code(exc)}"
                    return QuotaUnknown(code, f"{reason}; default value: {denied}" if reason else denied)
                if origin == "applied" and error_code(exc) != "NoSuchResourceException":
                    raise
                reason = reason or answer  # the default call failing adds nothing worth reading
    return QuotaUnknown(code, reason)


def describe_secret(aws: Aws, name: str) -> SecretAnswer:
    """Whether the secret exists, which stack created it and whether it holds a value (DescribeSecret
    never reads the value itself)."""
    action = f"describing secret {name} (secretsmanager:DescribeSecret)"
    with aws_errors(action, aws.where("secretsmanager")):
        try:
            answer = aws.client("secretsmanager").describe_secret(SecretId=name)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return SecretAnswer(name, "missing")
            if error_code(exc) in DENIED:
                return SecretAnswer(
                    name, "unknown", detail=f"access denied: {error_message(exc) or error_code(exc)}"
                )
            raise
        tags = {str(t.get("Key")): str(t.get("Value")) for t in answer.get("Tags", [])}
        return SecretAnswer(
            name,
            "deleting" if answer.get("DeletedDate") else "present",
            has_value=bool(answer.get("VersionIdsToStages")),
            stack_tag=tags.get(STACK_TAG),
            detail=f"since {answer['DeletedDate']}" if answer.get("DeletedDate") else "",
        )


# --- prices ---------------------------------------------------------------------------------------


def price_filters(instance_type: str, region: str) -> list[dict[str, str]]:
    """Linux, shared tenancy, no pre-installed software, used capacity: the plain on-demand price."""
    terms = {
        "instanceType": instance_type,
        "regionCode": region,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in terms.items()]


def on_demand_usd_per_hour(price_list: Iterable[str]) -> float | None:
    """The hourly USD price in GetProducts' PriceList (JSON strings); None when no product has one."""
    prices: list[tuple[int, float]] = []
    for text in price_list:
        item = json.loads(text)
        attributes = item.get("product", {}).get("attributes", {})
        if attributes.get("marketoption", "OnDemand") != "OnDemand":
            continue  # Capacity Blocks and similar are not the on-demand price
        rank = 0 if attributes.get("operation", "RunInstances") == "RunInstances" else 1
        for term in item.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                usd = dimension.get("pricePerUnit", {}).get("USD")
                if usd is not None and dimension.get("unit", "Hrs") in ("Hrs", "Hours") and float(usd) > 0:
                    prices.append((rank, float(usd)))
    return min(prices)[1] if prices else None


def on_demand_price(aws: Aws, instance_type: str, region: str) -> float | None:
    client = aws.client("pricing", PRICING_REGION)
    price_list: list[str] = []
    with aws_errors(f"reading the price of {instance_type} (pricing:GetProducts)", aws.where("pricing")):
        for page in client.get_paginator("get_products").paginate(
            ServiceCode="AmazonEC2", Filters=price_filters(instance_type, region), FormatVersion="aws_v1"
        ):
            price_list.extend(str(p) for p in page.get("PriceList", []))
        return on_demand_usd_per_hour(price_list)


def spot_prices(aws: Aws, instance_types: Iterable[str], now: datetime | None = None) -> list[SpotPriceRow]:
    """The latest Linux/UNIX spot price per shape and AZ over the last day."""
    wanted = sorted(set(instance_types))
    if not wanted:
        return []
    start = (now or datetime.now(UTC)) - timedelta(days=1)
    latest: dict[tuple[str, str], SpotPriceRow] = {}
    with aws_errors("reading spot price history (ec2:DescribeSpotPriceHistory)", aws.where("ec2")):
        pages = (
            aws.client("ec2")
            .get_paginator("describe_spot_price_history")
            .paginate(InstanceTypes=wanted, ProductDescriptions=["Linux/UNIX"], StartTime=start)
        )
        for page in pages:
            for entry in page.get("SpotPriceHistory", []):
                stamp = entry.get("Timestamp")
                when = stamp.isoformat() if isinstance(stamp, datetime) else str(stamp)
                row = SpotPriceRow(
                    instance_type=str(entry["InstanceType"]),
                    availability_zone=str(entry.get("AvailabilityZone", "")),
                    usd_per_hour=float(entry["SpotPrice"]),
                    timestamp=when,
                )
                key = (row.instance_type, row.availability_zone)
                if key not in latest or latest[key].timestamp < row.timestamp:
                    latest[key] = row
    return [latest[k] for k in sorted(latest)]
