"""Decision process (one test per tie-break), multipath and incremental per-prefix updates."""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from speakers.rib import (
    AdjRibOut,
    Advertised,
    LocRib,
    MultipathConfig,
    Path,
    PeerInfo,
    decide,
    local_source,
    select_multipath,
)
from speakers.wire import (
    AsPath,
    AsPathSegment,
    LinkBandwidth,
    Origin,
    PathAttributes,
    Prefix,
    SegmentType,
)

P = Prefix.parse("10.1.0.0/16")
V4 = ipaddress.IPv4Address


def peer(
    n: int, asn: int | None = None, ebgp: bool = True, router_id: str | None = None
) -> PeerInfo:
    return PeerInfo(
        name=f"p{n}",
        address=V4(f"192.0.2.{n}"),
        asn=asn if asn is not None else 65000 + n,
        router_id=V4(router_id or f"10.0.0.{n}"),
        ebgp=ebgp,
    )


def path(
    n: int, *, asns: tuple[int, ...] | None = None, ebgp: bool = True, **attrs: object
) -> Path:
    source = peer(n, asns[0] if asns else None, ebgp)
    as_path = AsPath.sequence(*(asns if asns is not None else (source.asn,)))
    base = dict(origin=Origin.IGP, as_path=as_path, next_hop=V4(f"192.0.2.{n}"))
    base.update(attrs)
    pa = PathAttributes(**base)  # type: ignore[arg-type]
    return Path.build(source, pa, pa.next_hop)


# --- one test per tie-break (RFC 4271 §9.1.2.2) ------------------------------------------


def test_local_pref_wins() -> None:
    a, b = (
        path(1, local_pref=100, asns=(65001, 1, 2)),
        path(2, local_pref=200, asns=(65002, 1, 2, 3)),
    )
    assert (decide([a, b]).best, decide([a, b]).reason) == (b, "local-pref")  # type: ignore[union-attr]


def test_locally_originated_wins() -> None:
    local = Path.build(
        local_source(65000, V4("10.0.0.100")),
        PathAttributes(origin=Origin.IGP, as_path=AsPath()),
        None,
    )
    d = decide([path(1, asns=()), local])
    assert d is not None and d.best is local and d.reason == "local-origin"


def test_shorter_as_path_wins_and_a_set_counts_one() -> None:
    long = path(1, asns=(65001, 2, 3))
    setp = path(2)
    setp = Path.build(
        setp.source,
        PathAttributes(
            origin=Origin.IGP,
            as_path=AsPath(
                (
                    AsPathSegment(SegmentType.AS_SEQUENCE, (65002,)),
                    AsPathSegment(SegmentType.AS_SET, (7, 8, 9)),
                )
            ),
            next_hop=setp.next_hop,
        ),
        setp.next_hop,
    )
    d = decide([long, setp])
    assert d is not None and d.best is setp and d.reason == "as-path-length"


def test_lower_origin_wins() -> None:
    a, b = path(1, origin=Origin.INCOMPLETE), path(2, origin=Origin.EGP)
    d = decide([a, b])
    assert d is not None and d.best is b and d.reason == "origin"


def test_med_only_compared_within_a_neighbor_as() -> None:
    # Same neighbor AS 65009: the lower MED wins; a path from another AS is not compared.
    a = path(1, asns=(65009, 1), med=50)
    b = path(2, asns=(65009, 1), med=10)
    c = path(3, asns=(65003, 1), med=500)
    d = decide([a, b, c])
    assert d is not None and a not in d.tied and {b, c} <= set(d.tied)


def test_missing_med_is_lowest() -> None:
    a, b = path(1, asns=(65009,), med=5), path(2, asns=(65009,))
    d = decide([a, b])
    assert d is not None and d.best is b and d.reason == "med"


def test_ebgp_over_ibgp() -> None:
    a = path(1, ebgp=False, asns=(65001,))
    b = path(2, asns=(65002,))
    d = decide([a, b])
    assert d is not None and d.best is b and d.reason == "ebgp-over-ibgp"


