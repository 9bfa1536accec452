"""Generators and presets: published figures, sizes, shipped files, round trip, AS scheme,
prefixes, DSF modelling, planar vs spread, parameters."""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bagctl.topology import Role, Topology, parse_topology
from bagctl.topology.dump import dump_topology
from bagctl.topology.generate import (
    ASN_BASE,
    PRESETS,
    ParamError,
    asn,
    generate,
    preset_params,
)
from bagctl.topology.info import topology_info
from bagctl.topology.validate import validate

ROOT = Path(__file__).resolve().parents[3]
TOPOLOGIES = ROOT / "topologies"
REALISTIC = ["region", "two-region-planar", "two-region-spread", "prometheus"]
TWO_REGION = ["two-region-planar", "two-region-spread"]
BAG_PRESETS = [p for p in PRESETS if p != "clos"]  # the clos preset has no BAG
README = (ROOT / "README.md").read_text()

_built: dict[str, Topology] = {}
_figures: dict[str, dict] = {}


def built(preset: str) -> Topology:
    """Each preset is generated once per test session."""
    if preset not in _built:
        _built[preset] = generate(preset)
    return _built[preset]


def figures(preset: str) -> dict:
    if preset not in _figures:
        _figures[preset] = topology_info(built(preset))
    return _figures[preset]


def test_registry_names_the_issue_presets() -> None:
    assert list(PRESETS) == ["mini", "region", *TWO_REGION, "prometheus", "clos"]


@pytest.mark.parametrize("preset", BAG_PRESETS)
def test_figures_match_the_published_ones(preset: str) -> None:
    info = figures(preset)
    for name, fabric in info["fabrics"].items():
        # Meta: L2-to-BAG about 4.5:1 for every fabric
        assert 4.4 <= fabric["l2_to_bag_oversubscription"] <= 4.6, name
        if fabric["kind"] == "dsf":  # scheduled and non-blocking: no cut below the uplink
            assert fabric["effective_oversubscription"] == fabric["l2_to_bag_oversubscription"]
    # Meta: NSF effective 4.98:1 (ours 4.978 or 4.982, see generate/presets.py)
    assert 4.97 <= info["nsf_effective_oversubscription"] <= 4.99
    assert {f["kind"] for f in info["fabrics"].values()} == {"nsf", "dsf"}
    # Jericho3-AI chassis: at most 432 x 800G, and the realistic presets use all of them
    assert info["max_chassis_ports"] <= 432
    if preset in REALISTIC:
        assert info["max_chassis_ports"] == 432
    if preset in TWO_REGION:
        assert list(info["inter_bag_pbps"]) == ["r1-r2"]
        assert 16 <= info["inter_bag_pbps"]["r1-r2"] <= 48  # Meta: 16-48 Pbps per pair
    else:
        assert info["inter_bag_pbps"] == {}


@pytest.mark.parametrize("preset", BAG_PRESETS)
def test_only_bags_reach_432_ports_and_bag_links_are_800g(preset: str) -> None:
    topo = built(preset)
    ports: Counter[str] = Counter()
    for b in topo.bundles:
        ports[b.a] += b.members
        ports[b.b] += b.members
        roles = {topo.node(b.a).role, topo.node(b.b).role}
        if Role.BAG in roles:
            assert b.member_speed_bps == 800e9
        elif b.kind == "link":
            assert b.member_speed_bps in (400e9, 800e9)
    for n in topo.nodes:
        if n.role is Role.BAG:
            assert n.chassis_ports == 432 and ports[n.name] <= 432
        elif preset != "mini":
            assert ports[n.name] < 432, n.name


@pytest.mark.parametrize(
    ("preset", "low", "high"),
    [
        ("mini", 10, 40),
        ("region", 200, 999),
        ("two-region-planar", 400, 1999),
        ("two-region-spread", 400, 1999),
        ("prometheus", 5000, 10000),
    ],
)
def test_speaker_counts(preset: str, low: int, high: int) -> None:
    info = figures(preset)
    assert low <= info["speakers"] <= high
    if preset == "prometheus":
        assert info["sessions"] >= 10_000  # tens of thousands


