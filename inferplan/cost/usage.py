"""Usage: what the declared workloads send where, and what that costs by the token or the request.

Assumptions (each number that is not a price lives in catalog/cost_assumptions.csv with its source):

- A month is `cost.hours_per_month` hours (default 730); calls per month = calls_per_day x hours / 24.
- A workload's route gets (1 - fallback_rate) of its calls and its fallback gets fallback_rate; a route
  or fallback the router refuses (confidential data to a frontier API) gets nothing. Calls
  that fail on the route before falling back are not billed twice (timeouts may be, in reality).
- Frontier spend = those calls x what one call is billed (`billing.per_call_usd`): uncached input,
  prompt-cache reads and writes and output at the catalog's per-token prices, the batch discount for
  workloads that declare `batch`, retries (`retry_share`) billed again in full. Worst case per
  frontier entry a route or fallback reaches (the router holds no key for the others): its monthly_cap_usd
  (or the expected spend when that is higher, with a note — the cap would then stop calls).
- Requests: every call crosses API Gateway once. Worst case: the gateway's rate limit
  (requests_per_second) sustained all month — the throttle is the real ceiling.
- ALB: every call passes the ALB once (gateway -> router); self-hosted calls pass again (router ->
  vLLM). LCUs from new connections (one per pass, no keep-alive credit) and processed bytes, at the
  average hourly rate; active-connection and rule-evaluation dimensions are not counted.
- Bytes per call = (input + output tokens) x bytes_per_token + request_overhead_bytes.
- NAT: only frontier calls leave the VPC (weights come through the S3 gateway endpoint, AWS APIs
  through interface endpoints); both directions are processed, the request direction is egress.
- Logs: one log line per call into each of the gateway, router and (for self-hosted calls) pool log
  groups. Log storage after ingestion is not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from inferplan.catalog.quality import floor_of
from inferplan.cost.billing import per_call_usd, token_charges
from inferplan.cost.model import CostLine, line
from inferplan.decide.eligibility import api_sensitivity, context_fits, judge, quality_floor
from inferplan.egress import fallback_allowed
from inferplan.errors import SpecInputError
from inferplan.plan import Plan
from inferplan.pricebook import ApiPrice, PriceBook
from inferplan.router_config import catalog_context_window, frontier_context_window
from inferplan.spec import Frontier, Platform, Workload

DEFAULT_API_ONLY = "anthropic/claude-sonnet-4-5"
GB = 1e9


@dataclass(frozen=True)
class Amount:
    """A monthly quantity, expected and at its ceiling."""

    expected: float
    worst: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "worst", max(self.worst, self.expected))

    def scaled(self, factor: float) -> Amount:
        return Amount(self.expected * factor, self.worst * factor)


@dataclass(frozen=True)
class Traffic:
    """Request and data volumes per month that the usage-priced resources read."""

    requests: Amount  # API Gateway requests (calls)
    alb_lcu_hours: Amount
    nat_gb: Amount  # processed by NAT gateways, both directions
    egress_gb: Amount  # leaving AWS to frontier APIs
    # "gateway" | "router" | "pool:<name>" | "network" (flow logs) | "access-logs" (ALB logs written)
    log_gb: Mapping[str, Amount] = field(default_factory=dict)


@dataclass(frozen=True)
class FrontierSpend:
    """Expected token spend on one frontier entry, per workload."""

    entry: Frontier
    price: ApiPrice | None
    calls: Mapping[str, float]  # workload -> calls per month
    usd: Mapping[str, float]  # workload -> USD per month (0 when unpriced)

    @property
    def expected_usd(self) -> float:
        return sum(self.usd.values())

    @property
    def calls_worst_factor(self) -> float:
        """How many times the expected calls the cap allows (1 when nothing is expected)."""
        spent = self.expected_usd
        return max(1.0, self.entry.monthly_cap_usd / spent) if spent > 0 else 1.0


def calls_per_month(plan: Plan, calls_per_day: float) -> float:
    return monthly_calls(plan.platform, calls_per_day)


def monthly_calls(platform: Platform, calls_per_day: float) -> float:
    return calls_per_day * platform.cost.hours_per_month / 24


def call_bytes(prices: PriceBook, workload: Workload) -> float:
    """Bytes one call moves both ways: its tokens as text plus the HTTP/JSON/TLS envelope."""
    a = prices.assumption
    return (workload.input_tokens + workload.output_tokens) * a("bytes_per_token").value + a(
        "request_overhead_bytes"
    ).value


def request_bytes(prices: PriceBook, workload: Workload) -> float:
    """Bytes one call sends out (the prompt and half the envelope): what leaves the VPC for an API."""
    a = prices.assumption
    return workload.input_tokens * a("bytes_per_token").value + a("request_overhead_bytes").value / 2


def call_usd(
    platform: Platform, prices: PriceBook, workload: Workload, api: ApiPrice | None, self_hosted: bool
) -> float:
    """What one call of `workload` costs beyond the nodes, by where it goes (the decision engine's per-call
    price): an API's tokens plus, through NAT, the bytes processed and sent out; a self-hosted model's
    log line in its pool's log group. Requests, gateway and router logs are the same wherever a call
    goes, and ALB capacity units are priced on the whole stack's traffic (not per call), so neither is here.
    """
    if self_hosted:
        log = prices.assumption("log_bytes_per_request").value / GB
        return log * prices.service("cloudwatch_logs_ingest").usd
    usd = per_call_usd(api, workload) if api else 0.0
    if platform.network.egress == "nat":
        usd += call_bytes(prices, workload) / GB * prices.service("nat_gateway_data").usd
        usd += request_bytes(prices, workload) / GB * prices.service("data_transfer_out").usd
    return usd


def target_calls(plan: Plan) -> dict[str, dict[str, float]]:
    """target (model or frontier name) -> workload -> calls per month.

    A route or fallback the router refuses (`egress.fallback_allowed`: e.g. confidential data
    to a frontier API) carries nothing: the router never sends those calls, so nobody pays for them.
    """
    platform = plan.platform
    out: dict[str, dict[str, float]] = {}
    for w in platform.workloads:
        calls = calls_per_month(plan, w.calls_per_day)
        share = w.fallback_rate if w.fallback else 0.0
        if fallback_allowed(w, w.route, platform)[0]:
            by = out.setdefault(w.route, {})
            by[w.name] = by.get(w.name, 0.0) + calls * (1 - share)
        if w.fallback and fallback_allowed(w, w.fallback, platform)[0]:
            by = out.setdefault(w.fallback, {})
            by[w.name] = by.get(w.name, 0.0) + calls * share
    return out


def pool_calls(plan: Plan) -> dict[str, float]:
    """Pool name -> self-hosted calls per month it serves."""
    out: dict[str, float] = {}
    for target, by_workload in target_calls(plan).items():
        model = plan.platform.model(target)
        if model is not None:
            out[model.pool] = out.get(model.pool, 0.0) + sum(by_workload.values())
    return out


def frontier_spend(plan: Plan, prices: PriceBook) -> tuple[FrontierSpend, ...]:
    routed = target_calls(plan)
    workloads = {w.name: w for w in plan.platform.workloads}
    out = []
    for entry in plan.platform.frontier:
        price = prices.api(entry.provider, entry.model)
        calls = routed.get(entry.name, {})
        usd = {
            name: (per_call_usd(price, workloads[name]) * n if price else 0.0) for name, n in calls.items()
        }
        out.append(FrontierSpend(entry=entry, price=price, calls=calls, usd=usd))
    return tuple(out)


def api_lines(plan: Plan, prices: PriceBook) -> tuple[list[CostLine], list[str]]:
    """Token spend per frontier entry and workload, plus each entry's headroom up to its cap."""
    lines: list[CostLine] = []
    notes: list[str] = []
    workloads = {w.name: w for w in plan.platform.workloads}
    for spend in frontier_spend(plan, prices):
        entry, price = spend.entry, spend.price
        key = f"{entry.provider}/{entry.model}"
        for workload, calls in spend.calls.items():
            w = workloads[workload]
            if price is None:
                charges: tuple[tuple[str, float, float, str], ...] = tuple(
                    (kind, tokens, 0.0, f"no price for {key}: add cost.prices api:{key}:{kind}")
                    for kind, tokens in (("input", w.input_tokens), ("output", w.output_tokens))
                )
            else:
                charges = tuple((c.kind, c.tokens, c.usd_per_mtok, c.note) for c in token_charges(price, w))
            retried = f"retries: {w.retry_share:.0%} of calls billed again" if w.retry_share else ""
            for kind, per_call_tokens, unit_usd, why in charges:
                label = "input" if kind == "input" else kind.replace("_", " ")
                lines.append(
                    line(
                        f"{key} {label} tokens ({workload})",
                        "million tokens",
                        calls * (1 + w.retry_share) * per_call_tokens / 1e6,
                        unit_usd,
                        "api",
                        resource_name=entry.name,
                        source=price.source if price else "",
                        as_of=price.as_of if price else "",
                        estimated=price.estimated if price else False,
                        note="; ".join(filter(None, [price.note if price else "", why, retried])),
                        priced=price is not None,
                        scales="calls",
                    )
                )
        if not spend.calls:
            continue  # no route or fallback reaches it: the router holds no key for it and cannot spend
        headroom = max(0.0, entry.monthly_cap_usd - spend.expected_usd)
        lines.append(
            CostLine(
                item=f"{entry.name} spend up to monthly_cap_usd",
                unit="USD",
                quantity=0.0,
                unit_usd=1.0,
                monthly_usd=0.0,
                worst_case_usd=headroom,
                bucket="api",
                resource_name=entry.name,
                source="platform.frontier[].monthly_cap_usd",
                as_of="stack",
                note="worst case: every frontier entry spends its cap",
                worst_quantity=headroom,
            )
        )
        if spend.expected_usd > entry.monthly_cap_usd:
            notes.append(
                f"expected spend on {entry.name} (${spend.expected_usd:,.0f}) exceeds its monthly_cap_usd "
                f"(${entry.monthly_cap_usd:,.0f}): calls would stop at the cap"
            )
    return lines, notes


