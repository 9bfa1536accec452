"""What an export flush sends a neighbor, as bytes: its routes packed into as few UPDATEs
as fit (``pack_updates``), and framed by the markers that its session's first table or a
ROUTE-REFRESH asks for (``framed``).

``export.Exporter`` works out what each neighbor is sent; this module only encodes it,
sharing between neighbors what is the same for them within one flush: the same routes
get the same bytes, and the same routes with next hops of their own get the attributes
encoded once, each one's NEXT_HOP spliced in (``pack_announce_spliced``).
"""

from __future__ import annotations

from .neighbor import Neighbor
from .session.negotiation import NO_FAMILIES
from .wire import (
    CodecContext,
    PathAttributes,
    Prefix,
    RouteRefresh,
    encode_end_of_rib,
    encode_message,
    pack_announce,
    pack_announce_dual,
    pack_announce_spliced,
    pack_withdraw,
)
from .wire.attributes import encode_around_next_hop, splices
from .wire.prefix import IPV4_UNICAST, IPAddress, IPv4Address, unicast_family

Family = tuple[int, int]  # (AFI, SAFI)


def framed(nb: Neighbor, messages: list[bytes]) -> tuple[list[bytes], int]:
    """``messages`` for ``nb``, framed by the markers they complete: Begin- and
    End-of-Route-Refresh around its families asked for again (RFC 7313 §4: its
    ROUTE-REFRESH answered, in this flush), and an End-of-RIB per family after its
    session's first table (RFC 4724 §2); and how many of them are ROUTE-REFRESH
    messages, not UPDATEs (what the counters of UPDATEs leave out)."""
    negotiated = nb.peer.primary.negotiated
    if negotiated is None or not (nb.end_of_rib_due or nb.refresh_due):
        return messages, 0
    codec, refreshed = negotiated.codec, sorted(nb.refresh_due)
    begin = [encode_message(RouteRefresh(afi, safi, 1), codec) for afi, safi in refreshed]
    end = [encode_message(RouteRefresh(afi, safi, 2), codec) for afi, safi in refreshed]
    eor = [encode_end_of_rib(afi, safi, codec) for afi, safi in sorted(nb.end_of_rib_due)]
    nb.refresh_due = nb.end_of_rib_due = NO_FAMILIES
    return begin + messages + end + eor, len(begin) + len(end)


def pack_updates(
    announce: dict[tuple[PathAttributes, IPAddress], list[Prefix]],
    withdraw: dict[Family, list[Prefix]],
    codec: CodecContext,
    packed: dict[tuple[object, ...], list[bytes]],
    spliced: dict[tuple[CodecContext, int], tuple[bytes, bytes]] | None = None,
) -> list[bytes]:
    """Withdrawals, then announcements grouped by attributes, as few UPDATEs as fit.

    IPv4 and IPv6 routes with the same attributes share an UPDATE where they fit
    (``pack_announce_dual``); ``packed`` (one per flush) hands neighbors that get the
    same routes the same bytes, encoded once; ``spliced`` (one per flush too) keeps
    attributes encoded around their NEXT_HOP for neighbors that get the same routes
    with next hops of their own (``pack_announce_spliced``)."""
    messages: list[bytes] = []
    for family_prefixes in withdraw.values():
        messages += pack_withdraw(family_prefixes, codec)
    # Per attributes, its IPv4 and its IPv6 routes (next hop, prefixes): a flood of
    # distinct routes makes every group one prefix, so each attributes object is hashed
    # once here (hashing one is a walk over all its fields).
    by_attrs: dict[PathAttributes, list[tuple[IPAddress, list[Prefix]] | None]] = {}
    alone: list[tuple[PathAttributes, IPAddress, list[Prefix]]] = []
    for (attrs, hop), group in announce.items():
        pair = by_attrs.setdefault(attrs, [None, None])  # [IPv4 routes, IPv6 routes]
        ipv4 = isinstance(hop, IPv4Address) and unicast_family(group[0]) == IPV4_UNICAST
        slot = 0 if ipv4 else 1
        if pair[slot] is None:
            pair[slot] = (hop, group)
        else:
            alone.append((attrs, hop, group))  # one next hop per family and neighbor: rare
    for attrs, (v4, v6) in by_attrs.items():
        # (next hops by identity, as the attributes: both live through the flush, held
        # by the Adj-RIB-Outs; hashing an address goes through ``hex``)
        key = (
            codec,
            id(attrs),
            v4 and (id(v4[0]), tuple(v4[1])),
            v6 and (id(v6[0]), tuple(v6[1])),
        )
        messages_for = packed.get(key)
        if messages_for is None:
            if v4 is not None and v6 is not None:
                messages_for = _pack_dual(attrs, v4, v6, codec, spliced)
            elif v4 is not None:
                messages_for = pack_announce(attrs.evolve(next_hop=v4[0]), v4[1], codec)
            else:
                assert v6 is not None
                messages_for = pack_announce(attrs, v6[1], codec, next_hop=v6[0])
            packed[key] = messages_for
        messages += messages_for
    for attrs, hop, group in alone:
        if isinstance(hop, IPv4Address) and unicast_family(group[0]) == IPV4_UNICAST:
            messages += pack_announce(attrs.evolve(next_hop=hop), group, codec)
        else:
            messages += pack_announce(attrs, group, codec, next_hop=hop)
    return messages


def _pack_dual(
    attrs: PathAttributes,
    v4: tuple[IPAddress, list[Prefix]],
    v6: tuple[IPAddress, list[Prefix]],
    codec: CodecContext,
    spliced: dict[tuple[CodecContext, int], tuple[bytes, bytes]] | None,
) -> list[bytes]:
    """One UPDATE for both families where they fit (``pack_updates``)."""
    hop = v4[0]
    assert isinstance(hop, IPv4Address)  # (``pack_updates`` puts IPv4 next hops in v4)
    if spliced is None or not splices(attrs):
        return pack_announce_dual(attrs.evolve(next_hop=hop), v4[1], v6[1], codec, next_hop=v6[0])
    key = (codec, id(attrs))  # (the attributes live through the flush: ``FlushCache``)
    around = spliced.get(key)
    if around is None:
        around = spliced[key] = encode_around_next_hop(attrs, codec)
    return pack_announce_spliced(attrs, around, v4[1], hop, v6[1], codec, next_hop=v6[0])
