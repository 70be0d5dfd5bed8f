"""Input that cannot hurt: size, depth, alias expansion, tags, bounds and escaping end in located errors."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from inferplan.safe_yaml import MAX_DEPTH
from inferplan.stackfile import SpecErrors, load_stack, read_stack
from offline.project import linked_project
from tests.conftest import ROOT

LOCATED = re.compile(r"^stacks/Pulumi\.[\w.-]+\.yaml:\d+:\d+: ")
DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()


def errors(text: str) -> list[str]:
    with pytest.raises(SpecErrors) as caught:
        read_stack(text, "stacks/Pulumi.bad.yaml", "bad")
    return [str(e) for e in caught.value.errors]


def alias_bomb(levels: int = 9) -> str:
    text = (
        "config:\n  aws:region: us-east-1\n  inferplan:platform:\n    a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    )
    for i in range(1, levels + 1):
        text += f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    return text


def test_an_alias_bomb_is_refused_where_it_goes_off():
    text = alias_bomb()
    assert len(text) < 700
    [error] = errors(text)
    assert error.startswith("stacks/Pulumi.bad.yaml:") and "more than 500,000 keys and values" in error
    line = int(error.split(":")[1])
    assert text.splitlines()[line - 1].startswith("    a")


def test_deep_nesting_is_refused_before_the_yaml_composer_sees_it():
    deep = DEV.replace("route: llama-8b", "route: " + "[" * 100_000 + "]" * 100_000)
    [error] = errors(deep)
    assert f"nested deeper than {MAX_DEPTH} levels" in error and LOCATED.match(error)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("route: llama-8b", "route: !!int llama-8b", "'llama-8b' cannot be read as !!int"),
        ("environment: dev", "environment: !!bool maybe", "'maybe' cannot be read as !!bool"),
        ("environment: dev", "environment: !!timestamp 2024-01-01 25:00:00", "cannot be read as !!timestamp"),
        ("input_tokens: 600", "input_tokens: 1" + "0" * 5000, "cannot be read as !!int"),
    ],
)
def test_a_value_that_does_not_fit_its_tag_is_a_located_error(old, new, expected):
    assert old in DEV
    [error] = errors(DEV.replace(old, new, 1))
    assert LOCATED.match(error) and expected in error and len(error) < 300


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "calls_per_day: 4000",
            "calls_per_day: 1e300",
            "workloads[0].calls_per_day: must be at most 1,000,000,000",
        ),
        (
            "max_nodes: 2}",
            "max_nodes: 100000000000000000000000}",
            "pools[0].max_nodes: must be at most 1,000 (got a 24-digit number)",
        ),
        ("monthly_usd: 3000 ", "monthly_usd: 1e12 ", "budget.monthly_usd: must be at most 1,000,000,000"),
        (
            "input_tokens: 600",
            "input_tokens: 99999999999",
            "workloads[0].input_tokens: must be at most 10,000,000",
        ),
        ("monthly_cap_usd: 300", "monthly_cap_usd: 0", "frontier[0].monthly_cap_usd: must be greater than 0"),
    ],
)
def test_numbers_are_bounded_with_the_bound_in_the_message(old, new, expected):
    assert old in DEV
    found = errors(DEV.replace(old, new, 1))
    assert any(expected in e for e in found), found


def test_a_catalog_override_beyond_any_sane_number_is_refused():
    text = (
        DEV
        + "    catalog:\n      gpus:\n        - {gpu: L40S, memory_gib: 48, memory_bandwidth_tb_s: 1e-300, bf16_dense_tflops: 1e308}\n"
    )
    found = errors(text)
    assert any("catalog.gpus[0].memory_bandwidth_tb_s: is too small" in e for e in found), found
    assert any("catalog.gpus[0].bf16_dense_tflops: is out of range: at most 1e+15" in e for e in found), found


def test_keys_and_values_with_control_characters_stay_on_one_line():
    text = DEV.replace("    operations:\n", '    "ev\\nil\\u001b[31m": 1\n    operations:\n').replace(
        "environment: dev", 'environment: "d\\u202eev"'
    )
    found = errors(text)
    assert all("\n" not in e and "\x1b" not in e and "\u202e" not in e for e in found)
    assert any("ev\\nil\\x1b[31m: key contains the control character U+000A" in e for e in found), found
    assert any("environment: contains the control character U+202E" in e for e in found), found


def test_a_stack_name_is_not_a_path(tmp_path):
    from inferplan.errors import UserError

    with pytest.raises(UserError, match="not a stack name"):
        load_stack("../../etc/passwd", tmp_path)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.big.yaml").write_text("# " + "x" * (3 * 1024 * 1024) + "\n")
    with pytest.raises(SpecErrors, match="larger than 2 MiB"):
        load_stack("big", tmp_path)


@pytest.mark.parametrize("name", ["bomb", "huge"])
def test_the_cli_ends_in_exit_2_with_one_located_line(tmp_path, name):
    root = linked_project(tmp_path / "p")
    text = alias_bomb() if name == "bomb" else DEV.replace("calls_per_day: 4000", "calls_per_day: 1e300")
    (root / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "inferplan", "plan", "--stack", name, "--out", str(tmp_path / "plan.json")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert LOCATED.match(line), line
    assert not (tmp_path / "plan.json").exists()


def test_missing_nested_keys_are_reported_together():
    text = DEV.replace('jwt: {issuer: "https://id.example.com", audience: [inference-dev]}', "jwt: {}")
    assert text != DEV
    [error] = errors(text)
    assert "gateway.jwt: required keys 'issuer', 'audience' are missing" in error


def test_a_volume_too_small_to_compute_with_is_refused():
    # A denormal volume once reached the break-even curve as a pool of zero capacity (a division by zero).
    [error] = errors(DEV.replace("calls_per_day: 4000", "calls_per_day: 1e-320"))
    assert "workloads[0].calls_per_day: is too small: 0 or at least 1e-09" in error
