"""From records in the shared layout to one workload per group: volume, sizes, peak, spend.

Definitions (docs/usage-import.md says the same for users):

- **Span.** Per-request records cover the clock hours from the first record's hour to the last's,
  inclusive; bucketed records cover their buckets. `--since` / `--until` (since inclusive, until
  exclusive) replace either end. The span is the same for every workload of one import, so a team
  that called only on two days of a 30-day export gets a thirtieth of its volume per day, not half.
- **calls_per_day** = calls in the span / days in the span. **input_tokens** / **output_tokens** =
  token totals / calls (means). Percentiles only from per-request records (buckets hide the spread).
- **peak_to_average** = the busiest clock hour's calls / the average hour's calls (calls / span
  hours), from per-request records or buckets of an hour or less; capped to the spec's 1-24.
- **current** = the provider and model that carried most of the group's calls; **monthly_usd** = the
  group's cost in the span / days x (730 / 24), the spec's default month. Cost comes from the source
  where it has one, else from the catalog's API prices, else it is left out and said so.

Records are first written once to a Parquet file in a temporary folder (streaming, so a large export
is never held in memory whole); the aggregations then read only the columns they need from it.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from inferplan.errors import UserError
from inferplan.spec import CostSettings, TokenPercentiles
from inferplan.usage.names import Naming, assign_names
from inferplan.usage.pricing import catalog_rate
from inferplan.usage.records import COLUMNS, Records, key_column

HOUR = timedelta(hours=1)
HOURS_PER_MONTH: float = CostSettings.model_fields["hours_per_month"].default
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
PEAK_MIN, PEAK_MAX = 1.0, 24.0  # the spec's bounds on peak_to_average
BAD_SHOWN = 20  # bad records listed one by one; the rest are counted


@dataclass(frozen=True)
class Window:
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class BadRecord:
    where: str  # file:line, or the record's place in a database table
    problem: str


@dataclass(frozen=True)
class ImportedWorkload:
    name: str
    key: tuple[str, ...]  # the group-by values it came from
    calls: int  # in the span
    calls_per_day: float
    input_tokens: int  # means, at least 1 (the spec's floor)
    output_tokens: int
    percentiles: TokenPercentiles | None
    peak_to_average: float | None
    provider: str
    model: str
    model_share: float  # share of the group's calls on `model`
    monthly_usd: float | None
    cost_basis: str  # "source", "catalog", "source+catalog" or "" (unknown)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Summary:
    source: str
    inputs: tuple[str, ...]
    group_by: tuple[str, ...]
    records: int
    used: int
    bad: int
    bad_shown: tuple[BadRecord, ...]
    skipped: Mapping[str, int]  # reason -> records
    outside: int  # well-formed records outside --since/--until
    start: datetime
    end: datetime
    span_from: str  # "records", "--since/--until", ...
    workloads: tuple[ImportedWorkload, ...]
    renames: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def days(self) -> float:
        return (self.end - self.start) / timedelta(days=1)


def _in_window(window: Window) -> pl.Expr:
    ts = pl.col("ts")
    cond = pl.lit(True)
    if window.since is not None:
        cond = cond & (ts >= window.since)
    if window.until is not None:
        cond = cond & (ts < window.until)
    return cond


def _span(good: pl.LazyFrame, records: Records, window: Window) -> tuple[datetime, datetime, str] | None:
    first, last = (
        good.select(pl.col("ts").min().alias("a"), pl.col("ts").max().alias("b"))
        .collect(engine="streaming")
        .row(0)
    )
    if first is None:
        return None
    if records.per_request:
        start = first.replace(minute=0, second=0, microsecond=0)
        end = last.replace(minute=0, second=0, microsecond=0) + HOUR
    else:
        start, end = first, last + timedelta(seconds=records.bucket_seconds or 0)
    if window.since is not None:
        start = window.since
    if window.until is not None:
        end = window.until
    told = [flag for flag, v in (("--since", window.since), ("--until", window.until)) if v is not None]
    return (
        start,
        end,
        "/".join(told) + (" and the records" if len(told) == 1 else "") if told else "the records",
    )


def _round_peak(value: float | None, name: str, notes: list[str]) -> float | None:
    if value is None or math.isnan(value):
        return None
    if value > PEAK_MAX:
        notes.append(
            f"{name}: busiest hour is {value:.1f}x the average hour; capped at {PEAK_MAX:g} (the spec's "
            "limit), so sizing will not cover its bursts: consider a shorter --since/--until window"
        )
        return PEAK_MAX
    return round(max(PEAK_MIN, value), 2)


@dataclass(frozen=True)
class _Group:
    key: tuple[str, ...]
    calls: int
    input_tokens: int
    output_tokens: int
    percentiles: TokenPercentiles | None


@dataclass(frozen=True)
class _Slice:
    """One (provider, model) within a group."""

    provider: str
    model: str
    calls: int
    tokens: int
    cost: float | None
    priced: int  # records with a cost
    unpriced: int  # records without one
    in_unpriced: int
    out_unpriced: int


def _group(row: Mapping[str, object], keys: Sequence[str]) -> _Group:
    quantiles = [row.get(k) for k in ("in_p50", "in_p95", "out_p50", "out_p95")]
    percentiles = None
    if all(isinstance(v, int | float) for v in quantiles):
        a, b, c, d = (round(float(v)) for v in quantiles)  # type: ignore[arg-type]
        percentiles = TokenPercentiles(input_p50=a, input_p95=b, output_p50=c, output_p95=d)
    return _Group(
        key=tuple(str(row[k]) for k in keys),
        calls=_int(row["calls"]),
        input_tokens=_int(row["input_tokens"]),
        output_tokens=_int(row["output_tokens"]),
        percentiles=percentiles,
    )


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _slice(row: Mapping[str, object]) -> _Slice:
    cost = row["cost"]
    return _Slice(
        provider=str(row["provider"]),
        model=str(row["model"]),
        calls=_int(row["calls"]),
        tokens=_int(row["tokens"]),
        cost=float(cost) if isinstance(cost, int | float) else None,
        priced=_int(row["priced"]),
        unpriced=_int(row["unpriced"]),
        in_unpriced=_int(row["in_unpriced"]),
        out_unpriced=_int(row["out_unpriced"]),
    )


def summarise(
    records: Records,
    *,
    source: str,
    inputs: Sequence[str],
    window: Window = Window(),
    calls_by_name: Mapping[str, int] | None = None,
    taken_names: Sequence[str] = (),
    work_dir: Path | None = None,
) -> Summary:
    """Aggregate one source's records into workloads (see the module docstring for each figure)."""
    keys = [key_column(i) for i in range(len(records.group_by))]
    with tempfile.TemporaryDirectory(prefix="inferplan-usage-", dir=work_dir) as tmp:
        path = Path(tmp) / "records.parquet"
        # Row order is of no use here and keeping it costs 3x (the sink then writes from one thread).
        try:
            records.frame.select([*COLUMNS, *keys]).sink_parquet(
                path, engine="streaming", maintain_order=False
            )
        except pl.exceptions.PolarsError as exc:  # a file that breaks midway: one line, exit 2
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"{', '.join(inputs)}: cannot be read ({reason})") from None
        return _summarise_file(
            pl.scan_parquet(path), records, keys, source, inputs, window, calls_by_name or {}, taken_names
        )


