"""`python -m inferplan diff`: formats, exit codes, and one-line errors for files that are not Plan JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inferplan.cli import main
from tests.conftest import ROOT
from tests.review.conftest import edited_plan, example_plan


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_markdown_of_a_clean_change_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write(tmp_path / "base.json", example_plan("prod-eu"))
    head = write(tmp_path / "head.json", edited_plan("raise-h100-and-context"))
    assert main(["diff", str(base), str(head), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("**`prod-eu`** · +0 ~")
    assert "| ~ | `aws:autoscaling/group:Group` | `prod-eu-h100-asg` | `maxSize: 3 → 4` |" in out
    assert "```mermaid\nflowchart LR\n" in out


def test_a_blocking_head_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write(tmp_path / "base.json", example_plan("prod-eu"))
    head = write(tmp_path / "head.json", edited_plan("confidential-fallback"))
    assert main(["diff", str(base), str(head)]) == 1
    assert "new-failure  residency-dataflow  contract-extraction: pass → fail" in capsys.readouterr().out


def test_json_format_and_dev_null_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = write(tmp_path / "head.json", example_plan("prod-eu"))
    assert main(["diff", os.devnull, str(head), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "inferplan.diff/v1" and doc["new_stack"] is True
    assert doc["summary"]["create"] > 100 and doc["summary"]["update"] == doc["summary"]["delete"] == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read: No such file or directory"),
        ("{not json", ":1:2: not JSON: Expecting property name enclosed in double quotes"),
        (
            '{"schema": "inferplan.plan/v0", "resources": []}',
            "not Plan JSON v1: schema is 'inferplan.plan/v0'",
        ),
        ("", ":1:1: not JSON"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    good = write(tmp_path / "good.json", {"schema": "inferplan.plan/v1", "resources": []})
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    assert main(["diff", str(bad), str(good)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {bad}") and expected in err


def test_the_module_entry_point_exits_with_the_policy_code(tmp_path: Path) -> None:
    """As CI calls it: a separate process, whose exit code fails the check."""
    base = write(tmp_path / "base.json", example_plan("prod-eu"))
    head = write(tmp_path / "head.json", edited_plan("raise-h100-only"))
    done = subprocess.run(
        [sys.executable, "-m", "inferplan", "diff", str(base), str(head), "--format", "markdown"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("**`prod-eu`** · resources not planned (blocked by policy) · ")
    assert " · 1 policy failing" in first
    assert "| **new failure** | `budget-worst-case` |" in done.stdout
