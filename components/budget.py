"""AWS Budgets watching the stack's spend, filtered by its cost-allocation tag, and the stack's alert topic.

The topic (SNS, on the stack key) mails the budget's alert emails; CloudWatch alarms of the stack (a
pool sitting at its ceiling) publish to it. Email subscriptions stay pending until each address
confirms.

The plan's budget rules block a spec that cannot fit the budget; this watches what the running
stack actually costs. It only sees spend once `inferplan:stack` is activated as a cost-allocation
tag in the billing console (README, "Deploying for real").
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from inferplan.plan import BudgetPlan

ACTUAL_ALERT_PERCENTS = (80.0, 100.0)  # of the monthly budget, on actual spend


@dataclass
class StackBudgetArgs:
    budget: BudgetPlan
    key_arn: pulumi.Input[str]  # the stack key: the alert topic is encrypted with it


class StackBudget(pulumi.ComponentResource):
    alert_topic: aws.sns.Topic

    def __init__(self, name: str, args: StackBudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:StackBudget", name, None, opts)
        plan, child = args.budget, pulumi.ResourceOptions(parent=self)
        emails = list(plan.alert_emails)
        self.alert_topic = aws.sns.Topic(
            f"{plan.resource_prefix}-alerts",
            name=plan.topic_name,
            kms_master_key_id=args.key_arn,
            tags=dict(plan.tags),
            opts=child,
        )
        for index, email in enumerate(emails):
            aws.sns.TopicSubscription(
                f"{plan.resource_prefix}-alerts-{index}",
                topic=self.alert_topic.arn,
                protocol="email",
                endpoint=email,
                opts=child,
            )
        # Actual spend at 80% and 100% of the monthly budget, and a forecast over the hard cap.
        alerts = [("ACTUAL", p) for p in ACTUAL_ALERT_PERCENTS] + [
            ("FORECASTED", plan.forecast_alert_percent)
        ]
        aws.budgets.Budget(
            f"{plan.resource_prefix}-budget",
            name=plan.budget_name,
            budget_type="COST",
            limit_amount=f"{plan.monthly_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filters=[aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[plan.cost_filter])],
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
            tags=dict(plan.tags),
            opts=child,
        )
        self.register_outputs({"alert_topic_arn": self.alert_topic.arn})
