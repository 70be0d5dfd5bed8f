"""Bad input: every problem in one run, each as `file:line:col: path: message`, exit 2, no traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from inferplan.cli import main
from inferplan.stackfile import SpecErrors, load_stack
from tests.conftest import ROOT, stack_config, write_stack

LINE = re.compile(r"^stacks/Pulumi\.\w[\w-]*\.yaml:\d+:\d+: ")


def errors_for(tmp_path: Path, text: str, stack: str = "bad") -> list[str]:
    (tmp_path / "stacks").mkdir(exist_ok=True)
    (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(text)
    with pytest.raises(SpecErrors) as caught:
        load_stack(stack, tmp_path)
    return [str(e) for e in caught.value.errors]


def dev_text() -> str:
    return (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()


def test_five_mistakes_give_five_located_errors_in_one_run(tmp_path):
    text = (
        dev_text()
        .replace("sensitivity: internal", "sensitivity: secret")  # bad enum
        .replace("route: llama-8b", "route: llama-9b")  # dangling reference
        .replace("max_nodes: 2}", "max_nodes: 2, warmpool: 1}")  # unknown key
        .replace("calls_per_day: 4000", "calls_per_day: lots")  # wrong type
        .replace(
            "    models:\n", "    models:\n      - {name: llama-8b, model: x, pool: l40s}\n", 1
        )  # duplicate
    )
    errors = errors_for(tmp_path, text)
    assert len(errors) == 6  # the duplicate model also claims the pool twice
    assert all(LINE.match(e) for e in errors), errors
    joined = "\n".join(errors)
    assert (
        "workloads[0].sensitivity: must be one of public, internal, confidential, regulated (got 'secret')"
        in joined
    )
    assert (
        "workloads[0].route: no model or frontier entry named 'llama-9b' (did you mean 'llama-8b'?)" in joined
    )
    assert "pools[0].warmpool: unknown key 'warmpool' (did you mean 'warm_pool'?)" in joined
    assert "workloads[0].calls_per_day: must be a number (got 'lots')" in joined
    assert "models[1].name: duplicate name 'llama-8b' (already used by models[0])" in joined


def test_error_points_at_the_offending_value(tmp_path):
    text = dev_text().replace("sensitivity: internal", "sensitivity: secret")
    [error] = errors_for(tmp_path, text)
    line_no, col = map(int, error.split(":")[1:3])
    line = text.splitlines()[line_no - 1]
    assert line[col - 1 :].startswith("secret")


def test_unknown_key_points_at_the_key_and_lists_choices_when_nothing_is_close(tmp_path):
    text = dev_text().replace("    operations:\n", "    zzz: 1\n    operations:\n")
    [error] = errors_for(tmp_path, text)
    assert "zzz: unknown key 'zzz'; allowed: region, environment" in error
    line_no, col = map(int, error.split(":")[1:3])
    assert text.splitlines()[line_no - 1][col - 1 :].startswith("zzz")


def test_dangling_pool_reference_suggests_the_close_name(tmp_path):
    [error] = errors_for(tmp_path, dev_text().replace("pool: l40s}", "pool: l40}"))
    assert error.endswith("models[0].pool: no pool named 'l40' (did you mean 'l40s'?)")


def test_missing_required_key_is_reported_on_its_parent(tmp_path):
    [error] = errors_for(tmp_path, dev_text().replace("      monthly_usd: 3000 ", "      "))
    assert "budget: required key 'monthly_usd' is missing" in error


def test_region_must_equal_aws_region(tmp_path):
    [error] = errors_for(tmp_path, dev_text().replace("    region: us-east-1 ", "    region: us-west-2 "))
    assert "region: must equal aws:region 'us-east-1' (got 'us-west-2')" in error


def test_min_nodes_above_max_nodes(tmp_path):
    [error] = errors_for(
        tmp_path, dev_text().replace("min_nodes: 1, max_nodes: 2", "min_nodes: 3, max_nodes: 2")
    )
    assert "pools[0].min_nodes: must be <= max_nodes (3 > 2)" in error


def test_invalid_cidr(tmp_path):
    [error] = errors_for(tmp_path, dev_text().replace("cidr: 10.20.0.0/16", "cidr: 10.20.0.0/33"))
    assert "network.cidr: " in error and "not a valid IPv4 CIDR block" in error


def test_duplicate_yaml_key_is_an_error_not_a_silent_override(tmp_path):
    text = dev_text().replace("    environment: dev\n", "    environment: dev\n    environment: prod\n")
    [error] = errors_for(tmp_path, text)
    assert "environment: duplicate key 'environment'" in error


def test_yaml_syntax_error_is_located(tmp_path):
    text = dev_text().replace("audience: [inference-dev]}", "audience: [inference-dev}")
    [error] = errors_for(tmp_path, text)
    assert LINE.match(error) and "YAML syntax error" in error


def test_missing_stack_file_names_the_stacks_that_exist(tmp_path):
    write_stack(tmp_path, "dev", stack_config("dev"))
    with pytest.raises(SpecErrors) as caught:
        load_stack("deev", tmp_path)
    assert str(caught.value) == "stacks/Pulumi.deev.yaml:1:1: no such stack file (did you mean 'dev'?)"


def test_a_file_without_the_platform_key(tmp_path):
    [error] = errors_for(tmp_path, "config:\n  aws:region: us-east-1\n")
    assert "no `config: inferplan:platform:` mapping" in error


def test_one_model_per_pool(tmp_path):
    text = dev_text().replace(
        "    frontier:\n",
        "      - {name: qwen, model: Qwen/Qwen3-32B, pool: l40s}\n    frontier:\n",
        1,
    )
    [error] = errors_for(tmp_path, text)
    assert "models[1].pool: pool 'l40s' already serves model 'llama-8b'" in error


def test_cli_prints_every_error_and_exits_2(tmp_path, capsys, monkeypatch):
    write_stack(tmp_path, "bad", stack_config("dev"))
    text = (tmp_path / "stacks" / "Pulumi.bad.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.bad.yaml").write_text(
        text.replace("sensitivity: internal", "sensitivity: secret").replace("egress: nat", "egress: open")
    )
    (tmp_path / "Pulumi.yaml").write_text("name: inferplan\n")
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "--stack", "bad"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "2 errors; nothing was planned."
    assert all(LINE.match(line) for line in err[:-1])


def test_no_traceback_from_the_real_process(tmp_path):
    write_stack(tmp_path, "bad", {"aws:region": "us-east-1", "inferplan:platform": {"region": 3}})
    (tmp_path / "Pulumi.yaml").write_text("name: inferplan\n")
    done = subprocess.run(
        [sys.executable, "-m", "inferplan", "plan", "--stack", "bad"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "region: must be a string (got 3)" in done.stderr


def test_warm_pool_needs_on_demand_capacity(tmp_path):
    text = dev_text().replace(
        "capacity: on_demand, min_nodes: 1, max_nodes: 2}",
        "capacity: spot, min_nodes: 1, max_nodes: 2, warm_pool: 1}",
    )
    [error] = errors_for(tmp_path, text)
    assert "pools[0].warm_pool: needs capacity: on_demand" in error


def test_a_vpc_too_small_for_alb_subnets_in_every_az(tmp_path):
    text = (
        dev_text()
        .replace("cidr: 10.20.0.0/16", "cidr: 10.20.0.0/24")
        .replace("availability_zones: 2 ", "availability_zones: 6 ")
    )
    [error] = errors_for(tmp_path, text)
    assert (
        "network.cidr: /24 holds 8 subnets of /27 (the smallest an ALB accepts); 6 AZs with NAT need 12"
        in error
    )


def test_one_az_is_refused_because_an_alb_needs_two(tmp_path):
    [error] = errors_for(tmp_path, dev_text().replace("availability_zones: 2 ", "availability_zones: 1 "))
    assert "network.availability_zones: " in error and "(got 1)" in error


def test_a_pool_at_zero_nodes_could_never_scale_out(tmp_path):
    [error] = errors_for(
        tmp_path, dev_text().replace("min_nodes: 1, max_nodes: 2", "min_nodes: 0, max_nodes: 2")
    )
    assert "pools[0].min_nodes: " in error and "(got 0)" in error


def test_fallback_rate_without_a_fallback(tmp_path):
    text = dev_text().replace("fallback: claude-haiku, fallback_rate: 0.05", "fallback_rate: 0.05")
    [error] = errors_for(tmp_path, text)
    assert "workloads[0].fallback_rate: is set but no fallback is named" in error


def test_the_account_root_cannot_be_a_weights_admin(tmp_path):
    admins = "    model_store:\n      admins: [arn:aws:iam::123456789012:role/uploader, arn:aws:iam::123456789012:root]\n"
    text = dev_text().replace("    environment: dev\n", "    environment: dev\n" + admins)
    [error] = errors_for(tmp_path, text)
    assert LINE.match(error) and "model_store.admins[1]: " in error
    assert "the account root and wildcards are not allowed" in error
