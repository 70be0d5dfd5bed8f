"""Pure functions that turn what AWS answered into findings; no boto3 here, so each is a plain call in tests.

A finding is `pass`, `fail` (the account would make `pulumi up` fail), `unknown` (we could not tell,
with the reason — never counted as a pass) or `info`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from inferplan.catalog import Catalog, InstanceEntry
from inferplan.plan import Plan

Status = Literal["pass", "fail", "unknown", "info"]
Check = Literal["identity", "zones", "offering", "quota", "secret", "prices"]
Market = Literal["on-demand", "spot"]
STATUS_ORDER: tuple[Status, ...] = ("fail", "unknown", "pass", "info")


@dataclass(frozen=True)
class Finding:
    check: Check
    status: Status
    subject: str
    message: str
    remedy: str = ""  # what to run or change, when there is something to do


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    user_id: str


@dataclass(frozen=True)
class PoolTarget:
    """What preflight needs of one pool: its shape (None while `auto` is unresolved) and its ceiling."""

    name: str
    instance_type: str | None
    capacity: Literal["on_demand", "spot", "mixed"]
    max_nodes: int
    warm_pool: int
    on_demand_base: int


@dataclass(frozen=True)
class QuotaValue:
    code: str
    name: str
    value: float
    origin: Literal["applied", "default"] = "applied"


@dataclass(frozen=True)
class QuotaUnknown:
    code: str
    reason: str


QuotaAnswer = QuotaValue | QuotaUnknown


@dataclass(frozen=True)
class SecretAnswer:
    name: str
    state: Literal["present", "missing", "deleting", "unknown"]
    has_value: bool = False
    stack_tag: str | None = None  # its `inferplan:stack` tag: which stack created it, if any
    detail: str = ""  # when it is being deleted, or why we could not tell


@dataclass(frozen=True)
class QuotaNeed:
    """vCPUs one quota code must allow when every pool it gates runs at max_nodes."""

    code: str
    market: Market
    family: str
    vcpus: int
    warm_vcpus: int  # warm-pool instances, stopped most of the time (see quota_findings)
    pools: tuple[str, ...]  # "h100: 3 x p5.48xlarge = 576 vCPUs"

    @property
    def label(self) -> str:
        family = "G and VT" if self.family == "G" else self.family
        return f"{self.market} {family} instances"


# --- pools ----------------------------------------------------------------------------------------


def pool_targets(plan: Plan) -> tuple[PoolTarget, ...]:
    """Pools as the plan resolved them: shape chosen, ceiling in force."""
    return tuple(
        PoolTarget(
            name=p.name,
            instance_type=p.instance_type,
            capacity=p.capacity,
            max_nodes=p.max_nodes,
            warm_pool=p.warm_pool,
            on_demand_base=p.on_demand_base,
        )
        for p in plan.pools
    )


def split_nodes(pool: PoolTarget) -> dict[Market, int]:
    """Nodes per market at max_nodes: mixed pools keep `on_demand_base` on demand and the rest on spot."""
    if pool.capacity == "on_demand":
        return {"on-demand": pool.max_nodes, "spot": 0}
    if pool.capacity == "spot":
        return {"on-demand": 0, "spot": pool.max_nodes}
    base = min(pool.on_demand_base, pool.max_nodes)
    return {"on-demand": base, "spot": pool.max_nodes - base}


# --- availability zones and offerings --------------------------------------------------------------


def chosen_zones(available: Iterable[str], count: int) -> tuple[str, ...]:
    """The AZs the network component uses: the first `count` available ones, in name order."""
    return tuple(sorted(set(available))[:count])


def zone_findings(available: Iterable[str], count: int, region: str) -> list[Finding]:
    zones = sorted(set(available))
    if len(zones) >= count:
        used = ", ".join(zones[:count])
        return [Finding("zones", "pass", region, f"the network uses {count} of {len(zones)} AZs: {used}")]
    return [
        Finding(
            "zones",
            "fail",
            region,
            f"the network asks for {count} AZs but {region} has {len(zones)} available "
            f"({', '.join(zones) or 'none'})",
            f"set network.availability_zones to at most {len(zones)}",
        )
    ]


def gpu_memory_gib(entry: InstanceEntry, catalog: Catalog) -> float | None:
    gpu = catalog.gpus.get(entry.gpu)
    return gpu.memory_gib * entry.gpus if gpu else None


def alternatives(
    instance_type: str, catalog: Catalog, zones: tuple[str, ...], offerings: Mapping[str, frozenset[str]]
) -> list[str]:
    """Catalog shapes offered in every chosen AZ with the same GPU, or at least as much GPU memory."""
    entry = catalog.instances.get(instance_type)
    if entry is None:
        return []
    need = gpu_memory_gib(entry, catalog)
    same: list[InstanceEntry] = []
    bigger: list[tuple[float, InstanceEntry]] = []
    for other in catalog.instances.values():
        if other.instance_type == instance_type or not set(zones) <= offerings.get(
            other.instance_type, set()
        ):
            continue
        memory = gpu_memory_gib(other, catalog)
        if other.gpu == entry.gpu:
            same.append(other)
        elif need is not None and memory is not None and memory >= need:
            bigger.append((memory, other))
    same.sort(key=lambda e: (e.gpus, e.instance_type))
    bigger.sort(key=lambda pair: (pair[0], pair[1].instance_type))
    described = [f"{e.instance_type} ({e.gpus}x {e.gpu})" for e in same]
    described += [f"{e.instance_type} ({e.gpus}x {e.gpu}, {m:.0f} GiB GPU memory)" for m, e in bigger]
    return described


def offering_findings(
    pools: Iterable[PoolTarget],
    catalog: Catalog,
    zones: tuple[str, ...],
    offerings: Mapping[str, frozenset[str]],
    region: str,
) -> list[Finding]:
    """Is each pool's shape offered in every AZ the network uses; if not, where and what instead."""
    findings: list[Finding] = []
    for pool in pools:
        subject = f"pool {pool.name}"
        if pool.instance_type is None:
            offered = sorted(
                t for t in catalog.instances if zones and set(zones) <= offerings.get(t, frozenset())
            )
            findings.append(
                Finding(
                    "offering",
                    "unknown",
                    subject,
                    "instance_type is auto and sizing has not chosen a shape; catalog shapes offered in "
                    f"{', '.join(zones)}: {', '.join(offered) or 'none'}",
                )
            )
            continue
        shape = pool.instance_type
        where = offerings.get(shape, frozenset())
        missing = [z for z in zones if z not in where]
        if not missing:
            findings.append(Finding("offering", "pass", subject, f"{shape} is offered in {', '.join(zones)}"))
            continue
        elsewhere = sorted(where)
        message = f"{shape} is not offered in {', '.join(missing)}; " + (
            f"{region} offers it in {', '.join(elsewhere)}" if elsewhere else f"no AZ of {region} offers it"
        )
        options = alternatives(shape, catalog, zones, offerings)
        remedy = (
            f"use a shape offered in {', '.join(zones)}: {', '.join(options)}"
            if options
            else "choose another region, or a shape from the catalog offered in these AZs"
        )
        findings.append(Finding("offering", "fail", subject, message, remedy))
    return findings