def _summarise_file(
    lf: pl.LazyFrame,
    records: Records,
    keys: list[str],
    source: str,
    inputs: Sequence[str],
    window: Window,
    calls_by_name: Mapping[str, int],
    taken_names: Sequence[str],
) -> Summary:
    bad_expr = pl.col("problem") != 0
    well_formed = ~bad_expr & pl.col("skip").is_null()
    inside = _in_window(window)
    total, bad, outside, used = (
        lf.select(
            pl.len().alias("n"),
            bad_expr.sum().alias("bad"),
            (well_formed & ~inside).sum().alias("outside"),
            (well_formed & inside).sum().alias("used"),
        )
        .collect(engine="streaming")
        .row(0)
    )
    skipped = {
        str(reason): int(n)
        for reason, n in lf.filter(~bad_expr & pl.col("skip").is_not_null())
        .group_by("skip")
        .agg(pl.len())
        .sort("skip")
        .collect(engine="streaming")
        .iter_rows()
    }
    shown = tuple(
        BadRecord(records.locate(f, r), records.describe(p))
        for f, r, p in lf.filter(bad_expr)
        .select("file", "row", "problem")
        .sort("file", "row")
        .head(BAD_SHOWN)
        .collect(engine="streaming")
        .iter_rows()
    )
    good = lf.filter(well_formed & inside)
    span = _span(good, records, window)
    if span is None:
        raise UserError(
            f"no usable {source} records in {', '.join(inputs)} "
            f"({total} read, {bad} bad, {outside} outside the window, {sum(skipped.values())} skipped)"
            + "".join(f"\n  {b.where}: {b.problem}" for b in shown)
        )
    start, end, span_from = span
    hours = (end - start) / HOUR
    if hours <= 0:
        raise UserError(f"--since {start:%Y-%m-%d %H:%M} is not before --until {end:%Y-%m-%d %H:%M}")
    days = hours / 24

    extra: list[str] = []
    quantiles: list[pl.Expr] = []
    if records.per_request:
        quantiles = [
            pl.col(c).quantile(q, interpolation="linear").alias(f"{short}_p{round(q * 100)}")
            for c, short in (("input_tokens", "in"), ("output_tokens", "out"))
            for q in (0.5, 0.95)
        ]
    groups = [
        _group(row, keys)
        for row in good.group_by(keys)
        .agg(pl.col("calls").sum(), pl.col("input_tokens").sum(), pl.col("output_tokens").sum(), *quantiles)
        .sort(keys)
        .collect(engine="streaming")
        .iter_rows(named=True)
    ]
    # The busiest hour: of calls, or, where a source counts no calls, of tokens (calls assumed to keep
    # their size through the day).
    volume = pl.col("calls") if records.calls_known else pl.col("input_tokens") + pl.col("output_tokens")
    peaks: dict[tuple[str, ...], float] = {}
    if records.per_request or (records.bucket_seconds or 0) <= 3600:
        hourly = (
            good.group_by([*keys, pl.col("ts").dt.truncate("1h").alias("hour")])
            .agg(volume.sum().alias("volume"))
            .group_by(keys)
            .agg(pl.col("volume").max().alias("peak"), pl.col("volume").sum().alias("total"))
            .collect(engine="streaming")
        )
        peaks = {
            tuple(str(v) for v in r[: len(keys)]): (
                float(r[-2]) / float(r[-1]) * hours if r[-1] else math.nan
            )
            for r in hourly.iter_rows()
        }
    else:
        extra.append(
            f"{source} buckets of {records.bucket_seconds}s hide the busiest hour: peak_to_average left out "
            "(the stack's autoscaling.peak_to_average applies; export hourly buckets to measure it)"
        )
    by_group: dict[tuple[str, ...], list[_Slice]] = {}
    for row in (
        good.group_by([*keys, "provider", "model"])
        .agg(
            pl.col("calls").sum(),
            pl.col("cost").sum().alias("cost"),
            pl.when(pl.col("cost").is_null())
            .then(pl.col("input_tokens"))
            .otherwise(0)
            .sum()
            .alias("in_unpriced"),
            pl.when(pl.col("cost").is_null())
            .then(pl.col("output_tokens"))
            .otherwise(0)
            .sum()
            .alias("out_unpriced"),
            pl.col("cost").is_null().sum().alias("unpriced"),
            pl.col("cost").is_not_null().sum().alias("priced"),
            (pl.col("input_tokens") + pl.col("output_tokens")).sum().alias("tokens"),
        )
        .sort(
            [*keys, "calls", "tokens", "provider", "model"],
            descending=[*([False] * len(keys)), True, True, False, False],
        )
        .collect(engine="streaming")
        .iter_rows(named=True)
    ):
        by_group.setdefault(tuple(str(row[k]) for k in keys), []).append(_slice(row))

    namings = assign_names(["/".join(g.key) for g in groups], taken=taken_names)
    if not records.calls_known:
        missing = [n.name for n in namings if n.name not in calls_by_name]
        if missing:
            raise UserError(
                f"{source} usage carries no request counts: give each workload's calls over the span "
                f"({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC) with "
                + " ".join(f"--calls {name}=N" for name in missing)
            )
    notes: list[str] = [*records.notes, *extra]
    workloads = tuple(
        _workload(g, naming, by_group.get(g.key, []), peaks.get(g.key), days, calls_by_name, notes)
        for g, naming in zip(groups, namings, strict=True)
    )
    unknown = sorted(set(calls_by_name) - {w.name for w in workloads})
    if unknown:
        raise UserError(f"--calls names no imported workload: {', '.join(unknown)}")
    return Summary(
        source=source,
        inputs=tuple(inputs),
        group_by=records.group_by,
        records=int(total),
        used=int(used),
        bad=int(bad),
        bad_shown=shown,
        skipped=skipped,
        outside=int(outside),
        start=start,
        end=end,
        span_from=span_from,
        workloads=workloads,
        renames=tuple(n.note for n in namings if n.note),
        notes=tuple(notes),
    )