@dataclass(frozen=True)
class ApiOnly:
    """The API-only alternative: each workload at the cheapest API it may use, the others left out."""

    monthly_usd: float  # tokens only (seed 003's "Monthly API cost = ... x model price")
    by_workload: Mapping[str, tuple[str, float]]  # workload -> (provider/model, USD a month)
    excluded: Mapping[str, str]  # workload -> why no API may serve it

    @property
    def label(self) -> str:
        models = sorted({key for key, _ in self.by_workload.values()})
        if not models:
            return "no API may serve any workload"
        return models[0] if len(models) == 1 else "cheapest eligible API per workload: " + ", ".join(models)


def _api_choices(plan: Plan, prices: PriceBook) -> list[tuple[str, ApiPrice, int | None]]:
    """The APIs of the comparison: `cost.api_only_model` when set, else the stack's frontier and
    open-model entries, else anthropic/claude-sonnet-4-5 (a midrange frontier tier, as in seed 000)."""
    choice = plan.platform.cost.api_only_model
    if choice is None and plan.spec.frontier:
        out = []
        for declared in plan.spec.frontier:
            price = prices.api(declared.provider, declared.model)
            if price is not None:
                out.append((declared.name, price, frontier_context_window(declared)))
        if out:
            return out
    choice = choice or DEFAULT_API_ONLY
    entry = plan.spec.frontier_entry(choice)
    provider: str
    model: str
    if entry is not None:
        provider, model = entry.provider, entry.model
    elif "/" in choice:
        provider, model = choice.split("/", 1)
    else:
        names = [f.name for f in plan.spec.frontier]
        raise SpecInputError(
            ("cost", "api_only_model"),
            f"'{choice}' is neither a frontier entry ({', '.join(names) or 'none'}) nor a catalog "
            "'provider/model'",
        )
    price = prices.api(provider, model)
    if price is None:
        raise SpecInputError(
            ("cost", "api_only_model"),
            f"no price for {provider}/{model} in inferplan/catalog/api_prices.csv "
            f"(add cost.prices api:{provider}/{model}:input and :output)",
        )
    window = frontier_context_window(entry) if entry is not None else catalog_context_window(provider, model)
    return [(choice, price, window)]


