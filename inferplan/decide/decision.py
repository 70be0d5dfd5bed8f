"""The decision of a plan: per workload the option it takes and why, and the spec it resolves to.

`decide` prices every option (`options`), solves the joint choice (`solve`), then explains it: each
option's monthly cost is its *marginal* cost given every other workload's choice (an API: its calls;
a self-hosted model: the nodes its pool needs with the workload minus without it, or the whole pool
when nothing else would keep it running), so the difference between the chosen option and the
runner-up is exactly what moving that one workload would change. The resolved spec has every
`auto` route, fallback and pool shape filled in and leaves out pools and models nothing uses: they
are candidates, not commitments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from inferplan.catalog import Catalog
from inferplan.cost.breakeven import PoolStep, VolumeModel
from inferplan.decide.options import (
    Candidate,
    Options,
    PoolOption,
    PoolPrice,
    auto_fallback,
    options,
    strictest_of,
)
from inferplan.decide.solve import EPS, Infeasible, NoOption, Solution, Unplaceable, solve
from inferplan.decide.types import Breakeven, Decision, Option, WorkloadDecision
from inferplan.errors import SpecInputError
from inferplan.pricebook import PriceBook
from inferplan.sizing.throughput import Slo
from inferplan.spec import AUTO, Platform, Workload


def _located(platform: Platform, error: NoOption) -> SpecInputError:
    index = [w.name for w in platform.workloads].index(error.workload)
    return SpecInputError(
        ("workloads", index, "route"),
        "auto: no option may serve this workload (" + "; ".join(error.reasons) + ")",
    )


def _nodes(pool: PoolOption, load: float) -> int:
    return max(pool.min_nodes, math.ceil(load - EPS))


def _beyond(pool: PoolOption, nodes: int) -> str:
    """What taking an option would break: its pool grown past the ceiling (the solver never does that)."""
    if nodes <= pool.max_nodes:
        return ""
    return f"needs {nodes} nodes of pool {pool.pool}, above its max_nodes {pool.max_nodes}"


def _marginals(
    opts: Options, sol: Solution, required: frozenset[str], workload: Workload
) -> dict[str, tuple[Candidate, float | None, str]]:
    """Per target of `workload`: the candidate it would use, its marginal monthly cost and what it would
    break (`_beyond`).

    A model already built is priced on its shape: the nodes its pool needs with this workload minus
    those it needs without (nothing, when no other workload or declared fallback keeps it), each at
    the SLO level its engine would then run at (the strictest of the workloads it serves). A model
    not built is priced on its cheapest shape as a pool of its own.
    """
    calls = opts.calls[workload.name]
    out: dict[str, tuple[Candidate, float | None, str]] = {}
    for c in opts.of(workload.name):
        if c.kind != "model":
            out[c.target] = (c, calls * c.call_usd, "")
            continue
        applies, usd, beyond = _model_marginal(opts, sol, required, workload, c, calls)
        if not applies:
            continue
        best = out.get(c.target)
        if best is None or _better(c, usd, best[0], best[1]):
            out[c.target] = (c, usd, beyond)
    return out


def _model_marginal(
    opts: Options, sol: Solution, required: frozenset[str], workload: Workload, c: Candidate, calls: float
) -> tuple[bool, float | None, str]:
    """(whether `c` is the candidate this situation prices, its marginal monthly cost if it can serve,
    what it would break)."""
    built = sol.built.get(c.target)
    if built is None:
        if not math.isfinite(c.load):
            return True, None, ""
        if c.level != opts.slos[workload.name]:
            return False, None, ""  # alone on its pool, its engine runs at the workload's own SLO
        pool = opts.pool(c.target, c.shape, c.level)
        nodes = _nodes(pool, c.load)
        return True, pool.usd(nodes) + calls * c.call_usd, _beyond(pool, nodes)
    pool = built[0]
    others = [w for w, x in sol.assignment.items() if x.target == c.target and w != workload.name]
    level = Slo()
    for w in others:
        level = strictest_of(level, opts.slos[w])
    with_me = strictest_of(level, opts.slos[workload.name])
    if c.shape != pool.shape or c.level != with_me:
        return False, None, ""
    if not math.isfinite(c.load):
        return True, None, ""

    def load(names: list[str], at: Slo) -> float:
        total = 0.0
        for name in names:
            mine = opts.candidate(name, (c.target, pool.shape, at))
            total += mine.load if mine is not None else math.inf
        return total

    kept = bool(others) or c.target in required
    base = _nodes(pool, load(others, level)) if kept else 0
    mine = _nodes(pool, load(others, with_me) + c.load)
    return True, pool.usd(mine) - pool.usd(base) + calls * c.call_usd, _beyond(pool, mine)


def _better(c: Candidate, usd: float | None, than: Candidate, than_usd: float | None) -> bool:
    """Eligible before ineligible, then priced before unpriced, then cheaper."""
    if c.eligible != than.eligible:
        return c.eligible
    if (usd is None) != (than_usd is None):
        return usd is not None
    return usd is not None and than_usd is not None and usd < than_usd


def _option(c: Candidate, usd: float | None, workload: Workload, calls: float, beyond: str) -> Option:
    tokens = calls * (workload.input_tokens + workload.output_tokens)
    return Option(
        target=c.target,
        kind=c.kind,
        shape=c.shape,
        eligible=c.eligible,
        reason=c.verdict.reason,
        monthly_usd=None if usd is None else round(usd, 2),
        usd_per_1k_calls=None if usd is None or calls <= 0 else usd / calls * 1000,
        usd_per_million_tokens=None if usd is None or tokens <= 0 else usd / tokens * 1e6,
        beyond_ceiling=beyond,
    )


def _breakeven(subject: str, opts: Options, model: Candidate | None, api: Candidate | None, calls: float,
               load: float, call_usd_self: float, api_usd: float) -> Breakeven | None:  # fmt: skip
    if model is None or api is None or not math.isfinite(load) or load <= 0 or calls <= 0:
        return None
    pool = opts.pool(model.target, model.shape, model.level)
    volume = VolumeModel(
        calls_per_month=calls,
        fixed_usd=pool.fixed_usd,
        per_call_usd=call_usd_self,
        api_per_call_usd=api_usd,
        pools=(
            PoolStep(
                name=pool.pool,
                node_usd=pool.node_usd,
                min_nodes=max(1, pool.min_nodes),
                max_nodes=None,
                peak_calls_per_min_per_call=load / calls if calls > 0 else 0.0,
                calls_per_min_per_node=1.0 if calls > 0 and load > 0 else 0.0,
                fixed_nodes=max(1, pool.min_nodes),
            ),
        ),
    )
    be = volume.breakeven()
    self_usd, api_total = volume.self_hosted_usd(calls), volume.api_usd(calls)
    cheaper = "self-hosted" if self_usd < api_total else "api"
    where = f"{model.target} on {model.shape}"
    if be is None:
        marginal = volume.marginal_usd_per_call
        explanation = (
            f"never: {api.target} costs ${api_usd * 1000:,.2f} per 1,000 calls, less than a full node of "
            f"{where} at the margin (${marginal * 1000:,.2f} per 1,000 calls)"
        )
    else:
        side = "above" if calls >= be else "below"
        explanation = (
            f"{where} is cheaper than {api.target} from {be:,.0f} calls/month (${be * api_usd:,.0f}/month of API "
            f"spend); the declared {calls:,.0f} is {side} it: ${self_usd:,.0f} self-hosted vs ${api_total:,.0f} API"
        )
    return Breakeven(
        subject=subject,
        model=model.target,
        api=api.target,
        calls_per_month=calls,
        breakeven_calls_per_month=be,
        breakeven_api_usd=None if be is None else be * api_usd,
        cheaper=cheaper,
        explanation=explanation,
    )


def _cheapest_api(cands: list[Candidate]) -> Candidate | None:
    apis = [c for c in cands if c.eligible and c.kind != "model"]
    return min(apis, key=lambda c: (c.call_usd, c.target)) if apis else None


def _cheapest_self(opts: Options, cands: list[Candidate], calls: float) -> Candidate | None:
    """The self-hosted option that would serve this workload alone most cheaply (a pool of its own)."""
    hosted = [
        c
        for c in cands
        if c.eligible and c.kind == "model" and math.isfinite(c.load) and c.level == opts.slos[c.workload]
    ]

    def alone(c: Candidate) -> float:
        pool = opts.pool(c.target, c.shape, c.level)
        return pool.usd(_nodes(pool, c.load)) + calls * c.call_usd

    return min(hosted, key=lambda c: (alone(c), c.target, c.shape)) if hosted else None


def _fallback(opts: Options, sol: Solution, workload: Workload) -> str | None:
    """The declared fallback, or for `fallback: auto` the one `options.auto_fallback` priced the route with."""
    if workload.fallback != AUTO:
        return workload.fallback
    route = sol.assignment[workload.name]

    def built(c: Candidate) -> bool:
        return c.target in sol.built and sol.built[c.target][0].shape == c.shape

    chosen = auto_fallback(opts.of(workload.name), route.target, built)
    return chosen.target if chosen is not None else None


def resolve(platform: Platform, decision: Decision) -> Platform:
    """The spec with the decision's routes, fallbacks and shapes, without the pools and models nobody uses."""
    used_models = {d.chosen for d in decision.workloads if d.chosen_kind == "model"} | {
        d.fallback for d in decision.workloads if d.fallback and platform.model(d.fallback) is not None
    }
    models = tuple(m for m in platform.models if m.name in used_models)
    used_pools = {m.pool for m in models}
    pools = tuple(
        p.model_copy(update={"instance_type": decision.shapes.get(p.name, p.instance_type)})
        for p in platform.pools
        if p.name in used_pools
    )
    workloads = tuple(
        w.model_copy(
            update={
                "route": d.chosen,
                "fallback": d.fallback,
                "fallback_rate": w.fallback_rate if d.fallback else 0.0,
            }
        )
        for w, d in zip(platform.workloads, decision.workloads, strict=True)
    )
    return platform.model_copy(update={"models": models, "pools": pools, "workloads": workloads})


