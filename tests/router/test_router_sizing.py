"""Router sizing: tasks and workers from the gateway's rate limit and the measured worker capacity."""

from __future__ import annotations

from typing import Any

import pytest

from inferplan.catalog import read_rows
from inferplan.router_sizing import RouterCapacity, router_capacity, size_router
from tests.rules.conftest import plan_of


def capacity(rps: float = 10, memory: int = 400) -> RouterCapacity:
    return RouterCapacity(
        litellm_version="test",
        requests_per_cpu_second=rps,
        target_utilization=1.0,
        memory_mib_per_worker=memory,
        machine="m",
        method="m",
        source="s",
        as_of="2026-11",
    )


def platform(stack: str, rps: float, **router: Any) -> Any:
    def edit(p: dict[str, Any]) -> None:
        p["gateway"]["rate_limit"]["requests_per_second"] = rps
        if router:
            p["router"] = router

    return plan_of(stack, edit).platform


@pytest.mark.parametrize(
    ("stack", "rps", "tasks", "workers", "cpu", "memory"),
    [
        ("dev", 5, 1, 1, 1024, 2048),  # one worker is plenty; dev needs one task
        ("prod-eu", 5, 2, 1, 1024, 2048),  # prod keeps two tasks across AZs
        ("prod-eu", 40, 2, 2, 2048, 4096),  # four workers: 2 x 2 costs the same vCPUs as 4 x 1, fewer tasks
        ("prod-eu", 50, 5, 1, 1024, 2048),  # five workers: 5 x 1 vCPU beats 3 x 2 (6) and 2 x 4 (8)
        ("prod-eu", 400, 10, 4, 4096, 8192),  # forty workers: at most four a task
    ],
)
def test_tasks_and_workers_carry_what_the_gateway_admits_with_the_fewest_vcpus(
    stack: str, rps: float, tasks: int, workers: int, cpu: int, memory: int
) -> None:
    sized = size_router(platform(stack, rps), capacity(rps=10))
    assert (sized.tasks, sized.workers_per_task, sized.cpu_units, sized.memory_mib) == (
        tasks,
        workers,
        cpu,
        memory,
    )
    assert sized.capacity_rps >= rps


def test_memory_grows_with_the_workers_in_fargate_steps() -> None:
    sized = size_router(platform("prod-eu", 40), capacity(rps=10, memory=3000))  # 2 x 3000 MiB a task
    assert (sized.workers_per_task, sized.memory_mib) == (2, 6144)


def test_router_tasks_is_a_floor() -> None:
    assert size_router(platform("dev", 5, tasks=3), capacity()).tasks == 3


def test_a_stack_may_state_its_own_worker_capacity() -> None:
    sized = size_router(platform("prod-eu", 200, worker_capacity_rps=100), capacity(rps=10))
    assert (sized.tasks, sized.workers_per_task, sized.worker_rps) == (2, 1, 100)
    assert sized.capacity_source == "router.worker_capacity_rps (stack)"


def test_the_peak_is_the_busiest_hour_of_the_declared_volume() -> None:
    def edit(p: dict[str, Any]) -> None:
        p["workloads"][0]["calls_per_day"] = 86_400
        p["autoscaling"] = {"peak_to_average": 2.0}

    assert size_router(plan_of("dev", edit).platform, capacity()).peak_rps == pytest.approx(2.0)


def test_the_measured_capacity_is_sourced_dated_and_planned_below_its_ceiling() -> None:
    [row] = read_rows("router_capacity.csv")
    assert row["source"] and row["method"] and row["machine"] and row["as_of"][:4].isdigit()
    measured = router_capacity()
    assert measured.litellm_version == "1.106.2"
    assert measured.requests_per_second_per_worker < measured.requests_per_cpu_second
    assert all(r["source"] and r["as_of"][:4].isdigit() for r in read_rows("fargate_task_sizes.csv"))