def _workload(
    group: _Group,
    naming: Naming,
    slices: list[_Slice],
    peak: float | None,
    days: float,
    calls_by_name: Mapping[str, int],
    notes: list[str],
) -> ImportedWorkload:
    name = naming.name
    own: list[str] = []
    calls = calls_by_name.get(name, group.calls)
    if calls <= 0:
        raise UserError(f"workload {name}: {calls} calls in the span (give a positive --calls {name}=N)")
    top = slices[0] if slices else None
    # Shares by calls; by tokens where the source counts no calls.
    weights = [s.calls for s in slices] if any(s.calls for s in slices) else [s.tokens for s in slices]
    total_weight = sum(weights)
    share = weights[0] / total_weight if weights and total_weight else 1.0
    if top is not None and len(slices) > 1 and total_weight:
        others = ", ".join(
            f"{s.provider}/{s.model} {w / total_weight:.0%}"
            for s, w in list(zip(slices, weights, strict=True))[1:4]
        )
        own.append(f"mixes models: {top.provider}/{top.model} {share:.0%}, {others}")
    monthly, basis = _monthly_cost(slices, days, own)
    return ImportedWorkload(
        name=name,
        key=group.key,
        calls=calls,
        calls_per_day=round(calls / days, 2),
        input_tokens=max(1, round(group.input_tokens / calls)),
        output_tokens=max(1, round(group.output_tokens / calls)),
        percentiles=group.percentiles,
        peak_to_average=_round_peak(peak, name, notes),
        provider=top.provider if top else "unknown",
        model=top.model if top else "unknown",
        model_share=round(share, 4),
        monthly_usd=monthly,
        cost_basis=basis,
        notes=tuple(own),
    )


def _monthly_cost(slices: list[_Slice], days: float, notes: list[str]) -> tuple[float | None, str]:
    """Monthly spend: the source's own cost where it has one, catalog prices for the rest."""
    source_usd = catalog_usd = 0.0
    used_source = used_catalog = False
    unpriced: list[str] = []
    for s in slices:
        if s.priced > 0 and s.cost is not None:
            source_usd += s.cost
            used_source = True
        if s.unpriced > 0:
            rate = catalog_rate(s.provider, s.model)
            if rate is None:
                unpriced.append(f"{s.provider}/{s.model}")
                continue
            catalog_usd += rate.per_call(s.in_unpriced, s.out_unpriced)
            used_catalog = True
    if unpriced:
        notes.append(
            f"no cost in the records and no catalog price for {', '.join(unpriced)}: monthly_usd left out"
        )
        return None, ""
    basis = "+".join(b for b, used in (("source", used_source), ("catalog", used_catalog)) if used)
    return round((source_usd + catalog_usd) / days * DAYS_PER_MONTH, 2), basis