def decide(platform: Platform, catalog: Catalog, book: PriceBook, price: PoolPrice) -> Decision:
    opts = options(platform, catalog, book, price)
    fixed = {w.name: w.route for w in platform.workloads if w.route != AUTO}
    required = frozenset(
        w.fallback
        for w in platform.workloads
        if w.fallback not in (None, AUTO) and platform.model(w.fallback)
    )
    fallbacks = {
        w.name: w.fallback for w in platform.workloads if w.route == AUTO and w.fallback not in (None, AUTO)
    }
    try:
        sol = solve(opts, fixed, required, fallbacks)
    except NoOption as exc:
        raise _located(platform, exc) from None
    except Unplaceable as exc:  # what plan_models would say, at the model (the route names a real model)
        index = [m.name for m in platform.models].index(exc.target)
        raise SpecInputError(
            ("models", index, "model"),
            f"{'; '.join(exc.reasons)} (lower max_context or quantization, or pick a larger instance_type or `auto`)",
        ) from None
    except Infeasible:  # declared or sensitive work outgrows max_nodes: grow; autoscaler-capacity says so
        sol = solve(opts, fixed, required, fallbacks, ceilings=False)
        sol = replace(sol, status=f"{sol.status}; no choice keeps every pool within its max_nodes")

    workloads = []
    for w in platform.workloads:
        calls = opts.calls[w.name]
        chosen = sol.assignment[w.name]
        priced = _marginals(opts, sol, required, w)
        rows = [_option(c, usd, w, calls, beyond) for c, usd, beyond in priced.values()]
        chosen_usd = priced[chosen.target][1]
        others = sorted(
            (
                (usd, c.target)
                for c, usd, _ in priced.values()
                if c.eligible and usd is not None and c.target != chosen.target
            ),
        )
        runner = others[0] if others else None
        cands = list(opts.of(w.name))
        self_best, api_best = _cheapest_self(opts, cands, calls), _cheapest_api(cands)
        breakeven = (
            _breakeven(
                w.name,
                opts,
                self_best,
                api_best,
                calls,
                self_best.load,
                self_best.call_usd,
                api_best.call_usd,
            )
            if self_best is not None and api_best is not None
            else None
        )
        workloads.append(
            WorkloadDecision(
                workload=w.name,
                declared=w.route,
                chosen=chosen.target,
                chosen_kind=chosen.kind,
                runner_up=runner[1] if runner else None,
                difference_usd=None
                if runner is None or chosen_usd is None
                else round(runner[0] - chosen_usd, 2),
                fallback=_fallback(opts, sol, w),
                declared_fallback=w.fallback,
                options=tuple(
                    sorted(
                        rows,
                        key=lambda o: (not o.eligible, o.monthly_usd is None, o.monthly_usd or 0.0, o.target),
                    )
                ),
                breakeven=breakeven,
            )
        )
    shapes = {p.pool: p.shape for p, _ in sol.built.values()}
    not_built = tuple(
        f"pool {p.name} ({', '.join(m.name for m in platform.models if m.pool == p.name) or 'no model'}): "
        "no workload routes or falls back to it, so it is not built"
        for p in platform.pools
        if not any(m.pool == p.name and m.name in sol.built for m in platform.models)
        and not any(d.fallback == m.name for d in workloads for m in platform.models if m.pool == p.name)
    )
    all_self, excluded = _all_self_hosted(opts, fixed, required, fallbacks)
    return Decision(
        workloads=tuple(workloads),
        shapes=shapes,
        not_built=not_built,
        models=_model_breakevens(opts, sol),
        objective_usd=sol.objective_usd,
        all_self_hosted_objective_usd=all_self,
        all_self_hosted_excluded=excluded,
        status=sol.status,
        seconds=sol.seconds,
        variables=sol.variables,
        mixes=dict(opts.mixes),
    )


