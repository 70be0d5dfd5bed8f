"""The generic CSV format, for every source without a reader of its own (docs/usage-import.md).

One row per call, with a header. Required columns: `timestamp` (ISO 8601, or Unix seconds; UTC
unless it carries an offset), `provider`, `model`, `input_tokens`, `output_tokens`. Optional:
`workload` (the default group key; any other column can be grouped on too), `cost` (per row),
`currency` (`USD` when absent; any other currency makes the row bad), and `calls` — when present,
each row is an aggregate of that many calls within one clock hour, and percentiles are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from inferplan.usage.files import UnreadableFile, scan_csv
from inferplan.usage.records import (
    Problems,
    Records,
    count_field,
    currency_check,
    key_column,
    key_value,
    money_field,
    text_field,
    timestamp_field,
)

DEFAULT_GROUP_BY = ("workload",)
REQUIRED = ("timestamp", "provider", "model", "input_tokens", "output_tokens")
OPTIONAL = ("calls", "cost", "currency")


def _has_calls_column(path: Path) -> bool:
    with path.open(encoding="utf-8") as handle:
        return "calls" in [c.strip() for c in handle.readline().strip().split(",")]


def read_files(paths: Sequence[Path], group_by: Sequence[str] | None) -> Records:
    keys = tuple(group_by or DEFAULT_GROUP_BY)
    optional = [*OPTIONAL, *(k for k in keys if k not in REQUIRED and k not in OPTIONAL)]
    frames = []
    aggregated = []
    for path in paths:
        frame = scan_csv(path, REQUIRED, optional)
        aggregated.append(_has_calls_column(path))
        frames.append(frame.with_columns(pl.lit(str(path)).alias("file")))
    if any(aggregated) and not all(aggregated):
        raise UnreadableFile(
            paths[aggregated.index(not aggregated[0])],
            "mixes per-call files with aggregated ones (a 'calls' column): import them separately",
        )
    columns = list(dict.fromkeys([*REQUIRED, *optional]))
    frame = pl.concat([f.select("file", "row", *columns) for f in frames], how="vertical")
    problems = Problems()
    ts = timestamp_field(pl.col("timestamp"), "timestamp", problems)
    per_call = not any(aggregated)
    calls = pl.lit(1, pl.Int64) if per_call else count_field(pl.col("calls"), "calls", problems)
    inp = count_field(pl.col("input_tokens"), "input_tokens", problems)
    out = count_field(pl.col("output_tokens"), "output_tokens", problems)
    cost = money_field(pl.col("cost"), "cost", problems)
    currency_check(pl.col("currency"), "currency", problems)
    provider = text_field(pl.col("provider"), "provider", problems)
    model = text_field(pl.col("model"), "model", problems)
    return Records(
        frame=frame.select(
            "file",
            "row",
            ts.alias("ts"),
            calls.alias("calls"),
            inp.alias("input_tokens"),
            out.alias("output_tokens"),
            cost.alias("cost"),
            provider.alias("provider"),
            model.alias("model"),
            problems.mask().alias("problem"),
            pl.lit(None, pl.String).alias("skip"),
            *[key_value(pl.col(k)).alias(key_column(i)) for i, k in enumerate(keys)],
        ),
        problem_messages=tuple(problems.messages),
        group_by=keys,
        per_request=per_call,
        bucket_seconds=None if per_call else 3600,
    )