def test_lowest_router_id_then_lowest_peer_address() -> None:
    a, b = path(1), path(2)
    d = decide([b, a])
    assert d is not None and d.best is a and d.reason == "router-id"
    same_id = [Path.build(peer(n, router_id="10.9.9.9"), a.attributes, a.next_hop) for n in (7, 3)]
    d = decide(same_id)
    assert d is not None and d.best.source.name == "p3" and d.reason == "peer-address"


@given(st.permutations(range(6)))
def test_result_does_not_depend_on_arrival_order(order: list[int]) -> None:
    paths = [
        path(1, asns=(65009, 1), med=50),
        path(2, asns=(65009, 1), med=10),
        path(3, asns=(65003, 1), med=500),
        path(4, asns=(65004, 1, 2)),
        path(5, asns=(65005, 1), origin=Origin.EGP),
        path(6, asns=(65006, 1)),
    ]
    first = decide(paths)
    again = decide([paths[i] for i in order])
    assert first is not None and again is not None
    assert again.best == first.best and set(again.tied) == set(first.tied)


# --- multipath ---------------------------------------------------------------------------


def test_multipath_relax_takes_equal_length_paths_through_different_ases() -> None:
    paths = [path(n, asns=(65000 + n, 64512)) for n in (1, 2, 3)]
    d = decide(paths)
    assert d is not None
    assert len(select_multipath(d, MultipathConfig(as_path_relax=True))) == 3
    assert select_multipath(d, MultipathConfig(as_path_relax=False)) == (d.best,)


def test_multipath_without_relax_needs_the_same_as_path() -> None:
    paths = [path(n, asns=(65001, 64512)) for n in (1, 2)] + [path(3, asns=(65003, 64512))]
    d = decide(paths)
    assert d is not None
    chosen = select_multipath(d, MultipathConfig(as_path_relax=False))
    assert {p.source.name for p in chosen} == {"p1", "p2"}


def test_maximum_paths_keeps_the_best_and_the_lowest_ids() -> None:
    paths = [path(n, asns=(65000 + n,)) for n in range(1, 9)]
    d = decide(paths)
    assert d is not None
    chosen = select_multipath(d, MultipathConfig(max_paths_ebgp=3))
    assert [p.source.name for p in chosen] == ["p1", "p2", "p3"]


def test_longer_path_is_not_a_multipath() -> None:
    d = decide([path(1, asns=(65001,)), path(2, asns=(65002, 7))])
    assert d is not None and select_multipath(d, MultipathConfig()) == (d.best,)


# --- destination and Loc-RIB -------------------------------------------------------------


def test_incremental_changes_and_withdrawals() -> None:
    rib = LocRib()
    a, b = path(1, asns=(65001, 9)), path(2, asns=(65002, 9))
    change = rib.set_path(P, "p1", a)
    assert change is not None and change.old_best is None and change.new_best is a
    change = rib.set_path(P, "p2", b)
    assert change is not None and change.new_best is a and set(change.new_multipath) == {a, b}
    assert rib.set_path(P, "p2", b) is None  # the same path again: nothing changed
    change = rib.set_path(P, "p1", None)  # explicit withdraw
    assert change is not None and change.new_best is b and change.new_multipath == (b,)
    changes = rib.drop_source("p2", [P])
    assert changes[0].new_best is None and rib.get(P) is None and len(rib) == 0


def test_implicit_withdraw_replaces_the_path() -> None:
    rib = LocRib()
    rib.set_path(P, "p1", path(1, asns=(65001,)))
    worse = path(1, asns=(65001, 5, 6))
    rib.set_path(P, "p2", path(2, asns=(65002, 5)))
    change = rib.set_path(P, "p1", worse)
    assert (
        change is not None and change.new_best is not None and change.new_best.source.name == "p2"
    )