def api_only(plan: Plan, prices: PriceBook) -> ApiOnly:
    """Every workload at the cheapest API the rules let it use: sensitivity, quality floor, context
    window (not egress: the comparison is a world without the VPC). Workloads no API may serve are
    left out, and the report says the comparison covers the rest."""
    by_workload: dict[str, tuple[str, float]] = {}
    excluded: dict[str, str] = {}
    choices = _api_choices(plan, prices)
    for w in plan.spec.workloads:
        calls = calls_per_month(plan, w.calls_per_day)
        floor, why = floor_of(w)
        best: tuple[float, str] | None = None
        refusals = []
        for name, price, window in choices:
            tier = plan.catalog.tier(price.open_model or price.key)
            verdict = judge(
                [
                    api_sensitivity(w, name),
                    context_fits(w, window, name),
                    quality_floor(floor, tier, name, why),
                ]
            )
            if not verdict.eligible:
                refusals.append(verdict.reason)
                continue
            usd = calls * per_call_usd(price, w)
            if best is None or usd < best[0]:
                best = (usd, price.key)
        if best is None:
            excluded[w.name] = "; ".join(dict.fromkeys(refusals))
        else:
            by_workload[w.name] = (best[1], best[0])
    return ApiOnly(
        monthly_usd=sum(usd for _, usd in by_workload.values()), by_workload=by_workload, excluded=excluded
    )


