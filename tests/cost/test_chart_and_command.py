"""The break-even chart and the `breakeven` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferplan import cli
from inferplan.cost import PoolStep, VolumeModel
from inferplan.cost.chart import plot_breakeven
from inferplan.cost.engine import breakeven_model
from tests.cost.conftest import plan_of

PNG = b"\x89PNG\r\n\x1a\n"


def test_chart_of_seed_000_is_a_png(tmp_path: Path) -> None:
    model = VolumeModel(
        calls_per_month=500_000,
        fixed_usd=0.0,
        per_call_usd=0.0,
        api_per_call_usd=0.007,
        pools=(PoolStep("h100", 1_460.0, 1, 3, 1 / 43_800, 50.0),),
    )
    out = plot_breakeven(
        model, tmp_path / "seed000.png", title="seed 000: one H100 at $2/h vs $7 per 1,000 calls"
    )
    data = out.read_bytes()
    assert data.startswith(PNG) and len(data) > 20_000


@pytest.mark.parametrize("stack", ["dev", "prod-eu"])
def test_chart_of_an_example_stack(stack: str, tmp_path: Path) -> None:
    _, model = breakeven_model(plan_of(stack))
    out = plot_breakeven(model, tmp_path / f"{stack}.png")
    assert out.read_bytes().startswith(PNG)


def test_breakeven_command_prints_figures_and_writes_the_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "be.png"
    assert cli.main(["breakeven", "--stack", "dev", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "break-even" in text and "calls/month" in text and "anthropic/claude-haiku-4-5" in text
    assert "per 1,000 calls" in text
    assert out.read_bytes().startswith(PNG)


def test_breakeven_command_on_an_unknown_stack_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["breakeven", "--stack", "no-such-stack", "--out", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") <= 2 and "Traceback" not in err
