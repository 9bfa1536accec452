"""The ``clos`` preset: the 3-tier Clos of generate/clos.py, numbered and sized as its
docstring says, valid, and converging in the region with UCMP weights that follow its
bundle sizes."""

from __future__ import annotations

import pytest

from bagctl.runtimes import Region
from bagctl.topology import Role
from bagctl.topology.generate import ParamError, generate
from bagctl.topology.validate import validate


def test_counts_numbering_and_prefixes() -> None:
    topo = generate("clos", leaves=6, spines=2, supers=2)
    roles = {
        r: sum(1 for n in topo.nodes if n.role is r) for r in (Role.RTSW, Role.FTSW, Role.STSW)
    }
    assert roles == {Role.RTSW: 6, Role.FTSW: 2, Role.STSW: 2}
    assert sum(1 for _ in topo.sessions()) == 6 * 2 + 2 * 2
    assert {topo.node(f"super{k}").asn for k in range(2)} == {65000}
    assert {topo.node(f"spine{j}").asn for j in range(2)} == {65001}
    assert topo.node("leaf5").asn == 4_200_000_005
    assert [str(p) for p in topo.node("leaf5").prefixes] == ["172.16.5.0/24", "fd01:0:0:5::/64"]
    big = generate("clos", leaves=300, spines=1, supers=1)
    assert [str(p) for p in big.node("leaf299").prefixes] == [
        "172.17.43.0/24",
        "fd01:0:0:12b::/64",
    ]
    assert topo.defaults.link_bandwidth == "link-capacity" and topo.defaults.hold_time_s == 9
    assert validate(topo) == []


def test_bundle_sizes_pattern_and_uniform() -> None:
    topo = generate("clos", leaves=6, spines=2, supers=2)
    assert topo.bundle("leaf3", "spine1").members == 1 + (3 + 1) % 4
    assert topo.bundle("spine1", "super1").members == 1 + (1 + 2) % 4
    assert topo.bundle("leaf0", "spine0").member_speed_bps == 1e9
    flat = generate("clos", leaves=6, spines=2, supers=2, bandwidth="uniform", members=2)
    assert {b.members for b in flat.bundles} == {2}


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"leaves": 5000}, "leaves: at most 4096"),
        ({"hold_time_s": 2}, "hold_time_s"),
        ({"bandwidth": "random"}, "bandwidth"),
        ({"spines": 0}, "spines"),
    ],
)
def test_bad_parameters_are_named(params: dict[str, object], words: str) -> None:
    with pytest.raises(ParamError, match=words):
        generate("clos", **params)


async def test_a_small_clos_converges_with_weights_from_its_bundles() -> None:
    topo = generate("clos", leaves=6, spines=2, supers=2)
    region = Region(topo, transport="memory")
    try:
        cold = await region.start(timeout=60)
        assert cold.session_losses == 0
        # leaf1 reaches leaf0 over both spines, each advertising to leaf1 the capacity
        # of its own link to leaf1 (link-capacity): spine0 1+(1+0)%4 = 2 members,
        # spine1 1+(1+1)%4 = 3.
        weights = await region.weights("leaf1", "172.16.0.0/24")
        assert weights == {"spine0": 2, "spine1": 3}
    finally:
        await region.aclose()
