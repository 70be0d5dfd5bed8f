"""`python -m inferplan preflight --stack NAME`: would this AWS account let `pulumi up` succeed?"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from inferplan.errors import EXIT_OK, EXIT_POLICY, UserError
from inferplan.planner import build_plan
from inferplan.preflight.aws import AWS_FAILURES, Aws, AwsTarget, describe
from inferplan.preflight.checks import Finding
from inferplan.preflight.prices_cache import PriceCache, price_cache_path
from inferplan.preflight.refresh import refresh_prices
from inferplan.preflight.run import PreflightReport, run_preflight
from inferplan.progress import Progress
from inferplan.stackfile import load_stack

SCHEMA = "inferplan.preflight/v1"
EPILOG = """\
checks (against the account the default AWS credential chain finds, or --profile):
  identity   sts:GetCallerIdentity
  zones      the AZs the network uses: the first network.availability_zones available ones, by name
  offering   each pool's instance type in each of those AZs (and where, or what, instead)
  quota      GPU vCPU quotas (on-demand/spot, P and G) vs every pool at max_nodes, with the
             exact `aws service-quotas request-service-quota-increase` command when too low
  secret     each frontier key's Secrets Manager name is free for `pulumi up` to create (or already
             this stack's, then holding a value)
A check AWS would not answer (quota API unavailable, access denied) is reported `unknown` with the
reason; it is not a pass and not a failure.

--refresh-prices also writes current on-demand (Price List API) and spot prices for the catalog's
shapes in the region to the price cache ($INFERPLAN_PRICE_CACHE, default .inferplan-cache/prices.json),
which the cost engine prefers over the built-in catalog.

exit codes:
  0  every check passed or is unknown (with its reason)
  1  the account would fail `pulumi up` (or leave the router without its key): a shape not
     offered, a quota too low, a secret name taken or pending deletion, a key not set
  2  invalid input, or AWS could not be asked: no credentials, endpoint unreachable, access denied
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument(
        "--stack", required=True, metavar="NAME", help="stack to check (stacks/Pulumi.NAME.yaml)"
    )
    parser.add_argument("--profile", help="AWS profile (default: the default credential chain)")
    parser.add_argument(
        "--endpoint-url", metavar="URL", help="send every AWS call to this URL (moto, LocalStack)"
    )
    parser.add_argument("--region", help="AWS region to check (default: the stack's region)")
    parser.add_argument(
        "--refresh-prices", action="store_true", help="also refresh the local price cache (see below)"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    # Per-service endpoints (tests serve recorded Service Quotas and Price List answers on loopback).
    parser.add_argument("--service-quotas-endpoint-url", help=argparse.SUPPRESS)
    parser.add_argument("--pricing-endpoint-url", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    loaded = load_stack(args.stack)
    plan = build_plan(loaded.stack, loaded.platform)
    region = args.region or loaded.aws_region
    services = {
        "service-quotas": args.service_quotas_endpoint_url,
        "pricing": args.pricing_endpoint_url,
    }
    target = AwsTarget(
        region=region,
        profile=args.profile,
        endpoint_url=args.endpoint_url,
        service_endpoints={k: v for k, v in services.items() if v},
    )
    prices: PriceCache | None = None
    try:
        with Progress(f"preflight {plan.stack}") as progress:
            aws = Aws(target)
            report = run_preflight(plan, aws, progress, loaded.config)
            if args.refresh_prices:
                shapes = sorted(plan.catalog.instances)
                progress.add(len(shapes) + 1)
                prices = refresh_prices(aws, shapes, region, price_cache_path(), progress)
    except AWS_FAILURES as exc:  # a call outside the wrapped ones: still one line
        raise UserError(describe(exc, "calling AWS", args.endpoint_url or "")) from None
    if args.format == "json":
        print(json.dumps(to_json(report, prices), indent=2))
    else:
        print(render_text(report, prices))
    return EXIT_POLICY if report.failed else EXIT_OK


def prices_summary(prices: PriceCache, region: str) -> dict[str, Any]:
    fetched = dict(prices.fetched_at).get(region)
    return {
        "path": str(prices.path),
        "region": region,
        "fetched_at": fetched.isoformat() if fetched else None,
        "on_demand": [
            {
                "instance_type": p.instance_type,
                "usd_per_hour": p.usd_per_hour,
                "source": p.source,
                "as_of": p.as_of,
            }
            for p in prices.on_demand
            if p.region == region
        ],
        "spot": [asdict(s) for s in prices.spot if s.region == region],
        "missing": [t for r, t in prices.missing if r == region],
    }


def to_json(report: PreflightReport, prices: PriceCache | None) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "stack": report.stack,
        "region": report.region,
        "account": report.identity.account,
        "arn": report.identity.arn,
        "availability_zones": list(report.zones),
        "findings": [asdict(f) for f in report.findings],
        "summary": {s: report.count(s) for s in ("pass", "fail", "unknown", "info")},
        "would_fail_pulumi_up": report.failed,
        "prices": prices_summary(prices, report.region) if prices else None,
    }


def _line(finding: Finding) -> list[str]:
    lines = [f"{finding.status.upper():<8} {finding.check:<9} {finding.subject}: {finding.message}"]
    if finding.remedy:
        lines.append(f"{'':<18} -> {finding.remedy}")
    return lines


def render_text(report: PreflightReport, prices: PriceCache | None) -> str:
    lines = [
        f"preflight {report.stack} · {report.region} · account {report.identity.account} ({report.identity.arn})",
        f"AZs the network uses: {', '.join(report.zones) or 'none'}",
        "",
    ]
    for finding in report.findings:
        lines += _line(finding)
    if prices is not None:
        summary = prices_summary(prices, report.region)
        lines += [
            "",
            f"prices: {len(summary['on_demand'])} on-demand (AWS Price List API) and {len(summary['spot'])} "
            f"spot prices for {report.region}, fetched {summary['fetched_at']}, written to {summary['path']}",
        ]
        if summary["missing"]:
            lines.append(f"  no on-demand Linux price in {report.region}: {', '.join(summary['missing'])}")
    counts = " · ".join(f"{report.count(s)} {s}" for s in ("pass", "fail", "unknown") if report.count(s))
    verdict = (
        "the account would fail `pulumi up` (exit 1)"
        if report.failed
        else "nothing found that would fail `pulumi up`"
        + (" (unknown checks are not passes: see above)" if report.count("unknown") else "")
    )
    lines += ["", f"{counts} — {verdict}"]
    return "\n".join(lines)
