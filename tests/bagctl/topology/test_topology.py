"""Topology files: the figures checked by hand, addresses, round trip, and bad files."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from bagctl.topology import load_topology, parse_topology
from bagctl.topology.addresses import link_addresses, loopbacks
from bagctl.topology.configs import speaker_configs
from bagctl.topology.dump import dump_topology
from bagctl.topology.info import topology_info
from speakers.ucmp import MissingBandwidthMode, ReadvertiseMode
from speakers.yamldoc import ConfigError

SMALL = Path(__file__).with_name("small.yaml")


def test_small_region_figures_by_hand() -> None:
    info = topology_info(load_topology(SMALL))
    # 9 BGP speakers (the FDSW carries no BGP), 10 sessions, 12 bundles.
    assert (info["speakers"], info["sessions"], info["bundles"]) == (9, 10, 12)
    # members: 4 rtsw-ftsw + 2 ftsw-stsw + 1 stsw-bag + 3 + 3 + 3 (dsf) + 1 edsw-bag + 10 bag-bag
    assert info["member_links"] == 27
    nsf = info["fabrics"]["nsf1"]
    # hosts 2 x 1.6T = 3.2T; BAG uplink 800G -> 4.0; but ftsw->stsw carries 2 x 300G = 600G,
    # so the most that reaches BAG is 600G -> 3.2 / 0.6 = 5.333.
    assert nsf["kind"] == "nsf"
    assert nsf["l2_to_bag_oversubscription"] == 4.0
    assert nsf["effective_oversubscription"] == pytest.approx(5.333, abs=1e-3)
    assert info["nsf_effective_oversubscription"] == pytest.approx(5.333, abs=1e-3)
    dsf = info["fabrics"]["dsf1"]
    # 1.2T of hosts over a 400G uplink; the cell fabric (3 x 400G) is no bottleneck.
    assert (dsf["kind"], dsf["l2_to_bag_oversubscription"], dsf["effective_oversubscription"]) == (
        "dsf",
        3.0,
        3.0,
    )
    assert info["inter_bag_pbps"] == {"r1-r2": 0.008}  # 10 x 800G
    assert info["max_chassis_ports"] == 12  # bag1: 1 + 1 + 10
    assert info["nodes_by_role"]["fdsw"] == 1


def test_addresses_are_deterministic() -> None:
    topo = load_topology(SMALL)
    lo = loopbacks(topo)
    assert lo["rtsw1"] == ipaddress.IPv4Address("127.64.0.1")
    assert lo["bag2"] == ipaddress.IPv4Address("127.64.0.10")
    links = link_addresses(topo)
    assert (links[0].a_v4, links[0].b_v4) == (
        ipaddress.IPv4Address("10.128.0.0"),
        ipaddress.IPv4Address("10.128.0.1"),
    )
    assert links[1].a_v6 == ipaddress.IPv6Address("fd00:ba9::2")
    assert loopbacks(load_topology(SMALL)) == lo


def test_dump_round_trip() -> None:
    topo = load_topology(SMALL)
    again = parse_topology(dump_topology(topo), "dumped.yaml")
    assert again.nodes == topo.nodes and again.bundles == topo.bundles
    assert again.defaults == topo.defaults


BASE = SMALL.read_text()


def test_a_node_may_set_its_own_link_bandwidth_modes() -> None:
    """A node's ``link_bandwidth`` and ``missing_bandwidth`` override the region's defaults
    in its speaker's configuration, and survive a dump."""
    text = BASE.replace(
        "{name: stsw1, role: stsw, asn: 65301, region: r1, fabric: nsf1}",
        "{name: stsw1, role: stsw, asn: 65301, region: r1, fabric: nsf1, "
        "link_bandwidth: received, missing_bandwidth: skip-missing}",
    )
    topo = parse_topology(text, "modes.yaml")
    node = topo.node("stsw1")
    assert (node.link_bandwidth, node.missing_bandwidth) == ("received", "skip-missing")
    assert parse_topology(dump_topology(topo), "dumped.yaml").nodes == topo.nodes
    configs = speaker_configs(topo)
    stsw, bag = configs["stsw1"], configs["bag1"]
    assert stsw.missing_bandwidth is MissingBandwidthMode.SKIP_MISSING
    assert {nb.export.link_bandwidth for nb in stsw.neighbors} == {ReadvertiseMode.RECEIVED}
    assert bag.missing_bandwidth is MissingBandwidthMode.DEFAULT
    assert {nb.export.link_bandwidth for nb in bag.neighbors} == {ReadvertiseMode.CUMULATIVE}
    bad = text.replace("link_bandwidth: received", "link_bandwidth: fixed")
    assert "bad.yaml:8: nodes[4].link_bandwidth: expected one of none, link-capacity" in _error(bad)


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_topology(text, "bad.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("[rtsw1, ftsw1, 1, 400G]", "[rtsw1, ftsw9, 1, 400G]"),
            "bad.yaml:15: bundles[0].b: unknown node 'ftsw9'",
        ),
        (
            ("{name: ftsw2, role: ftsw", "{name: ftsw1, role: ftsw"),
            "bad.yaml:7: nodes[3].name: duplicate node name 'ftsw1'",
        ),
        (("role: stsw", "role: spine"), "bad.yaml:8: nodes[4].role: unknown role 'spine'"),
        (
            ("[stsw1, bag1, 1, 800G]", "[stsw1, bag1, 1, 0G]"),
            "bad.yaml:21: bundles[6].speed: zero capacity",
        ),
        (
            ("[stsw1, bag1, 1, 800G]", "[stsw1, stsw1, 1, 800G]"),
            "bad.yaml:21: bundles[6]: bundle from 'stsw1' to itself",
        ),
        (
            ("[edsw1, bag1, 1, 400G]", "[bag1, edsw1, 1, 400G]\n  - [edsw1, bag1, 1, 400G]"),
            "bad.yaml:26: bundles[11]: a second bundle between edsw1 and bag1",
        ),
        (("asn: 65301", "asn: 65202"), "bad.yaml:20: bundles[5]: ftsw2 and stsw1 share AS 65202"),
        (("asn: 65402", "asn: 65101"), "never receives the routes of"),
        (
            ("[rdsw1, edsw1, 3, 400G, dsf_mesh]", "[rdsw1, bag1, 3, 400G, dsf_mesh]"),
            "bundles[9].kind: dsf_mesh joins an RDSW and an EDSW",
        ),
        (
            ("prefixes: [10.1.1.0/24]", "prefixes: [10.1.1.1/24]"),
            "bad.yaml:4: nodes[0].prefixes[0]: expected a prefix",
        ),
        (("asn: 65101", "asn: -1"), "bad.yaml:4: nodes[0].asn: expected an integer"),
        (
            ("[rtsw1, ftsw1, 1, 400G]", "[rtsw1, ftsw1, 400G]"),
            "bad.yaml:15: bundles[0]: expected [a, b, members, speed]",
        ),
        (
            ("fabric: nsf1, plane: 1}", "plane: 1}"),
            "bad.yaml:6: nodes[2].fabric: a ftsw must name the L2 fabric",
        ),
        # Names become MQTT topic levels, container names and files: no wildcard, no "/".
        (
            ("{name: ftsw2, role: ftsw", '{name: "r1/nsf1#ftsw+2", role: ftsw'),
            "bad.yaml:7: nodes[3].name: 'r1/nsf1#ftsw+2' cannot name a node or region",
        ),
        (("name: small", 'name: "my region"'), "bad.yaml:2: name: 'my region' cannot name"),
    ],
    ids=[
        "unknown-node",
        "duplicate-name",
        "unknown-role",
        "zero-capacity",
        "bundle-to-itself",
        "parallel-bundle",
        "same-as-session",
        "loop-prevention",
        "dsf-mesh-ends",
        "host-bits",
        "bad-asn",
        "short-bundle",
        "missing-fabric",
        "wildcard-in-node-name",
        "space-in-region-name",
    ],
)
def test_bad_files_name_file_line_and_field(edit: tuple[str, str], expected: str) -> None:
    old, new = edit
    assert old in BASE
    message = _error(BASE.replace(old, new, 1))
    assert expected in message, message


