"""Diffs of real plans: prod-eu against edited copies of itself, as a pull request would change it."""

from __future__ import annotations

from typing import Any

from inferplan.dependencies import ResourceKey, downstream, resource_graph
from inferplan.diff import PlanDiff, ResourceChange, diff_plans, empty_plan
from inferplan.report.diff_markdown import render_markdown, summary_line
from tests.review.conftest import edited_plan, example_plan

ASG = "aws:autoscaling/group:Group"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
VPC = "aws:ec2/vpc:Vpc"


def change(diff: PlanDiff, type_: str, name: str) -> ResourceChange:
    found = [r for r in diff.resources if r.key == ResourceKey(type_, name)]
    assert found, f"no change to {type_} {name}: {[str(r.key) for r in diff.resources]}"
    return found[0]


def by_path(item: ResourceChange) -> dict[str, Any]:
    return {c.path: (c.before, c.after) for c in item.changes}


def test_identical_plans_have_no_change() -> None:
    base = example_plan("prod-eu")
    diff = diff_plans(base, base)
    assert diff.resources == () and diff.routes == ()
    assert not diff.has_changes and not diff.blocking
    assert summary_line(diff).startswith("+0 ~0 -0")


def test_raising_max_nodes_changes_the_asg_max_size_and_only_that_pool() -> None:
    diff = diff_plans(example_plan("prod-eu"), edited_plan("raise-h100-and-context"))
    asg = change(diff, ASG, "prod-eu-h100-asg")
    assert asg.action == "update"
    assert by_path(asg)["maxSize"] == (3, 4)
    assert not [r for r in diff.resources if r.key.name == "prod-eu-h200-asg"]
    assert diff.added == 0 and diff.removed == 0
    assert diff.blocking == ()


def test_a_model_context_change_reaches_its_pools_launch_template_and_asg() -> None:
    diff = diff_plans(example_plan("prod-eu"), edited_plan("raise-h100-and-context"))
    template = change(diff, LAUNCH_TEMPLATE, "prod-eu-h100-lt")
    assert template.changed_keys == ("userData",)
    assert ResourceKey(ASG, "prod-eu-h100-asg") in template.downstream
    assert ResourceKey(ASG, "prod-eu-h200-asg") not in template.downstream
    assert not [r for r in diff.resources if r.key.name == "prod-eu-h200-lt"]
    # The Markdown names the flag that moved, decoded from the launch template's base64 userData.
    markdown = render_markdown(diff)
    assert "--max-model-len 16384" in markdown and "--max-model-len 32768" in markdown


