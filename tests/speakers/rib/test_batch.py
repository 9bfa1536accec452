"""Batch processing of an UPDATE's prefixes (``LocRib.set_paths``, ``Routes.receive``).

The Loc-RIB applies all the prefixes of an UPDATE at once: prefixes that held the same
``Selection`` get the same next one, worked out once. The test that matters is the
hypothesis one: over random fabrics (neighbors, ASes, preferences, MEDs, bandwidths,
multipath settings, an import prefix list) and random events, a speaker fed whole
UPDATEs ends with the same Loc-RIB and FIB as one fed the same events a prefix per
UPDATE in a shuffled order; both agree with the decision process run from scratch on
every prefix; and one export of every prefix (classes shared) records the same
Adj-RIB-Out as an export per prefix. A third speaker, fed the same whole UPDATEs while a
random backlog holds its changes for the agent's turn (``Routes.release``), leaves its
FIB alone while they are held and ends with the same Loc-RIB and FIB, its observers
told of no more changes than the first's.
"""

from __future__ import annotations

import gc
import ipaddress
import random
import sys
import weakref
from dataclasses import dataclass
from pathlib import Path as FilePath

from hypothesis import given, settings
from hypothesis import strategies as st

from speakers.config import ImportPolicy, NeighborConfig, PrefixList, PrefixListEntry, SpeakerConfig
from speakers.export import Exporter, ExportQueue, FlushCache
from speakers.neighbor import Neighbor
from speakers.policy import ExportSettings
from speakers.rib import (
    LocRib,
    MultipathConfig,
    PeerInfo,
    RouteChange,
    decide,
    select_multipath,
)
from speakers.rib.interning import Interner
from speakers.rib.selection import Selection
from speakers.routes import Routes
from speakers.wire import (
    AsPath,
    LinkBandwidth,
    Origin,
    PathAttributes,
    Prefix,
    Update,
    decode_message,
    encode_message,
)
from speakers.wire.update import MpReachNlri

sys.path.insert(0, str(FilePath(__file__).parent.parent))
from sansio_helpers import establish

V4, V6 = ipaddress.IPv4Address, ipaddress.IPv6Address
US = 65000
PREFIXES = [Prefix.parse(f"10.{k}.0.0/24") for k in range(6)] + [
    Prefix.parse(f"2001:db8:{k}::/64") for k in range(4)
]
# Import prefix list of the neighbors that have one: every prefix but two.
FILTERED = PrefixList(
    tuple(PrefixListEntry(p, permit=p not in (PREFIXES[1], PREFIXES[7])) for p in PREFIXES)
)


@dataclass(frozen=True)
class Fabric:
    """A speaker's neighbors: (AS, eBGP, import-filtered) each; its multipath settings."""

    neighbors: tuple[tuple[int, bool, bool], ...]
    multipath: MultipathConfig


FABRICS = st.builds(
    Fabric,
    st.lists(
        st.tuples(st.sampled_from([65101, 65102, 65103, US]), st.booleans()), min_size=2, max_size=6
    ).map(lambda ns: tuple((asn, asn != US, filtered) for asn, filtered in ns)),
    st.builds(
        MultipathConfig,
        max_paths_ebgp=st.integers(1, 4),
        max_paths_ibgp=st.integers(1, 3),
        as_path_relax=st.booleans(),
    ),
)

ROUTE = st.tuples(
    st.integers(1, 3),  # AS_PATH length
    st.sampled_from([None, 200]),  # LOCAL_PREF
    st.sampled_from([None, None, 0, 10]),  # MED (mostly none, as in the fabric)
    st.sampled_from([None, 1e9, 400e9, 800e9]),  # link bandwidth
)
EVENT = st.tuples(
    st.integers(0, 5),  # from (modulo the fabric's neighbors)
    st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=8, unique=True),
    st.one_of(st.none(), ROUTE),  # None: withdraw
)


def speaker(
    fabric: Fabric, interner: Interner | None = None
) -> tuple[Routes, Exporter, list[Neighbor]]:
    configs = tuple(
        NeighborConfig(
            name=f"n{i}",
            address=V4(f"192.0.2.{i}"),
            remote_as=asn,
            local_address=V4("192.0.2.100"),
            link_capacity_bps=100e9 * i,
            import_policy=ImportPolicy(prefix_list=FILTERED if filtered else None),
        )
        for i, (asn, _, filtered) in enumerate(fabric.neighbors, 1)
    )
    config = SpeakerConfig(
        name="x", asn=US, router_id=V4("10.0.0.100"), listen_address=V4("192.0.2.100"),
        neighbors=configs, multipath=fabric.multipath,
    )  # fmt: skip
    rng = random.Random(1)
    neighbors = [Neighbor.configured(c, config, rng) for c in configs]
    for i, (nb, (asn, ebgp, _)) in enumerate(zip(neighbors, fabric.neighbors, strict=True), 1):
        nb.info = PeerInfo(nb.config.name, nb.config.address, asn, V4(f"10.0.0.{i}"), ebgp=ebgp)
    routes = Routes(
        config, {nb.config.name: nb for nb in neighbors}, ExportQueue(0.0, rng), lambda: None,
        interner=Interner() if interner is None else interner,
    )  # fmt: skip
    exporter = Exporter(routes.loc_rib, routes.aggregates, ExportSettings(US), routes.interner)
    return routes, exporter, neighbors