def test_ftsws_may_share_an_as_per_tier() -> None:
    # RFC 7938 reuses an ASN per tier: both FTSWs in AS 65201 is a valid layout.
    parse_topology(BASE.replace("asn: 65202", "asn: 65201"), "ok.yaml")


PLANES = """
name: planes
nodes:
  - {name: ra, role: rtsw, asn: 65101, region: r1, fabric: f, prefixes: [10.0.1.0/24]}
  - {name: rb, role: rtsw, asn: 65302, region: r1, fabric: f}
  - {name: fa1, role: ftsw, asn: 65201, region: r1, fabric: f, plane: 1}
  - {name: fa2, role: ftsw, asn: 65202, region: r1, fabric: f, plane: 2}
  - {name: fb1, role: ftsw, asn: 65203, region: r1, fabric: f, plane: 1}
  - {name: fb2, role: ftsw, asn: 65204, region: r1, fabric: f, plane: 2}
  - {name: s1, role: stsw, asn: 65301, region: r1, fabric: f, plane: 1}
  - {name: s2, role: stsw, asn: 65302, region: r1, fabric: f, plane: 2}
bundles:
  - [ra, fa1, 1, 400G]
  - [ra, fa2, 1, 400G]
  - [rb, fb1, 1, 400G]
  - [rb, fb2, 1, 400G]
  - [fa1, s1, 1, 400G]
  - [fb1, s1, 1, 400G]
  - [fa2, s2, 1, 400G]
  - [fb2, s2, 1, 400G]
"""


