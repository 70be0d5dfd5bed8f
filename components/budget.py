"""AWS Budgets watching the stack's spend, filtered by its cost-allocation tag, and the stack's alert topic.

The topic (SNS, on the stack key) mails `budget.alert_emails`; CloudWatch alarms of the stack (a pool
sitting at its ceiling) publish to it. Email subscriptions stay pending until each address confirms.

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
    key_arn: pulumi.Input[str]  # the stack key: the alert topic is encrypted with it


class StackBudget(pulumi.ComponentResource):
    def __init__(self, name: str, args: StackBudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:StackBudget", name, None, opts)
        spec, emails = args.budget, list(args.budget.alert_emails)
        self.alert_topic = aws.sns.Topic(
            f"{args.name_prefix}-alerts",
            name=f"inferplan-{args.name_prefix}-alerts",
            kms_master_key_id=args.key_arn,
            tags={**args.tags, "inferplan:component": "budget"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, email in enumerate(emails):
            aws.sns.TopicSubscription(
                f"{args.name_prefix}-alerts-{index}",
                topic=self.alert_topic.arn,
                protocol="email",
                endpoint=email,
                opts=pulumi.ResourceOptions(parent=self),
            )
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
        self.register_outputs({"alert_topic_arn": self.alert_topic.arn})