@pytest.mark.parametrize("preset", list(PRESETS))
def test_shipped_file_is_what_the_generator_writes(preset: str) -> None:
    shipped = (TOPOLOGIES / f"{preset}.yaml").read_text()
    assert dump_topology(built(preset)) == shipped, (
        f"topologies/{preset}.yaml drifted: run topologies/regenerate.sh"
    )


def test_every_shipped_topology_is_a_preset() -> None:
    assert {p.stem for p in TOPOLOGIES.glob("*.yaml")} == set(PRESETS)
    script = (TOPOLOGIES / "regenerate.sh").read_text()
    loop = next(line for line in script.splitlines() if line.startswith("for preset in"))
    assert loop.split(" in ", 1)[1].rstrip("; do").split() == list(PRESETS)


@pytest.mark.parametrize(
    "preset",
    [
        *[p for p in PRESETS if p != "prometheus"],
        pytest.param("prometheus", marks=pytest.mark.slow),  # ~20 s of pure-Python YAML
    ],
)
def test_validates_and_round_trips(preset: str) -> None:
    topo = built(preset)
    again = parse_topology(dump_topology(topo), f"{preset}.yaml")  # validation included
    assert again == topo


def test_prometheus_validates() -> None:
    # The AS-layout check alone (the round trip above re-reads 4 MB of YAML first).
    assert validate(built("prometheus")) == []


def test_scaled_down_prometheus_round_trips() -> None:
    topo = generate("prometheus", nsf_zones=1, dsf_zones=1, pods=4, rdsw=20)
    assert parse_topology(dump_topology(topo)) == topo


# --- structure ------------------------------------------------------------------------


def _bag_peers(topo: Topology) -> dict[str, list[tuple[str, int]]]:
    peers: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for b in topo.bundles:
        na, nb = topo.node(b.a), topo.node(b.b)
        if na.role is nb.role is Role.BAG:
            assert na.region != nb.region
            peers[b.a].append((b.b, b.members))
            peers[b.b].append((b.a, b.members))
    return peers


def _switch(name: str) -> tuple[int, int]:
    plane, switch = name.rsplit("-bag", 1)[1].split("-")
    return int(plane), int(switch)


def test_planar_joins_bag_i_to_bag_i() -> None:
    topo = built("two-region-planar")
    peers = _bag_peers(topo)
    bags = [n for n in topo.nodes if n.role is Role.BAG]
    assert len(peers) == len(bags) == 128
    for bag, links in peers.items():
        assert len(links) == 1
        ((peer, members),) = links
        assert _switch(peer) == _switch(bag)  # same plane, same switch
        assert topo.node(peer).plane == topo.node(bag).plane
        assert members == 376


def test_spread_stripes_each_bag_over_planes_and_switches() -> None:
    topo = built("two-region-spread")
    peers = _bag_peers(topo)
    assert len(peers) == 128
    for links in peers.values():
        assert len(links) == 8
        planes = {_switch(p)[0] for p, _ in links}
        switches = {_switch(p)[1] for p, _ in links}
        assert len(planes) == 8 and len(switches) == 8  # every plane, all different switches
        assert {m for _, m in links} == {47}
        assert sum(m for _, m in links) == 376  # same capacity per BAG as planar
    assert (
        figures("two-region-spread")["inter_bag_pbps"]
        == figures("two-region-planar")["inter_bag_pbps"]
    )


