"""One week of known usage, written in each source's documented export format.

Two workloads over 2025-03-03 00:00 to 2025-03-10 00:00 UTC (7 days, 168 clock hours):

- support-bot: 10 calls in every hour except Wednesday 2025-03-05 14:00, which has 58. Calls alternate
  600-in/150-out and 1000-in/250-out. On openai/gpt-4o-2024-08-06 at $0.002 a call.
- legal-review: 4 calls in every hour, each 3000 in / 500 out. On anthropic/claude-sonnet-4-5 at
  $0.0165 a call.

The expected figures below are worked out by hand from that description (not by the code under test).
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2025, 3, 3, tzinfo=UTC)
HOURS = 168
BUSY_HOUR = datetime(2025, 3, 5, 14, tzinfo=UTC)


@dataclass(frozen=True)
class Expected:
    calls: int
    calls_per_day: float
    input_tokens: float
    output_tokens: float
    peak_to_average: float
    monthly_usd: float


# support-bot: 167 x 10 + 58 = 1728 calls; 1728 / 7 = 246.857 a day; the busiest hour has 58 calls
# against an average hour of 1728 / 168 = 10.2857, so 5.639. Half the calls are 600/150, half
# 1000/250: means 800 / 200. Spend 1728 x 0.002 = $3.456 a week = 3.456 / 7 x 30.4167 = $15.02 a month.
SUPPORT = Expected(1728, 246.857, 800, 200, 5.639, 15.017)
# legal-review: 168 x 4 = 672 calls, 96 a day, no busier hour (1.0); 672 x 0.0165 = $11.088 a week,
# $48.18 a month.
LEGAL = Expected(672, 96.0, 3000, 500, 1.0, 48.180)


@dataclass(frozen=True)
class Call:
    team: str
    ts: datetime
    input_tokens: int
    output_tokens: int
    provider: str
    model: str
    spend: float
    index: int


def calls() -> Iterator[Call]:
    index = 0
    for hour in range(HOURS):
        at = START + timedelta(hours=hour)
        support = 58 if at == BUSY_HOUR else 10
        for n in range(support):
            big = n % 2 == 1
            yield Call(
                "Support Bot",
                at + timedelta(seconds=30 + n * 50),
                1000 if big else 600,
                250 if big else 150,
                "openai",
                "gpt-4o-2024-08-06",
                0.002,
                index,
            )
            index += 1
        for n in range(4):
            yield Call(
                "Legal Review",
                at + timedelta(minutes=5 + n * 12),
                3000,
                500,
                "anthropic",
                "claude-sonnet-4-5",
                0.0165,
                index,
            )
            index += 1


# --- LiteLLM SpendLogs ------------------------------------------------------------------------------

SPENDLOGS_COLUMNS = (
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "model",
    "model_group",
    "custom_llm_provider",
    "user",
    "metadata",
    "team_id",
    "status",
)


def spendlog_row(call: Call) -> dict[str, Any]:
    return {
        "request_id": f"req-{call.index:06d}",
        "call_type": "acompletion",
        "api_key": f"hashed-{call.team[:3].lower()}",
        "spend": call.spend,
        "total_tokens": call.input_tokens + call.output_tokens,
        "prompt_tokens": call.input_tokens,
        "completion_tokens": call.output_tokens,
        "startTime": call.ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z",
        "endTime": (call.ts + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z",
        "model": call.model,
        "model_group": "chat",
        "custom_llm_provider": call.provider,
        "user": "",
        "metadata": {"user_api_key_team_alias": call.team, "user_api_key_alias": "svc"},
        "team_id": f"team-{call.team.split()[0].lower()}",
        "status": "success",
    }


# Bad rows appended after the good ones (their problems, in the order written).
BAD_SPENDLOGS = (
    ({"prompt_tokens": -5}, "negative prompt_tokens"),
    ({"startTime": "2025-03-32T10:00:00Z"}, "unparseable startTime"),
    ({"completion_tokens": None}, "missing completion_tokens"),
)


def spendlog_rows(with_bad: bool = True) -> list[dict[str, Any]]:
    rows = [spendlog_row(c) for c in calls()]
    if with_bad:
        template = rows[0]
        for n, (change, _) in enumerate(BAD_SPENDLOGS):
            rows.append({**template, "request_id": f"bad-{n}", **change})
        rows.append({**template, "request_id": "failed-0", "status": "failure", "prompt_tokens": 0})
    return rows


def write_spendlogs_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(rows, indent=2))
    return path


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def write_spendlogs_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SPENDLOGS_COLUMNS)
        for row in rows:
            writer.writerow([csv_value(row.get(c)) for c in SPENDLOGS_COLUMNS])
    return path


# --- Bedrock invocation logs -----------------------------------------------------------------------

ROLES = {"Support Bot": "support-bot-role", "Legal Review": "legal-review-role"}
BEDROCK_MODELS = {
    "Support Bot": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "Legal Review": "anthropic.claude-sonnet-4-5-20250929-v1:0",
}


def bedrock_event(call: Call) -> dict[str, Any]:
    return {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": call.ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accountId": "123456789012",
        "identity": {"arn": f"arn:aws:sts::123456789012:assumed-role/{ROLES[call.team]}/session-1"},
        "region": "us-east-1",
        "requestId": f"r-{call.index}",
        "operation": "Converse",
        "modelId": BEDROCK_MODELS[call.team],
        "input": {"inputContentType": "application/json", "inputTokenCount": call.input_tokens},
        "output": {"outputContentType": "application/json", "outputTokenCount": call.output_tokens},
    }


def write_bedrock(path: Path) -> tuple[Path, dict[int, str]]:
    """JSON lines (gzip when the name ends in .gz); returns the bad lines and their problem."""
    lines = [json.dumps(bedrock_event(c)) for c in calls()]
    template = bedrock_event(next(calls()))
    bad: dict[int, str] = {}
    broken = {**template, "input": {"inputTokenCount": "many"}}
    lines.append(json.dumps(broken))
    bad[len(lines)] = "unparseable input.inputTokenCount"
    lines.append("")  # blank lines are not records
    lines.append("{not json")
    bad[len(lines)] = "not a JSON object"
    lines.append(json.dumps({**template, "timestamp": None}))
    bad[len(lines)] = "missing timestamp"
    lines.append(json.dumps({**template, "errorCode": "ThrottlingException", "output": {}}))
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path, bad


# --- Generic CSV --------------------------------------------------------------------------------

GENERIC_COLUMNS = (
    "timestamp",
    "workload",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cost",
    "currency",
)


def write_generic_csv(path: Path) -> tuple[Path, dict[int, str]]:
    rows = [
        [c.ts.isoformat(), c.team, c.provider, c.model, c.input_tokens, c.output_tokens, c.spend, "USD"]
        for c in calls()
    ]
    first = rows[0]
    bad: dict[int, str] = {}
    extra = [
        ([*first[:6], 0.01, "EUR"], "is not USD"),
        (["yesterday", *first[1:]], "unparseable timestamp"),
        ([*first[:4], "", *first[5:]], "missing input_tokens"),
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(GENERIC_COLUMNS)
        writer.writerows(rows)
        for n, (row, problem) in enumerate(extra):
            writer.writerow(row)
            bad[len(rows) + 2 + n] = problem  # line 1 is the header
    return path, bad


# --- Bucketed APIs (hourly buckets) -----------------------------------------------------------------


def hourly_totals() -> dict[tuple[str, datetime], tuple[int, int, int, float]]:
    """(team, hour) -> (calls, input tokens, output tokens, spend)."""
    totals: dict[tuple[str, datetime], tuple[int, int, int, float]] = {}
    for c in calls():
        hour = c.ts.replace(minute=0, second=0, microsecond=0)
        n, i, o, s = totals.get((c.team, hour), (0, 0, 0, 0.0))
        totals[(c.team, hour)] = (n + 1, i + c.input_tokens, o + c.output_tokens, s + c.spend)
    return totals


PROJECTS = {"Support Bot": "proj_SupportBot01", "Legal Review": "proj_LegalReview7"}
OPENAI_MODELS = {"Support Bot": "gpt-4o-2024-08-06", "Legal Review": "gpt-4.1-2025-04-14"}


def write_openai(usage_path: Path, costs_path: Path | None) -> Path:
    """Usage pages (hourly buckets grouped by project_id and model) and, optionally, daily cost pages."""
    totals = hourly_totals()
    buckets = []
    for hour in range(HOURS):
        at = START + timedelta(hours=hour)
        results = []
        for team in ("Support Bot", "Legal Review"):
            n, i, o, _ = totals[(team, at)]
            results.append(
                {
                    "object": "organization.usage.completions.result",
                    "input_tokens": i,
                    "output_tokens": o,
                    "input_cached_tokens": i // 4,
                    "input_audio_tokens": 0,
                    "output_audio_tokens": 0,
                    "num_model_requests": n,
                    "project_id": PROJECTS[team],
                    "user_id": None,
                    "api_key_id": None,
                    "model": OPENAI_MODELS[team],
                    "batch": None,
                }
            )
        buckets.append(
            {
                "object": "bucket",
                "start_time": int(at.timestamp()),
                "end_time": int(at.timestamp()) + 3600,
                "results": results,
            }
        )
    # Two pages, as the API paginates, saved as a JSON array of pages.
    pages = [
        {"object": "page", "data": buckets[:100], "has_more": True, "next_page": "page_2"},
        {"object": "page", "data": buckets[100:], "has_more": False, "next_page": None},
    ]
    usage_path.write_text(json.dumps(pages, indent=1))
    if costs_path is not None:
        day_buckets = []
        for day in range(7):
            at = START + timedelta(days=day)
            results = []
            for team, per_call in (("Support Bot", 0.002), ("Legal Review", 0.0165)):
                day_calls = sum(totals[(team, at + timedelta(hours=h))][0] for h in range(24))
                # Input and output lines, as the Costs API splits them (60/40 here).
                for kind, share in (("input", 0.6), ("output", 0.4)):
                    results.append(
                        {
                            "object": "organization.costs.result",
                            "amount": {"value": round(day_calls * per_call * share, 10), "currency": "usd"},
                            "line_item": f"{OPENAI_MODELS[team]}, {kind}",
                            "project_id": PROJECTS[team],
                        }
                    )
            day_buckets.append(
                {
                    "object": "bucket",
                    "start_time": int(at.timestamp()),
                    "end_time": int(at.timestamp()) + 86400,
                    "results": results,
                }
            )
        costs_path.write_text(
            json.dumps({"object": "page", "data": day_buckets, "has_more": False, "next_page": None})
        )
    return usage_path


WORKSPACES = {"Support Bot": "wrkspc_01SupportBot", "Legal Review": "wrkspc_01LegalReview"}


def write_anthropic(path: Path) -> Path:
    """Messages usage report pages with hourly buckets grouped by workspace_id and model."""
    totals = hourly_totals()
    buckets = []
    for hour in range(HOURS):
        at = START + timedelta(hours=hour)
        results = []
        for team in ("Support Bot", "Legal Review"):
            _, i, o, _ = totals[(team, at)]
            cached = i // 10
            results.append(
                {
                    "uncached_input_tokens": i - 2 * cached,
                    "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": cached},
                    "cache_read_input_tokens": cached,
                    "output_tokens": o,
                    "server_tool_use": {"web_search_requests": 0},
                    "api_key_id": None,
                    "workspace_id": WORKSPACES[team],
                    "model": "claude-sonnet-4-5-20250929"
                    if team == "Legal Review"
                    else "claude-haiku-4-5-20251001",
                    "service_tier": "standard",
                    "context_window": "0-200k",
                }
            )
        buckets.append(
            {
                "starting_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "ending_at": (at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "results": results,
            }
        )
    pages = [
        {"data": buckets[: 168 // 2], "has_more": True, "next_page": "page_x"},
        {"data": buckets[168 // 2 :], "has_more": False, "next_page": None},
    ]
    path.write_text("\n".join(json.dumps(p) for p in pages) + "\n")  # one page per line
    return path
