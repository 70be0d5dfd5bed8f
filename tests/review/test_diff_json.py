"""`diff_plans` on hand-written Plan JSON: input paths, cost deltas, policy deltas, the summary line."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inferplan.dependencies import ResourceKey, downstream, resource_graph
from inferplan.diff import (
    PlanJsonError,
    check_plan_json,
    cost_delta,
    diff_plans,
    empty_plan,
    input_changes,
    policy_delta,
)
from inferplan.report.diff_markdown import money, render_markdown, render_text, signed_money, summary_line

SCHEMA = "inferplan.plan/v1"


def res(
    type_: str, name: str, parent: str | None = None, deps: tuple[str, ...] = (), **inputs: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type_, "name": name, "inputs": inputs}
    if parent:
        out["parent"] = parent
    if deps:
        out["depends_on"] = list(deps)
    return out


def line(item: str, name: str, monthly: float, worst: float, type_: str = "aws:x/y:Z") -> dict[str, Any]:
    return {
        "item": item,
        "unit": "node-hour",
        "quantity": 1,
        "unit_usd": monthly,
        "monthly_usd": monthly,
        "worst_case_usd": worst,
        "type": type_,
        "name": name,
    }


def verdict(
    rule: str, subject: str, status: str, severity: str = "mandatory", waived: bool = False
) -> dict[str, Any]:
    return {
        "rule": rule,
        "subject": subject,
        "severity": severity,
        "status": status,
        "message": f"{rule} on {subject} is {status}",
        "waived": waived,
    }


def plan(resources: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "stack": "s",
        "region": "eu-central-1",
        "resources": resources,
        "routes": [],
        **extra,
    }


# ----------------------------------------------------------------------------------------------- inputs


def test_changed_inputs_are_dotted_paths_with_list_indexes() -> None:
    before = {
        "maxSize": 3,
        "mixedInstancesPolicy": {"launchTemplate": {"overrides": [{"instanceType": "p5.48xlarge"}]}},
        "tags": {"a": "1", "gone": "x"},
    }
    after = copy.deepcopy(before)
    after["maxSize"] = 4
    after["mixedInstancesPolicy"]["launchTemplate"]["overrides"][0]["instanceType"] = "p5en.48xlarge"
    del after["tags"]["gone"]
    after["tags"]["new"] = "y"
    changes = {c.path: c for c in input_changes(before, after)}
    assert set(changes) == {
        "maxSize",
        "mixedInstancesPolicy.launchTemplate.overrides[0].instanceType",
        "tags.gone",
        "tags.new",
    }
    assert (changes["maxSize"].before, changes["maxSize"].after, changes["maxSize"].kind) == (3, 4, "changed")
    assert changes["tags.gone"].kind == "removed" and changes["tags.new"].kind == "added"


def test_lists_of_different_length_change_as_a_whole_and_equal_numbers_do_not() -> None:
    assert [c.path for c in input_changes({"subnetIds": ["a", "b"]}, {"subnetIds": ["a", "b", "c"]})] == [
        "subnetIds"
    ]
    assert input_changes({"n": 3}, {"n": 3.0}) == []  # mocks turn numbers into floats
    assert [c.path for c in input_changes({"f": True}, {"f": 1})] == ["f"]


def test_json_strings_are_compared_key_by_key() -> None:
    before = {"containerDefinitions": '[{"name": "router", "cpu": 512, "image": "litellm:1"}]'}
    after = {"containerDefinitions": '[{"name": "router", "cpu": 1024, "image": "litellm:1"}]'}
    assert [c.path for c in input_changes(before, after)] == ["containerDefinitions[0].cpu"]


# --------------------------------------------------------------------------------------------- resources


def test_resources_added_removed_changed_by_type_and_name() -> None:
    base = plan([res("aws:ec2/vpc:Vpc", "v", cidrBlock="10.0.0.0/16"), res("aws:s3/bucket:Bucket", "old")])
    head = plan(
        [
            res("aws:ec2/vpc:Vpc", "v", cidrBlock="10.1.0.0/16"),
            res("aws:s3/bucket:Bucket", "new"),
            res("aws:sqs/queue:Queue", "old"),  # same name, other type: a different resource
        ]
    )
    diff = diff_plans(base, head)
    actions = {(r.key.type, r.key.name): r.action for r in diff.resources}
    assert actions == {
        ("aws:ec2/vpc:Vpc", "v"): "update",
        ("aws:s3/bucket:Bucket", "new"): "create",
        ("aws:s3/bucket:Bucket", "old"): "delete",
        ("aws:sqs/queue:Queue", "old"): "create",
    }
    assert (diff.added, diff.changed, diff.removed) == (2, 1, 1)


def test_components_are_not_counted_but_carry_their_children_downstream() -> None:
    resources = [
        res("inferplan:components:Network", "net"),
        res("aws:ec2/vpc:Vpc", "vpc", parent="net"),
        res("aws:ec2/subnet:Subnet", "subnet", parent="net", deps=("vpc",)),
        res("aws:ec2/eip:Eip", "eip", parent="net"),
        res("inferplan:components:Pool", "pool", deps=("net",)),  # depends on a component: on its children
        res("aws:autoscaling/group:Group", "asg", parent="pool"),
    ]
    graph = resource_graph(resources)
    assert downstream(graph, ResourceKey("aws:ec2/vpc:Vpc", "vpc")) == (
        ResourceKey("aws:autoscaling/group:Group", "asg"),
        ResourceKey("aws:ec2/subnet:Subnet", "subnet"),
    )
    assert downstream(graph, ResourceKey("aws:ec2/eip:Eip", "eip")) == (
        ResourceKey("aws:autoscaling/group:Group", "asg"),
    )
    assert downstream(graph, ResourceKey("aws:autoscaling/group:Group", "asg")) == ()
    diff = diff_plans(empty_plan("s"), plan(resources))
    assert diff.added == 4  # the two components are not created in AWS


# ------------------------------------------------------------------------------------------------- costs


def test_cost_delta_per_line_and_in_total() -> None:
    base = plan(
        [],
        costs={
            "monthly_expected_usd": 1000.0,
            "monthly_worst_case_usd": 3000.0,
            "lines": [line("p5 on-demand", "asg", 900, 2700), line("KMS key", "key", 100, 300)],
        },
    )
    head = plan(
        [],
        costs={
            "monthly_expected_usd": 1000.0,
            "monthly_worst_case_usd": 3900.0,
            "lines": [
                line("p5 on-demand", "asg", 900, 3600),
                line("NAT hours", "nat", 0, 0),
                line("KMS key", "key", 100, 300),
            ],
        },
    )
    costs = cost_delta(base, head)
    assert costs is not None
    assert (costs.delta_expected, costs.delta_worst) == (0.0, 900.0)
    moved = {(ln.name, ln.item): ln for ln in costs.lines}
    assert set(moved) == {("asg", "p5 on-demand"), ("nat", "NAT hours")}  # the KMS key did not move
    assert moved[("asg", "p5 on-demand")].delta_worst == 900.0
    assert moved[("asg", "p5 on-demand")].delta_monthly == 0.0
    assert moved[("nat", "NAT hours")].status == "added"


def test_no_cost_delta_unless_both_plans_were_priced() -> None:
    priced = plan([res("aws:s3/bucket:Bucket", "b")], costs={"monthly_expected_usd": 5.0, "lines": []})
    unpriced = plan([res("aws:s3/bucket:Bucket", "b")])
    assert cost_delta(unpriced, priced) is None  # absent, not faked as a $5 increase
    assert cost_delta(priced, unpriced) is None
    new = cost_delta(empty_plan("s"), priced)  # a new stack is priced from zero
    assert new is not None and new.delta_expected == 5.0


# ------------------------------------------------------------------------------------------------ policy


def test_policy_new_failures_fixes_and_changes() -> None:
    base = plan(
        [],
        policy=[
            verdict("budget-expected", "s", "pass"),
            verdict("residency-dataflow", "w1", "fail"),
            verdict("autoscaler-capacity", "p", "pass", severity="advisory"),
            verdict("gateway-auth", "s", "fail"),
        ],
    )
    head = plan(
        [],
        policy=[
            verdict("budget-expected", "s", "fail"),
            verdict("residency-dataflow", "w1", "pass"),
            verdict("autoscaler-capacity", "p", "warn", severity="advisory"),
            verdict("gateway-auth", "s", "fail", waived=True),
            verdict("network-private", "s", "pass"),  # a new passing check: not news
        ],
    )
    delta = policy_delta(base, head)
    assert delta is not None
    kinds = {(c.rule, c.subject): c.kind for c in delta.changes}
    assert kinds == {
        ("budget-expected", "s"): "new-failure",
        ("residency-dataflow", "w1"): "fixed",
        ("autoscaler-capacity", "p"): "changed",
        ("gateway-auth", "s"): "fixed",  # waived: still visible, no longer failing
    }
    assert [(v.rule, v.subject) for v in delta.failing] == [("budget-expected", "s")]
    assert [v.rule for v in delta.blocking] == ["budget-expected"]


def test_an_advisory_failure_is_failing_but_not_blocking() -> None:
    head = plan([], policy=[verdict("autoscaler-capacity", "p", "fail", severity="advisory")])
    diff = diff_plans(empty_plan("s"), head)
    assert diff.policy is not None and len(diff.policy.failing) == 1
    assert diff.blocking == ()


def test_no_policy_section_without_verdicts_and_no_changes_against_a_base_without_them() -> None:
    assert policy_delta(plan([]), plan([])) is None
    head = plan([res("aws:s3/bucket:Bucket", "b")], policy=[verdict("gateway-auth", "s", "fail")])
    delta = policy_delta(plan([res("aws:s3/bucket:Bucket", "b")]), head)
    assert delta is not None and delta.changes == () and len(delta.failing) == 1


# ------------------------------------------------------------------------------------------------ render


def test_summary_line_reads_resources_cost_and_policy() -> None:
    base = plan(
        [res("aws:ec2/vpc:Vpc", "v", cidrBlock="10.0.0.0/16")],
        costs={"monthly_expected_usd": 10_000.0, "monthly_worst_case_usd": 20_000.0, "lines": []},
        policy=[verdict("budget-expected", "s", "pass")],
    )
    head = plan(
        [
            res("aws:ec2/vpc:Vpc", "v", cidrBlock="10.1.0.0/16"),
            res("aws:s3/bucket:Bucket", "a"),
            res("aws:s3/bucket:Bucket", "b"),
            res("aws:s3/bucket:Bucket", "c"),
        ],
        costs={"monthly_expected_usd": 14_210.0, "monthly_worst_case_usd": 29_000.0, "lines": []},
        policy=[verdict("budget-expected", "s", "fail")],
    )
    diff = diff_plans(base, head)
    assert summary_line(diff) == "+3 ~1 -0 · +$4,210/mo expected · 1 policy failing"
    markdown = render_markdown(diff)
    assert (
        markdown.splitlines()[0]
        == "**`s`** · +3 ~1 -0 · +$4,210/mo expected · 1 policy failing (worst case +$9,000/mo)"
    )
    assert "| ~ | `aws:ec2/vpc:Vpc` | `v` | `cidrBlock: 10.0.0.0/16 → 10.1.0.0/16` |" in markdown
    assert "| **new failure** | `budget-expected` |" in markdown
    assert "cidrBlock: 10.0.0.0/16 → 10.1.0.0/16" in render_text(diff)


def test_money() -> None:
    assert money(4210.4) == "$4,210" and money(12.345) == "$12.35" and money(-150) == "-$150"
    assert signed_money(4210) == "+$4,210" and signed_money(-0.5) == "-$0.50" and signed_money(0.001) == "±$0"


# -------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "expected a JSON object, found list"),
        ({"schema": "other/v9", "resources": []}, "schema is 'other/v9'"),
        ({"schema": SCHEMA}, "`resources` is missing or not a list"),
        ({"schema": SCHEMA, "resources": [{"name": "x"}]}, "resources[0] has no string `type` and `name`"),
        ({"schema": SCHEMA, "resources": [], "policy": {}}, "`policy` is not a list"),
        (
            {"schema": SCHEMA, "resources": [{"type": "t", "name": "x", "depends_on": 5}]},
            "resources[0].depends_on is not a list of names",
        ),
        (
            {"schema": SCHEMA, "resources": [{"type": "t", "name": "x", "inputs": []}]},
            "resources[0].inputs is not an object",
        ),
    ],
)
def test_not_plan_json(doc: Any, message: str) -> None:
    with pytest.raises(PlanJsonError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_plan_json(doc)
