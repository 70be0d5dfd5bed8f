"""The pure preflight checks, called directly with hand-written AWS answers."""

from __future__ import annotations

from inferplan.catalog import builtin_catalog
from inferplan.planner import build_plan
from inferplan.preflight.checks import (
    PoolTarget,
    QuotaUnknown,
    QuotaValue,
    chosen_zones,
    offering_findings,
    pool_targets,
    quota_findings,
    quota_needs,
    split_nodes,
    zone_findings,
)
from inferplan.stackfile import load_stack
from tests.preflight.conftest import ROOT

CATALOG = builtin_catalog()


def pool(
    shape: str | None, capacity: str = "on_demand", max_nodes: int = 2, base: int = 0, warm: int = 0
) -> PoolTarget:
    return PoolTarget("p", shape, capacity, max_nodes, warm, base)  # type: ignore[arg-type]


def test_network_zones_are_the_first_available_ones_by_name() -> None:
    assert chosen_zones(["eu-west-1c", "eu-west-1a", "eu-west-1b"], 2) == ("eu-west-1a", "eu-west-1b")


def test_too_few_zones_fail() -> None:
    (finding,) = zone_findings(["eu-west-1a", "eu-west-1b"], 3, "eu-west-1")
    assert finding.status == "fail"
    assert finding.remedy == "set network.availability_zones to at most 2"
    assert zone_findings(["eu-west-1a", "eu-west-1b"], 2, "eu-west-1")[0].status == "pass"


def test_mixed_pool_keeps_its_base_on_demand_and_the_rest_on_spot() -> None:
    assert split_nodes(pool("g6e.xlarge", "mixed", max_nodes=5, base=2)) == {"on-demand": 2, "spot": 3}
    assert split_nodes(pool("g6e.xlarge", "mixed", max_nodes=1, base=2)) == {"on-demand": 1, "spot": 0}
    assert split_nodes(pool("g6e.xlarge", "spot", max_nodes=4)) == {"on-demand": 0, "spot": 4}


def test_quota_needs_sum_a_family_across_pools() -> None:
    vcpus = CATALOG.instances["g6e.12xlarge"].vcpus
    small = CATALOG.instances["g6e.xlarge"].vcpus
    needs, unknown = quota_needs(
        [pool("g6e.12xlarge", max_nodes=3), pool("g6e.xlarge", "mixed", max_nodes=4, base=1)], CATALOG
    )
    assert unknown == []
    by_code = {n.code: n.vcpus for n in needs}
    assert by_code == {
        CATALOG.instances["g6e.xlarge"].quota_code_on_demand: 3 * vcpus + 1 * small,
        CATALOG.instances["g6e.xlarge"].quota_code_spot: 3 * small,
    }


def test_auto_and_uncatalogued_shapes_are_unknown_not_passes() -> None:
    needs, unknown = quota_needs([pool(None), pool("x9.huge")], CATALOG)
    assert needs == ()
    assert [f.status for f in unknown] == ["unknown", "unknown"]
    (note,) = offering_findings([pool(None)], CATALOG, ("az-a",), {"g6e.xlarge": frozenset({"az-a"})}, "r")
    assert note.status == "unknown"
    assert note.message.endswith("catalog shapes offered in az-a: g6e.xlarge")


def test_quota_unknown_carries_the_reason() -> None:
    needs, _ = quota_needs([pool("g6e.xlarge")], CATALOG)
    code = needs[0].code
    (finding,) = quota_findings(needs, {code: QuotaUnknown(code, "NoSuchResourceException: nope")}, "r")
    assert finding.status == "unknown"
    assert "quota unknown: NoSuchResourceException: nope" in finding.message
    (finding,) = quota_findings(needs, {code: QuotaValue(code, "n", 4.0, origin="default")}, "r")
    assert finding.status == "fail"
    assert "(AWS default; applied value not available)" in finding.message


def test_same_gpu_shapes_come_first_among_alternatives() -> None:
    offered = frozenset({"a", "b"})
    offerings = {"g6e.12xlarge": offered, "g6e.48xlarge": offered, "g6.xlarge": offered}
    (finding,) = offering_findings([pool("g6e.xlarge")], CATALOG, ("a", "b"), offerings, "r")
    assert finding.status == "fail"
    assert finding.message == "g6e.xlarge is not offered in a, b; no AZ of r offers it"
    # g6.xlarge has an L4 with less memory than one L40S: not an alternative.
    assert finding.remedy == "use a shape offered in a, b: g6e.12xlarge (4x L40S), g6e.48xlarge (8x L40S)"


def test_pool_targets_default_max_nodes_to_the_stack_cap() -> None:
    loaded = load_stack("dev", ROOT)
    platform = loaded.platform.model_copy(
        update={"pools": (loaded.platform.pools[0].model_copy(update={"max_nodes": None}),)}
    )
    (target,) = pool_targets(build_plan("dev", platform))
    assert target.max_nodes == platform.autoscaling.max_nodes_per_pool
