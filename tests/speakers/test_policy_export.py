"""Import/export policy (policy.py) and export timing and packing (export.py), without sockets."""

from __future__ import annotations

import ipaddress
import random
from dataclasses import replace

import pytest
from sansio_helpers import establish

from speakers import export as export_module
from speakers.aggregate import AggregateTable
from speakers.config import (
    ExportPolicy,
    ImportPolicy,
    NeighborConfig,
    PrefixList,
    PrefixListEntry,
    SpeakerConfig,
)
from speakers.export import Exporter, ExportQueue, FlushCache
from speakers.neighbor import Neighbor
from speakers.packing import pack_updates
from speakers.policy import (
    DrainMethod,
    ExportSettings,
    export_allows,
    export_path,
    export_signature,
    import_accepts,
)
from speakers.rib import LocRib, Path, PeerInfo
from speakers.rib.interning import Interner
from speakers.ucmp import ReadvertiseMode
from speakers.wire import (
    DEFAULT_CONTEXT,
    AsPath,
    LinkBandwidth,
    MessageReader,
    Origin,
    PathAttributes,
    Prefix,
    Update,
    decode_message,
)

V4 = ipaddress.IPv4Address
G = 1e9
P4, P6 = Prefix.parse("10.1.0.0/24"), Prefix.parse("2001:db8:1::/64")
US = 65000


def neighbor(name: str = "n", remote_as: int = 65002, **export: object) -> NeighborConfig:
    return NeighborConfig(
        name=name,
        address=V4("192.0.2.2"),
        remote_as=remote_as,
        local_address=V4("192.0.2.1"),
        link_capacity_bps=800 * G,
        export=ExportPolicy(**export),  # type: ignore[arg-type]
    )


def received(source: str = "up", asn: int = 65001, bandwidth_bps: float = 400 * G) -> Path:
    info = PeerInfo(source, V4("198.51.100.1"), asn, V4("10.255.0.1"), ebgp=True)
    attrs = PathAttributes(
        origin=Origin.IGP,
        as_path=AsPath.sequence(asn),
        next_hop=info.address,
        med=5,
        local_pref=300,
        ext_communities=(LinkBandwidth.from_bps(bandwidth_bps, asn),),
    )
    return Path.build(info, attrs, info.address)


# --- import ------------------------------------------------------------------------------


def test_import_refuses_an_as_loop_unless_allowas_in_permits_it() -> None:
    looped = PathAttributes(origin=Origin.IGP, as_path=AsPath.sequence(65001, US, 65003))
    assert import_accepts(looped, 65009, ImportPolicy())
    assert not import_accepts(looped, US, ImportPolicy())
    assert import_accepts(looped, US, ImportPolicy(allowas_in=1))
    assert not import_accepts(PathAttributes(origin=Origin.IGP), 65009, ImportPolicy())


# --- export ------------------------------------------------------------------------------


def test_export_rewrites_for_ebgp() -> None:
    best = received()
    advert = export_path(neighbor(prepend=1), ExportSettings(US), best, (best,), P4)
    assert advert is not None and advert.next_hop == V4("192.0.2.1")
    attrs = advert.attributes
    assert str(attrs.as_path) == f"{US} {US} 65001"  # ours, one prepend, the path
    assert attrs.med is None and attrs.local_pref is None and attrs.next_hop is None
    (lb,) = attrs.ext_communities
    assert isinstance(lb, LinkBandwidth) and lb.bps == pytest.approx(400 * G, rel=2**-24)


def test_pass_through_keeps_a_single_path_community_and_sums_several() -> None:
    # FRR's default, as its bgp_link_bw_ip topotest shows at r1: one path's LB:65301:2 Mb/s
    # arrives as it was sent; two measured multipaths become LB:<ours>:their sum.
    one = received("a", 65301, 2e6)
    pass_through = neighbor(link_bandwidth=ReadvertiseMode.RECEIVED)
    advert = export_path(pass_through, ExportSettings(US), one, (one,), P4)
    assert advert is not None
    assert advert.attributes.ext_communities == one.attributes.ext_communities
    other = received("b", 65302, 1e6)
    advert = export_path(pass_through, ExportSettings(US), one, (one, other), P4)
    assert advert is not None
    (lb,) = advert.attributes.ext_communities
    assert isinstance(lb, LinkBandwidth) and (lb.asn, lb.bps) == (US, 3e6)
    bare = Path.build(one.source, replace(one.attributes, ext_communities=()), one.next_hop)
    advert = export_path(pass_through, ExportSettings(US), bare, (bare, other), P4)
    assert advert is not None and advert.attributes.ext_communities == ()


def test_export_drained_keeps_the_route_but_less_attractive() -> None:
    best = received()
    zero = ExportSettings(US, drain=DrainMethod.LINK_BANDWIDTH_ZERO)
    advert = export_path(neighbor(), zero, best, (best,), P4)
    assert advert is not None
    (lb,) = advert.attributes.ext_communities
    assert isinstance(lb, LinkBandwidth) and lb.bps == 0.0  # RFC 10005 §3.1
    longer = ExportSettings(US, drain=DrainMethod.AS_PATH_PREPEND, drain_prepend=3)
    advert = export_path(neighbor(), longer, best, (best,), P4)
    assert advert is not None and advert.attributes.as_path is not None
    assert advert.attributes.as_path.length == 5  # ours four times, then 65001


