"""Import real usage into a stack, then plan it: the imported workloads go through the decision engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from inferplan.cli import main
from offline.project import linked_project
from tests.conftest import ROOT
from tests.usage import scenario


def test_imported_workloads_plan_end_to_end_with_what_should_move(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = linked_project(tmp_path / "project")
    # The hybrid example's platform without its workloads: the imported ones take their place.
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.hybrid.yaml").read_text())
    stack["config"]["inferplan:platform"]["workloads"] = []
    (project / "stacks" / "Pulumi.imported.yaml").write_text(yaml.safe_dump(stack, sort_keys=False))
    usage, _ = scenario.write_generic_csv(tmp_path / "usage.csv")
    monkeypatch.chdir(project)
    assert main(["import-usage", str(usage), "--source", "csv", "--stack", "imported", "--write"]) == 0
    capsys.readouterr()

    done = subprocess.run(
        [sys.executable, "-m", "inferplan", "plan", "--stack", "imported", "--format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    decided = {w["workload"]: w for w in plan["decision"]["workloads"]}
    assert set(decided) == {"support-bot", "legal-review"}
    for w in decided.values():
        assert w["declared"] == "auto" and w["chosen"] != "auto"
        # Imported from records priced at $15.02 and $48.18 a month (tests/usage/scenario.py).
        assert w["current"]["monthly_usd"] == pytest.approx(
            {"support-bot": 15.02, "legal-review": 48.18}[w["workload"]], abs=0.01
        )
        chosen = next(o for o in w["options"] if o["target"] == w["chosen"])
        assert w["saving_usd"] == pytest.approx(w["current"]["monthly_usd"] - chosen["monthly_usd"], abs=0.01)
    assert "imported workload(s) spend $63.20/month on their APIs" in plan["decision"]["summary"]
    assert {r["workload"]: r["target"] for r in plan["routes"]} == {
        w: d["chosen"] for w, d in decided.items()
    }
