"""A project root elsewhere on disk whose code links to this repository and whose stacks/ is empty.

`plan` reads `stacks/` and runs `__main__.py` from one project root; tests, benchmarks and the
example generator plan edited stacks without touching the repository's own `stacks/`.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "inferplan", "components", "offline", "policy")


def linked_project(into: Path) -> Path:
    """Create `into` with links to the program and the planner, and an empty `stacks/`; return it."""
    into.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        (into / name).symlink_to(ROOT / name)
    (into / "stacks").mkdir()
    return into