def test_an_as_reused_across_tiers_costs_multipath_members() -> None:
    # rb shares AS 65302 with the plane-2 spine s2 (not a neighbor of rb): the plane-2 path
    # ra fa2 s2 fb2 -> rb holds rb's own AS, so rb keeps only the plane-1 path.
    message = _error(PLANES)
    assert "bad.yaml:5: nodes[1]: rb hears ra's routes from 1 of 2 next hops" in message
    assert "multipath-relax loses those members" in message


def test_extended_message_is_a_region_default() -> None:
    text = BASE.replace("name: small\n", "name: small\ndefaults: {extended_message: true}\n", 1)
    topo = parse_topology(text, "ext.yaml")
    assert topo.defaults.extended_message
    assert all(c.extended_message for c in speaker_configs(topo).values())
    assert parse_topology(dump_topology(topo), "dumped.yaml").defaults == topo.defaults
    assert not any(c.extended_message for c in speaker_configs(load_topology(SMALL)).values())


def test_aggregates_complete_only_is_a_region_default() -> None:
    """The generator's aggregate_when (complete by default where it summarizes) reaches
    every aggregate of every speaker, and survives a dump."""
    from bagctl.topology.generate import generate

    pod = generate("mini", summarize="pod")
    assert pod.defaults.aggregate_complete_only
    aggs = [a for c in speaker_configs(pod).values() for a in c.aggregates]
    assert aggs and all(a.complete_only and a.summary_only for a in aggs)
    assert parse_topology(dump_topology(pod), "dumped.yaml").defaults == pod.defaults
    plain = generate("mini", summarize="pod", aggregate_when="any")
    assert not any(a.complete_only for c in speaker_configs(plain).values() for a in c.aggregates)
    assert not generate("mini").defaults.aggregate_complete_only  # nothing to summarize


def test_session_protections_from_the_topology() -> None:
    """Maximum-prefix, GTSM and TCP-MD5 as region defaults, a bundle's own TCP-MD5 key
    over the default; each reaches both ends' neighbor configurations and survives a dump."""
    text = BASE.replace(
        "name: small\n",
        "name: small\ndefaults: {max_prefixes: 1000, max_prefixes_restart_s: 30, "
        "ttl_security: true, md5_password: region-key}\n",
        1,
    ).replace("[stsw1, bag1, 1, 800G]", "{a: stsw1, b: bag1, members: 1, speed: 800G, "
              "md5_password: bundle-key}")  # fmt: skip
    topo = parse_topology(text, "protect.yaml")
    again = parse_topology(dump_topology(topo), "dumped.yaml")
    assert again.defaults == topo.defaults and again.bundles == topo.bundles
    configs = speaker_configs(topo)
    for nb in configs["stsw1"].neighbors + configs["bag1"].neighbors:
        assert (nb.max_prefixes, nb.max_prefixes_restart_s, nb.ttl_security) == (1000, 30, True)
        expected = "bundle-key" if {nb.name} & {"stsw1", "bag1"} else "region-key"
        assert nb.md5_password == expected, nb.name
    long_key = text.replace("md5_password: bundle-key", "md5_password: " + "k" * 81)
    # (line 22: the defaults line added above the bundle's)
    assert "bad.yaml:22: bundles[6].md5_password: a TCP-MD5 key is 1 to 80" in _error(long_key)


def test_two_leaves_in_one_as_are_refused_wherever_they_sit() -> None:
    """Issue 18: rtsw1-3 and rtsw1-4 in one AS passed the checks (only the first leaf of
    each group was searched from); now every originator sharing an AS is, and the error
    names the leaf that never hears the other."""
    mini = (Path(__file__).resolve().parents[3] / "topologies" / "mini.yaml").read_text()
    text = mini.replace("asn: 4211010004,", "asn: 4211010003,", 1)
    message = _error(text)
    assert message.startswith("bad.yaml:8: nodes[3]: r1-nsf1-rtsw1-4 (AS 4211010003) never ")
    assert "receives the routes of r1-nsf1-rtsw1-3" in message
