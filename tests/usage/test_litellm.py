"""LiteLLM SpendLogs: the /spend/logs JSON, a CSV export and the proxy's PostgreSQL give the same workloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import litellm
import psycopg
import pytest

from inferplan.cli import main
from inferplan.errors import UserError
from inferplan.usage import litellm as reader
from inferplan.usage.aggregate import Summary, summarise
from tests.usage import scenario
from tests.usage.spendlogs_table import DDL, ddl_columns, prisma_columns
from tests.usage.test_sources import assert_matches


def _summary(records: Any, inputs: list[str], tmp_path: Path) -> Summary:
    return summarise(records, source="litellm", inputs=inputs, work_dir=tmp_path)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return scenario.spendlog_rows()


def test_spendlogs_table_matches_litellm_schema() -> None:
    schema = Path(litellm.__file__).parent / "proxy" / "schema.prisma"
    assert ddl_columns() == prisma_columns(schema)


def test_json_export_matches_the_known_week(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    path = scenario.write_spendlogs_json(tmp_path / "spend.json", rows)
    s = _summary(reader.read_files([path], None), [str(path)], tmp_path)
    by_name = {w.name: w for w in s.workloads}
    assert set(by_name) == {"support-bot", "legal-review"}
    assert_matches(by_name["support-bot"], scenario.SUPPORT, monthly=scenario.SUPPORT.monthly_usd)
    assert_matches(by_name["legal-review"], scenario.LEGAL, monthly=scenario.LEGAL.monthly_usd)
    assert by_name["support-bot"].provider == "openai"
    assert by_name["support-bot"].model == "gpt-4o-2024-08-06"
    assert by_name["support-bot"].cost_basis == "source"
    # Half the calls are 600 in, half 1000: the median sits between, the 95th at 1000.
    p = by_name["support-bot"].percentiles
    assert p is not None and p.input_p50 == 800 and p.input_p95 == 1000 and p.output_p95 == 250
    assert s.bad == 3 and s.skipped == {"failed request (status failure)": 1}
    problems = [b.problem for b in s.bad_shown]
    for (_, problem), shown in zip(scenario.BAD_SPENDLOGS, problems, strict=True):
        assert problem in shown
    # Each bad row is pointed at by its line in the pretty-printed array.
    text = path.read_text().splitlines()
    for bad in s.bad_shown:
        line = int(bad.where.split(":")[1].split()[0])
        assert text[line - 1].strip() == "{"
        assert '"request_id": "bad-' in "".join(text[line : line + 20])


def test_csv_export_gives_the_same_workloads_as_json(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    as_json = scenario.write_spendlogs_json(tmp_path / "spend.json", rows)
    as_csv = scenario.write_spendlogs_csv(tmp_path / "spend.csv", rows)
    a = _summary(reader.read_files([as_json], None), ["x"], tmp_path)
    b = _summary(reader.read_files([as_csv], None), ["x"], tmp_path)
    assert a.workloads == b.workloads
    assert (a.bad, a.skipped) == (b.bad, b.skipped)
    # CSV bad rows are named by their line: header + good rows + the bad rows in order.
    good = len(rows) - len(scenario.BAD_SPENDLOGS) - 1
    assert [w.where for w in b.bad_shown] == [f"{as_csv}:{good + 2 + n}" for n in range(3)]


def _load_database(dsn: str, rows: list[dict[str, Any]]) -> None:
    columns = scenario.SPENDLOGS_COLUMNS
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute('DROP TABLE IF EXISTS "LiteLLM_SpendLogs"')
        conn.execute(DDL)
        quoted = ", ".join(f'"{c}"' for c in columns)
        with conn.cursor() as cur, cur.copy(f'COPY "LiteLLM_SpendLogs" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c]) if isinstance(row[c], dict) else row[c] for c in columns])


def test_database_gives_the_same_workloads_as_the_json_export(
    tmp_path: Path, postgres_dsn: str, rows: list[dict[str, Any]]
) -> None:
    # The table's NOT NULL and date types refuse two of the bad rows; the negative count goes in.
    storable = [
        r for r in rows if r["completion_tokens"] is not None and not r["startTime"].startswith("2025-03-32")
    ]
    _load_database(postgres_dsn, storable)
    from_db = _summary(reader.read_database(postgres_dsn, None, tmp_path), ["db"], tmp_path)
    from_json = _summary(
        reader.read_files([scenario.write_spendlogs_json(tmp_path / "s.json", storable)], None),
        ["x"],
        tmp_path,
    )
    assert from_db.workloads == from_json.workloads
    assert from_db.bad == 1 and from_db.skipped == from_json.skipped
    assert 'request_id "bad-0"' in from_db.bad_shown[0].where
    assert "negative prompt_tokens" in from_db.bad_shown[0].problem
    assert_matches({w.name: w for w in from_db.workloads}["support-bot"], scenario.SUPPORT, monthly=15.017)


def test_database_group_by_a_column_and_a_metadata_key(tmp_path: Path, postgres_dsn: str) -> None:
    _load_database(postgres_dsn, scenario.spendlog_rows(with_bad=False))
    s = _summary(
        reader.read_database(postgres_dsn, ["team_id", "metadata.user_api_key_alias"], tmp_path),
        ["db"],
        tmp_path,
    )
    assert {w.key for w in s.workloads} == {("team-support", "svc"), ("team-legal", "svc")}
    assert {w.name for w in s.workloads} == {"team-support-svc", "team-legal-svc"}


def test_database_that_cannot_be_reached_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import-usage", "--source", "litellm", "--dsn", "postgresql://nobody@127.0.0.1:1/none"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: --dsn: cannot read LiteLLM_SpendLogs")


def test_nested_group_key_outside_json_columns_is_refused() -> None:
    with pytest.raises(UserError, match="only metadata, request_tags hold nested fields"):
        reader.read_files([Path("unused.csv")], ["team_id.name"])
