"""The one record layout every usage reader produces, and the field checks they share.

A reader turns its source's own fields (raw text, as read) into this layout with Polars expressions,
so a 10-million-row export is converted and checked in Polars' streaming engine, never row by row in
Python. Every field check yields a problem text (or null); a record with any problem is *bad*: it is
counted and listed with its place in the file, never used and never silently dropped.

Layout (`COLUMNS`): `file`, `row` (where the record sits: a line number for text files, the record's
index for JSON documents, resolved to a line later), `ts` (UTC), `calls`, `input_tokens`,
`output_tokens` (totals over the record's calls), `cost` (USD, null when the source has none),
`provider`, `model`, the group keys `key_0`…, `problem` (why the record is bad) and `skip` (why a
well-formed record is not usage, e.g. a failed request).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

TS = pl.Datetime("us", "UTC")


def _blank(raw: pl.Expr) -> pl.Expr:
    return raw.is_null() | (raw.str.strip_chars() == "")


def count_field(raw: pl.Expr, name: str) -> tuple[pl.Expr, pl.Expr]:
    """A non-negative whole count from raw text, and its problem ('missing', 'unparseable', 'negative')."""
    text = raw.str.strip_chars()
    number = text.cast(pl.Float64, strict=False)
    problem = (
        pl.when(_blank(raw))
        .then(pl.lit(f"missing {name}"))
        .when(number.is_null() | number.is_nan() | number.is_infinite())
        .then(pl.format(f"unparseable {name} '{{}}'", text))
        .when(number < 0)
        .then(pl.format(f"negative {name} ({{}})", text))
        .when(number != number.floor())
        .then(pl.format(f"{name} is not a whole number ({{}})", text))
    )
    return number.cast(pl.Int64, strict=False), problem


def money_field(raw: pl.Expr, name: str) -> tuple[pl.Expr, pl.Expr]:
    """An optional non-negative amount: blank is 'no cost', not a problem."""
    text = raw.str.strip_chars()
    number = text.cast(pl.Float64, strict=False)
    problem = (
        pl.when(_blank(raw))
        .then(pl.lit(None, pl.String))
        .when(number.is_null() | number.is_nan() | number.is_infinite())
        .then(pl.format(f"unparseable {name} '{{}}'", text))
        .when(number < 0)
        .then(pl.format(f"negative {name} ({{}})", text))
    )
    return pl.when(_blank(raw)).then(None).otherwise(number), problem


def currency_problem(raw: pl.Expr, name: str) -> pl.Expr:
    """Every amount must be USD: one record in another currency would make the monthly sum meaningless."""
    text = raw.str.strip_chars()
    return (
        pl.when(~_blank(raw) & (text.str.to_lowercase() != "usd"))
        .then(pl.format(f"{name} '{{}}' is not USD (convert the export to one currency)", text))
        .otherwise(None)
    )


def timestamp_field(raw: pl.Expr, name: str) -> tuple[pl.Expr, pl.Expr]:
    """A UTC timestamp, and its problem.

    Accepts the shapes the sources write: ISO 8601 with `Z` or an offset, PostgreSQL's text form
    (space-separated; without a zone it is UTC, as LiteLLM stores it) and Unix seconds (OpenAI's
    bucket times). The text is normalised once so each record is parsed at most three ways.
    """
    text = raw.str.strip_chars()
    norm = text.str.replace(" ", "T", literal=True).str.replace(r"Z$", "+00:00")
    norm = norm.str.replace(r"([+-]\d\d)$", "${1}:00")
    zoned = norm.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="us")
    naive = norm.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    seconds = pl.when(text.str.contains(r"^\d{9,11}(\.\d+)?$")).then(text.cast(pl.Float64, strict=False))
    epoch = pl.from_epoch((seconds * 1_000_000).cast(pl.Int64), time_unit="us")
    value = pl.coalesce(
        zoned.dt.convert_time_zone("UTC"),
        naive.dt.replace_time_zone("UTC"),
        epoch.dt.replace_time_zone("UTC"),
    )
    problem = (
        pl.when(_blank(raw))
        .then(pl.lit(f"missing {name}"))
        .when(value.is_null())
        .then(pl.format(f"unparseable {name} '{{}}'", text))
    )
    return value, problem


def text_field(raw: pl.Expr, name: str) -> tuple[pl.Expr, pl.Expr]:
    """A required text field (model, provider)."""
    return raw.str.strip_chars(), pl.when(_blank(raw)).then(pl.lit(f"missing {name}"))


def key_value(raw: pl.Expr) -> pl.Expr:
    """A group key: missing or empty values are one group of their own, named 'unset'."""
    return pl.when(_blank(raw)).then(pl.lit("unset")).otherwise(raw.str.strip_chars())


def combine_problems(problems: Sequence[pl.Expr]) -> pl.Expr:
    """Every problem of one record, joined; null when it has none."""
    joined = pl.concat_str([p.cast(pl.String) for p in problems], separator="; ", ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)


COLUMNS = (
    "file",
    "row",
    "ts",
    "calls",
    "input_tokens",
    "output_tokens",
    "cost",
    "provider",
    "model",
    "problem",
    "skip",
)


def key_column(index: int) -> str:
    return f"key_{index}"


@dataclass(frozen=True)
class Records:
    """One source's records in the shared layout, with what the aggregation must know about them."""

    frame: pl.LazyFrame
    group_by: tuple[str, ...]  # the source's own field names, as the user gave them
    per_request: bool  # one record is one call: percentiles and hourly peaks are exact
    bucket_seconds: int | None = None  # width of aggregated buckets (None for per-request records)
    locate: Callable[[str, int], str] = field(default=lambda file, row: f"{file}:{row}")
    notes: tuple[str, ...] = ()
    calls_known: bool = True  # False: the source counts tokens but not requests (Anthropic)

    def __post_init__(self) -> None:
        names = self.frame.collect_schema().names()
        wanted = [*COLUMNS, *(key_column(i) for i in range(len(self.group_by)))]
        missing = [c for c in wanted if c not in names]
        if missing:
            raise ValueError(f"reader left out {missing}")
