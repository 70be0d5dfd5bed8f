"""`import-usage` on large LiteLLM SpendLogs exports: wall time and peak memory.

Generates synthetic SpendLogs rows (a CSV export with LiteLLM's columns: request ids, start times
over 30 days, 40 teams in the `metadata` JSON, 6 models, token counts, spend, 0.1% failed
requests), then imports it with the same code as `python -m inferplan import-usage --source litellm`
in a fresh process, whose wall time, CPU time (user + system, all threads) and peak resident
memory (ru_maxrss, which counts Polars' native buffers) are reported, with the machine's load
average: on a shared machine the wall time grows with the other work, the CPU time does not. Targets (issue 14): 10 million rows under a minute and under 2 GB on the 2-core machine.

    python benchmarks/import_usage.py [--rows 1000000 10000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

GENERATE = r"""
import sys
import polars as pl

rows, path = int(sys.argv[1]), sys.argv[2]
teams = [f"Team {n:02d}" for n in range(40)]
models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "claude-haiku-4-5", "gpt-4.1", "llama-3.3-70b"]
providers = ["openai", "openai", "anthropic", "anthropic", "openai", "groq"]
i = pl.int_range(0, rows, dtype=pl.Int64, eager=True)
h = i.hash(seed=7)
start_us = 1_740_787_200_000_000  # 2025-03-01 00:00 UTC
frame = pl.DataFrame({"i": i, "h": h}).select(
    pl.format("req-{}", pl.col("i")).alias("request_id"),
    pl.lit("acompletion").alias("call_type"),
    pl.format("hashed-{}", pl.col("h") % 500).alias("api_key"),
    ((pl.col("h") % 1000) / 100000).alias("spend"),
    (pl.col("h") % 4000 + 50).alias("prompt_tokens"),
    ((pl.col("h") // 4000) % 800 + 10).alias("completion_tokens"),
    pl.from_epoch(start_us + (pl.col("i") * (30 * 86400 * 1_000_000 // rows)), time_unit="us")
    .dt.strftime("%Y-%m-%d %H:%M:%S%.3f").alias("startTime"),
    (pl.col("h") % 6).alias("m"),
    pl.format('{{"user_api_key_team_alias": "Team {}", "user_api_key_alias": "svc"}}',
              (pl.col("h") // 7 % 40).cast(pl.String).str.zfill(2)).alias("metadata"),
    pl.when(pl.col("h") % 1000 == 0).then(pl.lit("failure")).otherwise(pl.lit("success")).alias("status"),
)
frame = frame.with_columns(
    pl.col("m").replace_strict(list(range(6)), models, return_dtype=pl.String).alias("model"),
    pl.col("m").replace_strict(list(range(6)), providers, return_dtype=pl.String).alias("custom_llm_provider"),
).drop("m")
frame.select(
    "request_id", "call_type", "api_key", "spend", "prompt_tokens", "completion_tokens", "startTime",
    "model", "custom_llm_provider", "metadata", "status",
).write_csv(path)
"""

IMPORT = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from inferplan.usage import litellm
from inferplan.usage.aggregate import summarise

path = Path(sys.argv[1])
start = time.perf_counter()
with tempfile.TemporaryDirectory() as tmp:
    summary = summarise(litellm.read_files([path], None), source="litellm", inputs=[str(path)], work_dir=Path(tmp))
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "seconds": seconds,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "used": summary.used, "skipped": sum(summary.skipped.values()), "bad": summary.bad,
    "workloads": len(summary.workloads),
}))
"""


def run_child(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", type=int, default=[1_000_000, 10_000_000])
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="inferplan-bench-usage-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        f"{'rows':>12} {'csv MiB':>9} {'generate s':>11} {'import s':>9} {'cpu s':>7} {'load':>5} {'rows/s':>10} "
        f"{'peak MiB':>9} {'used':>12} {'skipped':>8} {'workloads':>9}"
    )
    try:
        for rows in args.rows:
            path = folder / f"spendlogs-{rows}.csv"
            start = time.perf_counter()
            if not path.exists():
                run_child(GENERATE, str(rows), str(path))
            generate_s = time.perf_counter() - start
            result = json.loads(run_child(IMPORT, str(path), str(ROOT)))
            load = os.getloadavg()[0]
            print(
                f"{rows:>12,} {path.stat().st_size / 2**20:>9,.0f} {generate_s:>11.1f} {result['seconds']:>9.1f} "
                f"{result['cpu_seconds']:>7.1f} {load:>5.1f} {rows / result['seconds']:>10,.0f} "
                f"{result['peak_mib']:>9,.0f} {result['used']:>12,} "
                f"{result['skipped']:>8,} {result['workloads']:>9}"
            )
    finally:
        if args.keep is None:
            for p in folder.glob("*"):
                p.unlink()
            folder.rmdir()


if __name__ == "__main__":
    main()