def test_bag_plane_j_joins_stsw_j_of_every_spine_plane() -> None:
    topo = built("region")
    p = preset_params("region")
    for b in topo.bundles:
        roles = {topo.node(b.a).role, topo.node(b.b).role}
        if roles == {Role.STSW, Role.BAG}:
            stsw, bag = sorted((b.a, b.b), key=lambda n: topo.node(n).role is Role.BAG)
            j = int(stsw.rsplit("-", 1)[1])  # r1-nsfZ-stsw{spine plane}-{BAG plane}
            assert topo.node(bag).plane == j
        if roles == {Role.EDSW, Role.BAG}:
            edsw, bag = sorted((b.a, b.b), key=lambda n: topo.node(n).role is Role.BAG)
            assert topo.node(edsw).plane == topo.node(bag).plane
    stsw_links = Counter(
        b.b for b in topo.bundles if topo.node(b.a).role is Role.STSW and b.b.startswith("r1-bag")
    )
    # every BAG hears STSW j of each spine plane of each NSF fabric
    assert set(stsw_links.values()) == {p["nsf_zones"] * p["spine_planes"]}


def test_dsf_fdsw_carries_no_bgp_and_interface_nodes_peer_over_the_mesh() -> None:
    topo = built("mini")
    sessions = {b.key for b in topo.sessions()}
    rdsw = [n.name for n in topo.nodes if n.role is Role.RDSW]
    edsw = [n.name for n in topo.nodes if n.role is Role.EDSW]
    for b in topo.bundles:
        if Role.FDSW in {topo.node(b.a).role, topo.node(b.b).role}:
            assert b.key not in sessions and b.kind == "link"
    mesh = {b.key: b for b in topo.bundles if b.kind == "dsf_mesh"}
    assert set(mesh) == {tuple(sorted(pair)) for pair in itertools.product(rdsw, edsw)}
    assert set(mesh) <= sessions
    # fair share of the cell fabric: min(14.4T / 2 EDSWs, 14.4T / 8 RDSWs) = 1.8T
    assert {(b.members, b.member_speed_bps) for b in mesh.values()} == {(1, 1.8e12)}


# --- AS numbering and prefixes ------------------------------------------------------------


@pytest.mark.parametrize("preset", ["mini", "two-region-spread"])
def test_as_scheme(preset: str) -> None:
    topo = built(preset)
    by_role: dict[Role, list] = defaultdict(list)
    for n in topo.nodes:
        assert 4_200_000_000 <= n.asn <= 4_294_967_294  # RFC 6996 private 4-octet
        by_role[n.role].append(n)
    leaves = by_role[Role.RTSW] + by_role[Role.RDSW]
    assert len({n.asn for n in leaves}) == len(leaves)  # every leaf its own
    for n in by_role[Role.FTSW]:  # one per pod, shared by the pod's spine planes
        pod = int(n.name.rsplit("-ftsw", 1)[1].split("-")[0])
        zone = int(n.fabric.rsplit("nsf", 1)[1])
        assert n.asn == asn(int(n.region[1:]), Role.FTSW, zone, pod)
    for role in (Role.STSW, Role.EDSW):  # one per fabric
        per_fabric = defaultdict(set)
        for n in by_role[role]:
            per_fabric[n.fabric].add(n.asn)
        assert all(len(s) == 1 for s in per_fabric.values())
        assert len({next(iter(s)) for s in per_fabric.values()}) == len(per_fabric)
    bag_asns = {n.region: set() for n in by_role[Role.BAG]}
    for n in by_role[Role.BAG]:
        bag_asns[n.region].add(n.asn)
    assert all(s == {asn(int(r[1:]), Role.BAG)} for r, s in bag_asns.items())  # one per region
    assert asn(2, Role.RDSW, 3, 17) == ASN_BASE + 2 * 10_000_000 + 5_000_000 + 30_000 + 17


