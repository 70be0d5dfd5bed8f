"""The Pulumi program: load the spec → plan → policy gate → components → exports.

Thin on purpose: every decision is made by `inferplan` (pure Python); the components only turn the
Plan into resources. `python -m inferplan plan` runs this very file under Pulumi mocks.
"""

import pulumi

from components.budget import StackBudget, StackBudgetArgs
from components.encryption import StackKey, StackKeyArgs
from components.network import Network, NetworkArgs
from inferplan.cost import estimate
from inferplan.plan import build_plan
from inferplan.rules import evaluate_plan
from inferplan.stackfile import SpecErrors, positions_for, validate_platform

stack = pulumi.get_stack()
try:
    platform = validate_platform(
        pulumi.Config("inferplan").require_object("platform"),
        pulumi.Config("aws").get("region"),
        positions_for(stack),
    )
except SpecErrors as exc:
    for error in exc.errors:
        pulumi.log.error(str(error))
    raise pulumi.RunError(f"{len(exc.errors)} invalid spec entries; nothing was registered") from None

plan = build_plan(stack, platform)

# The policy gate: judged on the plan, before any resource exists, so a failure registers nothing.
findings = evaluate_plan(plan, estimate(plan))
for finding in findings:
    if finding.status != "pass" and not finding.blocking:
        note = " (waived)" if finding.waived else ""
        pulumi.log.warn(f"policy {finding.rule} [{finding.subject}]{note}: {finding.message}")
failed = [f for f in findings if f.blocking]
for finding in failed:
    pulumi.log.error(f"policy {finding.rule} [{finding.subject}]: {finding.message}")
if failed:
    raise pulumi.RunError(f"policy gate: {len(failed)} mandatory rule(s) failed; nothing was registered")

network = Network(
    f"{stack}-network",
    NetworkArgs(network=plan.network, name_prefix=stack, region=plan.region, tags=plan.tags),
)

key = StackKey(f"{stack}-encryption", StackKeyArgs(name_prefix=stack, region=plan.region, tags=plan.tags))
StackBudget(f"{stack}-spend", StackBudgetArgs(name_prefix=stack, budget=platform.budget, tags=plan.tags))

pulumi.export("vpc_id", network.vpc.id)
pulumi.export("private_subnet_ids", network.private_subnet_ids)
