"""Property: any mutant of an example stack is planned or refused with located errors — nothing else.

Hypothesis drives the mutation engine's random choices (derandomized, so CI sees the same examples
every run); benchmarks/fuzz_stacks.py runs 10,000 seeded mutants of the same engine and counts.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.spec.mutants import mutate, outcome


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.randoms(use_true_random=False))
def test_every_mutant_is_a_plan_or_a_located_error(rng: random.Random) -> None:
    result = outcome(mutate(rng))
    assert result.kind in ("plan", "located"), result.detail


def test_the_engine_reaches_both_outcomes() -> None:
    kinds = {outcome(mutate(random.Random(seed))).kind for seed in range(40)}
    assert kinds == {"plan", "located"}, kinds
