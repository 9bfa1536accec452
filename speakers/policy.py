"""Import and export policy toward eBGP neighbors: pure functions of a route and one
neighbor's configuration (as GoBGP keeps its policy table apart from its server).

Import: ``import_accepts`` once per UPDATE (the AS_PATH is shared by its prefixes), then
the neighbor's prefix list per prefix. A refused route is treated as withdrawn.

Export (``export_allows``, then ``export_path``; every neighbor here is eBGP): AS_PATH
gets our AS prepended (plus ``prepend`` extra copies), NEXT_HOP is our address on that
link, MED and LOCAL_PREF are not passed on (RFC 4271 §5.1.4, §5.1.5), non-transitive
extended communities stay in our AS (RFC 4360 §2), unknown optional transitive attributes
go on with the Partial bit, and the link-bandwidth community is regenerated (RFC 10005
§3.3.1: the next hop changed) by the neighbor's ``ReadvertiseMode``, or passed on as
received (``received``, FRR's default). A route is not sent
back to the neighbor it came from, nor, with sender-side loop detection, to a neighbor
whose AS is already in its AS_PATH. A drained speaker (``DrainMethod``) keeps exporting
every route, made less attractive.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum

from .config import ImportPolicy, NeighborConfig
from .rib import Advertised, Path
from .ucmp import ReadvertiseMode, readvertised_bandwidth
from .wire import AS_TRANS, AsPath, LinkBandwidth, PathAttributes, Prefix
from .wire.communities import ExtCommunity, ExtendedCommunity
from .wire.prefix import IPAddress, ipv4_mapped


class DrainMethod(Enum):
    """How a drained switch moves traffic off itself while keeping every route (so no
    packet is dropped on the way): both are what operators of such fabrics use.

    ``link-bandwidth-zero``: advertise link bandwidth 0 on every route (RFC 10005 §3.1:
    MAY advertise zero to drain a path); neighbors keep the path, but UCMP gives it weight
    0 while other multipaths carry bandwidth, so the traffic shifts at once and the route
    stays as a fallback. ``as-path-prepend``: prepend our AS a few more times; the longer
    path drops out of the neighbors' best path and multipath set where an equal-length
    alternative exists."""

    LINK_BANDWIDTH_ZERO = "link-bandwidth-zero"
    AS_PATH_PREPEND = "as-path-prepend"


@dataclass(frozen=True, slots=True)
class ExportSettings:
    """What export policy needs of this speaker: its AS, the IPv6 next hop it gives on
    IPv4 sessions (None: its IPv4 address, mapped), and how it is drained (None: not)."""

    asn: int
    next_hop_ipv6: ipaddress.IPv6Address | None = None
    drain: DrainMethod | None = None
    drain_prepend: int = 3


def import_accepts(attributes: PathAttributes, asn: int, policy: ImportPolicy) -> bool:
    """Whether routes with ``attributes`` may enter the RIB at all (prefix lists aside)."""
    path = attributes.as_path
    if path is None:
        return False
    # RFC 4271 §9.1.2: a route whose AS_PATH holds our AS is excluded (AS loop), unless
    # allowas-in permits that many occurrences.
    own = sum(1 for a in path.asns() if a == asn)
    return own <= policy.allowas_in


def export_allows(neighbor: NeighborConfig, prefix: Prefix, best: Path) -> bool:
    """The checks that depend on the prefix and the best path's source, not on its
    attributes: not back to where it came from, and the neighbor's prefix list."""
    if best.source.name == neighbor.name:
        return False
    prefix_list = neighbor.export.prefix_list
    return prefix_list is None or prefix_list.permits(prefix)


def export_signature(neighbor: NeighborConfig) -> tuple[object, ...]:
    """Everything ``signature_attributes`` reads of ``neighbor``: neighbors with equal
    signatures are sent the same attributes for the same route (``export.FlushCache``),
    each with its own next hop (``export_next_hop``) and unless the route would loop
    back to it (``loops_back``). Not the neighbor's AS: in a fabric where every switch
    has an AS of its own, an EDSW's 120 RDSWs would be 120 signatures."""
    return (id(neighbor.export), neighbor.link_capacity_bps)


def export_path(
    neighbor: NeighborConfig,
    settings: ExportSettings,
    best: Path,
    multipath: tuple[Path, ...],
    prefix: Prefix,
) -> Advertised | None:
    """What we advertise to ``neighbor`` for a route whose best path and multipath set
    are these, or None (module docstring). Depends on ``prefix`` for its family only."""
    attrs = export_attributes(neighbor, settings, best, multipath)
    hop = export_next_hop(neighbor, settings, prefix)
    return None if attrs is None or hop is None else Advertised(attrs, hop)