# --- vCPU quotas -----------------------------------------------------------------------------------


def quota_needs(pools: Iterable[PoolTarget], catalog: Catalog) -> tuple[tuple[QuotaNeed, ...], list[Finding]]:
    """vCPUs per quota code with every pool at max_nodes (P and G families summed across pools).

    Pools whose shape is unknown (auto, or not in the catalog) come back as `unknown` findings.
    """
    totals: dict[str, QuotaNeed] = {}
    findings: list[Finding] = []
    for pool in pools:
        subject = f"pool {pool.name}"
        if pool.instance_type is None:
            findings.append(
                Finding(
                    "quota", "unknown", subject, "instance_type is auto: vCPUs unknown until sizing picks"
                )
            )
            continue
        entry = catalog.instances.get(pool.instance_type)
        if entry is None or not (entry.quota_code_on_demand and entry.quota_code_spot):
            findings.append(
                Finding(
                    "quota",
                    "unknown",
                    subject,
                    f"{pool.instance_type} is not in the catalog (vCPUs and quota codes unknown)",
                    "add it under `catalog: instances:` in the stack",
                )
            )
            continue
        nodes = split_nodes(pool)
        for market, count in nodes.items():
            if count == 0:
                continue
            code = entry.quota_code_on_demand if market == "on-demand" else entry.quota_code_spot
            vcpus = count * entry.vcpus
            # Warm instances are launched in the pool's on-demand market (Auto Scaling warm pools do
            # not hold spot instances).
            warm = pool.warm_pool * entry.vcpus if market == "on-demand" else 0
            line = f"{pool.name}: {count} x {entry.instance_type} = {vcpus} vCPUs"
            prior = totals.get(code)
            totals[code] = QuotaNeed(
                code=code,
                market=market,
                family=entry.family,
                vcpus=vcpus + (prior.vcpus if prior else 0),
                warm_vcpus=warm + (prior.warm_vcpus if prior else 0),
                pools=(*(prior.pools if prior else ()), line),
            )
    return tuple(totals[c] for c in sorted(totals)), findings


def increase_command(code: str, desired: int, region: str) -> str:
    return (
        "aws service-quotas request-service-quota-increase --service-code ec2 "
        f"--quota-code {code} --desired-value {desired} --region {region}"
    )


