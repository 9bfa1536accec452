"""The flow-level check on hand-built FIBs: the hashed split follows the weights, wrong
claims and polarization are flagged, black holes and loops are named, pcaps round-trip."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.utils import rdpcap

from bagctl.topology import load_topology
from bagctl.verify.fibview import FibSnapshot, address_in
from bagctl.verify.flows import (
    TCP_PROTO,
    UDP_PROTO,
    Demand,
    Flow,
    FlowResult,
    check_flows,
    check_groups,
    five_tuple,
    flow_hash,
    make_flows,
    member_table,
    owners_of,
    random_address,
    select_member,
    switch_seed,
    trace_flow,
    walk_flows,
    write_pcap,
)
from speakers.wire import Prefix

P = Prefix.parse
SRC4, SRC6 = P("10.0.0.0/24"), P("2001:db8::/64")
DST4, DST6 = P("10.1.0.0/24"), P("2001:db8:1::/64")
AGG4, AGG6 = "10.1.0.0/16", "2001:db8:1::/48"  # what the FIBs hold: LPM must cover DST*
OWNERS = {"a": (SRC4, SRC6), "d": (DST4, DST6)}
DEMANDS = [Demand("a", DST4), Demand("a", DST6)]


def _fib(table: dict[str, dict[str, int]], *nodes: str) -> dict[str, dict[str, dict[str, int]]]:
    return {n: {AGG4: dict(table), AGG6: dict(table)} for n in nodes}


DIAMOND = FibSnapshot.from_names(_fib({"b": 3, "c": 1}, "a") | _fib({"d": 1}, "b", "c"))


@pytest.fixture(scope="module")
def flows() -> list[Flow]:
    """20,000 flows a -> d, half IPv4, half IPv6 (built once: scapy is slow)."""
    return make_flows(20_000, DEMANDS, seed=1, owners=OWNERS)


@pytest.fixture(scope="module")
def few() -> list[Flow]:
    return make_flows(200, DEMANDS, seed=2, owners=OWNERS)


def _split(result: FlowResult, node: str, prefix: str) -> Counter[str]:
    return Counter(result.groups[(node, P(prefix))].counts)


# --- flows ------------------------------------------------------------------------------


def test_flows_cover_both_families_and_protocols(flows: list[Flow]) -> None:
    kinds = Counter((len(f.dst), f.five_tuple.proto) for f in flows[:2000])
    assert set(kinds) == {(4, TCP_PROTO), (4, UDP_PROTO), (16, TCP_PROTO), (16, UDP_PROTO)}
    assert all(n > 300 for n in kinds.values())


def test_flow_addresses_inside_their_prefixes(flows: list[Flow]) -> None:
    for f in flows[:2000]:
        t = f.five_tuple
        src = Prefix.parse(f"{t.src}/{32 if len(f.dst) == 4 else 128}").packed
        assert address_in(f.dst_prefix, f.dst)
        assert any(address_in(p, src) for p in OWNERS["a"])
        assert f.key == t.key() and len(f.key) == (13 if len(f.dst) == 4 else 37)


def test_demand_weights_sample_proportionally() -> None:
    flows = make_flows(2000, [("a", DST4, 9), ("a", DST6, 1)], seed=3, owners=OWNERS)
    v4 = sum(len(f.dst) == 4 for f in flows)
    assert 1700 < v4 < 1900  # 9:1 -> 1800 expected, sd ~13


def test_source_without_a_prefix_of_the_family_is_an_error() -> None:
    with pytest.raises(ValueError, match="no IPv6 prefix"):
        make_flows(1, [("a", DST6)], seed=0, owners={"a": (SRC4,)})


def test_same_seed_same_flows_and_result(tmp_path: Path) -> None:
    one = make_flows(300, DEMANDS, seed=7, owners=OWNERS)
    two = make_flows(300, DEMANDS, seed=7, owners=OWNERS)
    other = make_flows(300, DEMANDS, seed=8, owners=OWNERS)
    assert one == two and one != other
    assert [f.five_tuple for f in one] == [f.five_tuple for f in two]
    assert walk_flows(DIAMOND, OWNERS, one).as_dict() == walk_flows(DIAMOND, OWNERS, two).as_dict()
    write_pcap(tmp_path / "1.pcap", one)
    write_pcap(tmp_path / "2.pcap", two)
    assert (tmp_path / "1.pcap").read_bytes() == (tmp_path / "2.pcap").read_bytes()


def test_pcap_round_trip(tmp_path: Path, few: list[Flow]) -> None:
    path = tmp_path / "flows.pcap"
    assert write_pcap(path, few) == len(few)
    packets = rdpcap(str(path))
    assert len(packets) == len(few)
    assert [five_tuple(p) for p in packets] == [f.five_tuple for f in few]


def test_owners_from_a_topology() -> None:
    topo = load_topology(Path(__file__).parents[1] / "topology" / "small.yaml")
    owners = owners_of(topo)
    assert set(owners) == {n.name for n in topo.nodes}
    assert any(owners.values())


# --- the hash ---------------------------------------------------------------------------


def test_hash_is_the_documented_one(few: list[Flow]) -> None:
    """Reproducible by hand: fmix32(zlib.crc32(key, crc32(name)))."""
    f = few[0]
    t = f.five_tuple
    key = (
        Prefix.parse(f"{t.src}/{len(f.dst) * 8}").packed
        + f.dst
        + bytes([t.proto])
        + t.sport.to_bytes(2, "big")
        + t.dport.to_bytes(2, "big")
    )
    x = zlib.crc32(key, zlib.crc32(b"a"))
    x ^= x >> 16
    x = x * 0x85EBCA6B % 2**32
    x ^= x >> 13
    x = x * 0xC2B2AE35 % 2**32
    x ^= x >> 16
    assert flow_hash(f.key, switch_seed("a")) == x == flow_hash(f.packet, switch_seed("a"))


@pytest.mark.parametrize("size", [2, 3, 4, 7, 8, 128])
def test_hash_is_uniform_over_random_flows(flows: list[Flow], size: int) -> None:
    from scipy.stats import chisquare

    for hash_fn in (flow_hash, zlib.crc32):  # ours, and the plain CRC-32 it starts from
        buckets = Counter(hash_fn(f.key, switch_seed("x")) % size for f in flows)
        assert chisquare([buckets[i] for i in range(size)]).pvalue > 0.001


@given(
    st.dictionaries(st.sampled_from("bcdefgh"), st.integers(-2, 50), min_size=1),
    st.integers(0, 2**32 - 1),
)
def test_member_selection_always_picks_a_weighted_member(weights: dict[str, int], h: int) -> None:
    table = member_table(weights)
    assert Counter(table) == {m: w for m, w in weights.items() if w > 0}
    assert list(table) == sorted(table)
    if table:
        assert weights[select_member(table, h)] > 0
    else:
        with pytest.raises(ValueError):
            select_member(table, h)


@settings(max_examples=50)
@given(st.integers(0, 32), st.integers(0, 2**32 - 1), st.integers())
def test_random_address_inside_prefix(length: int, bits: int, seed: int) -> None:
    import ipaddress
    import random

    prefix = Prefix.from_network(ipaddress.ip_network((bits, length), strict=False))
    assert address_in(prefix, random_address(prefix, random.Random(seed)))


# --- the split and the chi-square -------------------------------------------------------


def test_diamond_splits_three_to_one_and_passes(flows: list[Flow]) -> None:
    result = walk_flows(DIAMOND, OWNERS, flows)
    assert (result.flows, result.delivered) == (20_000, 20_000)
    assert result.delivered_at == {"d": 20_000}
    assert not result.black_holes and not result.loops
    ab, ac = result.links[("a", "b")], result.links[("a", "c")]
    assert ab + ac == 20_000
    assert ab / 20_000 == pytest.approx(0.75, abs=0.015)  # sd of the share: 0.003
    assert result.links[("b", "d")] == ab and result.links[("c", "d")] == ac
    report = check_groups(result)
    # a's two groups (one per family) are tested; b and c have one member: skipped.
    assert len(report.tests) == 2 and report.skipped == 4
    assert not report.outliers
    assert all(t.p_value > 0.001 for t in report.tests)
    d = report.as_dict()
    assert d["groups_tested"] == 2 and d["outliers"] == []
    assert {"from": "a", "to": "b", "flows": ab} in d["links"]


def test_claimed_weights_the_hash_does_not_follow_are_outliers(flows: list[Flow]) -> None:
    """The switch hashes 3:1, the claim says 1:1 (for IPv4 only): that group is named."""
    result = walk_flows(DIAMOND, OWNERS, flows)
    claimed = FibSnapshot.from_names(
        {"a": {AGG4: {"b": 1, "c": 1}, AGG6: {"b": 3, "c": 1}}, "b": {}, "c": {}}
    )
    report = check_groups(result, claimed=claimed)
    assert [(o.node, str(o.prefix)) for o in report.outliers] == [("a", AGG4)]
    o = report.outliers[0]
    assert o.p_value < 1e-100
    assert o.expected == {"b": 0.5, "c": 0.5}
    assert o.observed["b"] == pytest.approx(0.75, abs=0.015)
    assert o.worst in {"b", "c"}  # two members: both deviate by the same share
    out = report.as_dict()["outliers"][0]
    assert (out["node"], out["prefix"], out["expected"]) == ("a", AGG4, {"b": 0.5, "c": 0.5})


def test_flows_on_a_member_of_no_weight_are_outliers(few: list[Flow]) -> None:
    result = walk_flows(DIAMOND, OWNERS, few)
    claimed = FibSnapshot.from_names({"a": {AGG4: {"b": 1, "c": 0}}})
    report = check_groups(result, claimed=claimed)
    assert [(o.node, o.worst, o.p_value) for o in report.outliers] == [("a", "c", 0.0)]
    assert json.loads(json.dumps(report.as_dict(), allow_nan=False))["outliers"][0]["worst"] == "c"


def test_too_few_flows_are_not_tested(few: list[Flow]) -> None:
    """Cochran's rule: a 1:50 group over ~100 flows expects < 5 on the light member."""
    fib = FibSnapshot.from_names(_fib({"b": 50, "c": 1}, "a") | _fib({"d": 1}, "b", "c"))
    result = walk_flows(fib, OWNERS, few)
    assert result.links[("a", "c")] > 0  # c got flows, but fewer than 5 per group expected
    report = check_groups(result)
    assert report.tests == () and report.skipped == len(result.groups) == 6