@pytest.mark.parametrize("preset", ["region", "two-region-planar"])
def test_leaf_prefixes_are_unique_and_do_not_overlap(preset: str) -> None:
    topo = built(preset)
    nets = []
    for n in topo.nodes:
        if n.role in (Role.RTSW, Role.RDSW):
            assert n.prefixes and len(n.prefixes) == 2
            assert [p.network.version for p in n.prefixes] == [4, 6]
        else:
            assert not n.prefixes
        nets += [p.network for p in n.prefixes]
    assert len(set(nets)) == len(nets)
    for version in (4, 6):
        ordered = sorted(net for net in nets if net.version == version)
        assert all(not a.overlaps(b) for a, b in itertools.pairwise(ordered))
    pools = (topo.addressing.link_v4, topo.addressing.loopback_v4)
    assert not any(net.overlaps(pool) for net in nets if net.version == 4 for pool in pools)
    assert all(
        net.subnet_of(ipaddress.ip_network("2001:db8::/32")) for net in nets if net.version == 6
    )


# --- parameters ---------------------------------------------------------------------------


def _expected_roles(p: dict, regions: int = 1) -> dict[str, int]:
    """Node counts predicted from the parameters (the wiring of generate/fabrics.py and bags.py)."""
    nsf, dsf = p["nsf_zones"], p["dsf_zones"]
    per_region = {
        "bag": p["planes"] * p["bags_per_plane"],
        "rtsw": nsf * p["pods"] * p["rtsw_per_pod"],
        "ftsw": nsf * p["pods"] * p["spine_planes"],
        "stsw": nsf * p["spine_planes"] * p["planes"],
        "rdsw": dsf * p["rdsw"],
        "fdsw": dsf * p["fdsw"],
        "edsw": dsf * p["edsw_per_plane"] * p["planes"],
    }
    return {k: v * regions for k, v in sorted(per_region.items()) if v}


@pytest.mark.parametrize("preset", BAG_PRESETS)
def test_counts_follow_the_parameters(preset: str) -> None:
    regions = 2 if preset in TWO_REGION else 1
    assert figures(preset)["nodes_by_role"] == _expected_roles(preset_params(preset), regions)


def test_params_override_changes_counts_predictably() -> None:
    base = figures("mini")
    topo = generate("mini", planes=4, pods="3")  # strings, as from --param
    info = topology_info(topo)
    p = preset_params("mini", {"planes": 4, "pods": 3})
    assert info["nodes_by_role"] == _expected_roles(p)
    assert info["nodes_by_role"]["bag"] == 2 * base["nodes_by_role"]["bag"]
    assert info["nodes_by_role"]["stsw"] == 2 * base["nodes_by_role"]["stsw"]
    assert info["nodes_by_role"]["rtsw"] == 21
    # sessions: RTSW-FTSW + FTSW-STSW + STSW-BAG + RDSW-EDSW mesh + EDSW-BAG
    assert info["sessions"] == 21 * 2 + 6 * 4 + 8 * 2 + 8 * 4 + 4 * 2
    assert "(planes=4, pods=3)" in topo.description
    assert validate(topo) == []


def test_bandwidth_params_take_units() -> None:
    p = preset_params("mini", {"rtsw_host": "25.6T", "bag_speed": 800e9})
    assert p["rtsw_host"] == 25.6e12 and p["bag_speed"] == 800e9


@pytest.mark.parametrize(
    ("preset", "params", "message"),
    [
        ("mini", {"plane": 4}, "unknown parameter 'plane' for preset 'mini' (accepted: planes,"),
        ("mini", {"planes": "four"}, "parameter 'planes': expected an integer >= 1, got 'four'"),
        ("mini", {"planes": 0}, "parameter 'planes': expected an integer >= 1, got 0"),
        ("mini", {"planes": True}, "expected an integer"),
        ("mini", {"rtsw_host": "fast"}, "parameter 'rtsw_host': expected a bandwidth like 800G"),
        ("mini", {"rtsw_host": "0G"}, "parameter 'rtsw_host': expected a bandwidth"),
        ("two-region-planar", {"join": "mesh"}, "parameter 'join': expected one of planar, spread"),
        ("region", {"stsw_bag_members": 40}, "bag_ports: each BAG would need 540 ports"),
        ("two-region-spread", {"spread_width": 3}, "does not split evenly over spread_width 3"),
        ("two-region-spread", {"spread_width": 9}, "use 1..8"),
        ("mini", {"nsf_zones": 0, "dsf_zones": 0}, "a region needs at least one L2 fabric"),
        ("nano", {}, "unknown preset 'nano' (presets: mini, region,"),
    ],
)
def test_bad_params_name_the_parameter(preset: str, params: dict, message: str) -> None:
    with pytest.raises(ParamError) as info:
        generate(preset, **params)
    assert message in str(info.value), str(info.value)


