"""A path: one route to a prefix as learned from one source, with the facts decisions need.

The prefix is the key of the table the path sits in, not a field, so one ``PathAttributes``
object (shared by every prefix of an UPDATE) plus one small ``Path`` is the whole cost of a
route. ``PeerInfo`` says where the path came from; ``LOCAL`` marks originated routes.
"""

from __future__ import annotations

import ipaddress
import operator
from dataclasses import dataclass, field

from ..wire import PathAttributes
from ..wire.prefix import IPAddress
from .rank import Preference, Rank, Tiebreak

DEFAULT_LOCAL_PREF = 100  # RFC 4271 §9.1.1 leaves it to policy; 100 is every vendor's default


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """The source of a path: a neighbor (name, address, AS, BGP Identifier) or ``local``."""

    name: str
    address: IPAddress
    asn: int
    router_id: ipaddress.IPv4Address
    ebgp: bool
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        """Worked out once: a source is part of the key a path's rank is shared by
        (``rib.interning``), looked up for every UPDATE received, and its two addresses
        hash through ``hex`` (``ipaddress``), a microsecond or so a time."""
        h = self._hash
        if h is None:
            h = hash((self.name, self.address, self.asn, self.router_id, self.ebgp))
            object.__setattr__(self, "_hash", h)
        return h

    @property
    def local(self) -> bool:
        return self.name == LOCAL_NAME


LOCAL_NAME = "<local>"  # cannot be a neighbor name (config.py refuses names with "<")


def local_source(asn: int, router_id: ipaddress.IPv4Address) -> PeerInfo:
    return PeerInfo(LOCAL_NAME, ipaddress.IPv4Address(0), asn, router_id, ebgp=False)


@dataclass(frozen=True, slots=True)
class Path:
    """One route from one source. ``link_bandwidth`` is the RFC 10005 §4 effective value in
    bytes/s (None: no usable community), computed once when the path is built; so is
    ``rank``, its place in the decision process as one sort key (``rank.py``)."""

    source: PeerInfo
    attributes: PathAttributes
    next_hop: IPAddress | None
    link_bandwidth: float | None
    rank: Rank
    hop_key: int  # the next hop as one int (-1: none): multipath dedupes on it, fast

    def __eq__(self, other: object) -> bool:
        """Field by field, as the generated ``__eq__`` does, but in C (one ``attrgetter``
        call a side): a speaker compares each new path with its neighbor's last one
        (``Routes._path``), the selections compare them too."""
        if self is other:
            return True
        if other.__class__ is not Path:
            return NotImplemented
        return bool(_PATH_FIELDS(self) == _PATH_FIELDS(other))

    @classmethod
    def build(
        cls, source: PeerInfo, attributes: PathAttributes, next_hop: IPAddress | None
    ) -> Path:
        """A path made of its own parts (``interning.Interner.path`` shares them)."""
        hop_key = -1 if next_hop is None else cls.key_of(next_hop)
        lb = attributes.link_bandwidth_bytes_per_s
        return cls(source, attributes, next_hop, lb, cls.rank_of(attributes, source), hop_key)

    @staticmethod
    def rank_of(attributes: PathAttributes, source: PeerInfo) -> Rank:
        """The rank of a path with ``attributes`` from ``source`` (``rank.py``)."""
        lp = attributes.local_pref
        as_path = attributes.as_path
        origin = attributes.origin
        address = source.address
        return Rank(
            Preference(
                local_pref=-(DEFAULT_LOCAL_PREF if lp is None else lp),
                local_origin=-int(source.local),
                as_path_length=0 if as_path is None else as_path.length,
                origin=2 if origin is None else int(origin),
                ebgp_over_ibgp=-int(source.ebgp),
            ),
            Tiebreak(
                router_id=int(source.router_id),
                peer_address=int(address) + (1 << 128 if address.version == 6 else 0),
            ),
        )

    @staticmethod
    def key_of(next_hop: IPAddress) -> int:
        """``hop_key``: the next hop as one int, IPv4 and IPv6 apart."""
        return int(next_hop) + (1 << 128 if next_hop.version == 6 else 0)

    @property
    def local_pref(self) -> int:
        lp = self.attributes.local_pref
        return DEFAULT_LOCAL_PREF if lp is None else lp

    @property
    def as_path_length(self) -> int:
        path = self.attributes.as_path
        return 0 if path is None else path.length

    @property
    def neighbor_as(self) -> int:
        """RFC 4271 §9.1.2.2 c: the AS the route came from: the first AS of its AS_PATH,
        or our own for a route with an empty path (local or iBGP)."""
        path = self.attributes.as_path
        first = path.first_asn if path is not None else None
        return self.source.asn if first is None else first

    @property
    def med(self) -> int:
        # RFC 4271 §9.1.2.2 c: a route without MULTI_EXIT_DISC has the lowest possible value.
        med = self.attributes.med
        return 0 if med is None else med

    @property
    def origin(self) -> int:
        origin = self.attributes.origin
        return 2 if origin is None else int(origin)


_PATH_FIELDS = operator.attrgetter(
    "source", "attributes", "next_hop", "link_bandwidth", "rank", "hop_key"
)  # every field of a Path, in order (``Path.__eq__``)
