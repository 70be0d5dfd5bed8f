"""LiteLLM proxy `SpendLogs`: one row per request, from its `/spend/logs` JSON, a CSV export, or the
proxy's PostgreSQL database (`--dsn`).

Columns read (LiteLLM's `LiteLLM_SpendLogs` table, schema.prisma): `request_id`, `startTime`,
`model`, `custom_llm_provider`, `prompt_tokens`, `completion_tokens`, `spend` (USD), `status`, and
whatever `--group-by` names — a column (`team_id`, `user`, `api_key`, `end_user`, `model_group`) or a
key inside the `metadata` JSON (`metadata.user_api_key_team_alias`, the default). Rows with
`status = failure` are skipped and counted (a failed call is no workload to move).
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from inferplan.errors import UserError
from inferplan.usage.files import UnreadableFile, json_place, raw, read_json, scan_csv, string_frame
from inferplan.usage.records import (
    Problems,
    Records,
    count_field,
    key_column,
    key_value,
    money_field,
    text_field,
    timestamp_field,
)

DEFAULT_GROUP_BY = ("metadata.user_api_key_team_alias",)
TABLE = "LiteLLM_SpendLogs"
REQUIRED = ("startTime", "model", "prompt_tokens", "completion_tokens")
OPTIONAL = ("custom_llm_provider", "spend", "status")
JSON_COLUMNS = ("metadata", "request_tags")  # stored as JSON; dotted group keys look inside


def _column_of(key: str) -> str:
    """The SpendLogs column a group key reads (`metadata.x` reads `metadata`)."""
    head, _, rest = key.partition(".")
    if rest and head not in JSON_COLUMNS:
        raise UserError(
            f"--group-by {key}: only {', '.join(JSON_COLUMNS)} hold nested fields in SpendLogs "
            f"(use a column such as team_id, user, api_key, end_user, model_group, or metadata.<key>)"
        )
    return head


def _key_expr(key: str) -> pl.Expr:
    column, _, path = key.partition(".")
    if not path:
        return pl.col(column)
    return pl.col(column).str.json_path_match(f"$.{path}")


def _records(frame: pl.LazyFrame, group_by: Sequence[str], locate: Any, notes: Sequence[str]) -> Records:
    problems = Problems()
    ts = timestamp_field(pl.col("startTime"), "startTime", problems)
    prompt = count_field(pl.col("prompt_tokens"), "prompt_tokens", problems)
    completion = count_field(pl.col("completion_tokens"), "completion_tokens", problems)
    spend = money_field(pl.col("spend"), "spend", problems)
    model = text_field(pl.col("model"), "model", problems)
    provider = pl.col("custom_llm_provider")
    provider = (
        pl.when(provider.is_null() | (provider == ""))
        .then(
            pl.when(model.str.contains("/", literal=True))
            .then(model.str.split("/").list.first())
            .otherwise(pl.lit("unknown"))
        )
        .otherwise(provider)
    )
    failed = pl.col("status") == "failure"
    return Records(
        frame=frame.select(
            "file",
            "row",
            ts.alias("ts"),
            pl.lit(1, pl.Int64).alias("calls"),
            prompt.alias("input_tokens"),
            completion.alias("output_tokens"),
            spend.alias("cost"),
            provider.alias("provider"),
            model.alias("model"),
            problems.mask().alias("problem"),
            pl.when(failed).then(pl.lit("failed request (status failure)")).alias("skip"),
            *[key_value(_key_expr(k)).alias(key_column(i)) for i, k in enumerate(group_by)],
        ),
        problem_messages=tuple(problems.messages),
        group_by=tuple(group_by),
        per_request=True,
        locate=locate,
        notes=tuple(notes),
    )


def _json_rows(path: Path, columns: Sequence[str]) -> tuple[pl.DataFrame, list[tuple[str | int, ...]]]:
    document = read_json(path)
    base: tuple[str | int, ...]
    if isinstance(document, list):
        items, base = document, ()
    elif isinstance(document, dict) and isinstance(document.get("data"), list):
        items, base = document["data"], ("data",)
    else:
        raise UnreadableFile(path, "not a /spend/logs export (expected a JSON array of SpendLogs rows)")
    values: dict[str, list[Any]] = {c: [] for c in columns}
    places: list[tuple[str | int, ...]] = []
    for index, item in enumerate(items):
        row = item if isinstance(item, dict) else {}
        for c in columns:
            values[c].append(raw(row.get(c)))
        places.append((*base, index))
    frame = string_frame({"row": list(range(len(items))), **values})
    return frame.with_columns(pl.lit(str(path)).alias("file")), places


def read_files(paths: Sequence[Path], group_by: Sequence[str] | None) -> Records:
    """SpendLogs from `/spend/logs` JSON (`.json`) or CSV exports (`.csv`)."""
    keys = tuple(group_by or DEFAULT_GROUP_BY)
    columns = [*REQUIRED, *OPTIONAL, *dict.fromkeys(_column_of(k) for k in keys)]
    frames: list[pl.LazyFrame] = []
    json_places: dict[str, list[tuple[str | int, ...]]] = {}
    for path in paths:
        if path.suffix.lower() == ".csv":
            frame = scan_csv(path, REQUIRED, [c for c in columns if c not in REQUIRED])
            frames.append(frame.with_columns(pl.lit(str(path)).alias("file")))
        else:
            df, places = _json_rows(path, columns)
            json_places[str(path)] = places
            frames.append(df.lazy())
    frame = pl.concat([f.select("file", "row", *dict.fromkeys(columns)) for f in frames], how="vertical")

    def locate(file: str, row: int) -> str:
        places = json_places.get(file)
        return json_place(file, places[row]) if places is not None else f"{file}:{row}"

    return _records(frame, keys, locate, ())


def read_database(dsn: str, group_by: Sequence[str] | None, work_dir: Path) -> Records:
    """SpendLogs straight from the proxy's PostgreSQL database, streamed through `COPY ... TO STDOUT`.

    The rows land in a CSV file in `work_dir` (the caller's temporary folder) and are read exactly as
    a CSV export, so the database and an export give the same workloads.
    """
    import psycopg

    keys = tuple(group_by or DEFAULT_GROUP_BY)
    columns = [*REQUIRED, *OPTIONAL, *dict.fromkeys(_column_of(k) for k in keys)]
    # request_id too, so a bad row can be named in the database; the reader itself does not need it.
    select = ", ".join(
        f'"{c}"::text' if c in JSON_COLUMNS else f'"{c}"' for c in dict.fromkeys([*columns, "request_id"])
    )
    query = f'COPY (SELECT {select} FROM "{TABLE}" ORDER BY "startTime", request_id) TO STDOUT (FORMAT csv, HEADER)'
    out = Path(tempfile.mkstemp(prefix="spendlogs-", suffix=".csv", dir=work_dir)[1])
    try:
        with (
            psycopg.connect(dsn, connect_timeout=10) as conn,
            conn.cursor() as cur,
            out.open("wb") as handle,
            cur.copy(query) as copy,
        ):
            for chunk in copy:
                handle.write(chunk)
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"--dsn: cannot read {TABLE} ({message})") from None
    label = f'postgresql "{TABLE}"'
    frame = scan_csv(out, REQUIRED, [c for c in columns if c not in REQUIRED])
    frame = frame.with_columns(pl.lit(label).alias("file")).select("file", "row", *dict.fromkeys(columns))

    def locate(file: str, row: int) -> str:
        return f"{label} row {row - 1} ({_request_id(out, row)})"

    return _records(frame, keys, locate, ())


def _request_id(path: Path, line: int) -> str:
    """The request_id on one line of the copied table, so a bad database row can be found."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for number, row in enumerate(reader, start=2):
            if number == line:
                return f"request_id {json.dumps(row.get('request_id'))}"
    return "request_id unknown"