def _all_self_hosted(
    opts: Options, fixed: Mapping[str, str], required: frozenset[str], fallbacks: Mapping[str, str]
) -> tuple[float | None, tuple[str, ...]]:
    """The same choice with every workload a self-hosted model may serve on one (declared routes too)."""
    can = {
        w
        for w in opts.calls
        if any(c.eligible and c.kind == "model" and math.isfinite(c.load) for c in opts.of(w))
    }
    excluded = tuple(sorted(set(opts.calls) - can))
    if not can:
        return None, excluded
    relaxed = {w: t for w, t in fixed.items() if w not in can}
    try:
        sol = solve(
            opts,
            relaxed,
            required,
            fallbacks,
            keep=lambda c: c.kind == "model" or c.workload not in can,
            ceilings=False,  # a comparison: pools as large as the load needs
        )
    except (NoOption, Infeasible):
        return None, excluded
    return sol.objective_usd, excluded


def _model_breakevens(opts: Options, sol: Solution) -> tuple[Breakeven, ...]:
    out = []
    for model, (pool, _) in sorted(sol.built.items()):
        mine = [(w, c) for w, c in sol.assignment.items() if c.target == model]
        if not mine:
            continue
        apis = {w: _cheapest_api(list(opts.of(w))) for w, _ in mine}
        if any(a is None for a in apis.values()):
            continue  # some of its workloads may go to no API: self-hosting is not a choice there
        calls = sum(opts.calls[w] for w, _ in mine)
        if calls <= 0:
            continue
        load = sum(c.load for _, c in mine)
        self_usd = sum(opts.calls[w] * c.call_usd for w, c in mine) / calls
        api_usd = sum(opts.calls[w] * a.call_usd for w, a in apis.items() if a is not None) / calls
        anchor = mine[0][1]
        first_api = next(a for a in apis.values() if a is not None)
        names = sorted({a.target for a in apis.values() if a is not None})
        api = Candidate(
            workload="", target=", ".join(names), kind=first_api.kind, shape="", verdict=first_api.verdict,
            call_usd=api_usd, load=0.0,
        )  # fmt: skip
        anchor = Candidate(
            workload="", target=model, kind="model", shape=pool.shape, verdict=anchor.verdict, call_usd=self_usd,
            load=load, level=pool.level,
        )  # fmt: skip
        be = _breakeven(model, opts, anchor, api, calls, load, self_usd, api_usd)
        if be is not None:
            out.append(be)
    return tuple(out)
