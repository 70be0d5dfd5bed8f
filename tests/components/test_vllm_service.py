"""VllmService: the user data each pool's nodes boot with, the model's target group and listener rule."""

from __future__ import annotations

import pytest

from inferplan.plan import MODEL_HEADER, MODELS_LISTENER_PORT, VLLM_PORT
from tests.components.recorded import (
    cloud_config_of,
    contains_run,
    named,
    of_type,
    plan_of,
    record,
    recorded,
    tagged,
    vllm_command,
    written,
)
from tests.conftest import EXAMPLE_STACKS

LT = "aws:ec2/launchTemplate:LaunchTemplate"
TG = "aws:lb/targetGroup:TargetGroup"
RULE = "aws:lb/listenerRule:ListenerRule"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_user_data_is_cloud_config_running_vllm_with_the_planned_arguments(stack):
    records = recorded(stack)
    for model in plan_of(stack).models:
        document = cloud_config_of(tagged(records, LT, "inferplan:pool", model.pool))
        command = vllm_command(document)
        assert model.vllm_args, "the example stacks' models all fit"
        assert contains_run(command, model.vllm_args)
        serve = command.index("serve")
        region = plan_of(stack).region
        assert (
            command[serve - 1] == f"123456789012.dkr.ecr.{region}.amazonaws.com/{stack}/vllm-openai:v0.33.0"
        )
        assert command[serve + 1] == f"/models/{model.name}"
        port = len(command) - 1 - command[::-1].index("--port")
        assert command[port + 1] == str(VLLM_PORT)
        assert "HF_HUB_OFFLINE=1" in command


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_nodes_sync_weights_from_their_models_prefix_in_the_stack_bucket(stack):
    records = recorded(stack)
    bucket = tagged(records, "aws:s3/bucket:Bucket", "inferplan:component", "model-store").inputs["bucket"]
    for model in plan_of(stack).models:
        document = cloud_config_of(tagged(records, LT, "inferplan:pool", model.pool))
        prepare = written(document, "/opt/inferplan/bin/prepare.sh")
        assert f"aws s3 sync --region {plan_of(stack).region} " in prepare
        assert f"s3://{bucket}/models/{model.name}/" in prepare


def test_nodes_with_nat_still_take_the_image_from_ecr_not_docker_hub():
    [dev] = of_type(recorded("dev"), LT)
    assert plan_of("dev").network.egress
    prepare = written(cloud_config_of(dev), "/opt/inferplan/bin/prepare.sh")
    assert "docker pull 123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/vllm-openai:v0.33.0" in prepare
    assert "docker.io" not in prepare and " vllm/vllm-openai" not in prepare


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_target_group_checks_vllm_health_and_drains_gently(stack):
    records = recorded(stack)
    for model in plan_of(stack).models:
        group = tagged(records, TG, "inferplan:model", model.name)
        assert (group.inputs["port"], group.inputs["protocol"], group.inputs["targetType"]) == (
            VLLM_PORT,
            "HTTP",
            "instance",
        )
        check = group.inputs["healthCheck"]
        assert (check["path"], check["matcher"]) == ("/health", "200")
        assert 60 <= group.inputs["deregistrationDelay"] <= 300
        assert group.inputs["slowStart"] >= 60
        assert len(group.inputs["name"]) <= 32


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_listener_rule_routes_the_model_header_to_its_target_group(stack):
    records = recorded(stack)
    listener = named(records, f"{stack}-alb-models")
    assert listener.inputs["port"] == MODELS_LISTENER_PORT
    priorities = []
    for model in plan_of(stack).models:
        rule = tagged(records, RULE, "inferplan:model", model.name)
        group = tagged(records, TG, "inferplan:model", model.name)
        assert rule.inputs["listenerArn"].endswith(f":{listener.name}")
        [condition] = rule.inputs["conditions"]
        assert condition["httpHeader"] == {"httpHeaderName": MODEL_HEADER, "values": [model.name]}
        [action] = rule.inputs["actions"]
        assert action["type"] == "forward"
        assert action["targetGroupArn"].endswith(f":{group.name}")
        priorities.append(rule.inputs["priority"])
    assert len(set(priorities)) == len(priorities)


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_each_group_registers_with_its_models_target_group(stack):
    records = recorded(stack)
    for model in plan_of(stack).models:
        group = tagged(records, "aws:autoscaling/group:Group", "inferplan:pool", model.pool)
        target = tagged(records, TG, "inferplan:model", model.name)
        assert [arn.rsplit(":", 1)[-1] for arn in group.inputs["targetGroupArns"]] == [target.name]


def _comparable(records):
    """Inputs by resource, leaving out the router's: its LiteLLM config carries each model's context
    window (max_input_tokens), so it rightly changes with max_context too."""
    return {(r.type, r.name): r.inputs for r in records if r.tag("inferplan:component") != "router"}


def test_changing_one_models_context_changes_only_its_launch_template_among_the_pools():
    def shorter_context(platform):
        [llama] = [m for m in platform["models"] if m["name"] == "llama-70b"]
        llama["max_context"] = 8192

    before_plan, after_plan = plan_of("prod-eu"), plan_of("prod-eu", shorter_context)
    # Precondition: the shorter context changes the vLLM arguments but not the pool's size.
    before_model = next(m for m in before_plan.models if m.name == "llama-70b")
    after_model = next(m for m in after_plan.models if m.name == "llama-70b")
    assert before_model.vllm_args != after_model.vllm_args
    assert [p.nodes_needed for p in before_plan.pools] == [p.nodes_needed for p in after_plan.pools]

    before, after = _comparable(recorded("prod-eu")), _comparable(record("prod-eu", shorter_context))
    assert before.keys() == after.keys()
    changed = sorted(key for key in before if before[key] != after[key])
    assert changed == [(LT, "prod-eu-h100-lt")]
    template_before, template_after = before[changed[0]], after[changed[0]]
    assert {k for k in template_before if template_before[k] != template_after[k]} == {"userData"}
    [h100] = [r for r in record("prod-eu", shorter_context) if r.name == "prod-eu-h100-lt"]
    assert contains_run(vllm_command(cloud_config_of(h100)), after_model.vllm_args)