def quota_findings(
    needs: Iterable[QuotaNeed], answers: Mapping[str, QuotaAnswer], region: str
) -> list[Finding]:
    """Compare each quota with what the pools need at max_nodes.

    Warm-pool instances wait in the Stopped state, and stopped instances do not count toward the
    running vCPU quota; they count once started, inside max_nodes. Refilling the warm pool launches
    them briefly, so the message names that peak as headroom without failing on it.
    """
    findings: list[Finding] = []
    for need in needs:
        subject = f"{need.label} ({need.code})"
        detail = "; ".join(need.pools)
        if need.warm_vcpus:
            detail += (
                f"; warm pool ({need.warm_vcpus} vCPUs) not counted: stopped instances use no running "
                f"quota ({need.vcpus + need.warm_vcpus} would also cover refilling it at max_nodes)"
            )
        answer = answers.get(need.code)
        if answer is None or isinstance(answer, QuotaUnknown):
            reason = answer.reason if answer else "not asked"
            findings.append(
                Finding(
                    "quota",
                    "unknown",
                    subject,
                    f"needs {need.vcpus} vCPUs at max_nodes ({detail}); quota unknown: {reason}",
                    f"check it in the Service Quotas console ({region}) or with "
                    f"`aws service-quotas get-service-quota --service-code ec2 --quota-code {need.code} "
                    f"--region {region}`",
                )
            )
            continue
        current = answer.value
        shown = f"{current:g}" + (
            " (AWS default; applied value not available)" if answer.origin == "default" else ""
        )
        if current >= need.vcpus:
            findings.append(
                Finding(
                    "quota", "pass", subject, f"quota {shown} vCPUs covers {need.vcpus} needed ({detail})"
                )
            )
        else:
            findings.append(
                Finding(
                    "quota",
                    "fail",
                    subject,
                    f"quota {shown} vCPUs < {need.vcpus} needed at max_nodes ({detail}); "
                    f"request {need.code} from {current:g} to {need.vcpus}",
                    increase_command(need.code, need.vcpus, region),
                )
            )
    return findings


# --- secrets and identity --------------------------------------------------------------------------


def secret_names(plan: Plan) -> dict[str, str]:
    """Secrets Manager name -> frontier `secret` key, one per key (two entries may share one)."""
    return {plan.secret_name(f.secret): f.secret for f in plan.platform.frontier}


def secret_findings(
    plan: Plan, answers: Mapping[str, SecretAnswer], region: str, config: Mapping[str, object] | None = None
) -> list[Finding]:
    """Will `pulumi up` be able to create each frontier key's secret, and does the router get a value?

    `components/fallback_secrets.py` creates every secret itself (tagged with the stack), empty unless
    `router.secrets_in_state` puts the value from stack config into it. So a secret that does not exist
    yet is fine, one that exists without this stack's tag makes `pulumi up` fail (the name is taken),
    as does one scheduled for deletion; one of this stack's without a value leaves the router unable to
    start. `config` is the stack file's `config:` mapping (for the in-state values).
    """
    in_state = plan.platform.router.secrets_in_state
    findings: list[Finding] = []
    for name, key in secret_names(plan).items():
        answer = answers.get(name, SecretAnswer(name, "unknown", detail="not asked"))
        put_value = f"aws secretsmanager put-secret-value --secret-id {name} --secret-string file://key.txt --region {region}"
        set_config = f"pulumi config set --secret inferplan:{key} <key> --stack {plan.stack}"
        if answer.state == "unknown":
            findings.append(Finding("secret", "unknown", name, f"could not check: {answer.detail}"))
        elif answer.state == "deleting":
            findings.append(
                Finding(
                    "secret",
                    "fail",
                    name,
                    f"is scheduled for deletion{f' ({answer.detail})' if answer.detail else ''}: "
                    "`pulumi up` cannot create a secret of that name until it is gone or restored",
                    f"aws secretsmanager delete-secret --secret-id {name} --force-delete-without-recovery "
                    f"--region {region} (or restore-secret, then `pulumi import` it)",
                )
            )
        elif answer.state == "present" and answer.stack_tag != plan.stack:
            owner = f"stack '{answer.stack_tag}'" if answer.stack_tag else "no inferplan stack"
            findings.append(
                Finding(
                    "secret",
                    "fail",
                    name,
                    f"already exists, created by {owner}: `pulumi up` would fail creating it (name taken)",
                    f"delete it, or bring it under this stack with `pulumi import aws:secretsmanager/secret:Secret "
                    f"{plan.name(key)} {name}`",
                )
            )
        elif in_state:
            if f"inferplan:{key}" in (config or {}):
                state = "exists" if answer.state == "present" else "does not exist yet"
                findings.append(
                    Finding(
                        "secret", "pass", name, f"{state}; `pulumi up` writes its value from stack config"
                    )
                )
            else:
                findings.append(
                    Finding(
                        "secret",
                        "fail",
                        name,
                        f"router.secrets_in_state is on but inferplan:{key} is not in the stack config: "
                        "`pulumi up` stops",
                        set_config,
                    )
                )
        elif answer.state == "missing":
            findings.append(
                Finding(
                    "secret",
                    "info",
                    name,
                    "does not exist yet: `pulumi up` creates it empty; set the key after the first deploy",
                    put_value,
                )
            )
        elif not answer.has_value:
            findings.append(
                Finding(
                    "secret",
                    "fail",
                    name,
                    "holds no value: the router cannot start until the key is set",
                    put_value,
                )
            )
        else:
            findings.append(
                Finding("secret", "pass", name, "exists, belongs to this stack and holds a value")
            )
    return findings


def identity_finding(identity: Identity) -> Finding:
    return Finding("identity", "pass", identity.account, f"credentials work: {identity.arn}")


def failed(findings: Iterable[Finding]) -> bool:
    return any(f.status == "fail" for f in findings)
