"""init, catalog, --set, --version, -C: the daily loop of a platform engineer."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from inferplan.catalog import CATALOG_DIR
from inferplan.commands.size import add_arguments as size_arguments
from inferplan.commands.size import sizing_from_args
from offline.project import linked_project
from tests.cli.conftest import inferplan
from tests.conftest import ROOT, stack_config, write_stack


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return linked_project(tmp_path / "project")


# -- init ------------------------------------------------------------------------------------------


def test_init_writes_a_stack_that_plans_at_once(project):
    done = inferplan("init", "--stack", "team-a", "--region", "eu-central-1", cwd=project)
    assert done.returncode == 0, done.stderr
    text = (project / "stacks" / "Pulumi.team-a.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=") and "\n      # " in text  # commented
    planned = inferplan("plan", "--stack", "team-a", "--format", "json", cwd=project)
    assert planned.returncode == 0, planned.stderr
    doc = json.loads(planned.stdout)
    assert doc["region"] == "eu-central-1" and not [p for p in doc["policy"] if p["status"] == "fail"]
    assert doc["costs"]["monthly_expected_usd"] < 2800 * 1.25  # the budget fits the priced month


def test_init_never_overwrites_and_refuses_unknown_regions(project):
    path = project / "stacks" / "Pulumi.mine.yaml"
    path.write_text("keep me\n")
    done = inferplan("init", "--stack", "mine", cwd=project)
    assert done.returncode == 2 and "already exists" in done.stderr and path.read_text() == "keep me\n"
    done = inferplan("init", "--stack", "other", "--region", "eu-centrl-1", cwd=project)
    assert done.returncode == 2 and "did you mean 'eu-central-1'" in done.stderr
    assert not (project / "stacks" / "Pulumi.other.yaml").exists()


# -- catalog ---------------------------------------------------------------------------------------


def catalog_json(*args: str) -> list[dict]:
    done = inferplan("catalog", *args, "--format", "json", check=True)
    return json.loads(done.stdout)["items"]


def test_catalog_models_lists_every_model_size_accepts():
    in_file: set[str] = set()
    for name in ("models.csv", "model_aliases.csv"):  # an alias (base model, renamed id) is listed too
        with (CATALOG_DIR / name).open(newline="") as handle:
            in_file |= {row["id"] for row in csv.DictReader(handle)}
    listed = catalog_json("models")
    assert {m["id"] for m in listed} == in_file
    assert all(m["source"] and m["as_of"] for m in listed)
    import argparse

    parser = argparse.ArgumentParser()
    size_arguments(parser)
    for item in listed:  # `size` accepts each one (a model too big for one GPU is a result, not an error)
        args = parser.parse_args(["--model", item["id"], "--gpu", "H200", "--gpus", "8"])
        model, _, _ = sizing_from_args(args)
        assert model.id == item["id"]


def test_catalog_instances_have_prices_and_dates_per_region():
    home = {i["instance_type"]: i for i in catalog_json("instances", "--region", "us-east-1")}
    abroad = {i["instance_type"]: i for i in catalog_json("instances", "--region", "eu-central-1")}
    assert home["p5.48xlarge"]["usd_per_hour"] > 0 and home["p5.48xlarge"]["price_as_of"]
    assert not home["p5.48xlarge"]["estimated"]
    derived = [t for t, i in abroad.items() if i["estimated"]]
    assert derived and all(abroad[t]["usd_per_hour"] > home[t]["usd_per_hour"] for t in derived)
    done = inferplan("catalog", "instances", "--region", "mars-1")
    assert done.returncode == 2 and "no prices for 'mars-1'" in done.stderr


def test_catalog_apis_and_gpus_and_text():
    apis = catalog_json("apis")
    sonnet = next(a for a in apis if a["model"] == "claude-sonnet-4-5")
    assert sonnet["output_usd_per_mtok"] > sonnet["input_usd_per_mtok"] > 0 and sonnet["as_of"]
    assert {"H100", "H200", "L40S"} <= {g["gpu"] for g in catalog_json("gpus")}
    text = inferplan("catalog", "gpus", check=True).stdout
    assert text.splitlines()[0].split()[:2] == ["gpu", "memory_gib"]


def test_catalog_commitments_and_hardware_are_what_the_cost_model_prices_with():
    """Each listed rate is the price book's for that purchase; every owned-hardware row is listed."""
    from inferplan.pricebook import PriceBook

    listed = catalog_json("commitments", "--region", "eu-central-1")
    book = PriceBook.builtin("eu-central-1")
    assert {i["purchase"] for i in listed} >= {"reserved_1y", "reserved_3y", "savings_plan_1y"}
    for item in listed:
        price = book.commitment_hour(item["instance_type"], item["purchase"])
        assert price is not None and item["usd_per_hour"] == round(price.usd, 4)
        assert item["as_of"] and item["source"] and item["estimated"] == price.estimated
        assert item["usd_per_hour"] < item["on_demand_usd_per_hour"], item
    # dev's g6e.xlarge, reserved for a year in us-east-1: the rate behind docs/cost.md's worked saving.
    home = {(i["instance_type"], i["purchase"]): i for i in catalog_json("commitments")}
    assert home[("p5.48xlarge", "capacity_block")]["min_hours"] == 24  # blocks: us-east-1 rows only
    g6e = home[("g6e.xlarge", "reserved_1y")]
    assert (
        abs((g6e["on_demand_usd_per_hour"] - g6e["usd_per_hour"]) * 730 * 2 - 1005.31) < 0.1
    )  # 4 decimals shown

    with (CATALOG_DIR / "owned_hardware.csv").open(newline="") as handle:
        owned = {row["instance_type"] for row in csv.DictReader(handle)}
    hardware = catalog_json("hardware")
    assert {h["instance_type"] for h in hardware} == owned
    assert all(h["node_price_usd"] > 0 and h["as_of"] and h["source"] for h in hardware)
    assert inferplan("catalog", "commitments", "--region", "mars-1").returncode == 2


