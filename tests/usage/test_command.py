"""`import-usage` end to end: output the spec accepts, merging into a stack, errors as one line, exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferplan.cli import main
from inferplan.spec import Workload
from inferplan.stackfile import load_stack
from inferplan.usage.names import assign_names, sanitise
from tests.conftest import ROOT
from tests.usage import scenario


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with the example stacks, as the current directory."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def usage_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, _ = scenario.write_generic_csv(tmp_path_factory.mktemp("usage") / "usage.csv")
    return path


def _import(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["import-usage", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_printed_workloads_are_valid_spec_entries_with_review_comments(
    usage_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _import([str(usage_csv), "--source", "csv"], capsys)
    assert code == 0
    entries = yaml.safe_load(out)["workloads"]
    workloads = [Workload.model_validate(e) for e in entries]
    support = next(w for w in workloads if w.name == "support-bot")
    assert support.sensitivity == "internal" and support.route == "auto"
    assert support.peak_to_average == pytest.approx(5.64)
    assert support.current is not None and support.current.model == "gpt-4o-2024-08-06"
    assert support.token_percentiles is not None and support.token_percentiles.input_p95 == 1000
    assert out.count("sensitivity: internal  # REVIEW") == 2
    assert "review sensitivity: every imported workload is 'internal'" in err
    assert "support-bot" in err.split("review sensitivity")[1]
    assert "bad records (3; not used):" in err


def test_write_merges_into_a_stack_keeping_every_other_line(
    project: Path, usage_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = project / "stacks" / "Pulumi.dev.yaml"
    before = stack.read_text().splitlines()
    code, out, err = _import(
        [str(usage_csv), "--source", "csv", "--stack", "dev", "--write", "--route", "claude-haiku"], capsys
    )
    assert code == 0 and out == ""
    after = stack.read_text().splitlines()
    added = [line for line in after if line not in before]
    # Every original line is still there, in order; only the new entries were added.
    kept = iter(after)
    assert all(any(line == other for other in kept) for line in before)
    assert any("# REVIEW" in line for line in added)
    loaded = load_stack("dev", project)  # the planner's own loader accepts the merged file
    names = [w.name for w in loaded.platform.workloads]
    assert names == ["ticket-triage", "legal-review", "support-bot"]
    assert "added legal-review, support-bot" in err

    # Importing again never overwrites silently: the existing entries are skipped and reported.
    code, _, err = _import(
        [str(usage_csv), "--source", "csv", "--stack", "dev", "--write", "--route", "claude-haiku"], capsys
    )
    assert code == 0 and stack.read_text().splitlines() == after
    assert (
        "skipped (already in the stack; --replace refreshes their measured fields): legal-review, support-bot"
        in err
    )


def test_replace_refreshes_measured_fields_and_keeps_decisions(
    project: Path, usage_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = project / "stacks" / "Pulumi.dev.yaml"
    data = yaml.safe_load(stack.read_text())
    text = stack.read_text().replace(
        "name: ticket-triage, calls_per_day: 4000", "name: support-bot, calls_per_day: 4000"
    )
    stack.write_text(text)
    code, _, err = _import(
        [str(usage_csv), "--source", "csv", "--stack", "dev", "--write", "--replace"], capsys
    )
    assert code == 0, err
    platform = yaml.safe_load(stack.read_text())["config"]["inferplan:platform"]
    support = next(w for w in platform["workloads"] if w["name"] == "support-bot")
    old = data["config"]["inferplan:platform"]["workloads"][0]
    assert support["calls_per_day"] == pytest.approx(246.86)
    assert support["peak_to_average"] == pytest.approx(5.64)
    # What a person decided stays: route, fallback, SLO.
    for key in ("route", "fallback", "fallback_rate", "latency_slo_ms", "sensitivity"):
        assert support[key] == old[key]
    assert "refreshed support-bot" in err
    assert "# An internal classifier" in stack.read_text()  # the comment above the entry stays


def test_stack_without_workloads_gets_the_list(
    project: Path, usage_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = project / "stacks" / "Pulumi.dev.yaml"
    lines = stack.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "workloads:")
    del lines[start : start + 5]
    stack.write_text("".join(lines))
    code, _, err = _import(
        [str(usage_csv), "--source", "csv", "--stack", "dev", "--write", "--route", "claude-haiku"], capsys
    )
    assert code == 0, err
    assert [w.name for w in load_stack("dev", project).platform.workloads] == ["legal-review", "support-bot"]


def test_out_writes_the_file_and_prints_nothing(
    tmp_path: Path, usage_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "workloads.yaml"
    code, out, _ = _import([str(usage_csv), "--source", "csv", "--out", str(out_file)], capsys)
    assert code == 0 and out == ""
    assert len(yaml.safe_load(out_file.read_text())["workloads"]) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "is empty"),
        (b"when,who\n1,2\n", "no column 'timestamp'"),
        (b"\xff\xfe\x00garbage", "cannot be read"),
        (
            b"timestamp,provider,model,input_tokens,output_tokens\n2025-03-01T00:00:00Z,openai,m,1,1\n\xff\xfe,\x80\n",
            "cannot be read",
        ),
    ],
)
def test_unreadable_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    path = tmp_path / "usage.csv"
    if content is not None:
        path.write_bytes(content)
    code, out, err = _import([str(path), "--source", "csv"], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ") and message in lines[0]


@pytest.mark.parametrize(
    ("source", "content", "message"),
    [
        ("openai", "{not json", "not JSON (line 1, column 2"),
        ("openai", '{"object": "page", "data": []}', "no 'organization.usage.completions.result'"),
        ("anthropic", '{"data": [{"starting_at": "x", "results": []}]}', "no usage results"),
        ("litellm", '{"rows": []}', "not a /spend/logs export"),
    ],
)
def test_unreadable_json_exports_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, content: str, message: str
) -> None:
    path = tmp_path / "export.json"
    path.write_text(content)
    code, _, err = _import([str(path), "--source", source], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err


def test_bad_arguments_exit_2(usage_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args, message in (
        (["--source", "csv"], "no usage files given"),
        ([str(usage_csv), "--source", "csv", "--write"], "--write needs --stack NAME"),
        (
            [str(usage_csv), "--source", "csv", "--calls", "x=3"],
            "--calls is for sources that count no requests",
        ),
        (
            [str(usage_csv), "--source", "csv", "--since", "last tuesday"],
            "--since 'last tuesday': not a date",
        ),
        (
            [str(usage_csv), "--source", "csv", "--since", "2025-03-06", "--until", "2025-03-05"],
            "no usable csv records",
        ),
    ):
        code, _, err = _import(args, capsys)
        assert code == 2 and message in err, (args, err)


def test_sanitised_names_follow_the_rule_and_collisions_are_numbered() -> None:
    keys = [
        "customer-support-bot-eu",
        "customer-support-bot-us",
        "Customer Support Bot EU!",
        "42-reports",
        "",
        "arn:aws:sts::123456789012:assumed-role/Invoice-Parser/i-0abc",
        "arn:aws:iam::123456789012:user/alice",
    ]
    names = assign_names(keys)
    by_key = {n.key: n for n in names}
    assert [n.name for n in names] == [
        "customer-support-b-2",
        "customer-support-b-3",
        "customer-support-bot",
        "w-42-reports",
        "unset",
        "invoice-parser",
        "alice",
    ]
    assert by_key["customer-support-bot-us"].note == (
        "'customer-support-bot-us' -> 'customer-support-b-3' (sanitised to 'customer-support-bot', "
        "which another key already took)"
    )
    assert by_key["42-reports"].note == "'42-reports' -> 'w-42-reports' (sanitised to the name rule)"
    assert sanitise("---") == "unset"
    for n in names:
        Workload.model_validate(_minimal(n.name))


def _minimal(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "calls_per_day": 1,
        "input_tokens": 1,
        "output_tokens": 1,
        "sensitivity": "internal",
        "route": "x",
    }
