"""The one record layout every usage reader produces, and the field checks they share.

A reader turns its source's own fields (raw text, as read) into this layout with Polars expressions,
so a 10-million-row export is converted and checked in Polars' streaming engine, never row by row in
Python. Every field check is a condition with a message (`Problems`); a record with any problem is *bad*: it is
counted and listed with its place in the file, never used and never silently dropped.

Layout (`COLUMNS`): `file`, `row` (where the record sits: a line number for text files, the record's
index for JSON documents, resolved to a line later), `ts` (UTC), `calls`, `input_tokens`,
`output_tokens` (totals over the record's calls), `cost` (USD, null when the source has none),
`provider`, `model`, the group keys `key_0`…, `problem` (0, or the bits of the reader's `Problems`
that make the record bad) and `skip` (why a well-formed record is not usage, e.g. a failed request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

TS = pl.Datetime("us", "UTC")


class Problems:
    """The checks of one reader: each a condition that makes a record bad and the message saying why.

    All checks become one integer column (a bit per check), so a 10-million-row import never builds
    a message per row; the messages are put together only for the records shown.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._bits: list[pl.Expr] = []

    def gated(self, gate: pl.Expr) -> Problems:
        """Checks that count only where `gate` holds (e.g. only for events that are JSON at all)."""
        return _Gated(self, gate)

    def add(self, condition: pl.Expr, message: str) -> None:
        if message in self.messages:
            raise ValueError(f"check {message!r} added twice")
        if len(self.messages) == 64:
            raise ValueError("more than 64 checks for one reader")
        bit = 1 << len(self.messages)
        self.messages.append(message)
        self._bits.append(pl.when(condition).then(pl.lit(bit, pl.UInt64)).otherwise(pl.lit(0, pl.UInt64)))

    def mask(self) -> pl.Expr:
        """0 for a sound record, else the bits of its problems."""
        return pl.sum_horizontal(self._bits) if self._bits else pl.lit(0, pl.UInt64)


class _Gated(Problems):
    def __init__(self, parent: Problems, gate: pl.Expr) -> None:
        super().__init__()
        self._parent, self._gate = parent, gate

    def add(self, condition: pl.Expr, message: str) -> None:
        self._parent.add(self._gate & condition, message)

    def mask(self) -> pl.Expr:
        return self._parent.mask()


def _blank(raw: pl.Expr) -> pl.Expr:
    return raw.is_null() | (raw == "")


def count_field(raw: pl.Expr, name: str, problems: Problems, *, optional: bool = False) -> pl.Expr:
    """A non-negative whole count from raw text; missing, unparseable or negative values are problems.

    With `optional`, a missing value is null (the caller decides what that means), not a problem.
    """
    number = raw.cast(pl.Float64, strict=False)
    present = ~_blank(raw)
    if not optional:
        problems.add(~present, f"missing {name}")
    problems.add(present & (number.is_null() | number.is_nan() | number.is_infinite()), f"unparseable {name}")
    problems.add(present & (number < 0), f"negative {name}")
    problems.add(present & (number != number.floor()), f"{name} is not a whole number")
    return number.cast(pl.Int64, strict=False)


def money_field(raw: pl.Expr, name: str, problems: Problems) -> pl.Expr:
    """An optional non-negative amount: blank is 'no cost', not a problem."""
    number = raw.cast(pl.Float64, strict=False)
    present = ~_blank(raw)
    problems.add(present & (number.is_null() | number.is_nan() | number.is_infinite()), f"unparseable {name}")
    problems.add(present & (number < 0), f"negative {name}")
    return pl.when(present).then(number)


def currency_check(raw: pl.Expr, name: str, problems: Problems) -> None:
    """Every amount must be USD: one record in another currency would make the monthly sum meaningless."""
    problems.add(
        ~_blank(raw) & (raw.str.strip_chars().str.to_lowercase() != "usd"),
        f"{name} is not USD (convert the export to one currency)",
    )


def timestamp_field(raw: pl.Expr, name: str, problems: Problems) -> pl.Expr:
    """A UTC timestamp to the second.

    Accepts what the sources write: ISO 8601 with `Z` or an offset (`+02:00`, `+0200`, `+02`),
    PostgreSQL's text form (space-separated; without a zone it is UTC, as LiteLLM stores it), and
    Unix seconds (OpenAI's bucket times). The first 19 characters are parsed with one fixed format
    (fractions of a second are dropped: nothing here needs them, and parsing them costs 4x).
    """
    value = parse_timestamp(raw)
    problems.add(_blank(raw), f"missing {name}")
    problems.add(~_blank(raw) & value.is_null(), f"unparseable {name}")
    return value


def parse_timestamp(raw: pl.Expr) -> pl.Expr:
    """See `timestamp_field`; null where the text is no timestamp."""
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
    return pl.coalesce(local, epoch).dt.replace_time_zone("UTC")


def text_field(raw: pl.Expr, name: str, problems: Problems | None) -> pl.Expr:
    """A text field; when `problems` is given, a missing value is one."""
    if problems is not None:
        problems.add(_blank(raw), f"missing {name}")
    return raw


def key_value(raw: pl.Expr) -> pl.Expr:
    """A group key: missing or empty values are one group of their own, named 'unset'."""
    return pl.when(_blank(raw)).then(pl.lit("unset")).otherwise(raw)


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
    problem_messages: tuple[str, ...] = ()  # bit i of `problem` means problem_messages[i]

    def describe(self, mask: int) -> str:
        return "; ".join(m for i, m in enumerate(self.problem_messages) if mask >> i & 1)

    def __post_init__(self) -> None:
        names = self.frame.collect_schema().names()
        wanted = [*COLUMNS, *(key_column(i) for i in range(len(self.group_by)))]
        missing = [c for c in wanted if c not in names]
        if missing:
            raise ValueError(f"reader left out {missing}")
