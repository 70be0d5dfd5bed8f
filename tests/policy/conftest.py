from tests.rules.conftest import recorded  # noqa: F401 — the same recordings as the rule tests