def traffic(plan: Plan, prices: PriceBook) -> Traffic:
    """Monthly requests, LCUs, NAT/egress bytes and log volume implied by the workloads."""
    hours = plan.platform.cost.hours_per_month
    a = prices.assumption
    overhead = a("request_overhead_bytes").value
    log_bytes = a("log_bytes_per_request").value
    passes = a("alb_passes_per_self_hosted_call").value

    workloads = plan.platform.workloads
    calls = {w.name: calls_per_month(plan, w.calls_per_day) for w in workloads}
    total_calls = sum(calls.values())
    both_ways = {w.name: call_bytes(prices, w) for w in workloads}
    sent = {w.name: request_bytes(prices, w) for w in workloads}
    mean_bytes = sum(calls[n] * both_ways[n] for n in calls) / total_calls if total_calls else overhead

    # The gateway throttle bounds every request-linked quantity.
    ceiling = plan.platform.gateway.rate_limit.requests_per_second * hours * 3600
    requests = Amount(total_calls, ceiling)
    ceiling_factor = requests.worst / total_calls if total_calls else 0.0

    routed = target_calls(plan)
    models = {m.name for m in plan.platform.models}
    self_hosted = {t: by for t, by in routed.items() if t in models}
    self_calls = sum(sum(by.values()) for by in self_hosted.values())
    alb_requests = total_calls + (passes - 1) * self_calls
    alb_bytes = sum(calls[n] * both_ways[n] for n in calls) + (passes - 1) * sum(
        n * both_ways[w] for by in self_hosted.values() for w, n in by.items()
    )

    def lcu_hours(requests_per_month: float, bytes_per_month: float) -> float:
        if hours <= 0:
            return 0.0
        per_second = requests_per_month / (hours * 3600)
        gb_per_hour = bytes_per_month / GB / hours
        lcu = max(
            per_second / a("alb_new_connections_per_lcu").value,
            gb_per_hour / a("alb_processed_gb_per_lcu").value,
        )
        return lcu * hours

    worst_alb_requests = requests.worst * passes
    alb = Amount(
        lcu_hours(alb_requests, alb_bytes), lcu_hours(worst_alb_requests, worst_alb_requests * mean_bytes)
    )

    nat_bytes = Amount(0.0, 0.0)
    egress_bytes = Amount(0.0, 0.0)
    if plan.network.egress:
        for spend in frontier_spend(plan, prices):
            factor = spend.calls_worst_factor
            both = sum(n * both_ways[w] for w, n in spend.calls.items())
            out = sum(n * sent[w] for w, n in spend.calls.items())
            nat_bytes = Amount(nat_bytes.expected + both, nat_bytes.worst + both * factor)
            egress_bytes = Amount(egress_bytes.expected + out, egress_bytes.worst + out * factor)

    def log(calls_per_month_: float) -> Amount:
        gb = calls_per_month_ * log_bytes / GB
        return Amount(gb, gb * ceiling_factor)

    log_gb = {"gateway": log(total_calls), "router": log(total_calls)}
    for pool, n in pool_calls(plan).items():
        log_gb[f"pool:{pool}"] = log(n)
    flow_bytes = a("flow_log_bytes_per_call").value
    log_gb["network"] = Amount(total_calls * flow_bytes / GB, requests.worst * flow_bytes / GB)
    access_bytes = a("alb_access_log_bytes_per_request").value
    log_gb["access-logs"] = Amount(alb_requests * access_bytes / GB, worst_alb_requests * access_bytes / GB)

    return Traffic(
        requests=requests,
        alb_lcu_hours=alb,
        nat_gb=nat_bytes.scaled(1 / GB),
        egress_gb=egress_bytes.scaled(1 / GB),
        log_gb=log_gb,
    )
