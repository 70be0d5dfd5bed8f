"""`plan --format tfplan-json`: Terraform-plan-shaped JSON that Terraform-plan tools read."""

from __future__ import annotations

import functools
import json
import subprocess
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from inferplan.report.tfplan import TERRAFORM_TYPES, render_tfplan, snake, to_tfplan
from tests.cli.conftest import example_report
from tests.conftest import EXAMPLE_STACKS, ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def tfplan(stack: str) -> dict[str, Any]:
    return json.loads(render_tfplan(example_report(stack)))


def change(doc: dict[str, Any], tf_type: str, pulumi_name: str) -> dict[str, Any]:
    name = pulumi_name.replace("-", "_")
    [found] = [r for r in doc["resource_changes"] if r["type"] == tf_type and r["name"] == name]
    return found


def expressions(doc: dict[str, Any], address: str) -> dict[str, Any]:
    [found] = [r for r in doc["configuration"]["root_module"]["resources"] if r["address"] == address]
    return dict(found["expressions"])


def test_every_resource_is_a_create_with_a_terraform_type():
    report = example_report("prod-eu")
    doc = to_tfplan(report)
    custom = [r for r in report.resources if r.custom]
    assert (
        len(doc["resource_changes"]) == len(custom) == len(doc["planned_values"]["root_module"]["resources"])
    )
    assert {r["change"]["actions"][0] for r in doc["resource_changes"]} == {"create"}
    assert {r.type for r in custom} <= set(TERRAFORM_TYPES), "every type of the example stacks is mapped"
    assert doc["format_version"] and doc["terraform_version"]
    assert len({r["address"] for r in doc["resource_changes"]}) == len(custom)


def test_nested_blocks_are_lists_of_objects_and_maps_stay_maps():
    doc = tfplan("dev")
    template = change(doc, "aws_launch_template", "dev-l40s-lt")["change"]["after"]
    assert template["metadata_options"] == [
        {
            "http_endpoint": "enabled",
            "http_put_response_hop_limit": template["metadata_options"][0]["http_put_response_hop_limit"],
            "http_tokens": "required",
            "instance_metadata_tags": template["metadata_options"][0]["instance_metadata_tags"],
        }
    ]
    assert template["block_device_mappings"][0]["ebs"][0]["encrypted"] in (True, "true")
    assert isinstance(template["tags"], dict) and template["tags"]["inferplan:stack"] == "dev"
    group = change(doc, "aws_autoscaling_group", "dev-l40s-asg")["change"]["after"]
    assert (
        "tags" not in group
        and {"key": "inferplan:pool", "value": "l40s", "propagate_at_launch": True} in group["tag"]
    )
    assert group["launch_template"][0]["version"] == "1"
    assert group["vpc_zone_identifier"] and "vpc_zone_identifiers" not in group
    rule = change(doc, "aws_lb_listener_rule", "dev-llama-8b-rule")["change"]["after"]
    assert rule["action"][0]["type"] == "forward" and "http_header" in rule["condition"][0]
    encryption = change(doc, "aws_s3_bucket_server_side_encryption_configuration", "dev-models-encryption")
    by_default = encryption["change"]["after"]["rule"][0]["apply_server_side_encryption_by_default"]
    assert by_default[0]["sse_algorithm"] == "aws:kms"


def test_references_between_resources_are_kept():
    doc = tfplan("dev")
    subnet = expressions(doc, "aws_subnet.dev_private_us_east_1a")
    assert subnet["vpc_id"] == {"references": ["aws_vpc.dev_vpc.id", "aws_vpc.dev_vpc"]}
    block = expressions(doc, "aws_s3_bucket_public_access_block.dev_models_public_access")
    assert block["bucket"]["references"][-1] == "aws_s3_bucket.dev_models"
    assert block["block_public_acls"] == {"constant_value": True}
    policy = expressions(doc, "aws_iam_role_policy.dev_l40s_node_policy")
    assert "aws_s3_bucket.dev_models" in policy["policy"]["references"]


def test_snake_case_and_json_without_nan():
    assert snake("httpPutResponseHopLimit") == "http_put_response_hop_limit"
    assert snake("cidrIpv4") == "cidr_ipv4"
    text = render_tfplan(example_report("sovereign"))
    assert "NaN" not in text and "Infinity" not in text


