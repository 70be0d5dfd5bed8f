"""AWS Budgets watching the stack's spend, filtered by its cost-allocation tag.

The plan's budget rules block a spec that cannot fit the budget; this watches what the running
stack actually costs. It only sees spend once `inferplan:stack` is activated as a cost-allocation
tag in the billing console (README, "Deploying for real").
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from inferplan.spec import Budget as BudgetSpec


@dataclass
class StackBudgetArgs:
    name_prefix: str
    budget: BudgetSpec
    tags: dict[str, str]


class StackBudget(pulumi.ComponentResource):
    def __init__(self, name: str, args: StackBudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:StackBudget", name, None, opts)
        spec, emails = args.budget, list(args.budget.alert_emails)
        # Actual spend at 80% and 100% of the monthly budget, and a forecast over the hard cap.
        alerts = [
            ("ACTUAL", 80.0),
            ("ACTUAL", 100.0),
            ("FORECASTED", round(100.0 * spec.hard_cap_usd / spec.monthly_usd, 1)),
        ]
        aws.budgets.Budget(
            f"{args.name_prefix}-budget",
            name=f"inferplan-{args.name_prefix}",
            budget_type="COST",
            limit_amount=f"{spec.monthly_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(
                    name="TagKeyValue", values=[f"user:inferplan:stack${args.name_prefix}"]
                )
            ],
            notifications=[
                aws.budgets.BudgetNotificationArgs(
                    comparison_operator="GREATER_THAN",
                    notification_type=kind,
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                    subscriber_email_addresses=emails,
                )
                for kind, threshold in alerts
            ]
            if emails
            else None,
            tags={**args.tags, "inferplan:component": "budget"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
