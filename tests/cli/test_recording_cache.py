"""The recording cache of `plan`: keyed on everything the program's output depends on, never trusted blindly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inferplan import recording_cache
from inferplan.cli import chosen_command
from inferplan.commands.plan import build_report
from inferplan.recording_cache import RecordedProgram, cache_dir, load, recording_key, store
from inferplan.stackfile import load_stack, stack_file
from tests.conftest import ROOT


def program_tree(root: Path) -> Path:
    """A project root holding one file of each folder the key reads, a stack file and a price cache."""
    for name, text in {
        "__main__.py": "print('program')\n",
        "components/network.py": "VPC = 1\n",
        "inferplan/catalog/gpus.csv": "name,memory_gib\nH100,80\n",
        "offline/recorder.py": "RECORD = 1\n",
        "stacks/Pulumi.dev.yaml": "config: {}\n",
        "prices.json": "{}\n",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def key_of(root: Path, config: str = '{"a": 1}', stack: str = "dev") -> str:
    return recording_key(stack, config, root, root / "stacks" / "Pulumi.dev.yaml", root / "prices.json")


def answer(*names: str, failed: bool = False) -> RecordedProgram:
    return RecordedProgram.model_validate(
        {
            "resources": [
                {"type": "aws:s3/bucket:Bucket", "name": n, "inputs": {"bucket": n}, "custom": True}
                for n in names
            ],
            "errors": ["stopped"] if failed else [],
            "warnings": [],
            "failed": failed,
        }
    )


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of this test's own (not the run's shared one)."""
    monkeypatch.setenv(recording_cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    folder = cache_dir()
    assert folder is not None
    return folder


def test_the_key_changes_with_every_input_and_only_with_them(tmp_path: Path) -> None:
    root = program_tree(tmp_path)
    first = key_of(root)
    assert key_of(root) == first
    (root / "components" / "__pycache__").mkdir()
    (root / "components" / "__pycache__" / "network.cpython-311.pyc").write_bytes(b"\x00byte code")
    assert key_of(root) == first  # byte code is not source

    seen = {first}
    assert key_of(root, config='{"a": 2}') not in seen
    assert key_of(root, stack="prod") not in seen
    for name in (
        "__main__.py",
        "components/network.py",
        "inferplan/catalog/gpus.csv",
        "offline/recorder.py",
        "stacks/Pulumi.dev.yaml",
        "prices.json",
    ):
        path = root / name
        original = path.read_text()
        path.write_text(original + "# edited\n")
        edited = key_of(root)
        assert edited not in seen, name
        seen.add(edited)
        path.write_text(original)
        assert key_of(root) == first, name
    (root / "inferplan" / "new.py").write_text("")
    assert key_of(root) not in seen  # a new module is a new program


def test_the_key_follows_the_linked_code_of_a_project_elsewhere(tmp_path: Path) -> None:
    code = program_tree(tmp_path / "code")
    project = tmp_path / "project"
    project.mkdir()
    for name in ("__main__.py", "components", "inferplan", "offline"):
        (project / name).symlink_to(code / name)
    before = recording_key("dev", "{}", project, None, None)
    (code / "components" / "network.py").write_text("VPC = 2\n")
    assert recording_key("dev", "{}", project, None, None) != before


def test_the_key_follows_the_policy_config_and_the_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which waivers count depends on the organisation's config and on today: both are inputs."""
    import datetime

    root = program_tree(tmp_path)
    policy = tmp_path / "org.json"
    policy.write_text('{"residency-region": {"waivable": {"max_days": 30}}}')

    def key(config: Path | None) -> str:
        return recording_key("dev", "{}", root, None, None, config)

    without, with_config = key(None), key(policy)
    assert without != with_config
    policy.write_text('{"residency-region": {"waivable": false}}')
    assert key(policy) != with_config

    class Tomorrow(datetime.date):
        @classmethod
        def today(cls) -> datetime.date:
            return datetime.date(2999, 1, 1)

    monkeypatch.setattr(recording_cache, "date", Tomorrow)
    assert key(None) != without


def test_a_stored_recording_comes_back_as_it_was(cache: Path) -> None:
    assert load("k" * 64) is None
    store("k" * 64, answer("logs", "models"))
    assert load("k" * 64) == answer("logs", "models")
    assert [p.name for p in cache.iterdir()] == ["k" * 64 + ".json"]  # no scratch file left behind


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff\xfe not json",
        b'{"format": "inferplan.recording/v1", "key": "kkk", "answer": {"resources": [',  # cut short
        b'{"format": "inferplan.recording/v0", "key": "KEY", "answer": '
        b'{"resources": [], "errors": [], "warnings": [], "failed": false}}',
        b'{"format": "inferplan.recording/v1", "key": "another", "answer": '
        b'{"resources": [], "errors": [], "warnings": [], "failed": false}}',
        b'{"format": "inferplan.recording/v1", "key": "KEY", "answer": '
        b'{"resources": [{"type": "t", "name": 3}], "errors": [], "warnings": [], "failed": false}}',
        b'{"format": "inferplan.recording/v1", "key": "KEY", "answer": '
        b'{"resources": [], "errors": ["x"], "warnings": [], "failed": true}}',
    ],
    ids=["empty", "binary", "truncated", "old-format", "other-key", "bad-resource", "failed-run"],
)
def test_a_corrupt_entry_is_a_miss_not_an_error(cache: Path, content: bytes) -> None:
    cache.mkdir(parents=True)
    (cache / "KEY.json").write_bytes(content)
    assert load("KEY") is None


