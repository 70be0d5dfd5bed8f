"""OpenAI: the Usage API's completions buckets, with costs from the Costs API.

Files are the pages the Admin API returns, saved as they come (`GET /v1/organization/usage/
completions` and `GET /v1/organization/costs`): one page object per file, a JSON array of pages, or
one page per line. Each page holds buckets (`start_time`, `end_time`, `results`); a usage result
(`object: organization.usage.completions.result`) carries `num_model_requests`, `input_tokens`
(cached included), `output_tokens` and, where the export was grouped, `project_id`, `api_key_id`,
`user_id`, `model`, `batch`, `service_tier`. Group by any of those (default: `project_id`); the pages
must have been fetched with the same `group_by`.

Costs (`object: organization.costs.result`, daily buckets, `amount: {value, currency}`, optionally
`project_id` and `line_item` such as `gpt-4o-2024-08-06, input`) are shared out over the usage of the
same day, the same project (where the cost names one) and the same model (where its line item names
one), in proportion to tokens. Usage no cost reaches is priced from the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from inferplan.usage.files import (
    JsonPath,
    UnreadableFile,
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
    timestamp_field,
)

DEFAULT_GROUP_BY = ("project_id",)
USAGE = "organization.usage.completions.result"
COST = "organization.costs.result"
DAY = 86400
LINE_SUFFIXES = (".jsonl", ".ndjson")
COST_PROBLEMS = (
    "missing amount.value",
    "unparseable amount.value",
    "negative amount.value",
    "amount.currency is not USD (convert the export to one currency)",
    "cost bucket without a start_time",
)
FIELDS = ("start_time", "end_time", "num_model_requests", "input_tokens", "output_tokens", "model")


@dataclass(frozen=True)
class _Cost:
    day: int  # bucket start, Unix seconds
    project_id: str | None
    model: str | None  # from the line item
    usd: float


def _pages(document: Any) -> list[tuple[JsonPath, Any]]:
    if isinstance(document, list):
        return [((i,), page) for i, page in enumerate(document)]
    return [((), document)]


def _results(path: Path) -> list[tuple[JsonPath, dict[str, Any], dict[str, Any]]]:
    """(where, bucket, result) for every result of every page in one file (JSON or JSON lines)."""
    text_pages: list[tuple[JsonPath, Any]] = []
    if path.suffix.lower() in LINE_SUFFIXES:
        for number, obj, _ in json_lines(path):
            if obj is None:
                raise UnreadableFile(path, f"line {number} is not JSON (expected one API page per line)")
            text_pages.append(((f"line {number}",), obj))
    else:
        text_pages = _pages(read_json(path))
    found: list[tuple[JsonPath, dict[str, Any], dict[str, Any]]] = []
    for base, page in text_pages:
        buckets = page.get("data") if isinstance(page, dict) else None
        if not isinstance(buckets, list):
            continue
        for b, bucket in enumerate(buckets):
            if not isinstance(bucket, dict):
                continue
            key = "results" if "results" in bucket else "result"
            results = bucket.get(key)
            for r, result in enumerate(results if isinstance(results, list) else []):
                if isinstance(result, dict):
                    found.append(((*base, "data", b, key, r), bucket, result))
    return found


def _line_item_model(line_item: str | None) -> str | None:
    if not line_item:
        return None
    return line_item.split(",")[0].strip().lower() or None


def _matches(usage_model: str | None, cost_model: str | None) -> bool:
    if cost_model is None:
        return True
    if not usage_model:
        return False
    usage_model = usage_model.lower()
    return (
        usage_model == cost_model
        or usage_model.startswith(f"{cost_model}-")
        or cost_model.startswith(f"{usage_model}-")
    )


def read_files(paths: Sequence[Path], group_by: Sequence[str] | None) -> Records:
    keys = tuple(group_by or DEFAULT_GROUP_BY)
    columns: dict[str, list[Any]] = {c: [] for c in ("file", "row", *FIELDS, "cost", "currency", "problem")}
    for i in range(len(keys)):
        columns[key_column(i)] = []
    places: list[tuple[str, JsonPath]] = []
    costs: list[_Cost] = []
    usage_at: list[int] = []  # index into the columns of each usage row, for cost sharing
    projects: list[str | None] = []  # project_id of every row (costs name projects)
    notes: list[str] = []
    no_usage_objects: list[str] = []

    def add(
        file: str, at: JsonPath, bucket: dict[str, Any], result: dict[str, Any], problem: str | None
    ) -> int:
        index = len(places)
        places.append((file, at))
        columns["file"].append(file)
        columns["row"].append(index)
        columns["start_time"].append(raw(bucket.get("start_time")))
        columns["end_time"].append(raw(bucket.get("end_time")))
        for f in FIELDS[2:]:
            columns[f].append(raw(result.get(f)))
        columns["cost"].append(None)
        columns["currency"].append(None)
        columns["problem"].append(problem)
        projects.append(result.get("project_id") if isinstance(result.get("project_id"), str) else None)
        for i, k in enumerate(keys):
            columns[key_column(i)].append(raw(result.get(k)))
        return index

    for path in paths:
        found = _results(path)
        kinds = {r.get("object") for _, _, r in found}
        if not kinds & {USAGE, COST}:
            no_usage_objects.append(str(path))
        for at, bucket, result in found:
            if result.get("object") == COST:
                amount = result.get("amount")
                value = amount.get("value") if isinstance(amount, dict) else None
                currency = amount.get("currency") if isinstance(amount, dict) else None
                start = bucket.get("start_time")
                problem: str | None = None
                if value is None:
                    problem = COST_PROBLEMS[0]
                elif not isinstance(value, int | float) or isinstance(value, bool):
                    problem = COST_PROBLEMS[1]
                elif value < 0:
                    problem = COST_PROBLEMS[2]
                elif isinstance(currency, str) and currency.lower() != "usd":
                    problem = COST_PROBLEMS[3]
                elif not isinstance(start, int):
                    problem = COST_PROBLEMS[4]
                if problem is not None or not isinstance(start, int) or not isinstance(value, int | float):
                    add(str(path), at, bucket, result, problem)
                    continue
                costs.append(
                    _Cost(
                        day=int(start) - int(start) % DAY,
                        project_id=result.get("project_id"),
                        model=_line_item_model(result.get("line_item")),
                        usd=float(value),
                    )
                )
            elif result.get("object") == USAGE:
                usage_at.append(add(str(path), at, bucket, result, None))
    if no_usage_objects:
        raise UnreadableFile(
            no_usage_objects[0],
            f"no '{USAGE}' or '{COST}' results (save the Usage or Costs API pages as they are returned)",
        )
    if costs:
        _share_costs(columns, projects, usage_at, costs, notes)
    else:
        notes.append("no Costs API pages given: monthly_usd priced from the catalog's API prices")

    frame = string_frame({k: v for k, v in columns.items() if k not in ("row", "cost")}).with_columns(
        pl.Series("row", columns["row"], dtype=pl.Int64),
        pl.Series("cost", columns["cost"], dtype=pl.Float64),
    )
    widths = {
        int(e) - int(s)
        for s, e in zip(columns["start_time"], columns["end_time"], strict=True)
        if s and e and s.isdigit() and e.isdigit()
    }
    width = max(widths, default=DAY)
    problems = Problems()
    for message in COST_PROBLEMS:  # found while reading the cost lines (they are shared out, not records)
        problems.add(pl.col("problem") == message, message)
    usage = problems.gated(pl.col("problem").is_null())
    ts = timestamp_field(pl.col("start_time"), "start_time", usage)
    calls = count_field(pl.col("num_model_requests"), "num_model_requests", usage)
    inp = count_field(pl.col("input_tokens"), "input_tokens", usage)
    out = count_field(pl.col("output_tokens"), "output_tokens", usage)
    model = pl.col("model")

    def locate(file: str, row: int) -> str:
        return json_place(file, places[row][1])

    return Records(
        frame=frame.lazy().select(
            "file",
            "row",
            ts.alias("ts"),
            calls.alias("calls"),
            inp.alias("input_tokens"),
            out.alias("output_tokens"),
            pl.col("cost"),
            pl.lit("openai").alias("provider"),
            pl.when(model.is_null() | (model == "")).then(pl.lit("unknown")).otherwise(model).alias("model"),
            problems.mask().alias("problem"),
            pl.lit(None, pl.String).alias("skip"),
            *[key_value(pl.col(key_column(i))).alias(key_column(i)) for i in range(len(keys))],
        ),
        group_by=keys,
        per_request=False,
        bucket_seconds=width,
        locate=locate,
        problem_messages=tuple(problems.messages),
        notes=tuple(notes),
    )


def _share_costs(
    columns: dict[str, list[Any]],
    projects: list[str | None],
    usage_at: list[int],
    costs: list[_Cost],
    notes: list[str],
) -> None:
    """Each day's cost lines over the usage rows they cover, by tokens; what covers nothing is reported."""
    unmatched = 0.0
    rows_by_day: dict[int, list[int]] = {}
    for index in usage_at:
        start = columns["start_time"][index]
        if start is None or not str(start).isdigit():
            continue
        rows_by_day.setdefault(int(start) - int(start) % DAY, []).append(index)
    for cost in costs:
        covered = [
            i
            for i in rows_by_day.get(cost.day, [])
            if (cost.project_id is None or projects[i] == cost.project_id)
            and _matches(columns["model"][i], cost.model)
        ]
        tokens = {i: _tokens(columns, i) for i in covered}
        total = sum(tokens.values())
        if not covered or total <= 0:
            unmatched += cost.usd
            continue
        for i in covered:
            columns["cost"][i] = (columns["cost"][i] or 0.0) + cost.usd * tokens[i] / total
    if unmatched > 0:
        notes.append(
            f"${unmatched:,.2f} of Costs API lines matched no usage of the same day, project and model "
            "(images, audio, fine-tuning, or usage pages not exported): left out of monthly_usd"
        )


def _tokens(columns: dict[str, list[Any]], index: int) -> int:
    total = 0
    for f in ("input_tokens", "output_tokens"):
        value = columns[f][index]
        if value is not None and str(value).isdigit():
            total += int(value)
    return total
