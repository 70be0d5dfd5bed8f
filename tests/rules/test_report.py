"""The policy section of `plan`: verdict line, waived and expired marks, unused waivers, data flow."""

from __future__ import annotations

from datetime import date

from inferplan.report import policy as section
from inferplan.rules.findings import finding
from inferplan.rules.waivers import apply_waivers
from inferplan.spec import Waiver
from tests.rules.conftest import plan_of

TODAY = date(2026, 3, 1)


def test_waived_and_expired_findings_stay_visible_with_their_marks():
    waivers = [
        Waiver(rule="autoscaler-bounded", subject="h200", reason="burst test", expires=date(2026, 3, 31)),
        Waiver(rule="budget-worst-case", subject="old-pool", reason="migration", expires=date(2026, 1, 31)),
        Waiver(rule="gateway-auth", subject="typo", reason="nothing", expires=date(2026, 12, 31)),
    ]
    found = apply_waivers(
        [
            finding("autoscaler-bounded", "fail", "h200", "max_nodes 9 above 4"),
            finding("budget-worst-case", "fail", "old-pool", "worst case $9,000 above the cap"),
            finding("budget-expected", "pass", "prod-eu", "within budget"),
        ],
        waivers,
        TODAY,
    )
    plan = plan_of("prod-eu", lambda p: p.update(policy={"waivers": [w.model_dump() for w in waivers]}))
    text = section.render_text(found, plan)
    lines = text.splitlines()
    assert lines[0].startswith("Policy: 1 mandatory rule(s) failed")
    assert lines[0].endswith("(1 pass, 0 warn, 1 fail, 1 waived)")
    assert any("h200" in ln and "[waived until 2026-03-31: burst test]" in ln for ln in lines)
    assert any("old-pool" in ln and "[waiver expired 2026-01-31: migration]" in ln for ln in lines)
    assert any(ln.startswith("  Unused waiver: gateway-auth / typo") for ln in lines)

    # A security rule's waiver without the organisation's allowance: refused, and the refusal is shown
    # rather than its date (renewing it would not help).
    (refused,) = apply_waivers(
        [finding("network-private", "fail", "old-sg", "admits 0.0.0.0/0")],
        [Waiver(rule="network-private", subject="old-sg", reason="migration", expires=date(2026, 1, 31))],
        TODAY,
    )
    assert not refused.waived and refused.waiver_refused
    assert "[waiver refused by the organisation's policy config: migration]" in section.render_text(
        (refused,), plan
    )
    assert "Data flow: 4 of 4 workloads can reach the internet" in text

    markdown = section.render_markdown(found, plan)
    assert "| ❌ (waived) | `autoscaler-bounded` | mandatory | `h200` |" in markdown
    json_rows = section.to_json(found)
    assert [(r["subject"], r["waived"]) for r in json_rows][:2] == [("old-pool", False), ("h200", True)]
    assert json_rows[0]["waiver"] == {"reason": "migration", "expires": "2026-01-31", "expired": True}


def test_no_findings_renders_nothing():
    assert section.render_text([], None) == "" and section.render_markdown([], None) == ""