def test_link_bandwidth_is_read_once_into_the_path() -> None:
    lb = LinkBandwidth.from_bps(800e9)
    p = path(1, ext_communities=(lb,))
    assert p.link_bandwidth == pytest.approx(100e9, rel=1e-7)
    assert path(2).link_bandwidth is None


def test_adj_rib_out_reports_only_changes() -> None:
    out = AdjRibOut()
    adv = Advertised(PathAttributes(origin=Origin.IGP), V4("10.0.0.1"))
    assert out.set(P, adv) is True
    assert out.set(P, Advertised(PathAttributes(origin=Origin.IGP), V4("10.0.0.1"))) is False
    assert out.set(P, None) is True and out.set(P, None) is False


@pytest.mark.parametrize("n", [2, 3, 5])
def test_every_arrival_order_gives_the_same_table(n: int) -> None:
    paths = [path(i, asns=(65000 + i, 9)) for i in range(1, n + 1)]
    results = set()
    for order in itertools.permutations(paths):
        rib = LocRib()
        for p in order:
            rib.set_path(P, p.source.name, p)
        dest = rib.get(P)
        assert dest is not None
        results.add((dest.best, dest.multipath))
    assert len(results) == 1


@given(
    st.lists(
        st.tuples(
            st.integers(1, 40),  # peer
            st.sampled_from([None, 50, 200]),  # local pref
            st.integers(1, 3),  # AS path length
            st.sampled_from(list(Origin)),
            st.booleans(),  # eBGP
        ),
        min_size=2,
        max_size=12,
        unique_by=lambda t: t[0],
    )
)
def test_fast_decision_agrees_with_the_steps(specs) -> None:
    from speakers.rib.decision import _decide_by_rank, _decide_by_steps

    paths = [
        path(
            n,
            asns=tuple(range(65000 + n, 65000 + n + length)),
            ebgp=ebgp,
            origin=origin,
            local_pref=lp,
        )
        for n, lp, length, origin, ebgp in specs
    ]
    fast, slow = _decide_by_rank(list(paths)), _decide_by_steps(list(paths))
    assert fast.best is slow.best and fast.reason == slow.reason
    assert set(fast.tied) == set(slow.tied)


def test_rank_fields_are_the_decision_steps_but_med_in_order() -> None:
    from speakers.rib.decision import DECISION_STEPS, MULTIPATH_LAST_STEP
    from speakers.rib.rank import STEP_OF_FIELD, Preference, Tiebreak

    fields = Preference._fields + Tiebreak._fields
    assert [STEP_OF_FIELD[f] for f in fields] == [s.name for s in DECISION_STEPS if s.name != "med"]
    assert STEP_OF_FIELD[Preference._fields[-1]] == MULTIPATH_LAST_STEP


def test_rank_names_the_step_that_decided_and_refuses_a_tie() -> None:
    from speakers.rib.rank import deciding_step

    a = path(1, asns=(65001,))
    longer = path(2, asns=(65002, 65000))
    assert deciding_step(a.rank, longer.rank) == "as-path-length"
    assert deciding_step(a.rank, path(2, asns=(65002,)).rank) == "router-id"
    with pytest.raises(ValueError, match="indistinguishable"):
        deciding_step(a.rank, a.rank)


