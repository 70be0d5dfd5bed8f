"""No number without a price: a stack on a shape the catalog cannot price is refused, located, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inferplan.cli import main
from tests.conftest import stack_config, write_stack

P5E = (
    "no on-demand price for p5e.48xlarge in us-east-1 (catalog/instance_prices.csv has none): "
    "add cost.prices instance:p5e.48xlarge: <USD per node-hour> or a catalog.instance_prices row"
)


def project(tmp_path: Path, config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_stack(tmp_path, "dev", config)
    (tmp_path / "Pulumi.yaml").write_text("name: inferplan\n")
    monkeypatch.chdir(tmp_path)
    return path


def where(path: Path, text: str) -> str:
    """`file:line:col` of the first value `text` in the file."""
    for number, row in enumerate(path.read_text().splitlines(), start=1):
        if text in row:
            return f"stacks/{path.name}:{number}:{row.index(text) + 1}"
    raise AssertionError(f"{text} not in {path}")


def on_p5e() -> dict[str, Any]:
    config = stack_config("dev")
    config["inferplan:platform"]["pools"][0]["instance_type"] = "p5e.48xlarge"
    return config


@pytest.mark.parametrize("command", ["plan", "breakeven"])
def test_an_unpriced_shape_is_one_located_line_and_exit_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project(tmp_path, on_p5e(), monkeypatch)
    assert main([command, "--stack", "dev"]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"{where(path, 'p5e.48xlarge')}: pools[0].instance_type: {P5E}"]
    assert captured.out == ""  # nothing half-printed: no break-even of a GPU without a price


def test_every_missing_price_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = on_p5e()
    platform = config["inferplan:platform"]
    platform["cost"]["buy"] = {"node_price_usd": {"g6e.xlarge": 1000}}  # a shape nobody uses here: fine
    platform["pools"].append({"name": "spare", "instance_type": "p5.48xlarge", "purchase": "reserved_1y"})
    path = project(tmp_path, config, monkeypatch)
    assert main(["plan", "--stack", "dev"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{where(path, 'reserved_1y')}: pools[1].purchase: no reserved_1y rate for p5.48xlarge in us-east-1 "
        "(catalog/commitments.csv has none): add cost.prices commit:reserved_1y:p5.48xlarge: <USD per node-hour>",
        f"{where(path, 'p5e.48xlarge')}: pools[0].instance_type: {P5E}",
        "2 errors; nothing was planned.",
    ]


def test_a_price_override_makes_the_same_stack_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.cost.conftest import plan_of

    config = on_p5e()
    config["inferplan:platform"]["cost"]["prices"] = {"instance:p5e.48xlarge": 39.80}
    plan = plan_of("dev", config)
    assert plan.pools[0].instance_type == "p5e.48xlarge"