def test_bonferroni_divides_alpha(flows: list[Flow]) -> None:
    report = check_groups(walk_flows(DIAMOND, OWNERS, flows), alpha=0.01, bonferroni=True)
    assert report.threshold == pytest.approx(0.005)
    assert report.expected_false_outliers == pytest.approx(0.01)


def test_check_flows_in_one_call() -> None:
    report = check_flows(DIAMOND, OWNERS, DEMANDS, n=500, seed=4)
    assert report.result.delivered == 500 and not report.outliers


# --- polarization -----------------------------------------------------------------------

# a hashes 3:1 onto b and c; b (and c) hash 3:1 again onto d and e; both reach f.
TWO_STAGE = FibSnapshot.from_names(
    _fib({"b": 3, "c": 1}, "a") | _fib({"d": 3, "e": 1}, "b", "c") | _fib({"f": 1}, "d", "e")
)
TWO_STAGE_OWNERS = {"a": (SRC4, SRC6), "f": (DST4, DST6)}


def _second_stage(flows: list[Flow], **kw: Any) -> tuple[Counter[str], set[tuple[str, str]]]:
    result = walk_flows(TWO_STAGE, TWO_STAGE_OWNERS, flows, **kw)
    report = check_groups(result)
    bad = {(o.node, str(o.prefix)) for o in report.outliers}
    return _split(result, "b", AGG4), bad