def export_attributes(
    neighbor: NeighborConfig,
    settings: ExportSettings,
    best: Path,
    multipath: tuple[Path, ...],
) -> PathAttributes | None:
    """The attributes ``export_path`` advertises (no NEXT_HOP: ``export_next_hop``), or
    None where the route is not sent to ``neighbor`` whatever its family."""
    if loops_back(neighbor, best):
        return None
    return signature_attributes(neighbor, settings, best, multipath)


def loops_back(neighbor: NeighborConfig, best: Path) -> bool:
    """Whether sender-side loop detection keeps a route from ``neighbor``: its AS is in
    the AS_PATH, so it would reject the route (RFC 4271 §9.1.2)."""
    as_path = best.attributes.as_path
    return (
        neighbor.export.sender_side_loop_detection
        and as_path is not None
        and as_path.contains(neighbor.remote_as)
    )


def signature_attributes(
    neighbor: NeighborConfig,
    settings: ExportSettings,
    best: Path,
    multipath: tuple[Path, ...],
) -> PathAttributes:
    """``export_attributes`` where the route does not loop back: the same for every
    neighbor of ``neighbor``'s export signature (``export_signature``)."""
    policy = neighbor.export
    as_path = best.attributes.as_path or AsPath()
    attrs = best.attributes.for_propagation()
    communities = () if policy.strip_communities else attrs.communities
    communities = tuple(dict.fromkeys(communities + policy.set_communities))
    ext: tuple[ExtCommunity, ...] = tuple(
        c
        for c in attrs.ext_communities
        if not isinstance(c, LinkBandwidth)
        and (not isinstance(c, ExtendedCommunity) or c.transitive)
    )
    lb = _bandwidth(neighbor, multipath)
    prepend = policy.prepend
    if settings.drain is DrainMethod.LINK_BANDWIDTH_ZERO:
        lb = 0.0  # RFC 10005 §3.1: zero to drain a path for maintenance
    elif settings.drain is DrainMethod.AS_PATH_PREPEND:
        prepend += settings.drain_prepend
    if lb is None and policy.link_bandwidth is ReadvertiseMode.RECEIVED:
        # RFC 10005 §3.3.1: passed on unchanged (its AS and value); a non-transitive one
        # stays in the AS it came from (RFC 4360 §2).
        ext += tuple(
            c for c in best.attributes.ext_communities
            if isinstance(c, LinkBandwidth) and c.transitive
        )  # fmt: skip
    if lb is not None:
        asn = settings.asn if settings.asn <= 0xFFFF else AS_TRANS
        ext += (LinkBandwidth.from_bytes_per_s(lb, asn, policy.link_bandwidth_transitive),)
    return attrs.evolve(
        as_path=as_path.prepend(settings.asn, 1 + prepend),
        next_hop=None,
        med=None,  # RFC 4271 §5.1.4: a received MED is not passed to other ASes
        local_pref=None,  # RFC 4271 §5.1.5: not sent to eBGP neighbors
        communities=communities,
        ext_communities=ext,
    )


def _bandwidth(neighbor: NeighborConfig, multipath: tuple[Path, ...]) -> float | None:
    policy = neighbor.export
    capacity = neighbor.link_capacity_bps
    return readvertised_bandwidth(
        policy.link_bandwidth,
        multipath_bandwidths=[p.link_bandwidth for p in multipath],
        link_capacity_bytes_per_s=None if capacity is None else capacity / 8,
        fixed_bytes_per_s=None
        if policy.link_bandwidth_fixed_bps is None
        else policy.link_bandwidth_fixed_bps / 8,
    )


def export_next_hop(
    neighbor: NeighborConfig, settings: ExportSettings, prefix: Prefix
) -> IPAddress | None:
    """Our address toward ``neighbor`` as the next hop of a route to ``prefix``, or None
    where the route cannot be sent over this session."""
    local = neighbor.local_address
    if len(prefix.packed) == 4:
        # An IPv4 route over an IPv6 session would need RFC 8950 next hops: not done.
        return local if local.version == 4 else None
    if local.version == 6:
        return local
    # An IPv6 route over an IPv4 session: the configured IPv6 next hop, else our IPv4
    # address mapped into IPv6 (RFC 4291 §2.5.5.2), as FRR does.
    if settings.next_hop_ipv6 is not None:
        return settings.next_hop_ipv6
    return ipv4_mapped(local)
