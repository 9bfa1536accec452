"""``Interner`` (rib/interning.py): equal route records shared, and no outcome changed.

The last test is the one that matters: a Loc-RIB, FIB and Adj-RIB-Out built from shared
records equal the ones built from records of their own, over random event sequences.
"""

from __future__ import annotations

import gc
import ipaddress
import random
import sys
from collections.abc import Iterable
from pathlib import Path as FilePath

from hypothesis import given, settings
from hypothesis import strategies as st

from speakers.config import NeighborConfig, SpeakerConfig
from speakers.export import Exporter, ExportQueue, FlushCache
from speakers.neighbor import Neighbor
from speakers.policy import ExportSettings
from speakers.rib import Advertised, Path, PeerInfo
from speakers.rib import interning as interning_module
from speakers.rib.interning import Interner
from speakers.routes import Routes
from speakers.wire import AsPath, LinkBandwidth, Origin, PathAttributes, Prefix, Update
from speakers.wire.update import MpReachNlri

sys.path.insert(0, str(FilePath(__file__).parent.parent))
from sansio_helpers import establish

V4, V6 = ipaddress.IPv4Address, ipaddress.IPv6Address
US = 65000


def source(i: int, ebgp: bool = True) -> PeerInfo:
    return PeerInfo(f"n{i}", V4(f"192.0.2.{i}"), 65100 + i, V4(f"10.0.0.{i}"), ebgp=ebgp)


def attributes(
    *asns: int, hop: str = "192.0.2.9", lp: int | None = None, bw: float | None = 100e9
) -> PathAttributes:
    ext = () if bw is None else (LinkBandwidth.from_bps(bw, 65001),)
    return PathAttributes(
        origin=Origin.IGP,
        as_path=AsPath.sequence(*asns),
        next_hop=V4(hop),
        local_pref=lp,
        ext_communities=ext,
    )


# --- the records ------------------------------------------------------------------------


@given(
    st.integers(1, 9),
    st.booleans(),
    st.lists(st.integers(1, 70000), min_size=0, max_size=4),
    st.sampled_from([None, 50, 200]),
    st.sampled_from([None, 1e9, 400e9, 800e9]),
    st.sampled_from([None, V4("192.0.2.77"), V6("2001:db8::77")]),
)
def test_a_shared_path_equals_one_built_of_its_own_parts(
    i: int,
    ebgp: bool,
    asns: list[int],
    lp: int | None,
    bw: float | None,
    hop: V4 | V6 | None,
) -> None:
    interner = Interner()
    attrs = attributes(*asns, lp=lp, bw=bw)
    for _ in range(2):  # built, then from the tables
        shared = interner.path(source(i, ebgp), attrs, hop)
        own = Path.build(source(i, ebgp), attrs.evolve(next_hop=None), hop)
        assert shared == own
        assert shared.rank == own.rank and shared.link_bandwidth == own.link_bandwidth
        # Looked up by the values it would have without its NEXT_HOP, which hash as it does.
        assert shared.attributes.values() == attrs.values_without_next_hop()
        assert hash(shared.attributes) == hash(attrs.values_without_next_hop())


def test_neighbors_sending_one_route_share_its_records() -> None:
    # The DSF mesh: 40 EDSWs of one AS send an RDSW the same route, next hops apart.
    interner = Interner()
    paths = [
        interner.path(source(i), attributes(65001, 7, hop=f"192.0.2.{i}"), V4(f"192.0.2.{i}"))
        for i in range(1, 41)
    ]
    assert len({id(p.attributes) for p in paths}) == 1
    assert paths[0].attributes.next_hop is None  # the next hop is the path's own
    again = interner.path(source(3), attributes(65001, 7), V4("192.0.2.3"))
    assert again.rank is paths[2].rank and again.next_hop is paths[2].next_hop
    for hop in ("192.0.2.1", None):
        exported = attributes(65000, 65001, 7, hop="192.0.2.1")
        if hop is None:
            exported = exported.evolve(next_hop=None)  # as the export leaves it
        advert = interner.advertised(Advertised(exported, V4("192.0.2.1")))
        assert advert == Advertised(exported, V4("192.0.2.1"))
        assert interner.advertised(Advertised(exported.evolve(), V4("192.0.2.1"))) is advert
    assert advert.attributes is interner.attributes(exported)  # one object for both sides
    assert interner.prefix(Prefix.parse("10.0.0.0/24")) is interner.prefix(
        Prefix.parse("10.0.0.0/24")
    )


def test_records_nobody_holds_leave_the_tables() -> None:
    interner = Interner()
    held = interner.path(source(1), attributes(65001, 1), V4("192.0.2.1"))
    for k in range(100):
        interner.path(source(1), attributes(65001, 1000 + k), V4("192.0.2.1"))
        interner.advertised(Advertised(attributes(65000, 1000 + k), V4("192.0.2.1")))
    gc.collect()
    assert len(interner) == 1  # only ``held``'s attributes
    assert interner.path(source(1), attributes(65001, 1), V4("192.0.2.1")) == held


def test_full_small_tables_are_emptied_and_still_give_equal_records(monkeypatch) -> None:
    monkeypatch.setattr(interning_module, "SMALL_TABLE_SIZE", 3)
    interner = Interner()
    for k in range(20):
        hop = V4(f"192.0.2.{k + 1}")
        path = interner.path(source(k % 7 + 1), attributes(65001, k, lp=k), hop)
        assert path == Path.build(
            source(k % 7 + 1), attributes(65001, k, lp=k, hop=str(hop)).evolve(next_hop=None), hop
        )


