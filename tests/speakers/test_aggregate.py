"""The pure part of prefix summarization (speakers/aggregate.py): covering lookups,
contributors, the aggregate's link bandwidth, suppression."""

from __future__ import annotations

import ipaddress
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from speakers.aggregate import (
    Aggregate,
    AggregateTable,
    aggregate_problems,
    contains,
    covers,
)
from speakers.rib import Path, PeerInfo, local_source
from speakers.wire import AsPath, LinkBandwidth, PathAttributes, Prefix

G = 1e9 / 8  # 1 Gb/s in bytes per second
P = Prefix.parse


def peer(name: str, n: int) -> PeerInfo:
    return PeerInfo(
        name,
        ipaddress.ip_address(f"10.9.0.{n}"),
        65000 + n,
        ipaddress.IPv4Address(f"1.1.1.{n}"),
        True,
    )


A, B, C = peer("a", 1), peer("b", 2), peer("c", 3)
LOCAL = local_source(65000, ipaddress.IPv4Address("1.1.1.100"))


def path(source: PeerInfo, gbps: float | None) -> Path:
    ext = () if gbps is None else (LinkBandwidth.from_bytes_per_s(gbps * G),)
    hop = None if source.local else source.address
    return Path.build(source, PathAttributes(as_path=AsPath(), ext_communities=ext), hop)


def test_host_bits_and_suppression_targets() -> None:
    with pytest.raises(ValueError, match="host bits"):
        Aggregate(Prefix(bytes([10, 0, 1, 0]), 16))
    everyone = Aggregate(P("10.0.0.0/16"))
    assert everyone.suppresses_toward("x")
    some = Aggregate(P("10.0.0.0/16"), suppress_toward=frozenset({"up"}))
    assert some.suppresses_toward("up") and not some.suppresses_toward("down")
    assert not Aggregate(P("10.0.0.0/16"), summary_only=False).suppresses_toward("x")


def test_problems_duplicate_and_unknown_neighbor() -> None:
    aggs = [
        Aggregate(P("10.0.0.0/16"), suppress_toward=frozenset({"up", "ghost"})),
        Aggregate(P("10.0.0.0/16")),
    ]
    assert list(aggregate_problems(aggs, ["up"])) == [
        ("aggregates[0].suppress_toward", "no neighbor named 'ghost'"),
        ("aggregates[1].prefix", "duplicate aggregate 10.0.0.0/16 (also aggregates[0])"),
    ]
    with pytest.raises(ValueError, match="duplicate"):
        AggregateTable(aggs)


def test_contains_is_strict_and_per_family() -> None:
    assert contains(P("10.0.0.0/16"), P("10.0.255.0/24"))
    assert not contains(P("10.0.0.0/16"), P("10.0.0.0/16"))
    assert not contains(P("10.0.0.0/16"), P("10.1.0.0/24"))
    assert not contains(P("10.0.0.0/16"), P("10.0.0.0/8"))
    assert contains(P("0.0.0.0/0"), P("10.0.0.0/8"))
    assert not contains(P("0.0.0.0/0"), P("::/64"))
    assert contains(P("2001:db8::/48"), P("2001:db8:0:7::/64"))


def test_covering_finds_every_strictly_covering_aggregate_shortest_first() -> None:
    table = AggregateTable(
        Aggregate(P(p))
        for p in ("10.0.0.0/8", "10.0.0.0/16", "10.1.0.0/16", "10.0.0.0/24", "2001:db8::/32")
    )
    names = lambda prefix: [str(s.aggregate.prefix) for s in table.covering(P(prefix))]  # noqa: E731
    assert names("10.0.0.128/25") == ["10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24"]
    assert names("10.0.0.0/24") == ["10.0.0.0/8", "10.0.0.0/16"]  # not itself
    assert names("10.1.2.0/24") == ["10.0.0.0/8", "10.1.0.0/16"]
    assert names("11.0.0.0/24") == []
    assert names("10.0.0.0/8") == []
    assert names("2001:db8:1::/48") == ["2001:db8::/32"]
    assert names("2001:db9::/48") == []
    assert AggregateTable([]).covering(P("10.0.0.0/24")) == []
    assert not AggregateTable([])


