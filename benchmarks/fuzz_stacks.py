"""Fuzz the stack reader and planner: N mutants of the example stacks, outcomes counted.

Every mutant must end as a plan or as located errors (`file:line:col: path: message`, one line each,
escaped): anything else — a traceback, an unlocated error, Infinity/NaN in a report, a mutant taking
longer than the hang limit — is counted as `other` and shown. In-process (validate, build the plan,
price it, judge the plan-level rules, render the reports); the Pulumi program is not run per mutant.

    python benchmarks/fuzz_stacks.py [--mutants 10000] [--seed 0] [--hang-seconds 10]
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.spec.mutants import Outcome, mutate, outcome  # noqa: E402


class Hang(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hang-seconds", type=int, default=10)
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    counts: Counter[str] = Counter()
    times: list[float] = []
    others: list[tuple[int, str]] = []
    started = time.perf_counter()
    for index in range(args.mutants):
        seed = args.seed * 1_000_003 + index
        text = mutate(random.Random(seed))
        signal.alarm(args.hang_seconds)
        began = time.perf_counter()
        try:
            result = outcome(text)
        except Hang:
            result = Outcome("other", f"took longer than {args.hang_seconds} s")
        finally:
            signal.alarm(0)
        times.append(time.perf_counter() - began)
        counts[result.kind] += 1
        if result.kind == "other":
            others.append((seed, result.detail))
    total = time.perf_counter() - started
    times.sort()
    print(f"fuzz_stacks: {args.mutants:,} mutants of the example stacks (seed {args.seed}), in-process")
    print()
    print("| outcome | mutants | share |")
    print("|---|---:|---:|")
    for kind in ("plan", "located", "other"):
        print(f"| {kind} | {counts[kind]:,} | {counts[kind] / args.mutants:.1%} |")
    print()
    print("| time per mutant | ms |")
    print("|---|---:|")
    print(f"| median | {statistics.median(times) * 1000:.1f} |")
    print(f"| p99 | {times[int(len(times) * 0.99) - 1] * 1000:.1f} |")
    print(f"| max | {times[-1] * 1000:.1f} |")
    print(f"| total | {total:,.1f} s |")
    for seed, detail in others[:20]:
        print(f"other (seed {seed}): {detail}")
    sys.exit(1 if counts["other"] else 0)


if __name__ == "__main__":
    main()
