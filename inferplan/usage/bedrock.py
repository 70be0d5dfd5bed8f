"""Amazon Bedrock model invocation logs: JSON lines, as Bedrock writes them to S3 (`.json.gz` or
`.json`) or as CloudWatch Logs exports them (a timestamp before each JSON event, skipped).

Each line is one invocation (`schemaType: ModelInvocationLog`): `timestamp`, `modelId`,
`input.inputTokenCount`, `output.outputTokenCount`, `identity.arn`, and `errorCode` on failures
(skipped and counted). Group by any field, dotted for nested ones (default: `identity.arn`; an
assumed-role ARN becomes the role's name). Logs carry no cost: monthly_usd is priced from the
catalog at the model maker's list price.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from inferplan.usage.files import dig, json_lines, raw, string_frame
from inferplan.usage.records import (
    Problems,
    Records,
    count_field,
    key_column,
    key_value,
    text_field,
    timestamp_field,
)

DEFAULT_GROUP_BY = ("identity.arn",)
FIELDS = ("timestamp", "modelId", "input.inputTokenCount", "output.outputTokenCount", "errorCode")


def read_files(paths: Sequence[Path], group_by: Sequence[str] | None) -> Records:
    keys = tuple(group_by or DEFAULT_GROUP_BY)
    columns: dict[str, list[Any]] = {c: [] for c in ("file", "row", "not_json", *FIELDS)}
    for i in range(len(keys)):
        columns[key_column(i)] = []
    for path in paths:
        for number, obj, _ in json_lines(path):
            columns["file"].append(str(path))
            columns["row"].append(number)
            columns["not_json"].append(None if isinstance(obj, dict) else "not a JSON object")
            event = obj if isinstance(obj, dict) else {}
            for f in FIELDS:
                columns[f].append(raw(dig(event, f)))
            for i, k in enumerate(keys):
                columns[key_column(i)].append(raw(dig(event, k)))
    frame = string_frame(columns)
    # A failed invocation may lack token counts; it is skipped, so only its JSON must be sound.
    failed = pl.col("errorCode").is_not_null() & (pl.col("errorCode") != "")
    problems = Problems()
    problems.add(pl.col("not_json").is_not_null(), "not a JSON object")
    fields = problems.gated(pl.col("not_json").is_null() & ~failed)
    ts = timestamp_field(pl.col("timestamp"), "timestamp", fields)
    inp = count_field(pl.col("input.inputTokenCount"), "input.inputTokenCount", fields)
    out = count_field(pl.col("output.outputTokenCount"), "output.outputTokenCount", fields)
    model = text_field(pl.col("modelId"), "modelId", fields)
    return Records(
        frame=frame.lazy().select(
            "file",
            "row",
            ts.alias("ts"),
            pl.lit(1, pl.Int64).alias("calls"),
            inp.alias("input_tokens"),
            out.alias("output_tokens"),
            pl.lit(None, pl.Float64).alias("cost"),
            pl.lit("bedrock").alias("provider"),
            model.alias("model"),
            problems.mask().alias("problem"),
            pl.when(failed)
            .then(pl.format("failed invocation (errorCode {})", pl.col("errorCode")))
            .alias("skip"),
            *[key_value(pl.col(key_column(i))).alias(key_column(i)) for i in range(len(keys))],
        ),
        problem_messages=tuple(problems.messages),
        group_by=keys,
        per_request=True,
        notes=("monthly_usd priced from the catalog's API prices (invocation logs carry no cost)",),
    )