@functools.cache
def checkov_results(tmp: str) -> dict[str, dict[str, Any]]:
    """Checkov's JSON report per stack, from one run over the three tfplan-json files."""
    folder = Path(tmp)
    for stack in EXAMPLE_STACKS:
        (folder / f"{stack}.json").write_text(render_tfplan(example_report(stack)))
    done = subprocess.run(
        [str(CHECKOV), "-d", str(folder), "--framework", "terraform_plan", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    [plan_report] = [r for r in reports if r["check_type"] == "terraform_plan"]
    out: dict[str, dict[str, Any]] = {
        s: {"passed": [], "failed": [], "summary": plan_report["summary"]} for s in EXAMPLE_STACKS
    }
    for kind in ("passed", "failed"):
        for check in plan_report["results"][f"{kind}_checks"]:
            out[Path(check["file_path"]).stem][kind].append(check)
    return out


@pytest.fixture(scope="module")
def checkov(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    if not CHECKOV.exists():
        pytest.fail(
            "Checkov is not installed: scripts/test creates .venv-checkov from requirements-checkov.txt"
        )
    return checkov_results(str(tmp_path_factory.mktemp("tfplan")))


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_checkov_passes_checks_on_the_vpc_launch_templates_buckets_and_api_stage(checkov, stack):
    results = checkov[stack]
    assert results["summary"]["parsing_errors"] == 0
    passed = {(c["resource"].split(".")[0], c["check_id"]) for c in results["passed"]}
    kinds = {kind for kind, _ in passed}
    assert {"aws_vpc", "aws_launch_template", "aws_s3_bucket", "aws_apigatewayv2_stage"} <= kinds
    # Checks that read nested blocks and references: they pass only when the mapping is faithful.
    assert ("aws_launch_template", "CKV_AWS_79") in passed  # IMDSv2 (metadata_options block)
    assert ("aws_s3_bucket", "CKV2_AWS_6") in passed  # public access block linked by reference
    assert ("aws_s3_bucket", "CKV_AWS_145") in passed  # KMS encryption (encryption resource linked)
    assert ("aws_apigatewayv2_stage", "CKV_AWS_76") in passed  # access logging block
    assert ("aws_security_group", "CKV_AWS_260") in passed
    failed = {c["check_id"] for c in results["failed"]}
    assert "CKV_AWS_260" not in failed, "a rule that admits a security group is not open to 0.0.0.0/0"


def documented_findings() -> list[tuple[str, str, str]]:
    """(check, resource address pattern, stacks) of docs/security.md's table of remaining findings."""
    text = (ROOT / "docs" / "security.md").read_text()
    table = text.split("<!-- checkov-remaining")[1]
    rows = []
    for line in table.splitlines():
        if line.startswith("| `CKV"):
            check, resources, stacks = (cell.strip().strip("`") for cell in line.strip("|").split("|")[:3])
            rows.append((check, resources, stacks))
    assert rows, "docs/security.md lost its table of remaining Checkov findings"
    return rows


def test_every_remaining_checkov_finding_is_documented_and_every_documented_one_remains(checkov):
    rows = documented_findings()
    matched: set[int] = set()
    for stack in EXAMPLE_STACKS:
        for check in checkov[stack]["failed"]:
            address = check["resource"]
            found = [
                index
                for index, (check_id, pattern, stacks) in enumerate(rows)
                if check_id == check["check_id"]
                and fnmatchcase(address, pattern.replace("<stack>", stack.replace("-", "_")))
                and (stacks == "all" or stack in stacks.split(", "))
            ]
            assert found, (
                f"{stack}: {check['check_id']} on {address} is new; fix it or say in docs/security.md why it stays"
            )
            matched.update(found)
    stale = [rows[i] for i in range(len(rows)) if i not in matched]
    assert stale == [], "documented in docs/security.md but no longer failing: remove the rows"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_hardening_checks_pass(checkov, stack):
    passed = {(c["resource"].split(".")[0], c["check_id"]) for c in checkov[stack]["passed"]}
    failed = {c["check_id"] for c in checkov[stack]["failed"]}
    fixed = {
        ("aws_vpc", "CKV2_AWS_11"),  # flow logs
        ("aws_lb", "CKV_AWS_91"),  # ALB access logs
        ("aws_launch_template", "CKV_AWS_341"),  # hop limit 1
        ("aws_ecs_task_definition", "CKV_AWS_336"),  # read-only root
        ("aws_iam_role", "CKV_AWS_61"),  # no account-wide trust
        ("aws_cloudwatch_log_group", "CKV_AWS_338"),  # a year of logs
        ("aws_s3_bucket", "CKV2_AWS_61"),  # lifecycle on every bucket
        ("aws_ecr_repository", "CKV_AWS_136"),  # the mirrors on the stack key
    }
    assert fixed <= passed
    assert not failed & {c for _, c in fixed}


def test_the_plan_command_writes_it(tmp_path):
    from tests.cli.conftest import inferplan

    done = inferplan(
        "plan", "--stack", "dev", "--format", "tfplan-json", "--out", str(tmp_path / "plan.json")
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["configuration"]["provider_config"]["aws"]["expressions"]["region"] == {
        "constant_value": "us-east-1"
    }
    assert json.loads((tmp_path / "plan.json").read_text())["schema"] == "inferplan.plan/v1"