def test_bandwidth_is_the_largest_per_source_capped_then_summed() -> None:
    table = AggregateTable([Aggregate(P("10.0.0.0/16"))])
    (state,) = table.states.values()
    caps = {"a": 300 * G, "b": None, "c": 50 * G}
    capacity = caps.get
    assert not state.active and state.bandwidth(capacity) is None
    # two prefixes through a (400G, 200G), one through a and b (multipath), one local
    p1, p2, p3 = path(A, 400), path(A, 200), path(B, 100)
    assert table.route_changed(P("10.0.1.0/24"), p1, (p1,)) == [state]
    table.route_changed(P("10.0.2.0/24"), p2, (p2, p3))
    assert state.active
    # a: max(400, 200) capped at 300; b: 100 (no cap)
    assert state.bandwidth(capacity) == pytest.approx(400 * G)
    own = path(LOCAL, 1000)
    table.route_changed(P("10.0.3.0/24"), own, (own,))
    assert state.bandwidth(capacity) == pytest.approx(1400 * G)  # local: its own value
    # c offers nothing usable, then a drained 0
    none, zero = path(C, None), path(C, 0)
    table.route_changed(P("10.0.4.0/24"), none, (none,))
    assert state.bandwidth(capacity) == pytest.approx(1400 * G)
    table.route_changed(P("10.0.4.0/24"), zero, (zero,))
    assert state.bandwidth(capacity) == pytest.approx(1400 * G)
    # the 400G prefix goes: a's largest is now 200
    assert table.route_changed(P("10.0.1.0/24"), None, ()) == [state]
    assert state.bandwidth(capacity) == pytest.approx(1300 * G)
    # an unchanged contribution is no change
    assert table.route_changed(P("10.0.2.0/24"), p2, (p2, p3)) == []
    assert table.route_changed(P("10.0.1.0/24"), None, ()) == []
    for prefix in ("10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24"):
        table.route_changed(P(prefix), None, ())
    assert not state.active and state.bandwidth(capacity) is None


def test_no_bandwidth_anywhere_gives_none_but_still_active() -> None:
    table = AggregateTable([Aggregate(P("10.0.0.0/16"))])
    (state,) = table.states.values()
    p = path(A, None)
    table.route_changed(P("10.0.1.0/24"), p, (p,))
    assert state.active and state.bandwidth(lambda s: None) is None


def test_our_own_nested_aggregate_does_not_contribute() -> None:
    table = AggregateTable([Aggregate(P("10.0.0.0/16")), Aggregate(P("10.0.0.0/20"))])
    outer, inner = table.get(P("10.0.0.0/16")), table.get(P("10.0.0.0/20"))
    assert outer is not None and inner is not None
    p = path(A, 400)
    assert table.route_changed(P("10.0.1.0/24"), p, (p,)) == [outer, inner]
    inner.path = path(LOCAL, 400)  # what the speaker installs for the inner aggregate
    assert table.route_changed(P("10.0.0.0/20"), inner.path, (inner.path,)) == []
    assert P("10.0.0.0/20") not in outer.contributors
    # somebody else's /20 (or ours after it left) is an ordinary contributor
    other = path(B, 100)
    assert table.route_changed(P("10.0.0.0/20"), other, (other,)) == [outer]


def test_suppressed_only_while_active_and_toward_the_listed() -> None:
    table = AggregateTable(
        [
            Aggregate(P("10.0.0.0/16"), suppress_toward=frozenset({"up"})),
            Aggregate(P("10.1.0.0/16"), summary_only=False),
        ]
    )
    assert not table.suppressed(P("10.0.1.0/24"), "up")  # inactive
    p = path(A, 1)
    table.route_changed(P("10.0.1.0/24"), p, (p,))
    table.route_changed(P("10.1.1.0/24"), p, (p,))
    assert table.suppressed(P("10.0.1.0/24"), "up")
    assert table.suppressed(P("10.0.9.0/24"), "up")  # anything inside, while active
    assert not table.suppressed(P("10.0.1.0/24"), "down")
    assert not table.suppressed(P("10.0.0.0/16"), "up")  # the aggregate itself
    assert not table.suppressed(P("10.1.1.0/24"), "up")  # not summary-only


