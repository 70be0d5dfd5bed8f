"""The inferplan CrossGuard pack: `pulumi preview --stack <stack> --policy-pack policy`.

Every policy is an `inferplan.rules` rule wrapped in `policies.py`; this file only starts the pack
(constructing `PolicyPack` serves the analyzer and never returns, so nothing imports this module).
"""

import sys
from pathlib import Path

# The pack runs from this folder; the planner it wraps lives one level up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policies import PACK_NAME, build_policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    description="inferplan: budget caps, autoscaler limits, data residency, private network, gateway auth, "
    "encrypted secrets — the same rules as the program's gate, on the real resources of a preview.",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(),  # type: ignore[arg-type]
)