def test_per_switch_seed_decorrelates_consecutive_hops(flows: list[Flow]) -> None:
    split, bad = _second_stage(flows)
    assert split["e"] / split.total() == pytest.approx(0.25, abs=0.02)
    assert not bad


def test_equal_seeds_polarize(flows: list[Flow]) -> None:
    """Same hash at a and b: the flows a sent to b (h % 4 in 0..2) all take d at b."""
    split, bad = _second_stage(flows, seed_of=lambda node: 0)
    assert split["e"] == 0 and split["d"] > 7000
    assert ("b", AGG4) in bad and ("b", AGG6) in bad


def test_crc_seed_alone_does_not_decorrelate(flows: list[Flow]) -> None:
    """Without the finalizer the seed only XORs a constant onto a same-length key's CRC
    (CRC is affine): b's choice is a fixed function of a's low bits; e gets 0 or 1/3."""
    v4 = [f for f in flows if len(f.dst) == 4]
    keys = {len(f.key) for f in v4}
    assert keys == {13}
    xor = {zlib.crc32(f.key, switch_seed("a")) ^ zlib.crc32(f.key, switch_seed("b")) for f in v4}
    assert len(xor) == 1
    split, bad = _second_stage(v4, hash_fn=zlib.crc32)
    assert split["e"] / split.total() in (0.0, pytest.approx(1 / 3, abs=0.02))
    assert ("b", AGG4) in bad