FLOW_LOG_PLUMBING = ("aws:cloudwatch/logGroup:LogGroup", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy")


def test_a_vpc_cidr_change_puts_every_network_resource_downstream() -> None:
    base, head = example_plan("prod-eu"), edited_plan("cidr")
    diff = diff_plans(base, head)
    vpc = change(diff, VPC, "prod-eu-vpc")
    assert by_path(vpc)["cidrBlock"] == ("10.40.0.0/16", "10.41.0.0/16")
    subnets = [r for r in diff.resources if r.key.type == "aws:ec2/subnet:Subnet"]
    assert len(subnets) == 6 and all(r.changed_keys == ("cidrBlock",) for r in subnets)

    reached = set(vpc.downstream)
    network = {
        ResourceKey(r["type"], r["name"])
        for r in head["resources"]
        if r.get("parent") == "prod-eu-network"
        and r["type"] not in (VPC, "aws:ec2/eip:Eip", *FLOW_LOG_PLUMBING)
    }
    # Everything in the network but the VPC itself, the NAT addresses and the flow logs' log group and
    # delivery role (none of which uses a VPC output; the flow log itself does).
    assert network and network <= reached
    assert ResourceKey("aws:ec2/flowLog:FlowLog", "prod-eu-vpc-flow-log") in reached
    # ... and beyond it: the GPU pools, the router and the gateway's VPC link sit in its subnets.
    for key in (
        ResourceKey(ASG, "prod-eu-h100-asg"),
        ResourceKey(ASG, "prod-eu-h200-asg"),
        ResourceKey("aws:ecs/service:Service", "prod-eu-router"),
        ResourceKey("aws:apigatewayv2/vpcLink:VpcLink", "prod-eu-gateway-vpc-link"),
    ):
        assert key in reached, key
    # The subnet changes are echoes of the VPC change: the downstream table lists only the VPC.
    assert "| ~ `prod-eu-vpc` (Vpc) |" in render_markdown(diff)
    assert "| ~ `prod-eu-private-eu-central-1a`" not in render_markdown(diff)


def test_the_nat_addresses_do_not_depend_on_the_vpc() -> None:
    """The graph is read from what the program registered, not assumed: an EIP uses no VPC output."""
    graph = resource_graph(example_plan("prod-eu")["resources"])
    eip = ResourceKey("aws:ec2/eip:Eip", "prod-eu-nat-eip-eu-central-1a")
    assert eip not in downstream(graph, ResourceKey(VPC, "prod-eu-vpc"))
    assert ResourceKey("aws:ec2/natGateway:NatGateway", "prod-eu-nat-eu-central-1a") in downstream(graph, eip)


def test_a_frontier_fallback_on_confidential_data_flips_residency_to_fail() -> None:
    diff = diff_plans(example_plan("prod-eu"), edited_plan("confidential-fallback"))
    assert diff.policy is not None
    flipped = {(c.rule, c.subject): c for c in diff.policy.changes}
    dataflow = flipped[("residency-dataflow", "contract-extraction")]
    assert dataflow.kind == "new-failure"
    assert dataflow.before is not None and dataflow.before.status == "pass"
    assert dataflow.after is not None and dataflow.after.status == "fail" and dataflow.after.blocking
    assert ("residency-dataflow", "contract-extraction") in {(v.rule, v.subject) for v in diff.blocking}
    # The route change is shown; the gate stopped the head, so its resources are unknown, not deleted.
    assert [r.workload for r in diff.routes] == ["contract-extraction"]
    assert diff.blocked == "head" and diff.resources == ()
    assert summary_line(diff).startswith("resources not planned (blocked by policy)")
    # The picture of the head shows the fallback the router refuses.
    assert '-.-x|"refused fallback: contract-extraction"|' in render_markdown(diff)


def test_raising_max_nodes_past_the_hard_cap_is_a_new_budget_failure() -> None:
    diff = diff_plans(example_plan("prod-eu"), edited_plan("raise-h100-only"))
    assert diff.policy is not None
    kinds = {(c.rule, c.kind) for c in diff.policy.changes}
    assert ("budget-worst-case", "new-failure") in kinds
    assert [v.rule for v in diff.blocking] == ["budget-worst-case"]
    assert summary_line(diff).endswith("1 policy failing")


def test_a_stack_absent_from_the_base_is_all_added() -> None:
    head = example_plan("prod-eu")
    diff = diff_plans(empty_plan("prod-eu"), head)
    custom = [r for r in head["resources"] if not r["type"].startswith("inferplan:components:")]
    assert diff.new_stack and diff.added == len(custom) and diff.changed == diff.removed == 0
    assert {r.action for r in diff.resources} == {"create"}
    # A new stack's verdicts that fail would be new failures; prod-eu passes them all.
    assert diff.policy is not None and not diff.policy.failing


# ------------------------------------------------------------------------------------------------- costs


def test_raising_max_nodes_moves_the_worst_case_by_one_node_and_not_the_expected_cost() -> None:
    base, head = example_plan("prod-eu"), edited_plan("raise-h100-and-context")
    diff = diff_plans(base, head)
    costs = diff.costs
    assert costs is not None
    assert costs.base_expected == base["costs"]["monthly_expected_usd"]
    assert costs.head_worst == head["costs"]["monthly_worst_case_usd"]
    asg_lines = [ln for ln in costs.lines if (ln.type, ln.name) == (ASG, "prod-eu-h100-asg")]
    assert len(asg_lines) == 1
    nodes = asg_lines[0]
    assert nodes.base_worst is not None and nodes.head_worst is not None
    # The ceiling is max_nodes nodes: 3 → 4, so the line's worst case grows by exactly one node.
    assert abs(nodes.head_worst / 4 - nodes.base_worst / 3) < 0.01
    assert nodes.delta_worst > 10_000 and nodes.delta_monthly == 0
    assert costs.delta_expected == 0  # the peak still needs the same nodes: only the ceiling moved
    assert abs(costs.delta_worst - sum(ln.delta_worst for ln in costs.lines)) < 0.05
    assert not [ln for ln in costs.lines if "h200" in ln.name]
    assert summary_line(diff) == f"+0 ~{diff.changed} -0 · ±$0/mo expected · no policy failing"


def test_a_new_stack_costs_everything_it_plans() -> None:
    head = example_plan("prod-eu")
    costs = diff_plans(empty_plan("prod-eu"), head).costs
    assert costs is not None
    assert costs.base_expected == 0 and costs.head_expected == head["costs"]["monthly_expected_usd"] > 0
    assert {ln.status for ln in costs.lines} == {"added"}


def test_a_blocked_head_is_priced_from_the_plan_without_renamed_lines_showing_as_churn() -> None:
    """The gate stopped the head, so the cost engine priced it from the spec (derived NAT names): the
    same NAT gateways must not show as three removed and three added lines."""
    diff = diff_plans(example_plan("prod-eu"), edited_plan("raise-h100-only"))
    assert diff.costs is not None
    assert {ln.status for ln in diff.costs.lines} == {"changed"}
    assert [ln.name for ln in diff.costs.lines if "natGateway" in ln.type] == []
    assert "priced from the plan alone" in render_markdown(diff)


def test_sizing_shows_what_a_longer_context_costs_in_concurrency() -> None:
    diff = diff_plans(example_plan("prod-eu"), edited_plan("raise-h100-and-context"))
    moved = {(c.kind, c.name): {x.path: (x.before, x.after) for x in c.changes} for c in diff.sizing}
    assert set(moved) == {("model", "llama-70b"), ("pool", "h100")}
    assert moved[("model", "llama-70b")]["max_context"] == (16384, 32768)
    before, after = moved[("model", "llama-70b")]["max_concurrency"]
    assert after < before  # twice the context, fewer sequences fit the same KV cache
    assert moved[("pool", "h100")] == {"max_nodes": (3, 4), "declared_max_nodes": (3, 4)}
    assert "| ~ | model | `llama-70b` |" in render_markdown(diff)