# --- no outcome changes -----------------------------------------------------------------

NEIGHBORS = 4
PREFIXES = [Prefix.parse(f"10.{k}.0.0/24") for k in range(4)] + [
    Prefix.parse(f"2001:db8:{k}::/64") for k in range(3)
]


class OwnRecords(Interner):
    """Every record a fresh object, as before interning: the reference."""

    def path(self, source: PeerInfo, attrs: PathAttributes, next_hop: V4 | V6 | None) -> Path:
        return Path.build(source, attrs.evolve(next_hop=None), next_hop)

    def advertised(self, advert: Advertised) -> Advertised:
        return advert

    def prefix(self, prefix: Prefix) -> Prefix:
        return Prefix(bytes(prefix.packed), prefix.length)

    def prefixes(self, prefixes: Iterable[Prefix]) -> list[Prefix]:
        return [self.prefix(p) for p in prefixes]


def speaker(interner: Interner) -> tuple[Routes, Exporter, list[Neighbor]]:
    configs = tuple(
        NeighborConfig(
            name=f"n{i}",
            address=V4(f"192.0.2.{i}"),
            remote_as=65100 + (i % 2),  # two ASes: ties and multipaths across both
            local_address=V4("192.0.2.100"),
            link_capacity_bps=100e9 * i,
        )
        for i in range(1, NEIGHBORS + 1)
    )
    config = SpeakerConfig(
        name="x", asn=US, router_id=V4("10.0.0.100"), listen_address=V4("192.0.2.100"),
        neighbors=configs,
    )  # fmt: skip
    rng = random.Random(1)
    neighbors = [Neighbor.configured(c, config, rng) for c in configs]
    for i, nb in enumerate(neighbors, 1):
        nb.info = PeerInfo(
            nb.config.name, nb.config.address, 65100 + (i % 2), V4(f"10.0.0.{i}"), ebgp=True
        )
    routes = Routes(
        config, {nb.config.name: nb for nb in neighbors}, ExportQueue(0.0, rng), lambda: None,
        interner=interner,
    )  # fmt: skip
    exporter = Exporter(routes.loc_rib, routes.aggregates, ExportSettings(US), interner)
    return routes, exporter, neighbors


EVENT = st.tuples(
    st.integers(0, NEIGHBORS - 1),  # from
    st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=4, unique=True),
    st.one_of(
        st.none(),  # withdraw
        st.tuples(st.integers(1, 3), st.sampled_from([None, 1e9, 400e9, 800e9])),
    ),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(EVENT, min_size=1, max_size=25))
def test_shared_records_give_the_same_rib_fib_and_exports(events) -> None:
    shared, own = speaker(Interner()), speaker(OwnRecords())
    for i, prefixes, route in events:
        for routes, _, neighbors in (shared, own):
            nb = neighbors[i]
            v4 = tuple(p for p in prefixes if len(p.packed) == 4)
            v6 = tuple(p for p in prefixes if len(p.packed) == 16)
            if route is None:
                routes.receive(nb, Update(withdrawn=v4))
                routes.withdraw(nb, v6)
                continue
            length, bw = route
            attrs = attributes(
                *[65100 + (i % 2)] + [7] * (length - 1), hop=str(nb.config.address), bw=bw
            )
            hop6 = V6(f"2001:db8::{i + 1}")
            mp = MpReachNlri(2, 1, hop6, nlri=v6) if v6 else None
            routes.receive(nb, Update(attributes=attrs, nlri=v4, mp_reach=mp))
    (routes_a, exporter_a, nbs_a), (routes_b, exporter_b, nbs_b) = shared, own
    for prefix in PREFIXES:
        a, b = routes_a.loc_rib.get(prefix), routes_b.loc_rib.get(prefix)
        assert (a is None or a.best is None) == (b is None or b.best is None)
        if a is not None and b is not None:
            assert a.best == b.best and a.multipath == b.multipath
    assert routes_a.fib.entries() == routes_b.fib.entries()
    for nb_a, nb_b in zip(nbs_a, nbs_b, strict=True):
        for nb in (nb_a, nb_b):
            assert nb.info is not None
            establish(nb, nb.info.asn, nb.info.router_id, US)
        sent_a = exporter_a.updates_for(nb_a, sorted(PREFIXES), FlushCache())
        sent_b = exporter_b.updates_for(nb_b, sorted(PREFIXES), FlushCache())
        assert sent_a == sent_b  # the same UPDATEs, byte for byte


def test_the_weak_table_forgets_records_nobody_holds_and_stays_within_twice_the_live() -> None:
    table: interning_module.WeakTable[PathAttributes] = interning_module.WeakTable()
    kept: list[PathAttributes] = []
    for i in range(5000):
        record = PathAttributes(as_path=AsPath.sequence(65000, i))
        table.put(i, record)
        if i % 10 == 0:
            kept.append(record)  # one in ten stays held elsewhere
        assert table.get(i) is record
    del record
    gc.collect()
    assert len(table) == len(kept) == 500
    assert all(table.get(10 * n) is r for n, r in enumerate(kept))
    assert table.get(1) is None  # nobody held it: gone, not another record
    # Swept when doubled: the dead entries never outnumber twice the live ones by much.
    assert len(table._refs) <= max(2 * len(kept), interning_module._WEAK_SWEEP_MIN) + 1
