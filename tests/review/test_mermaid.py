"""The Mermaid picture: it parses with Mermaid's own flowchart grammar, and it says what it should.

The grammar is Mermaid's jison flowchart parser as shipped on PyPI by `mermaid-syntax-parser` (a
bundled .cjs file), run in SpiderMonkey through `pythonmonkey` — both pinned in requirements-dev.txt.
It runs in a child process: pythonmonkey's engine does not belong in the test process, and the
package's own Python wrapper switches multiprocessing to "spawn" for the whole interpreter on import.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inferplan.plan import Plan
from inferplan.planner import build_plan
from inferplan.report import PlanReport, render_markdown
from inferplan.report.mermaid import render_mermaid
from inferplan.spec import Platform
from inferplan.topology import (
    Flow,
    FrontierNode,
    ModelNode,
    PoolBox,
    Topology,
    WorkloadNode,
    topology_from_json,
    topology_from_plan,
)
from tests.conftest import ROOT, stack_config
from tests.review.conftest import edited_plan, example_plan

EXAMPLES = ROOT / "docs" / "examples"
FENCE = re.compile(r"^```mermaid\n(.*?)\n```$", re.S | re.M)
CHILD = """
import json, sys
import pythonmonkey
parser = pythonmonkey.require(sys.argv[1])
print(json.dumps([bool(parser.ValidateMermaid(source)) for source in json.load(sys.stdin)]))
"""


def grammar() -> Path:
    spec = importlib.util.find_spec("mermaid_parser")  # finds the package without importing it
    assert spec is not None and spec.origin, "pip install -r requirements-dev.txt (mermaid-syntax-parser)"
    path = Path(spec.origin).parent / "lib" / "mermaid_syntax_parser.cjs"
    assert path.is_file(), path
    return path


def parses(*sources: str) -> list[bool]:
    """Whether Mermaid's flowchart grammar accepts each source."""
    return list(_parses(tuple(sources)))