def test_too_many_subnets_for_a_region() -> None:
    with pytest.raises(ParamError, match="GPU subnets"):
        generate("mini", prefixes_per_leaf=400)


def test_prometheus_scales_with_its_figures_kept() -> None:
    # README: bags_per_plane=K, pods=4K, rdsw=20K keeps every ratio and full 432-port BAGs
    info = topology_info(generate("prometheus", bags_per_plane=4, pods=16, rdsw=80))
    assert info["speakers"] == 4016
    assert (
        info["nsf_effective_oversubscription"]
        == figures("prometheus")["nsf_effective_oversubscription"]
    )
    assert {f["l2_to_bag_oversubscription"] for f in info["fabrics"].values()} == {4.5}
    assert info["max_chassis_ports"] == 432


README_ROW = re.compile(r"^\| `(?P<preset>[a-z-]+)` \| (?P<cells>.*) \|$", re.M)


def test_readme_table_matches_the_presets() -> None:
    rows = {
        m["preset"]: m["cells"].split(" | ")
        for m in README_ROW.finditer(README)
        if m["preset"] in PRESETS  # (the roles table matches the pattern too)
    }
    assert set(rows) == set(BAG_PRESETS)  # clos has no BAG figures: a paragraph of its own
    for preset, cells in rows.items():
        info = figures(preset)
        l2 = {
            kind: {f["l2_to_bag_oversubscription"] for f in info["fabrics"].values()
                   if f["kind"] == kind}
            for kind in ("nsf", "dsf")
        }  # fmt: skip
        inter = info["inter_bag_pbps"].get("r1-r2")
        assert cells[:7] == [
            f"{info['speakers']:,}",
            f"{info['sessions']:,}",
            f"{info['member_links']:,}",
            f"{l2['nsf'].pop():g} / {l2['dsf'].pop():g}",
            f"{info['nsf_effective_oversubscription']:g}",
            "-" if inter is None else f"{inter:g}",
            str(info["max_chassis_ports"]),
        ], preset


def test_summarize_levels_cover_exactly_the_leaf_subnets() -> None:
    import ipaddress as ip

    from bagctl.topology.generate import generate as gen
    from bagctl.topology.model import Role as R

    none = gen("mini")
    assert not any(n.aggregates for n in none.nodes)
    fabric = gen("mini", summarize="fabric")
    for n in fabric.nodes:
        if n.role in (R.STSW, R.EDSW):
            leaves = [p.network for m in fabric.nodes if m.fabric == n.fabric for p in m.prefixes]
            covered = [a.network for a in n.aggregates]
            assert all(
                any(c.version == leaf.version and leaf.subnet_of(c) for c in covered)  # type: ignore[arg-type]
                for leaf in leaves
            )
            addresses = sum(c.num_addresses for c in covered)
            assert addresses == sum(leaf.num_addresses for leaf in leaves)  # nothing more
        else:
            assert n.aggregates == ()
    pod = gen("mini", summarize="pod")
    ftsw = [n for n in pod.nodes if n.role is R.FTSW]
    assert ftsw and all(n.aggregates for n in ftsw)
    assert all(
        isinstance(a.network, ip.IPv4Network | ip.IPv6Network) for n in ftsw for a in n.aggregates
    )
