"""What the decision engine decided, as the Plan carries it (types only: the Plan imports them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from inferplan.sizing.throughput import TokenMix
from inferplan.spec import AUTO

OptionKind = Literal["model", "frontier", "open_api"]


@dataclass(frozen=True)
class Option:
    """One option of one workload, as the report shows it."""

    target: str
    kind: OptionKind
    shape: str  # model options: the GPU shape it was priced on
    eligible: bool
    reason: str
    monthly_usd: float | None  # marginal (see the module docstring); None when it cannot serve the workload
    usd_per_1k_calls: float | None
    usd_per_million_tokens: float | None
    beyond_ceiling: str = ""  # a model option whose pool would need more than its max_nodes: how many


@dataclass(frozen=True)
class Breakeven:
    """Self-hosting one workload (or one model's workloads) against its cheapest eligible API."""

    subject: str
    model: str  # the self-hosted side
    api: str  # the API side
    calls_per_month: float  # declared
    breakeven_calls_per_month: float | None  # None: never
    breakeven_api_usd: float | None  # the API spend a month at that volume
    cheaper: str  # "self-hosted" | "api": at the declared volume
    explanation: str


@dataclass(frozen=True)
class WorkloadDecision:
    workload: str
    declared: str  # the route as written ("auto" or a name)
    chosen: str
    chosen_kind: OptionKind
    runner_up: str | None
    difference_usd: float | None  # runner-up minus chosen, a month
    fallback: str | None  # resolved
    declared_fallback: str | None
    options: tuple[Option, ...]
    breakeven: Breakeven | None

    @property
    def auto(self) -> bool:
        return self.declared == AUTO


@dataclass(frozen=True)
class Decision:
    workloads: tuple[WorkloadDecision, ...]
    shapes: Mapping[str, str]  # pool -> the shape it is built on
    not_built: tuple[str, ...]  # one line per declared pool or model nothing uses
    models: tuple[Breakeven, ...]  # per built model, its workloads together against their APIs
    objective_usd: float  # what the chosen options and pools cost a month
    all_self_hosted_objective_usd: float | None  # the same, with every workload a model may serve self-hosted
    all_self_hosted_excluded: tuple[str, ...]  # workloads no self-hosted model may serve
    status: str
    seconds: float
    variables: int
    mixes: Mapping[str, TokenMix] = field(default_factory=dict)  # model -> the mix its engine is sized for

    def of(self, workload: str) -> WorkloadDecision:
        return next(d for d in self.workloads if d.workload == workload)
