"""One price book and a Plan that resolves every decision (issue 11's "done means"), through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inferplan.cost import estimate
from inferplan.planner import build_plan
from inferplan.preflight.prices_cache import price_cache_path, write_price_cache
from inferplan.spec import Platform
from offline.project import linked_project
from tests.conftest import stack_config, write_stack


def plan_json(root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "inferplan", "plan", "--format", "json", *args],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else {}), done.stderr


def test_a_price_cache_in_the_checkout_changes_nothing_unless_asked_for(tmp_path: Path) -> None:
    root = linked_project(tmp_path / "project")
    write_stack(root, "dev", stack_config("dev"))
    # A stale row where `plan` would find it by default: g6e.xlarge at 40x the catalog's price.
    write_price_cache(
        price_cache_path(root), "us-east-1", {"g6e.xlarge": 80.0}, [], datetime(2025, 1, 2, tzinfo=UTC)
    )
    catalog_only = estimate(
        build_plan("dev", Platform.model_validate(stack_config("dev")["inferplan:platform"]))
    )

    code, plain, err = plan_json(root, "--stack", "dev")
    assert code == 0, err
    assert plain["costs"]["monthly_expected_usd"] == pytest.approx(
        catalog_only.monthly_expected_usd, abs=0.01
    )
    assert "prices_cache" not in plain

    code, cached, err = plan_json(root, "--stack", "dev", "--prices-cache")
    assert code == 1, err  # 730 h x $80 breaks dev's budget: the figure moved because the user asked
    assert cached["costs"]["monthly_expected_usd"] > plain["costs"]["monthly_expected_usd"] + 50_000
    assert cached["prices_cache"].endswith("(fetched 2025-01-02)")
    assert any("price cache" in a for a in cached["costs"]["assumptions"])


def test_a_missing_cache_asked_for_is_one_line_and_exit_2(tmp_path: Path) -> None:
    root = linked_project(tmp_path / "project")
    write_stack(root, "dev", stack_config("dev"))
    code, _, err = plan_json(root, "--stack", "dev", "--prices-cache", str(tmp_path / "none.json"))
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: --prices-cache: {tmp_path / 'none.json'} does not exist (write it with "
        "`python -m inferplan preflight --stack <stack> --refresh-prices`)"
    ]


def test_a_pool_without_max_nodes_under_a_valid_waiver_plans(tmp_path: Path) -> None:
    config = stack_config("dev")
    platform = config["inferplan:platform"]
    del platform["pools"][0]["max_nodes"]
    expires = (date.today() + timedelta(days=30)).isoformat()
    platform["policy"] = {
        "waivers": [
            {
                "rule": "autoscaler-bounded",
                "subject": "l40s",
                "reason": "load test this week",
                "expires": expires,
            }
        ]
    }
    root = linked_project(tmp_path / "project")
    write_stack(root, "dev", config)
    code, plan, err = plan_json(root, "--stack", "dev")
    assert code == 0, err
    [bounded] = [p for p in plan["policy"] if p["rule"] == "autoscaler-bounded"]
    assert bounded["status"] == "fail" and bounded.get("waived") is True
    [pool] = plan["pools"]
    ceiling = platform["autoscaling"]["max_nodes_per_pool"]
    assert (pool["max_nodes"], pool["declared_max_nodes"]) == (ceiling, None)
    [group] = [r for r in plan["resources"] if r["type"] == "aws:autoscaling/group:Group"]
    assert group["inputs"]["maxSize"] == ceiling
