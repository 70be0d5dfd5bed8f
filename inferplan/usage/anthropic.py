"""Anthropic: the Admin API's messages usage report (`GET /v1/organizations/usage_report/messages`).

Files are the pages as returned (one per file, a JSON array of pages, or one per line): `data` is a
list of buckets (`starting_at`, `ending_at`, RFC 3339) whose `results` carry `uncached_input_tokens`,
`cache_read_input_tokens`, `cache_creation.ephemeral_5m_input_tokens`,
`cache_creation.ephemeral_1h_input_tokens`, `output_tokens` and, where the report was grouped,
`workspace_id`, `api_key_id`, `model`, `service_tier`, `context_window`, `inference_geo`. Group by
any of those (default: `workspace_id`; null is the default workspace).

The report counts tokens, not requests, so calls cannot be read from it: each workload's calls over
the span come from `--calls NAME=N` (the application's own request count, or the Console's), and
the command refuses to guess. The busiest hour is measured on tokens (hourly or finer buckets), on
the assumption that call sizes do not change through the day. Input tokens include cache reads
and writes (what the model processed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from inferplan.usage.files import (
    JsonPath,
    UnreadableFile,
    dig,
    json_lines,
    json_place,
    raw,
    read_json,
    string_frame,
)
from inferplan.usage.records import (
    Problems,
    Records,
    count_field,
    key_column,
    key_value,
    parse_timestamp,
    text_field,
    timestamp_field,
)

DEFAULT_GROUP_BY = ("workspace_id",)
LINE_SUFFIXES = (".jsonl", ".ndjson")
INPUT_PARTS = (
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
)
OPTIONAL_PARTS = INPUT_PARTS[1:]  # older reports have no cache fields
WIDTHS = {"1m": 60, "1h": 3600, "1d": 86400}


def _pages(path: Path) -> list[tuple[JsonPath, Any]]:
    if path.suffix.lower() in LINE_SUFFIXES:
        pages: list[tuple[JsonPath, Any]] = []
        for number, obj, _ in json_lines(path):
            if obj is None:
                raise UnreadableFile(path, f"line {number} is not JSON (expected one report page per line)")
            pages.append(((f"line {number}",), obj))
        return pages
    document = read_json(path)
    if isinstance(document, list):
        return [((i,), page) for i, page in enumerate(document)]
    return [((), document)]


def read_files(paths: Sequence[Path], group_by: Sequence[str] | None) -> Records:
    keys = tuple(group_by or DEFAULT_GROUP_BY)
    names = ("starting_at", "ending_at", *INPUT_PARTS, "output_tokens", "model")
    columns: dict[str, list[Any]] = {
        c: [] for c in ("file", *names, *(key_column(i) for i in range(len(keys))))
    }
    places: list[tuple[str, JsonPath]] = []
    for path in paths:
        seen = 0
        for base, page in _pages(path):
            buckets = page.get("data") if isinstance(page, dict) else None
            for b, bucket in enumerate(buckets if isinstance(buckets, list) else []):
                results = bucket.get("results") if isinstance(bucket, dict) else None
                for r, result in enumerate(results if isinstance(results, list) else []):
                    if not isinstance(result, dict):
                        continue
                    seen += 1
                    places.append((str(path), (*base, "data", b, "results", r)))
                    columns["file"].append(str(path))
                    columns["starting_at"].append(raw(bucket.get("starting_at")))
                    columns["ending_at"].append(raw(bucket.get("ending_at")))
                    for f in (*INPUT_PARTS, "output_tokens", "model"):
                        columns[f].append(raw(dig(result, f)))
                    for i, k in enumerate(keys):
                        columns[key_column(i)].append(raw(dig(result, k)))
        if not seen:
            raise UnreadableFile(
                path,
                "no usage results (save the pages of /v1/organizations/usage_report/messages as returned)",
            )
    frame = string_frame({"row": list(range(len(places))), **columns})
    starts, ends = frame["starting_at"], frame["ending_at"]
    width = _bucket_seconds(starts, ends)
    problems = Problems()
    ts = timestamp_field(pl.col("starting_at"), "starting_at", problems)
    # Cache fields absent from a result mean none were used; only the uncached count is required.
    parts = [count_field(pl.col(INPUT_PARTS[0]), INPUT_PARTS[0], problems)] + [
        count_field(pl.col(f), f, problems, optional=True).fill_null(0) for f in OPTIONAL_PARTS
    ]
    input_total = parts[0] + parts[1] + parts[2] + parts[3]
    out = count_field(pl.col("output_tokens"), "output_tokens", problems)
    model = text_field(pl.col("model"), "model", None)  # no model (ungrouped report): "unknown", not bad

    def locate(file: str, row: int) -> str:
        return json_place(file, places[row][1])

    return Records(
        frame=frame.lazy().select(
            "file",
            "row",
            ts.alias("ts"),
            pl.lit(None, pl.Int64).alias("calls"),
            input_total.alias("input_tokens"),
            out.alias("output_tokens"),
            pl.lit(None, pl.Float64).alias("cost"),
            pl.lit("anthropic").alias("provider"),
            pl.when(model.is_null() | (model == "")).then(pl.lit("unknown")).otherwise(model).alias("model"),
            problems.mask().alias("problem"),
            pl.lit(None, pl.String).alias("skip"),
            *[key_value(pl.col(key_column(i))).alias(key_column(i)) for i in range(len(keys))],
        ),
        group_by=keys,
        per_request=False,
        bucket_seconds=width,
        calls_known=False,
        locate=locate,
        problem_messages=tuple(problems.messages),
        notes=(
            "Anthropic's usage report counts tokens, not requests: calls come from --calls; "
            "peak_to_average is measured on tokens",
            "monthly_usd priced from the catalog's API prices (the usage report carries no cost)",
        ),
    )


def _bucket_seconds(starts: pl.Series, ends: pl.Series) -> int:
    """Width of the report's buckets, from the first bucket whose times parse (1d when none do)."""
    frame = pl.DataFrame({"s": starts, "e": ends})
    parsed = frame.select(
        parse_timestamp(pl.col("s")).alias("s"), parse_timestamp(pl.col("e")).alias("e")
    ).drop_nulls()
    if parsed.is_empty():
        return WIDTHS["1d"]
    seconds = (parsed["e"] - parsed["s"]).dt.total_seconds().max()
    return int(seconds) if isinstance(seconds, int | float) and seconds > 0 else WIDTHS["1d"]