def update(nb: Neighbor, prefixes: list[Prefix], route: tuple | None) -> Update:
    """The UPDATE ``nb`` sends for one event: the IPv4 prefixes in its body, the IPv6
    ones in MP_REACH_NLRI beside them (withdrawn: IPv4 in the body; IPv6 as a session's
    withdrawal would, ``Routes.withdraw``, which the caller does)."""
    assert nb.info is not None
    v4 = tuple(p for p in prefixes if len(p.packed) == 4)
    v6 = tuple(p for p in prefixes if len(p.packed) == 16)
    if route is None:
        return Update(withdrawn=v4)
    length, lp, med, bw = route
    first = nb.info.asn if nb.info.ebgp else 64999
    attrs = PathAttributes(
        origin=Origin.IGP,
        as_path=AsPath.sequence(first, *[7] * (length - 1)),
        next_hop=nb.config.address,
        local_pref=lp if not nb.info.ebgp else None,
        med=med,
        ext_communities=() if bw is None else (LinkBandwidth.from_bps(bw, 65001),),
    )
    hop6 = V6(f"2001:db8::{nb.config.address.packed[-1]}")
    mp = MpReachNlri(2, 1, hop6, nlri=v6) if v6 else None
    return Update(attributes=attrs, nlri=v4, mp_reach=mp)


def feed(routes: Routes, nb: Neighbor, prefixes: list[Prefix], route: tuple | None) -> None:
    routes.receive(nb, update(nb, prefixes, route))
    if route is None:
        routes.withdraw(nb, [p for p in prefixes if len(p.packed) == 16])


def rib_state(routes: Routes) -> dict[Prefix, tuple[object, ...]]:
    return {
        d.prefix: (d.best, set(d.multipath), dict(d.paths))
        for d in routes.loc_rib
        if d.best is not None
    }


class Heard:
    """A route observer that counts the changes it hears and checks that each one
    moved, and from where the one before it for its prefix left it."""

    def __init__(self) -> None:
        self.count = 0
        self.last: dict[Prefix, tuple[object, tuple[object, ...]]] = {}

    def __call__(self, change: RouteChange) -> None:
        self.count += 1
        before = (change.old_best, change.old_multipath)
        assert before == self.last.get(change.prefix, (None, ())), change.prefix
        assert before != (change.new_best, change.new_multipath), change.prefix
        self.last[change.prefix] = (change.new_best, change.new_multipath)


@settings(max_examples=150, deadline=None)
@given(FABRICS, st.lists(EVENT, min_size=1, max_size=30), st.randoms(use_true_random=False))
def test_whole_updates_give_what_a_prefix_at_a_time_gives(fabric, events, rnd) -> None:
    batched, single, held = speaker(fabric), speaker(fabric), speaker(fabric)
    backlog = [False]
    held[0].backlog = lambda: backlog[0]
    heard = {"batched": Heard(), "held": Heard()}
    batched[0].route_events.append(heard["batched"])
    held[0].route_events.append(heard["held"])
    n = len(fabric.neighbors)
    received: list[set[Prefix]] = [set() for _ in range(n)]  # each Adj-RIB-In, kept apart
    for i, prefixes, route in events:
        _, _, filtered = fabric.neighbors[i % n]
        for prefix in prefixes:
            if route is None or (filtered and not FILTERED.permits(prefix)):
                received[i % n].discard(prefix)
            else:
                received[i % n].add(prefix)
        feed(batched[0], batched[2][i % n], prefixes, route)
        backlog[0] = rnd.random() < 0.7  # more of the burst waits: held for the turn
        fib_before = held[0].fib.entries()
        held[0].receive(held[2][i % n], update(held[2][i % n], prefixes, route))
        if backlog[0]:
            assert held[0].fib.entries() == fib_before
        if route is None:
            held[0].withdraw(held[2][i % n], [p for p in prefixes if len(p.packed) == 16])
        shuffled = list(prefixes)
        rnd.shuffle(shuffled)
        for prefix in shuffled:
            feed(single[0], single[2][i % n], [prefix], route)
    backlog[0] = False
    held[0].release()  # the turn
    (routes_a, exporter_a, nbs_a), (routes_b, exporter_b, nbs_b) = batched, single
    state = rib_state(routes_a)
    assert state == rib_state(routes_b) == rib_state(held[0])
    assert routes_a.fib.entries() == routes_b.fib.entries() == held[0].fib.entries()
    assert heard["held"].count <= heard["batched"].count
    # Each Adj-RIB-In, a view of the Loc-RIB, holds what its neighbor sent and import
    # policy let in, counted as it came.
    for nbs in (nbs_a, nbs_b, held[2]):
        for nb, expected in zip(nbs, received, strict=True):
            assert set(nb.adj_in.prefixes()) == expected, nb.name
            assert len(nb.adj_in) == len(expected), nb.name
            for prefix in expected:
                path = nb.adj_in.get(prefix)
                assert path is not None and path.source is nb.info, (nb.name, prefix)
    # Both agree with the decision process run from scratch on each prefix's paths.
    for prefix, (best, multipath, paths) in state.items():
        decision = decide(list(paths.values()))
        assert decision is not None and decision.best == best, prefix
        assert set(select_multipath(decision, fabric.multipath)) == multipath, prefix
    for nb_a, nb_b in zip(nbs_a, nbs_b, strict=True):
        for nb in (nb_a, nb_b):
            assert nb.info is not None
            establish(nb, nb.info.asn, nb.info.router_id, US)
        # One flush of every prefix, against a flush per prefix (no class to share).
        sent = exporter_a.updates_for(nb_a, sorted(PREFIXES), FlushCache())
        for prefix in sorted(PREFIXES):
            exporter_b.updates_for(nb_b, [prefix], FlushCache())
        assert dict(nb_a.adj_out.items()) == dict(nb_b.adj_out.items())
        announced = set()
        for message in sent:
            decoded = decode_message(message)
            assert isinstance(decoded, Update)
            announced.update(decoded.announced)
        assert announced == {p for p, _ in nb_a.adj_out.items()}