@settings(max_examples=400)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 6),  # source (the same source again replaces its path)
            st.sampled_from([False, False, True]),  # withdraw instead of announce
            st.sampled_from([None, 50, 200]),  # local pref
            st.integers(1, 3),  # AS path length
            st.sampled_from([None] * 8 + [0, 10]),  # MED, mostly none
            st.integers(0, 2),  # next hop shared by sources with the same value
            # a link bandwidth: a path replaced by one that differs only in it keeps its
            # place (``selection._same_place``), as through a failed bundle
            st.sampled_from([None, 100e9, 400e9]),
            st.booleans(),  # the AS_PATH's last AS moved: the same length, another path
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(1, 4),  # maximum-paths
    st.booleans(),  # as-path multipath-relax
)
def test_incremental_destination_agrees_with_a_full_decision(specs, max_paths, relax) -> None:
    """After every change, best, multipath and tied paths are what the full decision
    over the destination's paths gives (selection.py's fast paths against the reference)."""
    config = MultipathConfig(max_paths_ebgp=max_paths, as_path_relax=relax)
    rib = LocRib(config)
    for n, withdraw, lp, length, med, hop, bandwidth, moved in specs:
        # sources 1 and 4 (2 and 5, ...) in one neighbor AS: their MEDs compare
        asns = (65000 + n % 3, *(65100 + 10 * k + moved for k in range(length - 1)))
        ext = () if bandwidth is None else (LinkBandwidth.from_bps(bandwidth, 65000 + n),)
        p = None
        if not withdraw:
            p = path(n, asns=asns, local_pref=lp, med=med, ext_communities=ext)
        if p is not None and hop:
            p = Path.build(p.source, p.attributes, V4(f"198.51.100.{hop}"))
        rib.set_path(P, f"p{n}", p)
        dest = rib.get(P)
        if dest is None:
            continue
        decision = decide(list(dest.paths.values()))
        assert decision is not None
        assert dest.best is decision.best
        assert dest.multipath == select_multipath(decision, config)
        assert set(map(id, dest.selection.tied)) == set(map(id, decision.tied))


# --- a path replaced by one in the same place (``selection._same_place``) -------------


def announce(rib: LocRib, n: int, **kw: object) -> None:
    hop = kw.pop("hop", None)
    p = path(n, **kw)  # type: ignore[arg-type]
    if hop is not None:
        p = Path.build(p.source, p.attributes, V4(f"198.51.100.{hop}"))
    rib.set_path(P, f"p{n}", p)


def chosen(rib: LocRib) -> tuple[str | None, list[str]]:
    dest = rib.get(P)
    assert dest is not None and dest.best is not None
    return dest.best.source.name, [p.source.name for p in dest.multipath]


def test_a_new_bandwidth_alone_keeps_the_place_and_a_new_next_hop_into_a_member_does_not() -> None:
    rib = LocRib(MultipathConfig())
    announce(rib, 1, asns=(65001,), hop=1)
    announce(rib, 2, asns=(65002,), hop=2)
    assert chosen(rib) == ("p1", ["p1", "p2"])
    announce(rib, 2, asns=(65002,), hop=2, ext_communities=(LinkBandwidth.from_bps(1e11, 1),))
    assert chosen(rib) == ("p1", ["p1", "p2"])
    assert rib.get(P).multipath[1].link_bandwidth == pytest.approx(1e11 / 8)  # type: ignore[union-attr]
    announce(rib, 2, asns=(65002,), hop=1)  # the same rank, p1's next hop: counted once
    assert chosen(rib) == ("p1", ["p1"])


def test_without_relax_a_member_whose_as_path_moved_leaves_the_set() -> None:
    rib = LocRib(MultipathConfig(as_path_relax=False))
    announce(rib, 1, asns=(65000, 65100))
    announce(rib, 2, asns=(65000, 65100))
    assert chosen(rib) == ("p1", ["p1", "p2"])
    announce(rib, 2, asns=(65000, 65101))  # the same length and rank, another AS_PATH
    assert chosen(rib) == ("p1", ["p1"])


def test_a_path_that_lost_on_its_med_is_decided_again_without_it() -> None:
    rib = LocRib(MultipathConfig(max_paths_ebgp=1))
    announce(rib, 1, asns=(65000,), med=10)
    announce(rib, 2, asns=(65000,))  # the same neighbor AS: no MED is lowest, it wins
    assert chosen(rib) == ("p2", ["p2"])
    announce(rib, 1, asns=(65000,))  # no MED either now: the lower router ID
    assert chosen(rib) == ("p1", ["p1"])
