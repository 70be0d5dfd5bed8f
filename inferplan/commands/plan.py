"""`plan --stack NAME`: validate, plan, run the Pulumi program offline, and print what would be built."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inferplan import recording_cache
from inferplan.cost import estimate
from inferplan.errors import EXIT_OK, EXIT_POLICY, SpecInputError, SpecInputErrors, UserError
from inferplan.planner import build_plan
from inferplan.policy_config import ENV as POLICY_CONFIG_ENV
from inferplan.policy_config import PolicyConfig, from_environment, load_policy_config
from inferplan.preflight.prices_cache import USE_ENV, PriceCache, add_cache_argument, requested_cache
from inferplan.recording_cache import RecordedProgram
from inferplan.report import FORMATS, PlanReport, render
from inferplan.report.resources import ordered
from inferplan.resources import ResourceRecord
from inferplan.rules import Finding, evaluate_plan, evaluate_resources
from inferplan.stackfile import load_stack, located_all, project_root, stack_file


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
    parser.add_argument(
        "--no-cache",
        dest="use_cache",
        action="store_false",
        help="run the Pulumi program under mocks even when the same input was recorded before "
        "(recordings are kept in $INFERPLAN_CACHE_DIR, else ~/.cache/inferplan)",
    )


@dataclass(frozen=True)
class Program:
    """What the Pulumi program registered under mocks, and what it warned about."""

    resources: tuple[ResourceRecord, ...]
    warnings: tuple[str, ...]


def _program(answer: RecordedProgram) -> Program:
    if answer.failed:
        raise UserError("the Pulumi program stopped: " + "; ".join(answer.errors))
    resources = tuple(
        ResourceRecord(
            type=r.type,
            name=r.name,
            inputs=r.inputs,
            parent=r.parent,
            custom=r.custom,
            depends_on=r.depends_on,
        )
        for r in answer.resources
    )
    return Program(resources=resources, warnings=answer.warnings)


class PendingProgram:
    """The Pulumi program's recording on its way: read from the cache, or `python -m offline` running in a
    child process while this one plans (two cores: the child's imports overlap the planner's work)."""

    def __init__(self, answer: RecordedProgram | None = None) -> None:
        self._answer = answer  # known already (from the cache), or once the child is done
        self._key: str | None = None  # where a successful run is cached
        self._child: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None
        self._output: tuple[str, str] = ("", "")

    @classmethod
    def running(
        cls, command: list[str], root: Path, env: Mapping[str, str], text: str | None, key: str | None
    ) -> PendingProgram:
        """Start the child; a thread feeds it `text` and collects its output, so neither side blocks."""
        pending = cls()
        pending._key = key
        child = pending._child = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL if text is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def talk() -> None:
            pending._output = child.communicate(text)

        pending._thread = threading.Thread(target=talk, daemon=True)
        pending._thread.start()
        return pending

    def result(self) -> Program:
        """What the program recorded (waits for the child; a successful run is cached)."""
        if self._answer is None:
            assert self._child is not None and self._thread is not None
            self._thread.join()
            stdout, stderr = self._output
            if self._child.returncode != 0:
                tail = stderr.strip().splitlines()[-1:] or ["(no output)"]
                raise UserError(f"the Pulumi program failed under mocks: {tail[0]}")
            try:
                self._answer = RecordedProgram.model_validate_json(stdout)
            except ValidationError:
                raise UserError("the Pulumi program under mocks printed no readable recording") from None
            if self._key is not None:
                recording_cache.store(self._key, self._answer)
        return _program(self._answer)

    def cancel(self) -> None:
        """Stop the child: the plan did not get as far as needing the recording."""
        if self._child is not None and self._thread is not None:
            if self._child.poll() is None:
                self._child.kill()
            self._thread.join()


def start_recording(
    stack: str,
    root: Path,
    config: Mapping[str, Any] | None = None,
    cache: PriceCache | None = None,
    policy: PolicyConfig | None = None,
    use_cache: bool = True,
) -> PendingProgram:
    """Run `__main__.py` under Pulumi mocks in a child process (the planner never imports pulumi), or take
    the recording of the very same input from the cache (`inferplan/recording_cache.py`).

    `config` (the stack's `config:` mapping, `--set` applied) is handed to the child on stdin, so the
    program sees exactly the spec that was validated here; without it the child reads the stack file.
    """
    text = None if config is None else json.dumps(config, default=str)
    key = None
    if use_cache and text is not None:
        key = recording_cache.recording_key(
            stack,
            text,
            root,
            stack_file(stack, root),
            None if cache is None else cache.path,
            Path(policy.source) if policy is not None and policy.source else None,
        )
        cached = recording_cache.load(key)
        if cached is not None:
            return PendingProgram(cached)
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
    if text is not None:
        command += ["--config", "-"]
    return PendingProgram.running(command, root, env, text, key)


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
    use_cache: bool = True,
) -> PlanReport:
    root = root or project_root()
    policy = policy or PolicyConfig()
    allowed = policy.allowances
    loaded = load_stack(stack, root, overrides)
    # The program runs (or comes from the cache) while the plan is built here; it is stopped when the
    # plan does not get as far as needing it.
    pending = start_recording(stack, root, loaded.config, cache, policy, use_cache)
    try:
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
        program = pending.result()
    finally:
        pending.cancel()
    # Registration order varies from run to run; a stable order keeps plans of one spec identical.
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
        args.stack,
        overrides=args.overrides,
        cache=requested_cache(args.prices_cache),
        policy=policy,
        use_cache=args.use_cache,
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
