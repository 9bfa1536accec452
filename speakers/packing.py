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
    """Withdrawals, then announcements grouped by attributes and next hop, as few
    UPDATEs as fit, each of one family (RFC 7606 §5.1: one of withdrawn routes, the
    body's NLRI, MP_REACH_NLRI and MP_UNREACH_NLRI per UPDATE, as FRR, BIRD and GoBGP
    send them).

    ``packed`` (one per flush) hands neighbors that get the same routes the same bytes,
    encoded once; ``spliced`` (one per flush too) keeps attributes encoded around their
    NEXT_HOP for neighbors that get the same routes with next hops of their own
    (``pack_announce_spliced``)."""
    messages: list[bytes] = []
    for family_prefixes in withdraw.values():
        messages += pack_withdraw(family_prefixes, codec)
    for (attrs, hop), group in announce.items():
        # (attributes and next hop by identity: both live through the flush, held by the
        # Adj-RIB-Outs; hashing an address goes through ``hex``)
        key = (codec, id(attrs), id(hop), tuple(group))
        messages_for = packed.get(key)
        if messages_for is None:
            messages_for = packed[key] = _pack(attrs, hop, group, codec, spliced)
        messages += messages_for
    return messages


def _pack(
    attrs: PathAttributes,
    hop: IPAddress,
    group: list[Prefix],
    codec: CodecContext,
    spliced: dict[tuple[CodecContext, int], tuple[bytes, bytes]] | None,
) -> list[bytes]:
    """``group`` (one family) announced with ``attrs`` and ``hop`` (``pack_updates``)."""
    ipv4 = unicast_family(group[0]) == IPV4_UNICAST
    if spliced is not None and splices(attrs) and (isinstance(hop, IPv4Address) or not ipv4):
        key = (codec, id(attrs))  # (the attributes live through the flush: ``FlushCache``)
        around = spliced.get(key)
        if around is None:
            around = spliced[key] = encode_around_next_hop(attrs, codec)
        return pack_announce_spliced(around, group, codec, next_hop=hop)
    if ipv4:
        return pack_announce(attrs.evolve(next_hop=hop), group, codec)
    return pack_announce(attrs, group, codec, next_hop=hop)