def test_complete_only_is_active_while_covered_and_suppresses_always() -> None:
    """RFC 7938 §8.2: a /22 of four /24s is announced only while all four are here (a
    nested /23 counts for its two), and its /24s never go up, announced or not."""
    table = AggregateTable(
        [Aggregate(P("10.0.0.0/22"), suppress_toward=frozenset({"up"}), complete_only=True)]
    )
    (state,) = table.states.values()
    p = path(A, 1)
    assert table.suppressed(P("10.0.1.0/24"), "up")  # before anything arrives
    for i in range(3):
        table.route_changed(P(f"10.0.{i}.0/24"), p, (p,))
        assert not state.active  # three of four: a hole at 10.0.3.0/24
    assert table.route_changed(P("10.0.3.0/24"), p, (p,)) == [state]
    assert state.active
    table.route_changed(P("10.0.0.0/24"), None, ())  # a leaf uplink down
    assert not state.active and table.suppressed(P("10.0.1.0/24"), "up")
    assert not table.suppressed(P("10.0.1.0/24"), "down")
    table.route_changed(P("10.0.0.0/23"), p, (p,))  # a nested block fills the hole
    assert state.active


@given(
    st.lists(st.tuples(st.integers(0, 15), st.integers(25, 28)), max_size=24),
)
def test_covers_agrees_with_ipaddress(parts: list[tuple[int, int]]) -> None:
    """``covers`` against ipaddress's own collapse, on random pieces of a /24."""
    inside = [P(str(ipaddress.ip_network(f"10.0.0.{i * 16}/{n}", strict=False))) for i, n in parts]
    nets = list(ipaddress.collapse_addresses(q.network for q in inside))  # type: ignore[type-var]
    assert covers(P("10.0.0.0/24"), inside) == (nets == [ipaddress.ip_network("10.0.0.0/24")])
    whole = [P(f"10.0.0.{i * 16}/28") for i in range(16)]
    assert covers(P("10.0.0.0/24"), whole)
    assert not covers(P("10.0.0.0/24"), whole[1:])


_SOURCES = [A, B, C, LOCAL]


@given(
    st.lists(
        st.tuples(
            st.integers(0, 7),  # which /24
            st.lists(  # its multipaths: (source index, bandwidth in G or None), or withdrawn
                st.tuples(st.integers(0, 3), st.one_of(st.none(), st.sampled_from([0, 100, 400]))),
                max_size=3,
                unique_by=lambda t: t[0],
            ),
        ),
        max_size=40,
    )
)
def test_incremental_bandwidth_matches_a_recomputation(ops) -> None:
    table = AggregateTable([Aggregate(P("10.0.0.0/16"))])
    (state,) = table.states.values()
    caps = {"a": 150 * G, "b": None, "c": 1000 * G}
    capacity = caps.get
    current: dict[int, list[Path]] = {}
    for index, members in ops:
        paths = [path(_SOURCES[s], bw) for s, bw in members]
        if paths:
            current[index] = paths
        else:
            current.pop(index, None)
        table.route_changed(P(f"10.0.{index}.0/24"), paths[0] if paths else None, tuple(paths))
        largest: dict[str, float] = {}
        for ps in current.values():
            for p in ps:
                if p.link_bandwidth is not None:
                    name = p.source.name
                    largest[name] = max(largest.get(name, 0.0), p.link_bandwidth)
        shares = [
            v if caps.get(n) is None else min(v, caps[n])  # type: ignore[type-var]
            for n, v in sorted(largest.items())
        ]
        expected = math.fsum(shares) if largest else None
        assert state.active == bool(current)
        assert state.bandwidth(capacity) == expected