@settings(max_examples=100, deadline=None)
@given(FABRICS, st.lists(EVENT, min_size=1, max_size=30))
def test_updates_decoded_once_for_two_speakers_give_what_their_objects_give(fabric, events) -> None:
    """Two speakers of one process (one interner, as a shard's) are fed each UPDATE's
    bytes, each through a copy of its own, as two links bring them: the decoder hands
    both one shared ``Update`` (``wire.update_memo``) and the interner finds its
    attributes by identity. Both end with the Loc-RIB and FIB of a speaker fed the
    ``Update`` objects themselves."""
    direct = speaker(fabric)
    interner = Interner()
    shared = [speaker(fabric, interner), speaker(fabric, interner)]
    n = len(fabric.neighbors)
    for i, prefixes, route in events:
        feed(direct[0], direct[2][i % n], prefixes, route)
        wire = encode_message(update(direct[2][i % n], prefixes, route))
        decoded = [decode_message(bytes(bytearray(wire))) for _ in shared]
        assert decoded[0] is decoded[1]
        for (routes, _, nbs), message in zip(shared, decoded, strict=True):
            assert isinstance(message, Update)
            routes.receive(nbs[i % n], message)
            if route is None:
                routes.withdraw(nbs[i % n], [p for p in prefixes if len(p.packed) == 16])
    for routes, _, _ in shared:
        assert rib_state(routes) == rib_state(direct[0])
        assert routes.fib.entries() == direct[0].fib.entries()


def test_the_prefixes_of_an_update_share_one_selection_worked_out_once(monkeypatch) -> None:
    fabric = Fabric(((65101, True, False), (65102, True, False)), MultipathConfig())
    routes, _, (a, b) = speaker(fabric)
    calls = []
    real = Selection.with_path

    def counted(self, source, path, config):
        calls.append(source)
        return real(self, source, path, config)

    monkeypatch.setattr(Selection, "with_path", counted)
    v4 = [p for p in PREFIXES if len(p.packed) == 4]
    # Two UPDATEs from a, as a table too big for one message: one path object for both.
    feed(routes, a, v4[:3], (1, None, None, 100e9))
    feed(routes, a, v4[3:], (1, None, None, 100e9))
    feed(routes, b, v4, (1, None, None, 400e9))
    assert calls == ["n1", "n2"]  # once per source and class, not per prefix
    selections = {id(routes.loc_rib.selection(p)) for p in v4}
    assert len(selections) == 1
    group = routes.fib.lookup(v4[0])
    assert group is not None and all(routes.fib.lookup(p) is group for p in v4)
    assert [w for _, w in group.members] == [1, 4]  # UCMP from the two bandwidths


def test_a_selection_no_prefix_holds_is_not_kept_alive() -> None:
    rib = LocRib()
    source = PeerInfo("n1", V4("192.0.2.1"), 65101, V4("10.0.0.1"), ebgp=True)
    attrs = PathAttributes(origin=Origin.IGP, as_path=AsPath.sequence(65101))
    path = Interner().path(source, attrs, V4("192.0.2.1"))
    rib.set_paths(PREFIXES[:3], "n1", path)
    held = rib.selection(PREFIXES[0])
    assert held is not None and rib.selection(PREFIXES[2]) is held
    gone = weakref.ref(held)
    del held
    rib.set_paths(PREFIXES[:3], "n1", None)
    gc.collect()
    assert len(rib) == 0 and gone() is None  # the memo of outcomes held it weakly
