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
    Records,
    combine_problems,
    count_field,
    currency_problem,
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
    ts, ts_problem = timestamp_field(pl.col("timestamp"), "timestamp")
    inp, in_problem = count_field(pl.col("input_tokens"), "input_tokens")
    out, out_problem = count_field(pl.col("output_tokens"), "output_tokens")
    cost, cost_problem = money_field(pl.col("cost"), "cost")
    provider, provider_problem = text_field(pl.col("provider"), "provider")
    model, model_problem = text_field(pl.col("model"), "model")
    per_call = not any(aggregated)
    if per_call:
        calls, calls_problem = pl.lit(1, pl.Int64), pl.lit(None, pl.String)
    else:
        calls, calls_problem = count_field(pl.col("calls"), "calls")
    problems = [
        ts_problem,
        calls_problem,
        in_problem,
        out_problem,
        cost_problem,
        currency_problem(pl.col("currency"), "currency"),
        provider_problem,
        model_problem,
    ]
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
            combine_problems(problems).alias("problem"),
            pl.lit(None, pl.String).alias("skip"),
            *[key_value(pl.col(k)).alias(key_column(i)) for i, k in enumerate(keys)],
        ),
        group_by=keys,
        per_request=per_call,
        bucket_seconds=None if per_call else 3600,
    )
