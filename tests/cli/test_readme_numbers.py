"""The README's sample figures are what the prod-eu example prints (scripts/make_examples.py writes them)."""

from __future__ import annotations

import importlib.util

from inferplan.report import to_json
from tests.cli.conftest import example_report
from tests.conftest import ROOT


def test_the_readme_sample_numbers_match_the_example_plan():
    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "scripts" / "make_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.summary(to_json(example_report("prod-eu")))
    readme = (ROOT / "README.md").read_text()
    block = readme.split(module.README_BLOCK, 1)[1].split("<!-- /make_examples -->", 1)[0].strip()
    assert block == expected, "run: python scripts/make_examples.py"
