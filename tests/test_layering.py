"""The layering of DESIGN.md, checked: the planner never imports pulumi."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT

FORBIDDEN = ("pulumi", "pulumi_aws", "pulumi_policy")


def imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield arg.value


def test_no_module_under_inferplan_imports_pulumi():
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "inferplan").rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN or name.split(".")[0] in ("offline", "components", "policy")
    ]
    assert offenders == []


def test_importing_every_planner_module_loads_no_pulumi():
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "inferplan").rglob("*.py")
        if p.name != "__main__.py"
    )
    script = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "import inferplan.cli as c; c.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'pulumi_policy'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


# What a component may read from the planner: the sub-plan types and the architecture's fixed facts
# (ports, paths, names) — never the spec, prices, sizing, rules or the decision that made the plan.
COMPONENT_MAY_IMPORT = {
    "inferplan.plan",
    "inferplan.names",
    "inferplan.front_door",
    "inferplan.images",
    "inferplan.router_config",
    "inferplan.cloud_init",
    "inferplan.perimeter",  # the planned endpoint policies, rendered with what only the deployment knows
}


def test_components_read_sub_plans_and_decide_nothing():
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "components").glob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] == "inferplan" and name not in COMPONENT_MAY_IMPORT and name != "inferplan"
    ]
    assert offenders == []


def _module_name(path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _runtime_imports(path, known: set[str]) -> set[str]:
    """Modules `path` imports when it runs (not under `if TYPE_CHECKING:`), with the packages whose
    `__init__` each import executes first."""
    importer = _module_name(path)
    out: set[str] = set()

    def add(name: str) -> None:
        parts = name.split(".")
        for i in range(2, len(parts) + 1):
            candidate = ".".join(parts[:i])
            if candidate in known and not importer.startswith(candidate + "."):
                out.add(candidate)

    def visit(nodes) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                add(node.module)
                for alias in node.names:
                    add(f"{node.module}.{alias.name}")
            visit(ast.iter_child_nodes(node))

    visit(ast.parse(path.read_text()).body)
    out.discard(importer)
    return out


def test_the_planner_has_no_import_cycles():
    paths = {_module_name(p): p for p in (ROOT / "inferplan").rglob("*.py")}
    edges = {name: _runtime_imports(path, set(paths)) for name, path in paths.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            walk(name, [name])
    assert cycles == [], [" -> ".join(c) for c in cycles]