def test_export_refusals() -> None:
    best = received(source="n")
    assert not export_allows(neighbor("n"), P4, best)  # not back to where it came from
    only_p6 = PrefixList((PrefixListEntry(P6),))
    assert not export_allows(neighbor("m", prefix_list=only_p6), P4, best)
    assert export_allows(neighbor("m", prefix_list=only_p6), P6, best)
    # Sender-side loop detection: the neighbor's AS is already in the path.
    assert export_path(neighbor(remote_as=65001), ExportSettings(US), best, (best,), P4) is None


def test_ipv6_route_over_an_ipv4_session_gets_a_mapped_or_configured_next_hop() -> None:
    best = received()
    advert = export_path(neighbor(), ExportSettings(US), best, (best,), P6)
    assert advert is not None and advert.next_hop == ipaddress.IPv6Address("::ffff:192.0.2.1")
    configured = ExportSettings(US, next_hop_ipv6=ipaddress.IPv6Address("2001:db8::1"))
    advert = export_path(neighbor(), configured, best, (best,), P6)
    assert advert is not None and advert.next_hop == ipaddress.IPv6Address("2001:db8::1")


def test_export_signature_covers_what_export_path_reads() -> None:
    a, b = neighbor("a"), neighbor("b")
    assert export_signature(a) != export_signature(b)  # two ExportPolicy objects
    shared = ExportPolicy(link_bandwidth=ReadvertiseMode.CUMULATIVE)
    one = NeighborConfig("a", V4("192.0.2.2"), 65002, V4("192.0.2.1"), export=shared)
    two = NeighborConfig("b", V4("192.0.2.3"), 65002, V4("192.0.2.1"), export=shared)
    assert export_signature(one) == export_signature(two)
    # Not the AS: whether a route loops back to a neighbor is checked per neighbor.
    other_as = NeighborConfig("c", V4("192.0.2.4"), 65003, V4("192.0.2.1"), export=shared)
    assert export_signature(other_as) == export_signature(one)
    wider = replace(one, link_capacity_bps=400 * G)
    assert export_signature(wider) != export_signature(one)


# --- the export queue and packing ----------------------------------------------------------


def test_export_queue_is_due_at_once_without_mrai_and_after_a_jittered_mrai_with_it() -> None:
    now_queue = ExportQueue(0.0, random.Random(1))
    assert now_queue.delay_s(100.0) is None
    queue = ExportQueue(5.0, random.Random(1))
    queue.mark_all([P4])
    queue.refresh("n", [(1, 1)])
    assert queue.pending
    dirty, refresh = queue.take(100.0)
    assert list(dirty) == [P4] and refresh == {"n": {(1, 1)}} and not queue.pending
    delay = queue.delay_s(101.0)  # the last flush was at 100
    assert delay is not None and 5.0 * 0.75 - 1.0 <= delay <= 5.0 - 1.0  # RFC 4271 §10
    assert queue.delay_s(200.0) == 0.0


def test_pack_updates_one_family_per_update_and_its_bytes_shared_between_neighbors() -> None:
    best = received()
    advert = export_path(neighbor(), ExportSettings(US), best, (best,), P4)
    advert6 = export_path(neighbor(), ExportSettings(US), best, (best,), P6)
    assert advert is not None and advert6 is not None
    announce = {
        (advert.attributes, advert.next_hop): [P4],
        (advert6.attributes, advert6.next_hop): [P6],
    }
    withdrawn = Prefix.parse("10.9.0.0/24")
    packed: dict[tuple[object, ...], list[bytes]] = {}
    first = pack_updates(announce, {(1, 1): [withdrawn]}, DEFAULT_CONTEXT, packed)
    updates = []
    reader = MessageReader()
    reader.feed(b"".join(first))
    while (item := reader.next_message()) is not None:
        message = decode_message(item[1])
        assert isinstance(message, Update)
        updates.append(message)
    assert [u.withdrawn for u in updates] == [(withdrawn,), (), ()]  # withdrawals first
    # One family per UPDATE (RFC 7606 §5.1), though both share the attributes.
    assert updates[1].nlri == (P4,) and updates[1].mp_reach is None
    assert updates[2].nlri == () and updates[2].mp_reach is not None
    assert updates[2].mp_reach.nlri == (P6,)
    for update in updates:
        carriers = (update.withdrawn, update.nlri, update.mp_reach, update.mp_unreach)
        assert sum(1 for c in carriers if c) == 1
    second = pack_updates(announce, {}, DEFAULT_CONTEXT, packed)
    assert second[0] is first[1] and second[1] is first[2]  # the same bytes, encoded once