# --- black holes and loops --------------------------------------------------------------


def test_black_holes_are_named(few: list[Flow]) -> None:
    fib = FibSnapshot.from_names(
        {
            "a": {AGG4: {"b": 1}, AGG6: {"c": 1}},
            "b": {"10.2.0.0/16": {"d": 1}},  # no route covering 10.1.0.0/24
            "c": {AGG6: {"d": 0}},  # a group whose only member has no weight
        }
    )
    result = walk_flows(fib, OWNERS, few)
    holes = {(h.node, str(h.prefix), h.reason): h.flows for h in result.black_holes}
    n4 = sum(len(f.dst) == 4 for f in few)
    assert holes == {("b", str(DST4), "no-route"): n4, ("c", AGG6, "empty-group"): len(few) - n4}
    assert result.delivered == 0
    t = trace_flow(fib, OWNERS, next(f for f in few if len(f.dst) == 4))
    assert (t.outcome, t.path, t.reason) == ("black-hole", ("a", "b"), "no-route")


def test_loops_are_named(few: list[Flow]) -> None:
    fib = FibSnapshot.from_names(
        _fib({"b": 1}, "a") | _fib({"c": 1}, "b") | _fib({"b": 1, "d": 1}, "c")
    )
    result = walk_flows(fib, OWNERS, few)
    looped = {(lp.cycle, str(lp.prefix)): lp.flows for lp in result.loops}
    assert set(looped) <= {(("b", "c"), str(DST4)), (("b", "c"), str(DST6))}
    assert result.delivered + sum(looped.values()) == len(few)
    assert 0 < result.delivered < len(few)  # c hashes about half onward to d
    assert result.as_dict()["loops"][0]["cycle"] == ["b", "c"]
    assert result.links[("c", "b")] == sum(looped.values())


def test_source_owning_the_destination_delivers_at_once(few: list[Flow]) -> None:
    result = walk_flows(FibSnapshot({}), {"a": (SRC4, SRC6, DST4, DST6)}, few)
    assert result.delivered_at == {"a": len(few)} and not result.links
