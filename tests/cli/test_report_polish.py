"""Report polish: warnings said once, passes that read as passes, assumptions shown, one-line errors."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from inferplan.cost import estimate
from inferplan.planner import build_plan
from inferplan.preflight.aws import describe
from inferplan.report import PlanReport, render
from inferplan.rules import evaluate_plan
from inferplan.stackfile import read_stack
from tests.cli.conftest import example_report, inferplan
from tests.conftest import ROOT

DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()


def report_of(text: str) -> PlanReport:
    loaded = read_stack(text, "stacks/Pulumi.t.yaml", "t")
    plan = build_plan("t", loaded.platform)
    costs = estimate(plan)
    return PlanReport(plan=plan, resources=(), findings=evaluate_plan(plan, costs), costs=costs)


def test_a_pool_that_needs_all_its_max_nodes_warns_about_headroom():
    report = report_of(DEV.replace("calls_per_day: 4000", "calls_per_day: 400000"))
    [capacity] = [f for f in report.findings if f.rule == "autoscaler-capacity"]
    assert (
        capacity.status == "warn"
        and "no headroom" in capacity.message
        and "raise max_nodes to 3" in capacity.message
    )


def test_operations_at_zero_warns_once_in_every_format():
    report = report_of(DEV.replace("      monthly_usd: 500 ", "      monthly_usd: 0 "))
    for fmt in ("text", "markdown"):
        assert render(report, fmt).count("operations.monthly_usd is 0") == 1
    assert len(json.loads(render(report, "json"))["costs"]["warnings"]) == 1
    assert "operations.monthly_usd is 0" not in render(example_report("dev"), "text")


def test_passes_for_sensitive_data_say_what_the_router_refuses():
    findings = {(f.rule, f.subject): f for f in example_report("prod-eu").findings}
    confidential = findings[("residency-dataflow", "contract-extraction")]
    assert confidential.status == "pass"
    assert "refuses every frontier API for confidential data" in confidential.message
    assert "path to the internet" not in confidential.message
    internal = findings[("residency-dataflow", "lead-scoring")]
    assert "may leave the VPC only to claude-sonnet" in internal.message


def test_the_text_report_shows_the_cost_assumptions():
    text = render(example_report("prod-eu"), "text")
    assert "  assumptions:\n    - a month is 730 hours" in text


def test_user_facing_json_has_no_internal_wording():
    text = render(example_report("prod-eu"), "json")
    for word in ("seed 0", "reference/", "shared/"):
        assert word not in text, word


def test_a_gpu_family_name_suggests_its_members():
    done = inferplan("size", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "A100")
    assert done.returncode == 2
    assert "'A100' is ambiguous: say which of A100-40GB or A100-80GB" in done.stderr


def test_an_html_error_page_from_a_price_endpoint_is_one_line():
    page = (
        "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
        + "<p>x</p>\n" * 500
        + "</body></html>"
    )
    error = ClientError({"Error": {"Code": "502", "Message": page}}, "GetProducts")
    line = describe(error, "reading the price of p5.48xlarge (pricing:GetProducts)", "http://127.0.0.1:9")
    assert "\n" not in line and len(line) < 300 and "502 Bad Gateway" in line