def test_routes_exported_alike_share_an_update_in_prefix_order() -> None:
    # Two best paths from two sources of one AS differ only in what the export rewrites
    # (MED, next hop, router ID): their prefixes interleave, and the neighbor gets them
    # in one UPDATE in prefix order, whichever Advertised object each prefix was given.
    config = neighbor()
    speaker = SpeakerConfig(
        name="x",
        asn=US,
        router_id=V4("10.255.0.9"),
        listen_address=config.local_address,
        neighbors=(config,),
    )
    nb = Neighbor.configured(config, speaker, random.Random(1))
    establish(nb, 65002, V4("10.255.0.2"), US)
    first, second = received("a"), received("b")
    second = Path.build(
        replace(second.source, router_id=V4("10.255.0.2")),
        replace(second.attributes, med=7),
        V4("198.51.100.2"),
    )
    loc_rib = LocRib()
    prefixes = [Prefix.parse(f"10.2.{i}.0/24") for i in range(6)]
    for i, prefix in enumerate(prefixes):
        path = (first, second)[i % 2]
        loc_rib.set_path(prefix, path.source.name, path)
    exporter = Exporter(loc_rib, AggregateTable(()), ExportSettings(US), Interner())
    messages = exporter.updates_for(nb, prefixes, FlushCache())
    assert len(messages) == 1
    update = decode_message(messages[0])
    assert isinstance(update, Update) and update.nlri == tuple(prefixes)


def one_route_to(
    ases: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[NeighborConfig, ...], list[Neighbor], list[list[bytes]], list[str]]:
    """A speaker with a neighbor per AS of ``ases``, one export policy and a link (and
    local address) each, exporting one route to each in one flush: the configurations,
    the neighbors, what each was sent, and for which the export worked attributes out."""
    shared = ExportPolicy(link_bandwidth=ReadvertiseMode.CUMULATIVE)
    configs = tuple(
        NeighborConfig(
            f"r{i}", V4(f"192.0.2.{2 * i + 1}"), asn, V4(f"192.0.2.{2 * i}"),
            link_capacity_bps=800 * G, export=shared,
        )
        for i, asn in enumerate(ases, start=1)
    )  # fmt: skip
    assert len({export_signature(c) for c in configs}) == 1
    speaker = SpeakerConfig(
        name="x", asn=US, router_id=V4("10.255.0.9"), listen_address=V4("192.0.2.2"),
        neighbors=configs,
    )  # fmt: skip
    neighbors = [Neighbor.configured(c, speaker, random.Random(1)) for c in configs]
    for nb, asn in zip(neighbors, ases, strict=True):
        establish(nb, asn, V4(f"10.255.0.{asn % 256}"), US)
    calls: list[str] = []
    real = export_module.signature_attributes

    def counted(neighbor: NeighborConfig, *args: object) -> PathAttributes:
        calls.append(neighbor.name)
        return real(neighbor, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(export_module, "signature_attributes", counted)
    best = received()
    loc_rib = LocRib()
    loc_rib.set_path(P4, best.source.name, best)
    exporter = Exporter(loc_rib, AggregateTable(()), ExportSettings(US), Interner())
    cache = FlushCache()
    sent = [exporter.updates_for(nb, [P4], cache) for nb in neighbors]
    return configs, neighbors, sent, calls


def test_neighbors_of_one_signature_share_the_export_each_with_its_own_next_hop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An EDSW's RDSWs in one AS: the route's attributes are worked out once per flush;
    # each gets its own next hop.
    configs, neighbors, sent, calls = one_route_to((65002, 65002, 65002), monkeypatch)
    assert calls == ["r1"]  # once for the three
    for config, messages in zip(configs, sent, strict=True):
        update = decode_message(messages[0])
        assert isinstance(update, Update) and update.nlri == (P4,)
        assert update.attributes.next_hop == config.local_address
    adj_out = [nb.adj_out.get(P4) for nb in neighbors]
    assert adj_out[0] is not None and adj_out[1] is not None
    assert adj_out[0].attributes is adj_out[1].attributes  # one object in memory


def test_neighbors_in_ases_of_their_own_share_the_export_but_a_loop_is_not_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fabric where every switch has an AS of its own: one computation for the three,
    # and the neighbor whose AS the path already holds is sent nothing (RFC 4271 §9.1.2).
    ases = (65002, 65001, 65004)  # the route's AS_PATH holds 65001
    configs, neighbors, sent, calls = one_route_to(ases, monkeypatch)
    assert calls == ["r1"]
    assert sent[1] == [] and neighbors[1].adj_out.get(P4) is None
    for config, messages in zip(configs[::2], sent[::2], strict=True):
        update = decode_message(messages[0])
        assert isinstance(update, Update) and update.nlri == (P4,)
        assert update.attributes.next_hop == config.local_address
        assert update.attributes.as_path == AsPath.sequence(US, 65001)
    # Without sender-side loop detection, the second would be sent it too.
    best, lax = received(), replace(configs[1].export, sender_side_loop_detection=False)
    assert export_path(replace(configs[1], export=lax), ExportSettings(US), best, (best,), P4)
