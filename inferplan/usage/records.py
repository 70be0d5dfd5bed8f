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
    """A non-negative whole count from raw text, and its problem ('missing', 'unparseable', 'negative').

    Messages are fixed texts (the record's place says where to look): building a message with the
    value for every row would cost more than reading the export.
    """
    number = raw.cast(pl.Float64, strict=False)
    problem = (
        pl.when(_blank(raw))
        .then(pl.lit(f"missing {name}"))
        .when(number.is_null() | number.is_nan() | number.is_infinite())
        .then(pl.lit(f"unparseable {name}"))
        .when(number < 0)
        .then(pl.lit(f"negative {name}"))
        .when(number != number.floor())
        .then(pl.lit(f"{name} is not a whole number"))
    )
    return number.cast(pl.Int64, strict=False), problem


def money_field(raw: pl.Expr, name: str) -> tuple[pl.Expr, pl.Expr]:
    """An optional non-negative amount: blank is 'no cost', not a problem."""
    number = raw.cast(pl.Float64, strict=False)
    problem = (
        pl.when(_blank(raw))
        .then(pl.lit(None, pl.String))
        .when(number.is_null() | number.is_nan() | number.is_infinite())
        .then(pl.lit(f"unparseable {name}"))
        .when(number < 0)
        .then(pl.lit(f"negative {name}"))
    )
    return pl.when(_blank(raw)).then(None).otherwise(number), problem


def currency_problem(raw: pl.Expr, name: str) -> pl.Expr:
    """Every amount must be USD: one record in another currency would make the monthly sum meaningless."""
    return (
        pl.when(~_blank(raw) & (raw.str.strip_chars().str.to_lowercase() != "usd"))
        .then(pl.lit(f"{name} is not USD (convert the export to one currency)"))
        .otherwise(None)
    )


def timestamp_field(raw: pl.Expr, name: str) -> tuple[pl.Expr, pl.Expr]:
    """A UTC timestamp to the second, and its problem.

    Accepts what the sources write: ISO 8601 with `Z` or an offset (`+02:00`, `+0200`, `+02`),
    PostgreSQL's text form (space-separated; without a zone it is UTC, as LiteLLM stores it), and
    Unix seconds (OpenAI's bucket times). The first 19 characters are parsed with one fixed format
    (fractions of a second are dropped: nothing here needs them, and parsing them costs 4x).
    """
    text = raw.str.strip_chars()
    head = text.str.slice(0, 19).str.replace("T", " ", literal=True)
    base = head.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us", cache=False)
    tail = text.str.slice(19)
    tail_ok = tail.str.contains(r"^(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)?$")
    sign = pl.when(tail.str.contains("-", literal=True)).then(-1).otherwise(1)
    offset = tail.str.extract(r"[+-](\d\d)", 1).cast(pl.Int64) * 60 + pl.coalesce(
        tail.str.extract(r"[+-]\d\d:?(\d\d)$", 1).cast(pl.Int64), pl.lit(0)
    )
    local = pl.when(tail_ok).then(base - pl.duration(minutes=pl.coalesce(offset, pl.lit(0)) * sign))
    seconds = pl.when(text.str.contains(r"^\d{9,11}(\.\d+)?$")).then(text.cast(pl.Float64, strict=False))
    epoch = pl.from_epoch((seconds * 1_000_000).cast(pl.Int64), time_unit="us")
    value = pl.coalesce(local, epoch).dt.replace_time_zone("UTC")
    problem = (
        pl.when(_blank(raw))
        .then(pl.lit(f"missing {name}"))
        .when(value.is_null())
        .then(pl.lit(f"unparseable {name}"))
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
