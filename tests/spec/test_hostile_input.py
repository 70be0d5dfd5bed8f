"""Input that once produced a traceback: each now gives located errors (exit 2) or runs cleanly."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from inferplan.stackfile import SpecErrors, load_stack
from offline.project import linked_project
from tests.conftest import ROOT, stack_config, write_stack

LOCATED = re.compile(r"^stacks/Pulumi\.[\w-]+\.yaml:\d+:\d+: ")


def project(tmp_path):
    return linked_project(tmp_path / "project")


def cli(root, *args):
    return subprocess.run(
        [sys.executable, "-m", "inferplan", *args],
        cwd=root,
        capture_output=True,
        text=True,
    )


def errors(tmp_path, text):
    (tmp_path / "stacks").mkdir(exist_ok=True)
    (tmp_path / "stacks" / "Pulumi.bad.yaml").write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(SpecErrors) as caught:
        load_stack("bad", tmp_path)
    return [str(e) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("calls_per_day: 4000", "calls_per_day: .inf", "workloads[0].calls_per_day"),
        ("monthly_usd: 3000 ", "monthly_usd: .nan ", "budget.monthly_usd"),
        ("{ttft: 1500,", "{ttft: .inf,", "workloads[0].latency_slo_ms.ttft"),
    ],
)
def test_infinite_and_nan_numbers_are_errors(tmp_path, old, new, path):
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    assert old in text
    [error] = errors(tmp_path, text.replace(old, new))
    assert f": {path}: " in error


def test_a_gpu_override_needs_positive_throughput(tmp_path):
    config = stack_config("dev")
    config["inferplan:platform"]["catalog"] = {
        "gpus": [{"gpu": "L40S", "memory_gib": 48, "memory_bandwidth_tb_s": 1, "bf16_dense_tflops": -5}]
    }
    write_stack(tmp_path, "bad", config)
    with pytest.raises(SpecErrors) as caught:
        load_stack("bad", tmp_path)
    assert "catalog.gpus[0].bf16_dense_tflops: " in str(caught.value)


def test_a_file_that_is_not_utf8(tmp_path):
    [error] = errors(
        tmp_path, (ROOT / "stacks" / "Pulumi.dev.yaml").read_bytes().replace(b"dev\n", b"d\xffv\n", 1)
    )
    assert error.startswith("stacks/Pulumi.bad.yaml:1:1: not UTF-8 text")


def test_a_yaml_alias_that_contains_itself(tmp_path):
    text = "config:\n  aws:region: us-east-1\n  inferplan:platform: {region: us-east-1, a: &x [*x]}\n"
    found = errors(tmp_path, text)
    assert any("a YAML alias refers to itself" in e for e in found)


def test_a_waiver_with_an_unquoted_date_plans(tmp_path):
    root = project(tmp_path)
    text = (
        (ROOT / "stacks" / "Pulumi.dev.yaml").read_text().replace("monthly_usd: 3000 ", "monthly_usd: 100 ")
    )
    text += (
        "    policy:\n"
        "      waivers:\n"
        "        - {rule: budget-expected, subject: waived, reason: approved FIN-142, expires: 2099-03-31}\n"
    )
    (root / "stacks" / "Pulumi.waived.yaml").write_text(text)
    done = cli(root, "plan", "--stack", "waived", "--format", "json")
    assert done.returncode == 0, done.stderr
    [waived] = [f for f in json.loads(done.stdout)["policy"] if f["rule"] == "budget-expected"]
    assert waived["status"] == "fail" and waived["waived"] is True


def test_plan_out_into_a_new_folder_and_into_a_directory(tmp_path):
    done = cli(
        ROOT, "plan", "--stack", "dev", "--format", "json", "--out", str(tmp_path / "new" / "plan.json")
    )
    assert done.returncode == 0 and (tmp_path / "new" / "plan.json").is_file()
    done = cli(ROOT, "plan", "--stack", "dev", "--out", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: cannot write {tmp_path}")


def test_breakeven_chart_must_be_a_png(tmp_path):
    done = cli(ROOT, "breakeven", "--stack", "dev", "--out", str(tmp_path / "chart.txt"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "name a file ending in .png" in done.stderr


def test_a_model_that_fits_no_node_of_its_pool_is_an_input_error(tmp_path):
    config = stack_config("dev")
    config["inferplan:platform"]["models"][0].update(model="deepseek-ai/DeepSeek-V3", quantization=None)
    del config["inferplan:platform"]["models"][0]["quantization"]
    root = project(tmp_path)
    write_stack(root, "huge", config)
    done = cli(root, "plan", "--stack", "huge")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert LOCATED.match(done.stderr)
    assert (
        "models[0].model: deepseek-ai/DeepSeek-V3 (fp8) does not fit on pool 'l40s' (g6e.xlarge)"
        in done.stderr
    )


def test_calls_longer_than_the_served_context_are_an_input_error(tmp_path):
    config = stack_config("dev")
    config["inferplan:platform"]["models"][0]["max_context"] = 512
    root = project(tmp_path)
    write_stack(root, "short", config)
    done = cli(root, "plan", "--stack", "short")
    assert done.returncode == 2
    assert LOCATED.match(done.stderr)
    assert (
        "workloads[0].output_tokens: input_tokens + output_tokens = 680 exceed models.llama-8b.max_context 512"
        in done.stderr
    )


def test_on_demand_base_cannot_exceed_max_nodes(tmp_path):
    config = stack_config("dev")
    config["inferplan:platform"]["pools"][0].update(capacity="mixed", on_demand_base=5)
    write_stack(tmp_path, "bad", config)
    with pytest.raises(SpecErrors) as caught:
        load_stack("bad", tmp_path)
    assert "pools[0].on_demand_base: must be <= max_nodes (5 > 2)" in str(caught.value)


def test_the_program_stops_on_a_model_that_fits_no_node_before_registering_anything(record):
    config = stack_config("dev")
    config["inferplan:platform"]["models"][0]["model"] = "deepseek-ai/DeepSeek-V3"
    del config["inferplan:platform"]["models"][0]["quantization"]
    recording = record("dev", config)
    assert recording.failed and recording.resources == []
    assert any("does not fit on pool 'l40s'" in e for e in recording.errors)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda p: p["pools"][0].update(instance_type="g6e.xlarg"),
            "pools[0].instance_type: 'g6e.xlarg' is not in the catalog (did you mean 'g6e.xlarge'?)",
        ),
        (
            lambda p: p["models"][0].update(model="meta-llama/Llama-3.1-8B-Instuct"),
            "models[0].model: unknown model 'meta-llama/Llama-3.1-8B-Instuct' (did you mean 'meta-llama/Llama-3.1-8B-Instruct'?)",
        ),
        (
            lambda p: p["models"][0].update(quantization="mxfp4"),
            "models[0].quantization: meta-llama/Llama-3.1-8B-Instruct is not available in mxfp4",
        ),
        (
            lambda p: p.update(cost={"prices": {"nat_gatway": 0.05}}),
            "cost.prices.nat_gatway: prices nothing (did you mean 'nat_gateway'?)",
        ),
    ],
)
def test_errors_found_while_sizing_or_pricing_point_at_the_field(tmp_path, edit, expected):
    config = stack_config("dev")
    edit(config["inferplan:platform"])
    root = project(tmp_path)
    path = write_stack(root, "late", config)
    done = cli(root, "plan", "--stack", "late")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert LOCATED.match(line) and expected in line, line
    where = line.split(":")
    line_no, col = int(where[1]), int(where[2])
    field = expected.split(":")[0].rsplit(".", 1)[-1].split("[")[0]
    assert field in path.read_text().splitlines()[line_no - 1][: col + len(field) + 20] or col == 1
