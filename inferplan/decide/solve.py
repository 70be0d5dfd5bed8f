"""The joint choice as a mixed-integer program, solved exactly by HiGHS (`scipy.optimize.milp`).

Variables: x[w, o] = 1 when workload w uses option o (binary); y[m, s, l] = 1 when model m's pool is
built on shape s with its engine at SLO level l (binary); n[m, s, l] its nodes (integer). Minimise

    sum x[w, o] * calls(w) * call_usd(w, o)  +  sum (node_usd * n[m, s, l] + fixed_usd * y[m, s, l])

subject to: every workload takes exactly one option; a model option needs its pool built at that
shape and level (an engine at level l serves only workloads whose SLO l meets); a pool's nodes carry
the busiest minute of what it serves (sum of load[w, m, s, l] * x <= n); a built pool runs at least
min_nodes and at most its ceiling; each model is built once (exactly once when a declared fallback
names it). A workload with a declared route may only take that target; a
workload with `route: auto` only eligible options other than its declared fallback. Pools are step costs shared by every workload on
them, which is why the choice is joint: two workloads each below break-even alone may fill one node.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from inferplan.decide.options import Candidate, Options, PoolOption
from inferplan.errors import UserError

TIME_LIMIT_S = 60.0
EPS = 1e-9


class Infeasible(UserError):
    """No choice keeps every pool within its ceiling."""


class Unplaceable(UserError):
    """A declared route onto a self-hosted model that fits no shape of its pool."""

    def __init__(self, workload: str, target: str, reasons: Sequence[str]) -> None:
        super().__init__("; ".join(dict.fromkeys(reasons)))
        self.workload = workload
        self.target = target
        self.reasons = tuple(dict.fromkeys(reasons))


class NoOption(UserError):
    """A workload with `route: auto` that no option may serve."""

    def __init__(self, workload: str, reasons: Sequence[str]) -> None:
        super().__init__("; ".join(reasons))
        self.workload = workload
        self.reasons = tuple(reasons)


@dataclass(frozen=True)
class Solution:
    assignment: Mapping[str, Candidate]  # workload -> the option it takes
    built: Mapping[str, tuple[PoolOption, int]]  # model -> (its pool on the chosen shape, nodes)
    objective_usd: float  # what the choice costs a month (options and pools; the rest of the stack is fixed)
    status: str  # "optimal", or why not proven
    seconds: float
    variables: int


def _allowed(
    opts: Options, fixed: Mapping[str, str], fallbacks: Mapping[str, str]
) -> dict[str, list[Candidate]]:
    out: dict[str, list[Candidate]] = {}
    for workload in opts.calls:
        own = opts.of(workload)
        if workload in fixed:
            target = fixed[workload]
            out[workload] = [c for c in own if c.target == target and math.isfinite(c.load)]
            if not out[workload]:
                raise Unplaceable(
                    workload, target, [c.misfit or c.verdict.reason for c in own if c.target == target]
                )
        else:
            # An auto route goes somewhere else than the workload's declared fallback.
            avoid = fallbacks.get(workload)
            out[workload] = [c for c in own if c.eligible and math.isfinite(c.load) and c.target != avoid]
            if not out[workload]:
                raise NoOption(workload, [f"{c.target}: {c.verdict.reason}" for c in _one_per_target(own)])
    return out


def _one_per_target(candidates: Sequence[Candidate]) -> list[Candidate]:
    seen: dict[str, Candidate] = {}
    for c in candidates:
        seen.setdefault(c.target, c)
    return list(seen.values())


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS (as bundled with SciPy 1.17) prints solver-internal lines straight to file descriptor 1,
    which would land in the middle of `plan --format json`: point fd 1 at /dev/null while it runs."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _load(c: Candidate) -> float:
    return c.load if math.isfinite(c.load) else 0.0


def solve(
    opts: Options,
    fixed: Mapping[str, str],
    required_models: frozenset[str] = frozenset(),
    fallbacks: Mapping[str, str] | None = None,
    keep: Callable[[Candidate], bool] | None = None,
    ceilings: bool = True,
    time_limit_s: float = TIME_LIMIT_S,
) -> Solution:
    """The cheapest joint assignment. `fixed`: declared routes; `keep`: a further filter (comparisons);
    `ceilings`: pools stay within max_nodes (Infeasible when that cannot be), else they grow as needed."""
    start = time.perf_counter()
    allowed = _allowed(opts, fixed, fallbacks or {})
    if keep is not None:
        allowed = {w: [c for c in cs if w in fixed or keep(c)] or cs for w, cs in allowed.items()}
    used = {c.key for cs in allowed.values() for c in cs if c.kind == "model"}
    used |= {p.key for p in opts.pools if p.model in required_models}
    pools = [p for p in opts.pools if p.key in used]

    x = [(w, c) for w, cs in allowed.items() for c in cs]
    nx, npool = len(x), len(pools)
    y0, n0 = nx, nx + npool  # variable offsets
    count = nx + 2 * npool
    cost = np.zeros(count)
    lower, upper = np.zeros(count), np.ones(count)
    for i, (w, c) in enumerate(x):
        cost[i] = opts.calls[w] * c.call_usd
    index = {p.key: k for k, p in enumerate(pools)}
    # Without ceilings, a pool may grow to carry everything that could be put on it.
    most = dict.fromkeys(index, 0.0)
    for _, c in x:
        if c.kind == "model":
            most[c.key] += _load(c)
    for k, p in enumerate(pools):
        cost[y0 + k] = p.fixed_usd
        cost[n0 + k] = p.node_usd
        room = p.max_nodes if ceilings else max(p.max_nodes, math.ceil(most[p.key] - EPS))
        upper[n0 + k] = max(room, p.min_nodes)

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def row(entries: Sequence[tuple[int, float]], low: float, high: float) -> None:
        r = len(lo)
        for col, val in entries:
            rows.append(r)
            cols.append(col)
            vals.append(val)
        lo.append(low)
        hi.append(high)

    by_workload: dict[str, list[int]] = {}
    for i, (w, _) in enumerate(x):
        by_workload.setdefault(w, []).append(i)
    for cols_w in by_workload.values():
        row([(i, 1.0) for i in cols_w], 1.0, 1.0)
    loads: dict[int, list[tuple[int, float]]] = {k: [] for k in range(npool)}
    for i, (_, c) in enumerate(x):
        if c.kind == "model":
            k = index[c.key]
            row([(i, 1.0), (y0 + k, -1.0)], -np.inf, 0.0)
            loads[k].append((i, _load(c)))
    for k, p in enumerate(pools):
        row([*loads[k], (n0 + k, -1.0)], -np.inf, 0.0)
        row([(n0 + k, 1.0), (y0 + k, -float(max(1, p.min_nodes)))], 0.0, np.inf)
        row([(n0 + k, 1.0), (y0 + k, -upper[n0 + k])], -np.inf, 0.0)
    for model in sorted({p.model for p in pools}):
        ks = [k for k, p in enumerate(pools) if p.model == model]
        need = 1.0 if model in required_models else 0.0
        row([(y0 + k, 1.0) for k in ks], need, 1.0)

    if count == 0:  # nothing to choose (no workloads, no pool a required model needs): nothing to pay
        return Solution(
            assignment={},
            built={},
            objective_usd=0.0,
            status="optimal",
            seconds=time.perf_counter() - start,
            variables=0,
        )
    integrality = np.ones(count, dtype=np.int8)
    matrix = coo_array((vals, (rows, cols)), shape=(len(lo), count)).tocsr()
    with _quiet_stdout():
        result = milp(
            cost,
            integrality=integrality,
            bounds=Bounds(lower, upper),
            constraints=LinearConstraint(matrix, lo, hi),
            options={"time_limit": time_limit_s, "mip_rel_gap": 0.0},
        )
    if result.x is None:
        raise Infeasible(f"the decision engine found no feasible choice ({result.message})")
    values = np.round(result.x).astype(int)
    assignment = {w: c for i, (w, c) in enumerate(x) if values[i] == 1}
    built = {p.model: (p, int(values[n0 + k])) for k, p in enumerate(pools) if values[y0 + k] == 1}
    return Solution(
        assignment=assignment,
        built=built,
        objective_usd=float(cost @ values),
        status="optimal" if result.status == 0 else f"not proven optimal: {result.message}",
        seconds=time.perf_counter() - start,
        variables=count,
    )
