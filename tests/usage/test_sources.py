"""Each source's reader on the known week (tests/usage/scenario.py): volumes, sizes, peak and spend.

Done means: calls_per_day and mean token sizes within 1% of the known totals, peak_to_average equal
to the fixture's busiest hour, bad records counted with their line.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inferplan.errors import UserError
from inferplan.usage import anthropic, bedrock, csvfile, openai
from inferplan.usage.aggregate import ImportedWorkload, Summary, Window, summarise
from inferplan.usage.records import Records
from tests.usage import scenario


def assert_matches(w: ImportedWorkload, want: scenario.Expected, *, monthly: float | None) -> None:
    assert w.calls_per_day == pytest.approx(want.calls_per_day, rel=0.01)
    assert w.input_tokens == pytest.approx(want.input_tokens, rel=0.01)
    assert w.output_tokens == pytest.approx(want.output_tokens, rel=0.01)
    assert w.peak_to_average == pytest.approx(want.peak_to_average, abs=0.005)
    if monthly is None:
        assert w.monthly_usd is None
    else:
        assert w.monthly_usd == pytest.approx(monthly, rel=0.01)


def _run(records: Records, source: str, tmp_path: Path, **kw: object) -> Summary:
    return summarise(records, source=source, inputs=["fixture"], work_dir=tmp_path, **kw)  # type: ignore[arg-type]


def test_openai_usage_with_costs(tmp_path: Path) -> None:
    usage = scenario.write_openai(tmp_path / "usage.json", tmp_path / "costs.json")
    s = _run(openai.read_files([usage, tmp_path / "costs.json"], None), "openai", tmp_path)
    by_name = {w.name: w for w in s.workloads}
    assert set(by_name) == {"proj-supportbot01", "proj-legalreview7"}
    assert_matches(by_name["proj-supportbot01"], scenario.SUPPORT, monthly=scenario.SUPPORT.monthly_usd)
    assert_matches(by_name["proj-legalreview7"], scenario.LEGAL, monthly=scenario.LEGAL.monthly_usd)
    assert by_name["proj-legalreview7"].model == "gpt-4.1-2025-04-14"
    assert by_name["proj-supportbot01"].percentiles is None  # buckets hide the spread
    assert s.days == 7 and s.bad == 0


def test_openai_usage_without_costs_is_priced_from_the_catalog(tmp_path: Path) -> None:
    usage = scenario.write_openai(tmp_path / "usage.json", None)
    s = _run(openai.read_files([usage], ["project_id", "model"]), "openai", tmp_path)
    by_key = {w.key: w for w in s.workloads}
    support = by_key[("proj_SupportBot01", "gpt-4o-2024-08-06")]
    # gpt-4o at $2.50 / $10 per million: 800 x 2.5e-6 + 200 x 1e-5 = $0.004 a call; 1728 calls a week
    # -> 1728 x 0.004 / 7 x 30.4167 = $30.03 a month.
    assert_matches(support, scenario.SUPPORT, monthly=30.034)
    assert support.cost_basis == "catalog"
    assert support.name == "proj-supportbot01-gp"  # 20 characters at most


def test_openai_cost_in_another_currency_is_a_bad_record(tmp_path: Path) -> None:
    usage = scenario.write_openai(tmp_path / "usage.json", tmp_path / "costs.json")
    costs = tmp_path / "costs.json"
    costs.write_text(costs.read_text().replace('"currency": "usd"', '"currency": "eur"', 1))
    s = _run(openai.read_files([usage, costs], None), "openai", tmp_path)
    assert s.bad == 1
    assert s.bad_shown[0].problem == "amount.currency is not USD (convert the export to one currency)"
    assert s.bad_shown[0].where == f"{costs}:1 (data[0].results[0])"  # the costs page is one line


def test_anthropic_needs_calls_and_measures_the_peak_on_tokens(tmp_path: Path) -> None:
    path = scenario.write_anthropic(tmp_path / "usage.jsonl")
    records = anthropic.read_files([path], None)
    with pytest.raises(UserError, match=r"--calls wrkspc-01legalreview=N --calls wrkspc-01supportbot=N"):
        _run(records, "anthropic", tmp_path)
    s = _run(
        anthropic.read_files([path], None),
        "anthropic",
        tmp_path,
        calls_by_name={"wrkspc-01supportbot": 1728, "wrkspc-01legalreview": 672},
    )
    by_name = {w.name: w for w in s.workloads}
    # Catalog: haiku-4-5 at $1 / $5 -> $0.0018 a call -> 1728 x 0.0018 / 7 x 30.4167 = $13.52 a month;
    # sonnet-4-5 at $3 / $15 -> $0.0165 a call -> $48.18.
    assert_matches(by_name["wrkspc-01supportbot"], scenario.SUPPORT, monthly=13.515)
    assert_matches(by_name["wrkspc-01legalreview"], scenario.LEGAL, monthly=scenario.LEGAL.monthly_usd)
    assert by_name["wrkspc-01legalreview"].model == "claude-sonnet-4-5-20250929"
    assert "'wrkspc_01LegalReview' -> 'wrkspc-01legalreview' (sanitised to the name rule)" in s.renames


def test_bedrock_invocation_logs(tmp_path: Path) -> None:
    path, bad = scenario.write_bedrock(tmp_path / "invocations.json.gz")
    s = _run(bedrock.read_files([path], None), "bedrock", tmp_path)
    by_name = {w.name: w for w in s.workloads}
    assert set(by_name) == {"support-bot-role", "legal-review-role"}
    # Bedrock's US inference profile of Haiku 4.5 lists at 10% over Anthropic's own price (1.1 / 5.5 a
    # million tokens, catalog/api_prices.csv): the week's 1,382,400 in and 345,600 out tokens cost
    # $3.4214, i.e. $0.48878 a day, $14.867 a month.
    assert_matches(by_name["support-bot-role"], scenario.SUPPORT, monthly=14.867)
    assert_matches(by_name["legal-review-role"], scenario.LEGAL, monthly=scenario.LEGAL.monthly_usd)
    assert s.skipped == {"failed invocation (errorCode ThrottlingException)": 1}
    assert [(b.where, b.problem.split(" '")[0]) for b in s.bad_shown] == [
        (f"{path}:{line}", problem) for line, problem in bad.items()
    ]


def test_generic_csv_with_bad_rows(tmp_path: Path) -> None:
    path, bad = scenario.write_generic_csv(tmp_path / "usage.csv")
    s = _run(csvfile.read_files([path], None), "csv", tmp_path)
    by_name = {w.name: w for w in s.workloads}
    assert_matches(by_name["support-bot"], scenario.SUPPORT, monthly=scenario.SUPPORT.monthly_usd)
    assert_matches(by_name["legal-review"], scenario.LEGAL, monthly=scenario.LEGAL.monthly_usd)
    assert s.bad == 3
    for shown, (line, problem) in zip(s.bad_shown, bad.items(), strict=True):
        assert shown.where == f"{path}:{line}"
        assert problem in shown.problem


def test_since_until_narrow_the_span(tmp_path: Path) -> None:
    path, _ = scenario.write_generic_csv(tmp_path / "usage.csv")
    window = Window(datetime(2025, 3, 5, tzinfo=UTC), datetime(2025, 3, 6, tzinfo=UTC))
    s = _run(csvfile.read_files([path], None), "csv", tmp_path, window=window)
    support = {w.name: w for w in s.workloads}["support-bot"]
    # Wednesday alone: 23 x 10 + 58 = 288 calls in one day; busiest hour 58 against 12 an hour.
    assert s.days == 1
    assert support.calls_per_day == 288
    assert support.peak_to_average == pytest.approx(58 / 12, abs=0.005)
    assert s.outside == 2400 - 288 - 96


def test_daily_buckets_leave_the_peak_out(tmp_path: Path) -> None:
    usage = scenario.write_openai(tmp_path / "usage.json", None)
    pages = json.loads(usage.read_text())
    for page in pages:  # the same results, declared as day-wide buckets
        for bucket in page["data"]:
            bucket["end_time"] = bucket["start_time"] + 86400
    usage.write_text(json.dumps(pages))
    s = _run(openai.read_files([usage], None), "openai", tmp_path)
    assert all(w.peak_to_average is None for w in s.workloads)
    assert any("hide the busiest hour" in n for n in s.notes)


def test_generic_csv_with_hourly_aggregates(tmp_path: Path) -> None:
    path = tmp_path / "hourly.csv"
    lines = ["timestamp,workload,provider,model,input_tokens,output_tokens,calls,cost"]
    for hour in range(48):  # two days; hour 30 has 40 calls, every other hour 10 of 500 in / 50 out
        n = 40 if hour == 30 else 10
        lines.append(
            f"{1741000000 - 1741000000 % 3600 + hour * 3600},etl,openai,gpt-4o,{n * 500},{n * 50},{n},{n * 0.001}"
        )
    path.write_text("\n".join(lines) + "\n")
    s = _run(csvfile.read_files([path], None), "csv", tmp_path)
    (etl,) = s.workloads
    # 47 x 10 + 40 = 510 calls over 2 days = 255 a day; busiest hour 40 against 510 / 48 = 10.625.
    assert etl.calls_per_day == 255
    assert (etl.input_tokens, etl.output_tokens) == (500, 50)
    assert etl.peak_to_average == pytest.approx(40 / 10.625, abs=0.005)
    assert etl.percentiles is None
    assert etl.monthly_usd == pytest.approx(0.51 / 2 * 730 / 24, rel=0.01)


def test_csv_read_in_many_blocks_keeps_totals_and_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inferplan.usage import files

    monkeypatch.setattr(files, "CSV_BLOCK_BYTES", 4096)  # the fixture is ~200 KB: about 50 blocks
    path, bad = scenario.write_generic_csv(tmp_path / "usage.csv")
    s = _run(csvfile.read_files([path], None), "csv", tmp_path)
    by_name = {w.name: w for w in s.workloads}
    assert_matches(by_name["support-bot"], scenario.SUPPORT, monthly=scenario.SUPPORT.monthly_usd)
    assert [b.where for b in s.bad_shown] == [f"{path}:{line}" for line in bad]
