"""What a session offers in its OPEN, and what two OPENs agree on (pure functions).

``SessionConfig`` is the local side; ``build_open`` turns it into an OPEN; ``negotiate``
checks the peer's OPEN against it (the checks RFC 4271 §6.2 leaves to the receiver: peer
AS, BGP Identifier, hold time) and returns the ``Negotiated`` contract, or raises
``OpenMessageError`` with the NOTIFICATION to send.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from ..wire import (
    CodecContext,
    EnhancedRouteRefreshCapability,
    ExtendedMessageCapability,
    FourOctetAsCapability,
    GracefulRestartCapability,
    MultiprotocolCapability,
    Open,
    OpenMessageError,
    RouteRefreshCapability,
)
from ..wire.capabilities import Capability, encode_capability
from ..wire.constants import OpenSubcode
from ..wire.prefix import IPAddress

IPv4Address = ipaddress.IPv4Address

DEFAULT_FAMILIES: tuple[tuple[int, int], ...] = ((1, 1), (2, 1))
# No families, one object (in CPython 3.11 each frozenset() is a new 216 B object): what
# a session's often-empty family sets start from and return to.
NO_FAMILIES: frozenset[tuple[int, int]] = frozenset()


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """One side of one BGP session.

    ``peer_as`` None accepts any AS (for tools that listen to anyone). Timers in seconds:
    ``hold_time_s`` is what we offer (0 disables keepalives, RFC 4271 §4.2);
    ``min_hold_time_s`` the least we accept from the peer (other than 0).
    ``connect_retry_s`` and ``idle_hold_s`` pace reconnection; jitter (RFC 4271 §10)
    multiplies them, and the keepalive interval, by a factor in [0.75, 1.0].
    """

    local_as: int
    router_id: IPv4Address
    peer_as: int | None
    hold_time_s: int = 9
    min_hold_time_s: int = 3
    connect_retry_s: float = 2.0
    idle_hold_s: float = 1.0
    max_idle_hold_s: float = 30.0
    families: tuple[tuple[int, int], ...] = DEFAULT_FAMILIES
    route_refresh: bool = True
    extended_message: bool = False
    four_octet_as: bool = True
    passive: bool = False
    local_addresses: tuple[IPAddress, ...] = ()  # NEXT_HOP check (RFC 4271 §6.3)
    enforce_first_as: bool = True  # RFC 7606 §7.2 first-AS check on eBGP
    open_hold_time_s: float = 240.0  # RFC 4271 §8.2.2: the "large value" before OPEN arrives
    # RFC 4724: the capability we offer (None: none, so no graceful restart either way)
    graceful_restart: GracefulRestartCapability | None = None

    def __post_init__(self) -> None:
        if self.hold_time_s in (1, 2) or not 0 <= self.hold_time_s <= 0xFFFF:
            raise ValueError(f"hold time {self.hold_time_s}s: must be 0 or 3..65535")
        if not 1 <= self.local_as <= 0xFFFFFFFF:
            raise ValueError(f"local AS {self.local_as} out of range")
        if self.peer_as is not None and not 1 <= self.peer_as <= 0xFFFFFFFF:
            raise ValueError(f"peer AS {self.peer_as} out of range")
        if int(self.router_id) == 0:
            raise ValueError("router id 0.0.0.0 is not a valid BGP Identifier (RFC 6286)")

    @property
    def ebgp(self) -> bool:
        return self.peer_as != self.local_as


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What both OPENs agree on. ``keepalive_s`` is hold/3 (RFC 4271 §10), 0 if hold is 0."""

    peer_as: int
    peer_router_id: IPv4Address
    hold_time_s: int
    keepalive_s: float
    families: frozenset[tuple[int, int]]
    four_octet_as: bool
    extended_message: bool
    route_refresh: bool
    enhanced_route_refresh: bool
    # The peer's graceful restart capability (RFC 4724 §3), when both offered one: its
    # restart time, whether it is restarting, the families whose routes we may keep.
    graceful_restart: GracefulRestartCapability | None = None

    @property
    def codec(self) -> CodecContext:
        """One shared context per pair of flags: the export asks for it once per
        neighbor it sends to, and building one each time was a frozen dataclass's
        ``__init__`` per UPDATE sent."""
        return _CODECS[self.four_octet_as, self.extended_message]