def test_an_entry_that_cannot_be_read_or_written_is_skipped(cache: Path) -> None:
    cache.parent.mkdir(parents=True)
    cache.write_text("a file where the folder should be")
    store("KEY", answer("logs"))  # does not raise
    assert load("KEY") is None
    cache.unlink()
    (cache / "KEY.json").mkdir(parents=True)  # a folder where the entry should be
    assert load("KEY") is None
    store("KEY", answer("logs"))  # does not raise either


def test_a_failed_run_is_never_stored(cache: Path) -> None:
    store("KEY", answer(failed=True))
    assert not (cache / "KEY.json").exists()


def test_only_the_most_recently_used_entries_are_kept(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for age, key in enumerate(("newest", "used", "oldest")):
        store(key, answer(key))
        os.utime(cache / f"{key}.json", (1_000_000 - age * 10, 1_000_000 - age * 10))
    monkeypatch.setattr(recording_cache, "KEEP", 2)
    assert load("used") is not None  # reading an entry makes it recent again
    store("latest", answer("latest"))
    assert sorted(p.stem for p in cache.glob("*.json")) == ["latest", "used"]


def test_the_cache_lives_in_the_users_cache_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(recording_cache.CACHE_DIR_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == tmp_path / "home" / ".cache" / "inferplan" / "recordings"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid by the XDG spec: ignored
    assert cache_dir() == tmp_path / "home" / ".cache" / "inferplan" / "recordings"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "inferplan" / "recordings"
    monkeypatch.setenv(recording_cache.CACHE_DIR_ENV, str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine" / "recordings"


PROGRAM = """import pulumi

pulumi.ComponentResource("test:index:Marker", "from-the-program")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose program registers one marker (so a test sees whether the program ran, cheaply)."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Pulumi.yaml", "inferplan", "components", "offline"):
        (root / name).symlink_to(ROOT / name)
    (root / "__main__.py").write_text(PROGRAM)
    (root / "stacks").mkdir()
    (root / "stacks" / "Pulumi.dev.yaml").write_text((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    return root


def dev_key(root: Path) -> str:
    """The key `plan --stack dev` looks its recording up under."""
    loaded = load_stack("dev", root)
    return recording_key("dev", json.dumps(loaded.config, default=str), root, stack_file("dev", root), None)


def test_plan_takes_a_cached_recording_and_no_cache_runs_the_program(cache: Path, project: Path) -> None:
    store(dev_key(project), answer("dev-planted-bucket"))
    assert [r.name for r in build_report("dev", project).resources] == ["dev-planted-bucket"]

    fresh = build_report("dev", project, use_cache=False)
    assert [r.name for r in fresh.resources] == ["from-the-program"]
    assert load(dev_key(project)) == answer("dev-planted-bucket")  # --no-cache neither reads nor writes


def test_plan_runs_the_program_over_a_corrupt_entry_and_replaces_it(cache: Path, project: Path) -> None:
    cache.mkdir(parents=True)
    (cache / f"{dev_key(project)}.json").write_text('{"format": "inferplan.recording/v1", "key": ')
    assert [r.name for r in build_report("dev", project).resources] == ["from-the-program"]
    stored = load(dev_key(project))
    assert stored is not None and [r.name for r in stored.resources] == ["from-the-program"]


def test_plan_loads_only_what_it_runs() -> None:
    """`plan` builds only its own arguments: preflight's boto3, import-usage's polars, LiteLLM stay out."""
    script = (
        "import sys\n"
        "from inferplan.cli import build_parser\n"
        "args = build_parser(['plan']).parse_args(['plan', '--stack', 'dev', '--no-cache'])\n"
        "assert not args.use_cache and args.run.__module__ == 'inferplan.commands.plan'\n"
        "print(sorted(m for m in ('boto3', 'polars', 'litellm', 'pulumi') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["plan", "--stack", "dev"], "plan"),
        (["-C", "plan", "import-usage", "--stack", "dev"], "import-usage"),  # a folder named like a command
        (["-Cplan", "diff", "a.json", "b.json"], "diff"),
        (["--version"], None),
        (["-C", "docs"], None),
        (["no-such-command", "plan"], None),
    ],
)
def test_the_command_is_the_first_word_that_is_not_an_option(argv: list[str], command: str | None) -> None:
    assert chosen_command(argv) == command
