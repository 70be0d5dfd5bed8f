"""Requests per second one LiteLLM router worker sustains: the figure `catalog/router_capacity.csv` holds.

The router as deployed (the dev stack's recorded task: its config and admission check loaded from S3 by
the proxy itself, tests/router/proxy_process.py) with ONE worker, on 127.0.0.1, in front of a stand-in
vLLM that answers at once (a separate process, so the upstream never limits the router). A closed-loop
load generator (aiohttp) keeps C requests in flight for D seconds at each concurrency C, through the
admission check exactly as the gateway would send them, and reads the proxy's own CPU time from
/proc/<pid>/stat. Columns: achieved requests/s, p50/p95 latency, proxy CPU per request, requests per
proxy CPU-second (what one fully used vCPU carries), the proxy's resident memory.

    python benchmarks/router_capacity.py [--seconds 15] [--concurrency 1 8 32 64]

The load generator and the stand-in share the machine with the proxy, so achieved requests/s is a floor;
requests per proxy CPU-second is the ceiling of one worker on one vCPU. The catalog records the achieved
rate at the highest concurrency whose p95 stays under --p95-ms (default 1000 ms: a router that adds
more than a second to a call is saturated).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from inferplan.router_guard import WORKLOAD_HEADER  # noqa: E402
from offline.recorder import record  # noqa: E402
from tests.conftest import stack_config  # noqa: E402
from tests.router.proxy_process import Moto, RouterProcess, Upstream, deployed_router  # noqa: E402

WORKLOAD = "ticket-triage"


def body(prompt_words: int) -> dict[str, Any]:
    """A chat call of about `prompt_words` tokens: the router counts them (context-window pre-call check)."""
    words = " ".join(f"word{i % 97}" for i in range(prompt_words))
    return {"model": WORKLOAD, "messages": [{"role": "user", "content": f"Classify this ticket: {words}"}]}


def serve_upstream(port_out: Any) -> None:
    upstream = Upstream("openai")
    port_out.put(upstream.server.server_port)
    while True:
        time.sleep(3600)


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def load(
    url: str, concurrency: int, seconds: float, payload: dict[str, Any]
) -> tuple[list[float], int]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one_client() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                start = time.monotonic()
                async with session.post(
                    f"{url}/v1/chat/completions", json=payload, headers={WORKLOAD_HEADER: WORKLOAD}
                ) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                        continue
                latencies.append(time.monotonic() - start)

        await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return latencies, errors


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} vCPU {model}, Linux {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--p95-ms", type=float, default=1000.0)
    parser.add_argument(
        "--prompt-words", type=int, default=1000, help="prompt size (the stacks send 800-6000)"
    )
    args = parser.parse_args()

    ports: Any = multiprocessing.Queue()
    upstream = multiprocessing.Process(target=serve_upstream, args=(ports,), daemon=True)
    upstream.start()
    vllm_port = ports.get(timeout=30)

    recording = record("dev", stack_config("dev"), ROOT / "__main__.py")
    moto = Moto()
    with tempfile.TemporaryDirectory() as tmp:
        router = RouterProcess(
            deployed_router(recording),
            moto,
            f"http://127.0.0.1:{vllm_port}",
            {},
            Path(tmp) / "litellm.log",
            workers=1,
        )
        try:
            boot = router.wait_ready()
            payload = body(args.prompt_words)
            asyncio.run(load(router.url, 4, 3.0, payload))  # warm up (first calls import providers)
            print(
                f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}; LiteLLM proxy booted in "
                f"{boot:.1f} s; prompt of {args.prompt_words} words; {args.seconds:g} s a level\n"
            )
            print(
                f"{'concurrency':>11} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6} "
                f"{'CPU ms/req':>10} {'req/CPU-s':>9} {'RSS MiB':>8}"
            )
            chosen = None
            for concurrency in args.concurrency:
                cpu0 = proc_cpu_seconds(router.process.pid)
                start = time.monotonic()
                latencies, errors = asyncio.run(load(router.url, concurrency, args.seconds, payload))
                wall = time.monotonic() - start
                cpu = proc_cpu_seconds(router.process.pid) - cpu0
                done = len(latencies)
                rate = done / wall
                p50 = statistics.median(latencies) * 1000
                p95 = statistics.quantiles(latencies, n=20)[-1] * 1000 if done >= 20 else float("nan")
                per_cpu = done / cpu if cpu else float("nan")
                print(
                    f"{concurrency:>11} {rate:>8.1f} {p50:>8.0f} {p95:>8.0f} {errors:>6} "
                    f"{cpu / max(done, 1) * 1000:>10.1f} {per_cpu:>9.1f} {rss_mib(router.process.pid):>8.0f}"
                )
                if errors == 0 and p95 <= args.p95_ms:
                    chosen = (concurrency, rate)
            if chosen:
                print(
                    f"\nsustained: {chosen[1]:.1f} requests/s at concurrency {chosen[0]} (p95 <= {args.p95_ms:g} ms)"
                )
        finally:
            router.stop()
            moto.stop()
            upstream.terminate()


if __name__ == "__main__":
    main()