@functools.cache
def _parses(sources: tuple[str, ...]) -> tuple[bool, ...]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(grammar())],
        input=json.dumps(list(sources)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


def blocks(path: Path) -> list[str]:
    return FENCE.findall(path.read_text())


def prod_eu_plan() -> Plan:
    return build_plan("prod-eu", Platform.model_validate(stack_config("prod-eu")["inferplan:platform"]))


# ------------------------------------------------------------------------------------------------ parsing


def test_the_parser_rejects_a_broken_flowchart() -> None:
    """The check can fail: Mermaid's grammar refuses what GitHub would show as an error box."""
    good = 'flowchart LR\n  a["A"] --> b["B"]\n'
    assert parses(good, 'flowchart LR\n  a["A" --> b\n', "flowchart LR\n  end --> b\n") == [
        True,
        False,
        False,
    ]


@pytest.mark.parametrize("name", ["prod-eu-plan.md", "prod-eu-diff.md"])
def test_the_mermaid_block_in_the_checked_in_examples_parses(name: str) -> None:
    found = blocks(EXAMPLES / name)
    assert len(found) == 1, f"{name}: expected one ```mermaid block, found {len(found)}"
    assert found[0].startswith("flowchart LR\n")
    broken = found[0].rsplit("\n  end", 1)[0]  # drop the last subgraph's `end`
    assert parses(found[0], broken) == [True, False]


def test_every_example_stack_and_awkward_names_parse() -> None:
    sources = [render_mermaid(topology_from_plan(prod_eu_plan()))]
    for stack in ("dev", "sovereign"):
        platform = Platform.model_validate(stack_config(stack)["inferplan:platform"])
        sources.append(render_mermaid(topology_from_plan(build_plan(stack, platform))))
    awkward = Topology(
        stack="x",
        region="eu-central-1",
        workloads=(
            WorkloadNode("end", "regulated"),
            WorkloadNode("a-b", "public"),
            WorkloadNode("a_b", "internal"),
            WorkloadNode('say "hi" <b>|x|</b>', "confidential"),
        ),
        pools=(PoolBox("graph", "", ""),),
        models=(ModelNode("subgraph", "graph", "org/model (v2) [beta]"),),
        frontier=(FrontierNode("click", "openai", ()),),
        flows=(
            Flow("end", "subgraph", "model", False),
            Flow("a-b", "click", "frontier", False),
            Flow("a_b", "subgraph", "model", False),
            Flow("a_b", "click", "frontier", True),
            Flow('say "hi" <b>|x|</b>', "click", "frontier", True, allowed=False),
        ),
    )
    sources.append(render_mermaid(awkward))
    assert parses(*sources) == [True] * len(sources)
    ids = re.findall(r"^\s+(w_\w+)\[", sources[-1], re.M)
    assert len(ids) == len(set(ids)) == 4  # a-b and a_b do not collide


# ---------------------------------------------------------------------------------------------- structure


def test_the_picture_says_what_the_platform_is() -> None:
    source = render_mermaid(topology_from_plan(prod_eu_plan()))
    lines = source.splitlines()
    assert lines[0] == "flowchart LR"
    for level in ("public", "internal", "confidential", "regulated"):
        assert any(line.strip().startswith(f"classDef {level} fill:") for line in lines), level
    for workload in stack_config("prod-eu")["inferplan:platform"]["workloads"]:
        node = "w_" + re.sub(r"\W", "_", workload["name"])
        assert re.search(rf"^\s+{node}\[.*\]:::{workload['sensitivity']}$", source, re.M), workload["name"]
        assert f"  {node} --> router_router" in lines
    assert 'subgraph g_vpc["VPC · stack region eu-central-1"]' in source
    assert 'subgraph p_h100["pool h100 · p5.48xlarge · 1–3 nodes"]' in source
    assert 'f_claude_sonnet(["claude-sonnet<br/>anthropic · us-east-1"]):::frontier' in source
    # Routes are solid, fallbacks dotted, and each edge names the workloads it carries.
    assert '  router_router -->|"lead-scoring, support-summaries"| m_llama_70b' in lines
    assert '  router_router -.->|"fallback: lead-scoring, support-summaries"| f_claude_sonnet' in lines
    assert '  router_router -->|"contract-extraction"| m_qwen_235b' in lines
    node_ids = re.findall(r"^\s+([^\s\[({]+)[\[({]", source, re.M)
    assert node_ids and all(re.fullmatch(r"[A-Za-z0-9_]+", i) for i in node_ids)


def test_the_json_adapter_draws_the_same_flows_as_the_plan_adapter() -> None:
    from_plan = topology_from_plan(prod_eu_plan())
    from_json = topology_from_json(example_plan("prod-eu"))
    assert from_json.workloads == from_plan.workloads
    assert from_json.flows == from_plan.flows
    assert {f.name: f.regions for f in from_json.frontier} == {f.name: f.regions for f in from_plan.frontier}
    assert from_json.region == "eu-central-1"


def test_plan_markdown_carries_the_picture() -> None:
    plan = prod_eu_plan()
    markdown = render_markdown(PlanReport(plan=plan, resources=()))
    assert "### Platform\n\n```mermaid\n" in markdown
    assert FENCE.findall(markdown) == [render_mermaid(topology_from_plan(plan))]


def test_a_refused_fallback_is_a_red_crossed_edge() -> None:
    """contract-extraction is confidential: the router refuses its frontier fallback, and the picture says so."""
    source = render_mermaid(topology_from_json(edited_plan("confidential-fallback")))
    edges = [line for line in source.splitlines() if re.search(r" (-->|-\.->|-\.-x|--x)", line)]
    styled = re.search(r"^\s+linkStyle ([\d,]+) stroke:#b91c1c", source, re.M)
    assert styled, source
    assert [edges[int(i)].strip() for i in styled.group(1).split(",")] == [
        'router_router -.-x|"refused fallback: contract-extraction"| f_claude_sonnet'
    ]
    assert parses(source) == [True]


def test_many_workloads_are_drawn_as_one_node_per_sensitivity_level() -> None:
    levels = ("public", "internal", "confidential")
    topology = Topology(
        stack="big",
        region="us-east-1",
        workloads=tuple(WorkloadNode(f"work-{i}", levels[i % 3]) for i in range(300)),
        pools=(PoolBox("pool-0", "g6e.xlarge", "1–4 nodes"),),
        models=(ModelNode("model-0", "pool-0"),),
        frontier=(FrontierNode("claude", "anthropic", ("us-east-1",)),),
        flows=tuple(Flow(f"work-{i}", "model-0", "model", False) for i in range(300))
        + tuple(Flow(f"work-{i}", "claude", "frontier", True, allowed=i % 3 < 2) for i in range(300)),
    )
    source = render_mermaid(topology)
    assert re.findall(r"^\s+level_\w+\[(.*)\]:::(\w+)$", source, re.M) == [
        ('"100 public workloads"', "public"),
        ('"100 internal workloads"', "internal"),
        ('"100 confidential workloads"', "confidential"),
    ]
    assert source.count(" --> router_router") == 3
    assert '-->|"work-0, work-1, work-2, +297 more"| m_model_0' in source
    assert len(source) < 5_000
    assert parses(source) == [True]
