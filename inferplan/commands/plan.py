"""`plan --stack NAME`: validate, plan, run the Pulumi program offline, and print what would be built."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferplan.cost import estimate
from inferplan.errors import EXIT_OK, EXIT_POLICY, SpecInputError, SpecInputErrors, UserError
from inferplan.planner import build_plan
from inferplan.policy_config import ENV as POLICY_CONFIG_ENV
from inferplan.policy_config import PolicyConfig, from_environment, load_policy_config
from inferplan.preflight.prices_cache import USE_ENV, PriceCache, add_cache_argument, requested_cache
from inferplan.report import FORMATS, PlanReport, render
from inferplan.report.resources import ordered
from inferplan.resources import ResourceRecord
from inferplan.rules import Finding, evaluate_plan, evaluate_resources
from inferplan.stackfile import load_stack, located_all, project_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name: reads stacks/Pulumi.<stack>.yaml")
    parser.add_argument(
        "--format",
        choices=(*FORMATS, "tfplan-json"),
        default="text",
        help="output format (default: text); tfplan-json: the resources as a Terraform JSON plan "
        "for Checkov, OPA/conftest and other Terraform-plan tools",
    )
    parser.add_argument("--out", type=Path, help="also write Plan JSON v1 to this file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="what-if: change one spec value before validation (repeatable; the stack file is unchanged), "
        "e.g. --set workloads[lead-scoring].calls_per_day=1e6 --set pools[h100].max_nodes=4",
    )
    parser.add_argument(
        "--policy-config",
        type=Path,
        metavar="FILE",
        help="the organisation's policy config (the JSON the CrossGuard pack takes as --policy-pack-config): "
        "which residency and security rules a stack may waive, and for how long "
        f"(default: ${POLICY_CONFIG_ENV}, else none)",
    )
    add_cache_argument(parser)


@dataclass(frozen=True)
class Program:
    """What the Pulumi program registered under mocks, and what it warned about."""

    resources: tuple[ResourceRecord, ...]
    warnings: tuple[str, ...]


def record_resources(
    stack: str,
    root: Path,
    config: Mapping[str, Any] | None = None,
    cache: PriceCache | None = None,
    policy: PolicyConfig | None = None,
) -> Program:
    """Run `__main__.py` under Pulumi mocks in a child process (the planner never imports pulumi).

    `config` (the stack's `config:` mapping, `--set` applied) is handed to the child on stdin, so the
    program sees exactly the spec that was validated here; without it the child reads the stack file.
    """
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
    env.pop(USE_ENV, None)
    if cache is not None:  # the program prices with the cache only because the user asked here
        env[USE_ENV] = str(cache.path)
    env.pop(POLICY_CONFIG_ENV, None)
    if policy is not None and policy.source:  # the program's gate judges waivers as this report does
        env[POLICY_CONFIG_ENV] = policy.source
    command = [sys.executable, "-m", "offline", "--stack", stack, "--root", str(root)]
    if config is not None:
        command += ["--config", "-"]
    done = subprocess.run(
        command,
        cwd=root,
        env=env,
        input=None if config is None else json.dumps(config, default=str),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise UserError(f"the Pulumi program failed under mocks: {tail[0]}")
    answer = json.loads(done.stdout)
    if answer["failed"]:
        raise UserError("the Pulumi program stopped: " + "; ".join(answer["errors"]))
    resources = tuple(
        ResourceRecord(
            type=r["type"],
            name=r["name"],
            inputs=r["inputs"],
            parent=r.get("parent"),
            custom=r["custom"],
            depends_on=tuple(r.get("depends_on", ())),
        )
        for r in answer["resources"]
    )
    return Program(resources=resources, warnings=tuple(answer["warnings"]))


def program_warnings(warnings: tuple[str, ...], findings: tuple[Finding, ...]) -> tuple[str, ...]:
    """What the program warned about, less the policy verdicts the report shows anyway."""
    verdicts = {f"policy {f.rule} [{f.subject}]" for f in findings}
    return tuple(w for w in dict.fromkeys(warnings) if not any(w.startswith(v) for v in verdicts))


def build_report(
    stack: str,
    root: Path | None = None,
    overrides: Sequence[str] = (),
    cache: PriceCache | None = None,
    policy: PolicyConfig | None = None,
) -> PlanReport:
    root = root or project_root()
    policy = policy or PolicyConfig()
    allowed = policy.allowances
    loaded = load_stack(stack, root, overrides)
    try:
        plan = build_plan(loaded.stack, loaded.platform, prices_cache=cache)
        # The program's policy gate stops on a mandatory failure before registering anything; judge the
        # plan here first with the same rules, so the report can show every verdict instead of a bare error.
        planned = estimate(plan)
    except (SpecInputError, SpecInputErrors) as exc:  # found while sizing or pricing: placed in the file
        raise located_all(exc, stack, root, loaded.positions) from None
    findings = evaluate_plan(plan, planned, allowed=allowed)
    if any(f.blocking for f in findings):
        return PlanReport(
            plan=plan, resources=(), findings=findings, costs=planned, overrides=loaded.overrides
        )
    # Registration order varies from run to run; a stable order keeps plans of one spec identical.
    program = record_resources(stack, root, loaded.config, cache, policy)
    records = tuple(ordered(program.resources))
    costs = estimate(plan, records)
    findings = evaluate_plan(plan, costs, records, allowed=allowed) + evaluate_resources(
        records, plan, allowed=allowed
    )
    return PlanReport(
        plan=plan,
        resources=records,
        findings=findings,
        costs=costs,
        warnings=program_warnings(program.warnings, findings),
        overrides=loaded.overrides,
    )


def write_output(path: Path, text: str) -> None:
    """Write a file the user named, creating its folder; a path that cannot be written is one line, exit 2."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    policy = load_policy_config(args.policy_config) if args.policy_config else from_environment()
    report = build_report(
        args.stack, overrides=args.overrides, cache=requested_cache(args.prices_cache), policy=policy
    )
    if args.format == "tfplan-json":
        from inferplan.report.tfplan import render_tfplan

        output = render_tfplan(report)
    else:
        output = render(report, args.format)
    if args.out:
        write_output(args.out, render(report, "json"))
    sys.stdout.write(output)
    return EXIT_POLICY if report.blocked else EXIT_OK
