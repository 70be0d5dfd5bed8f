"""The AWS Budget follows the spec's budget and the stack's cost-allocation tag."""

from __future__ import annotations

from tests.conftest import stack_config


def test_budget_limit_filter_and_alerts_follow_the_spec(record):
    config = stack_config("prod-eu")
    spec = config["inferplan:platform"]["budget"]
    [budget] = [r for r in record("prod-eu", config).resources if r.type == "aws:budgets/budget:Budget"]
    assert float(budget.inputs["limitAmount"]) == spec["monthly_usd"]
    assert budget.inputs["costFilters"] == [
        {"name": "TagKeyValue", "values": ["user:inferplan:stack$prod-eu"]}
    ]
    thresholds = sorted((n["notificationType"], n["threshold"]) for n in budget.inputs["notifications"])
    assert thresholds == [("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 200)]
    assert all(n["subscriberEmailAddresses"] == spec["alert_emails"] for n in budget.inputs["notifications"])


def test_no_emails_means_no_notifications(record):
    config = stack_config("dev")
    config["inferplan:platform"]["budget"]["alert_emails"] = []
    [budget] = [r for r in record("dev", config).resources if r.type == "aws:budgets/budget:Budget"]
    assert "notifications" not in budget.inputs


def test_alarms_reach_the_alert_emails_through_the_encrypted_topic(record):
    config = stack_config("prod-eu")
    recording = record("prod-eu", config)
    [topic] = [r for r in recording.resources if r.type == "aws:sns/topic:Topic"]
    assert topic.inputs["kmsMasterKeyId"]  # the stack key, not AWS's managed SNS key
    emails = sorted(
        r.inputs["endpoint"]
        for r in recording.resources
        if r.type == "aws:sns/topicSubscription:TopicSubscription"
    )
    assert emails == sorted(config["inferplan:platform"]["budget"]["alert_emails"])
    alarms = [r for r in recording.resources if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"]
    topic_arn = "arn:aws:sns:eu-central-1:123456789012:prod-eu-alerts"  # the mocks' ARN of that topic
    assert alarms and all(a.inputs["alarmActions"] == [topic_arn] for a in alarms)