# -- plan --set ------------------------------------------------------------------------------------


def test_set_changes_the_figure_it_should_and_diff_shows_it(tmp_path):
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    inferplan("plan", "--stack", "dev", "--format", "json", "--out", str(base), check=True)
    done = inferplan(
        "plan",
        "--stack",
        "dev",
        "--set",
        "workloads[ticket-triage].calls_per_day=8000",
        "--set",
        "autoscaling.max_nodes_per_pool=3",
        "--set",
        "pools[l40s].max_nodes=3",
        "--out",
        str(head),
    )
    assert done.returncode == 0, done.stderr
    assert (
        "What-if (--set, the stack file is unchanged): workloads[ticket-triage].calls_per_day=8000"
        in done.stdout
    )
    before, after = json.loads(base.read_text()), json.loads(head.read_text())
    assert after["costs"]["calls_per_month"] == pytest.approx(2 * before["costs"]["calls_per_month"])
    assert after["overrides"][0] == {
        "set": "workloads[ticket-triage].calls_per_day=8000",
        "path": "workloads[ticket-triage].calls_per_day",
        "value": 8000,
    }
    # The Pulumi program (a child process) planned the overridden spec, not the file's.
    [group] = [r for r in after["resources"] if r["type"] == "aws:autoscaling/group:Group"]
    assert group["inputs"]["maxSize"] == 3
    diff = json.loads(inferplan("diff", str(base), str(head), "--format", "json", check=True).stdout)
    assert "maxSize" in json.dumps(diff) and diff != {}
    assert (ROOT / "stacks" / "Pulumi.dev.yaml").read_text().count("calls_per_day: 4000") == 1


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        (
            "workloads[ticket-triage].calls_per_day=1e300",
            "--set workloads[ticket-triage].calls_per_day=1e300: workloads[0].calls_per_day: must be at most "
            "1,000,000,000 (got 1e+300)",
        ),
        (
            "workloads[ticket-triag].calls_per_day=1",
            "no workloads entry named 'ticket-triag' (did you mean 'ticket-triage'?)",
        ),
        ("pools[l40s].maxnodes=3", "pools[0].maxnodes: unknown key 'maxnodes' (did you mean 'max_nodes'?)"),
        ("pools[l40s]max_nodes", "expected PATH=VALUE"),
        (
            "models[llama-8b].model=meta-llama/Llama-9-8B",
            "--set models[llama-8b].model=meta-llama/Llama-9-8B: models[0].model: ",
        ),
    ],
)
def test_set_errors_are_located_at_the_argument(argument, expected):
    done = inferplan("plan", "--stack", "dev", "--set", argument)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert expected in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_set_in_markdown_report():
    from inferplan.report import render
    from tests.cli.conftest import example_report

    report = example_report("dev")
    from dataclasses import replace

    text = render(replace(report, overrides=("pools[l40s].max_nodes=2",)), "markdown")
    assert "**What-if** (`--set`, the stack file is unchanged): `pools[l40s].max_nodes=2`" in text


# -- works from anywhere ---------------------------------------------------------------------------


def test_version():
    done = inferplan("--version", check=True)
    assert done.stdout.strip() == "inferplan 0.1.0"


def test_the_project_is_found_from_a_subdirectory_and_with_C(project, tmp_path):
    write_stack(project, "only-here", stack_config("dev"))
    (project / "deep" / "er").mkdir(parents=True)
    done = inferplan("router-config", "--stack", "only-here", cwd=project / "deep" / "er")
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = inferplan("-C", str(project / "deep"), "router-config", "--stack", "only-here", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    done = inferplan("-C", str(elsewhere), "router-config", "--stack", "dev", cwd=project)
    assert done.returncode == 2 and "no Pulumi.yaml there" in done.stderr


def test_breakeven_writes_a_chart_only_where_asked(project):
    write_stack(project, "be", stack_config("dev"))
    done = inferplan("breakeven", "--stack", "be", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "not drawn (pass --out FILE.png)" in done.stdout
    assert not list(project.glob("*.png")) and not list(ROOT.glob("*.png"))
