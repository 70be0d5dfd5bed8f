"""The front door section: the router's size (and why) and the gateway's route and scopes per workload."""

from __future__ import annotations

from typing import Any

from inferplan.plan import Plan


def to_json(plan: Plan) -> dict[str, Any]:
    router, gateway = plan.front_door.router, plan.front_door.gateway
    sizing = router.sizing
    return {
        "image": router.image.describe(),
        "image_mirror_of": router.image.mirror_of,
        "tasks": sizing.tasks,
        "workers_per_task": sizing.workers_per_task,
        "cpu_units": sizing.cpu_units,
        "memory_mib": sizing.memory_mib,
        "worker_requests_per_s": sizing.worker_rps,
        "capacity_requests_per_s": sizing.capacity_rps,
        "admitted_requests_per_s": sizing.admitted_rps,
        "peak_requests_per_s": sizing.peak_rps,
        "capacity_source": sizing.capacity_source,
        "routes": [
            {"workload": r.workload, "path": r.path, "scopes": list(r.scopes)} for r in gateway.routes
        ],
    }


def _sizing_line(plan: Plan) -> str:
    s = plan.front_door.router.sizing
    return (
        f"{s.tasks} task(s) x {s.workers_per_task} LiteLLM worker(s), {s.cpu_units / 1024:g} vCPU / "
        f"{s.memory_mib / 1024:g} GB a task: carries {s.capacity_rps:.0f} requests/s ({s.worker_rps:.1f} a worker) "
        f"for the {s.admitted_rps:g} requests/s the gateway admits; the workloads' busiest hour is "
        f"{s.peak_rps:.1f} requests/s"
    )


def render_text(plan: Plan) -> str:
    router, gateway = plan.front_door.router, plan.front_door.gateway
    lines = ["Front door", f"  router: {_sizing_line(plan)}", f"  image: {router.image.describe()}"]
    if router.image.mirror_of:
        lines.append(f"  copy {router.image.mirror_of} into it before the first deploy (docs/front-door.md)")
    width = max((len(r.path) for r in gateway.routes), default=0)
    lines += [f"  POST {r.path.ljust(width)}  scopes: {' | '.join(r.scopes)}" for r in gateway.routes]
    return "\n".join(lines)


def render_markdown(plan: Plan) -> str:
    router, gateway = plan.front_door.router, plan.front_door.gateway
    lines = [
        "### Front door",
        "",
        f"Router: {_sizing_line(plan)}. Image: `{router.image.describe()}`.",
        "",
        "| workload | route | a token needs one of |",
        "|---|---|---|",
    ]
    lines += [
        f"| `{r.workload}` | `POST {r.path}` | {', '.join(f'`{s}`' for s in r.scopes)} |"
        for r in gateway.routes
    ]
    return "\n".join(lines)