_CODECS = {
    (four, extended): CodecContext(four_octet_as=four, extended_message=extended)
    for four in (False, True)
    for extended in (False, True)
}


def offered_capabilities(config: SessionConfig) -> tuple[Capability, ...]:
    caps: list[Capability] = [MultiprotocolCapability(afi, safi) for afi, safi in config.families]
    if config.route_refresh:
        caps += [RouteRefreshCapability(), EnhancedRouteRefreshCapability()]
    if config.extended_message:
        caps.append(ExtendedMessageCapability())
    if config.four_octet_as:
        caps.append(FourOctetAsCapability(config.local_as))
    if config.graceful_restart is not None:
        caps.append(config.graceful_restart)
    return tuple(caps)


def build_open(config: SessionConfig) -> Open:
    caps = offered_capabilities(config)
    if not config.four_octet_as and config.local_as > 0xFFFF:
        raise ValueError(f"AS {config.local_as} needs the 4-octet AS capability (RFC 6793)")
    return Open.build(config.local_as, config.hold_time_s, config.router_id, caps)


def negotiate(config: SessionConfig, peer: Open) -> Negotiated:
    """Check ``peer``'s OPEN against ``config``; raise ``OpenMessageError`` to refuse it."""
    peer_caps = peer.capabilities
    peer_as4 = any(isinstance(c, FourOctetAsCapability) for c in peer_caps)
    four_octet = config.four_octet_as and peer_as4
    # RFC 6793 §4.1: with the capability, its value is the AS; My AS then carries AS_TRANS.
    peer_as = peer.asn if four_octet else peer.my_as
    if config.peer_as is not None and peer_as != config.peer_as:
        raise OpenMessageError(
            OpenSubcode.BAD_PEER_AS,
            f"peer says AS {peer_as}, configured AS {config.peer_as}",
            # RFC 4271 §6.2 leaves Data empty; FRR and others send the configured AS.
            b"",
        )
    if peer.bgp_identifier == config.router_id and not config.ebgp:
        # RFC 6286 §2.2: identifiers must differ within an AS (iBGP); eBGP may share them.
        raise OpenMessageError(
            OpenSubcode.BAD_BGP_IDENTIFIER,
            f"peer BGP Identifier {peer.bgp_identifier} equals ours on an iBGP session",
        )
    hold = peer.hold_time_s
    if hold and hold < config.min_hold_time_s:
        raise OpenMessageError(
            OpenSubcode.UNACCEPTABLE_HOLD_TIME,
            f"peer hold time {hold}s below our minimum {config.min_hold_time_s}s",
        )
    # RFC 4271 §4.2: the smaller of the two hold times (0 if either is 0).
    hold_time = min(hold, config.hold_time_s)
    ours = set(config.families)
    theirs = peer.families
    common = common_families(config.families, theirs)
    if not common:
        # RFC 5492 §5: no family in common -> Unsupported Capability, Data = what we need.
        data = b"".join(encode_capability(MultiprotocolCapability(a, s)) for a, s in sorted(ours))
        raise OpenMessageError(
            OpenSubcode.UNSUPPORTED_CAPABILITY,
            f"no address family in common: we offer {sorted(ours)}, peer {sorted(theirs)}",
            data,
        )
    return Negotiated(
        peer_as=peer_as,
        peer_router_id=peer.bgp_identifier,
        hold_time_s=hold_time,
        keepalive_s=hold_time / 3,
        families=common,
        four_octet_as=four_octet,
        extended_message=config.extended_message
        and any(isinstance(c, ExtendedMessageCapability) for c in peer_caps),
        route_refresh=config.route_refresh
        and any(isinstance(c, RouteRefreshCapability) for c in peer_caps),
        enhanced_route_refresh=config.route_refresh
        and any(isinstance(c, EnhancedRouteRefreshCapability) for c in peer_caps),
        graceful_restart=None
        if config.graceful_restart is None
        else next((c for c in peer_caps if isinstance(c, GracefulRestartCapability)), None),
    )


@functools.lru_cache(maxsize=64)
def common_families(
    ours: tuple[tuple[int, int], ...], theirs: frozenset[tuple[int, int]]
) -> frozenset[tuple[int, int]]:
    """The families both OPENs offer, one object for every session that agrees on the
    same ones: a frozenset is 216 B, and a region's sessions nearly all agree (a pure
    function of immutable values, so sharing its result changes nothing but memory)."""
    return frozenset(ours).intersection(theirs)
