"""The BGP wire codec: bytes <-> frozen dataclasses, pure functions, no I/O.

Start with ``decode_message`` / ``encode_message`` (one whole message), ``MessageReader``
(whole messages out of a byte stream) and ``pack_announce`` / ``pack_withdraw`` (many
prefixes into few UPDATEs). Malformed input raises a ``BgpError`` whose
``to_notification()`` is the reply the RFCs ask for; UPDATE faults raise
``UpdateMessageError`` with the RFC 7606 ``action``.
"""

from .attributes import Aggregator, AsPath, AsPathSegment, PathAttributes, RawAttribute
from .capabilities import (
    Capability,
    EnhancedRouteRefreshCapability,
    ExtendedMessageCapability,
    FourOctetAsCapability,
    GracefulRestartCapability,
    GracefulRestartFamily,
    MultiprotocolCapability,
    RouteRefreshCapability,
    UnknownCapability,
)
from .communities import (
    ExtendedCommunity,
    LinkBandwidth,
    community_str,
    effective_link_bandwidth,
    format_bps,
    parse_community,
)
from .constants import (
    AS_TRANS,
    Afi,
    AttrType,
    CeaseSubcode,
    ErrorCode,
    MessageType,
    Origin,
    Safi,
    SegmentType,
    UpdateSubcode,
)
from .context import DEFAULT_CONTEXT, CodecContext
from .encode_error import EncodeError
from .errors import (
    AttributeProblem,
    BgpError,
    ErrorAction,
    MessageHeaderError,
    OpenMessageError,
    RouteRefreshMessageError,
    UpdateMessageError,
)
from .header import MessageReader, check_header
from .messages import (
    CapabilitiesParameter,
    Keepalive,
    Message,
    Open,
    RouteRefresh,
    decode_framed,
    decode_message,
    encode_message,
)
from .notification import Notification
from .prefix import Prefix
from .update import (
    MpReachNlri,
    MpUnreachNlri,
    Update,
    encode_end_of_rib,
    pack_announce,
    pack_announce_spliced,
    pack_withdraw,
)

__all__ = [
    "AS_TRANS",
    "DEFAULT_CONTEXT",
    "Afi",
    "Aggregator",
    "AsPath",
    "AsPathSegment",
    "AttrType",
    "AttributeProblem",
    "BgpError",
    "CapabilitiesParameter",
    "Capability",
    "CeaseSubcode",
    "CodecContext",
    "EncodeError",
    "EnhancedRouteRefreshCapability",
    "GracefulRestartCapability",
    "GracefulRestartFamily",
    "ErrorAction",
    "ErrorCode",
    "ExtendedCommunity",
    "ExtendedMessageCapability",
    "FourOctetAsCapability",
    "Keepalive",
    "LinkBandwidth",
    "Message",
    "MessageHeaderError",
    "MessageReader",
    "MessageType",
    "MpReachNlri",
    "MpUnreachNlri",
    "MultiprotocolCapability",
    "Notification",
    "Open",
    "OpenMessageError",
    "Origin",
    "PathAttributes",
    "Prefix",
    "RawAttribute",
    "RouteRefresh",
    "RouteRefreshCapability",
    "RouteRefreshMessageError",
    "Safi",
    "SegmentType",
    "UnknownCapability",
    "Update",
    "UpdateMessageError",
    "UpdateSubcode",
    "check_header",
    "community_str",
    "decode_framed",
    "decode_message",
    "effective_link_bandwidth",
    "encode_end_of_rib",
    "encode_message",
    "format_bps",
    "pack_announce",
    "pack_announce_spliced",
    "pack_withdraw",
    "parse_community",
]
