"""How many router tasks, and how many LiteLLM workers in each, a stack needs — sized like the GPUs:
from a measured capacity (catalog `router_capacity.csv`, measured with benchmarks/router_capacity.py)
and the load the front door can let in.

The design rate is the gateway's rate limit, not the average: the gateway admits that many requests a
second into the router, and when the GPUs saturate the frontier fallbacks of internal workloads also
pass through the router — a router slower than what the gateway admits adds latency to every call,
self-hosted or not. The stack's own peak (busiest hour of the declared volumes) is shown beside it.

One LiteLLM worker (a uvicorn process) uses one vCPU, so a task runs as many workers as it has vCPUs,
up to MAX_WORKERS_PER_TASK. Fargate bills vCPU and memory linearly, so the cheapest shape is the one
with the fewest vCPUs in total; among equals, fewer and larger tasks (fewer ALB targets and subnet
addresses), never fewer than `minimum_tasks`. Each worker counts provider spend in its own memory, so
the router config splits each provider's monthly cap over tasks x workers
(`router_config.ProviderBudget`). Task CPU and memory are Fargate's valid combinations (catalog
`fargate_task_sizes.csv`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from inferplan.catalog import read_rows
from inferplan.spec import Platform

# A task is one failure and one ALB target: four workers keep one task's share of the load bounded.
MAX_WORKERS_PER_TASK = 4
SECONDS_PER_DAY = 86_400


class RouterCapacity(BaseModel):
    """What one LiteLLM worker carries, measured (benchmarks/router_capacity.py): calls per second of
    its own CPU time, and the share of a vCPU the plan fills so queueing stays short."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    litellm_version: str
    requests_per_cpu_second: float = Field(gt=0)
    target_utilization: float = Field(gt=0, le=1)
    memory_mib_per_worker: int = Field(gt=0)
    machine: str
    method: str
    source: str
    as_of: str

    @property
    def requests_per_second_per_worker(self) -> float:
        return self.requests_per_cpu_second * self.target_utilization


class FargateSize(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu_units: int = Field(gt=0)
    min_memory_mib: int = Field(gt=0)
    max_memory_mib: int = Field(gt=0)
    step_mib: int = Field(gt=0)
    source: str
    as_of: str

    @property
    def vcpus(self) -> float:
        return self.cpu_units / 1024


@lru_cache(maxsize=1)
def router_capacity() -> RouterCapacity:
    [row] = [RouterCapacity.model_validate(r) for r in read_rows("router_capacity.csv")]
    return row


@lru_cache(maxsize=1)
def fargate_sizes() -> tuple[FargateSize, ...]:
    rows = (FargateSize.model_validate(r) for r in read_rows("fargate_task_sizes.csv"))
    return tuple(sorted(rows, key=lambda s: s.cpu_units))


@dataclass(frozen=True)
class RouterSizing:
    """The router's size and why: every figure the plan shows and the cost engine prices."""

    peak_rps: float  # the busiest hour of all declared workloads, per second
    admitted_rps: float  # the gateway's rate limit: what the front door lets in
    worker_rps: float  # measured capacity of one worker
    capacity_source: str
    tasks: int
    workers_per_task: int
    cpu_units: int
    memory_mib: int

    @property
    def processes(self) -> int:
        return self.tasks * self.workers_per_task

    @property
    def capacity_rps(self) -> float:
        return self.processes * self.worker_rps


def peak_requests_per_second(platform: Platform) -> float:
    """All workloads' calls in the busiest hour, per second (daily volume x peak_to_average / 86,400)."""
    daily = sum(w.calls_per_day for w in platform.workloads)
    return daily * platform.autoscaling.peak_to_average / SECONDS_PER_DAY


def minimum_tasks(platform: Platform) -> int:
    """`router.tasks`, else two across AZs in prod (a task may fail or roll) and one elsewhere."""
    if platform.router.tasks is not None:
        return platform.router.tasks
    return 2 if platform.environment == "prod" else 1


def task_memory(size: FargateSize, workers: int, memory_per_worker_mib: int) -> int | None:
    """Memory for `workers` on a task of `size` (its minimum at least), or None when it cannot hold them."""
    need = math.ceil(workers * memory_per_worker_mib / size.step_mib) * size.step_mib
    memory = max(size.min_memory_mib, need)
    return memory if memory <= size.max_memory_mib else None


def size_router(platform: Platform, capacity: RouterCapacity | None = None) -> RouterSizing:
    """Tasks and workers that carry the design rate with the fewest vCPUs, at least `minimum_tasks`."""
    capacity = capacity or router_capacity()
    per_worker = platform.router.worker_capacity_rps or capacity.requests_per_second_per_worker
    source = (
        "router.worker_capacity_rps (stack)"
        if platform.router.worker_capacity_rps
        else f"{capacity.source} ({capacity.as_of})"
    )
    peak = peak_requests_per_second(platform)
    admitted = platform.gateway.rate_limit.requests_per_second
    needed = max(1, math.ceil(admitted / per_worker))
    floor = minimum_tasks(platform)
    options = []
    for size in fargate_sizes():
        workers = int(size.vcpus)
        if workers < 1 or workers > MAX_WORKERS_PER_TASK:
            continue
        memory = task_memory(size, workers, capacity.memory_mib_per_worker)
        if memory is None:
            continue
        tasks = max(floor, math.ceil(needed / workers))
        options.append((tasks * workers, tasks, workers, size.cpu_units, memory))
    if not options:
        raise ValueError("no Fargate task size in the catalog holds a LiteLLM worker")
    _, tasks, workers, cpu, memory = min(options)
    return RouterSizing(
        peak_rps=peak,
        admitted_rps=admitted,
        worker_rps=per_worker,
        capacity_source=source,
        tasks=tasks,
        workers_per_task=workers,
        cpu_units=cpu,
        memory_mib=memory,
    )
