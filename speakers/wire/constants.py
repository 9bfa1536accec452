"""Numbers of the BGP wire format, as IANA names them.

Every magic number the codec uses lives here, as an ``IntEnum`` where the value is a
code point (so logs print names) and as a plain ``int`` where it is a size. NOTIFICATION
codes and subcodes carry the names the IANA registry gives them, so an error can be
printed as ``UPDATE Message Error / Malformed AS_PATH`` without a second table.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

MARKER = b"\xff" * 16
HEADER_LEN = 19  # RFC 4271 §4.1: marker (16) + length (2) + type (1)
MAX_MESSAGE_LEN = 4096  # RFC 4271 §4.1
MAX_EXTENDED_MESSAGE_LEN = 65535  # RFC 8654 §4
MIN_OPEN_LEN = 29  # RFC 4271 §4.2
MIN_UPDATE_LEN = 23  # RFC 4271 §4.3
KEEPALIVE_LEN = 19  # RFC 4271 §4.4
MIN_NOTIFICATION_LEN = 21  # RFC 4271 §4.5
ROUTE_REFRESH_LEN = 23  # RFC 2918 §3

BGP_VERSION = 4
AS_TRANS = 23456  # RFC 6793 §9
MAX_ASN_2 = 0xFFFF
MAX_ASN_4 = 0xFFFFFFFF
MAX_SEGMENT_ASNS = 255  # the AS_PATH segment length is one octet (RFC 4271 §4.3)
MAX_SHUTDOWN_COMMUNICATION_LEN = 255  # RFC 9003 §2 (which obsoletes RFC 8203's 128)


class MessageType(IntEnum):
    OPEN = 1
    UPDATE = 2
    NOTIFICATION = 3
    KEEPALIVE = 4
    ROUTE_REFRESH = 5  # RFC 2918


class AttrFlag(IntFlag):
    """RFC 4271 §4.3 attribute flags (high-order bits of the flags octet)."""

    OPTIONAL = 0x80
    TRANSITIVE = 0x40
    PARTIAL = 0x20
    EXTENDED_LENGTH = 0x10


class AttrType(IntEnum):
    ORIGIN = 1
    AS_PATH = 2
    NEXT_HOP = 3
    MULTI_EXIT_DISC = 4
    LOCAL_PREF = 5
    ATOMIC_AGGREGATE = 6
    AGGREGATOR = 7
    COMMUNITIES = 8  # RFC 1997
    ORIGINATOR_ID = 9  # RFC 4456
    CLUSTER_LIST = 10  # RFC 4456
    MP_REACH_NLRI = 14  # RFC 4760
    MP_UNREACH_NLRI = 15  # RFC 4760
    EXTENDED_COMMUNITIES = 16  # RFC 4360
    AS4_PATH = 17  # RFC 6793
    AS4_AGGREGATOR = 18  # RFC 6793
    LARGE_COMMUNITY = 32  # RFC 8092


class Origin(IntEnum):
    IGP = 0
    EGP = 1
    INCOMPLETE = 2


class SegmentType(IntEnum):
    AS_SET = 1
    AS_SEQUENCE = 2
    AS_CONFED_SEQUENCE = 3  # RFC 5065
    AS_CONFED_SET = 4  # RFC 5065


class Afi(IntEnum):
    IPV4 = 1
    IPV6 = 2


class Safi(IntEnum):
    UNICAST = 1
    MULTICAST = 2


class OptionalParameterType(IntEnum):
    AUTHENTICATION = 1  # deprecated by RFC 5492
    CAPABILITIES = 2  # RFC 5492
    EXTENDED_LENGTH = 255  # RFC 9072


class CapabilityCode(IntEnum):
    MULTIPROTOCOL = 1  # RFC 4760
    ROUTE_REFRESH = 2  # RFC 2918
    EXTENDED_NEXT_HOP = 5  # RFC 8950
    EXTENDED_MESSAGE = 6  # RFC 8654
    GRACEFUL_RESTART = 64  # RFC 4724
    FOUR_OCTET_AS = 65  # RFC 6793
    ADD_PATH = 69  # RFC 7911
    ENHANCED_ROUTE_REFRESH = 70  # RFC 7313


class RouteRefreshSubtype(IntEnum):
    """RFC 7313 §3.2: the octet RFC 2918 called Reserved."""

    NORMAL = 0
    BEGIN_OF_ROUTE_REFRESH = 1
    END_OF_ROUTE_REFRESH = 2


# --- NOTIFICATION codes and subcodes (RFC 4271 §4.5, §6; RFC 4486; RFC 6608; RFC 7313; RFC 8203)


class ErrorCode(IntEnum):
    MESSAGE_HEADER_ERROR = 1
    OPEN_MESSAGE_ERROR = 2
    UPDATE_MESSAGE_ERROR = 3
    HOLD_TIMER_EXPIRED = 4
    FINITE_STATE_MACHINE_ERROR = 5
    CEASE = 6
    ROUTE_REFRESH_MESSAGE_ERROR = 7  # RFC 7313 §5


class HeaderSubcode(IntEnum):
    UNSPECIFIC = 0
    CONNECTION_NOT_SYNCHRONIZED = 1
    BAD_MESSAGE_LENGTH = 2
    BAD_MESSAGE_TYPE = 3


class OpenSubcode(IntEnum):
    UNSPECIFIC = 0
    UNSUPPORTED_VERSION_NUMBER = 1
    BAD_PEER_AS = 2
    BAD_BGP_IDENTIFIER = 3
    UNSUPPORTED_OPTIONAL_PARAMETER = 4
    AUTHENTICATION_FAILURE = 5  # deprecated (RFC 4271 Appendix A)
    UNACCEPTABLE_HOLD_TIME = 6
    UNSUPPORTED_CAPABILITY = 7  # RFC 5492
    ROLE_MISMATCH = 11  # RFC 9234


class UpdateSubcode(IntEnum):
    UNSPECIFIC = 0
    MALFORMED_ATTRIBUTE_LIST = 1
    UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE = 2
    MISSING_WELL_KNOWN_ATTRIBUTE = 3
    ATTRIBUTE_FLAGS_ERROR = 4
    ATTRIBUTE_LENGTH_ERROR = 5
    INVALID_ORIGIN_ATTRIBUTE = 6
    AS_ROUTING_LOOP = 7  # deprecated (RFC 4271 Appendix A)
    INVALID_NEXT_HOP_ATTRIBUTE = 8
    OPTIONAL_ATTRIBUTE_ERROR = 9
    INVALID_NETWORK_FIELD = 10
    MALFORMED_AS_PATH = 11


class FsmSubcode(IntEnum):
    """RFC 6608 §3."""

    UNSPECIFIED = 0
    UNEXPECTED_MESSAGE_IN_OPENSENT = 1
    UNEXPECTED_MESSAGE_IN_OPENCONFIRM = 2
    UNEXPECTED_MESSAGE_IN_ESTABLISHED = 3


class CeaseSubcode(IntEnum):
    """RFC 4486 §3, plus RFC 8538 (Hard Reset) and RFC 9687 (BFD Down)."""

    UNSPECIFIC = 0
    MAXIMUM_NUMBER_OF_PREFIXES_REACHED = 1
    ADMINISTRATIVE_SHUTDOWN = 2
    PEER_DECONFIGURED = 3
    ADMINISTRATIVE_RESET = 4
    CONNECTION_REJECTED = 5
    OTHER_CONFIGURATION_CHANGE = 6
    CONNECTION_COLLISION_RESOLUTION = 7
    OUT_OF_RESOURCES = 8
    HARD_RESET = 9
    BFD_DOWN = 10


class RouteRefreshSubcode(IntEnum):
    """RFC 7313 §5."""

    RESERVED = 0
    INVALID_MESSAGE_LENGTH = 1


# Names as the IANA "BGP Error (Notification) Codes" and "...Subcodes" registries spell them.
ERROR_CODE_NAMES: dict[int, str] = {
    ErrorCode.MESSAGE_HEADER_ERROR: "Message Header Error",
    ErrorCode.OPEN_MESSAGE_ERROR: "OPEN Message Error",
    ErrorCode.UPDATE_MESSAGE_ERROR: "UPDATE Message Error",
    ErrorCode.HOLD_TIMER_EXPIRED: "Hold Timer Expired",
    ErrorCode.FINITE_STATE_MACHINE_ERROR: "Finite State Machine Error",
    ErrorCode.CEASE: "Cease",
    ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR: "ROUTE-REFRESH Message Error",
}

ERROR_SUBCODE_NAMES: dict[int, dict[int, str]] = {
    ErrorCode.MESSAGE_HEADER_ERROR: {
        0: "Unspecific",
        1: "Connection Not Synchronized",
        2: "Bad Message Length",
        3: "Bad Message Type",
    },
    ErrorCode.OPEN_MESSAGE_ERROR: {
        0: "Unspecific",
        1: "Unsupported Version Number",
        2: "Bad Peer AS",
        3: "Bad BGP Identifier",
        4: "Unsupported Optional Parameter",
        5: "Authentication Failure (deprecated)",
        6: "Unacceptable Hold Time",
        7: "Unsupported Capability",
        8: "Deprecated",
        9: "Deprecated",
        10: "Deprecated",
        11: "Role Mismatch",
    },
    ErrorCode.UPDATE_MESSAGE_ERROR: {
        0: "Unspecific",
        1: "Malformed Attribute List",
        2: "Unrecognized Well-known Attribute",
        3: "Missing Well-known Attribute",
        4: "Attribute Flags Error",
        5: "Attribute Length Error",
        6: "Invalid ORIGIN Attribute",
        7: "AS Routing Loop (deprecated)",
        8: "Invalid NEXT_HOP Attribute",
        9: "Optional Attribute Error",
        10: "Invalid Network Field",
        11: "Malformed AS_PATH",
    },
    ErrorCode.HOLD_TIMER_EXPIRED: {0: "Unspecific"},
    ErrorCode.FINITE_STATE_MACHINE_ERROR: {
        0: "Unspecified Error",
        1: "Receive Unexpected Message in OpenSent State",
        2: "Receive Unexpected Message in OpenConfirm State",
        3: "Receive Unexpected Message in Established State",
    },
    ErrorCode.CEASE: {
        0: "Unspecific",
        1: "Maximum Number of Prefixes Reached",
        2: "Administrative Shutdown",
        3: "Peer De-configured",
        4: "Administrative Reset",
        5: "Connection Rejected",
        6: "Other Configuration Change",
        7: "Connection Collision Resolution",
        8: "Out of Resources",
        9: "Hard Reset",
        10: "BFD Down",
    },
    ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR: {
        0: "Reserved",
        1: "Invalid Message Length",
    },
}


def error_code_name(code: int) -> str:
    """The IANA name of a NOTIFICATION error code, or ``Unknown(<n>)``."""
    return ERROR_CODE_NAMES.get(code, f"Unknown({code})")


def error_subcode_name(code: int, subcode: int) -> str:
    """The IANA name of a subcode under ``code``, or ``Unknown(<n>)``."""
    return ERROR_SUBCODE_NAMES.get(code, {}).get(subcode, f"Unknown({subcode})")


# --- extended communities (RFC 4360, RFC 10005)

EXT_COMMUNITY_LEN = 8
EXT_TYPE_TWO_OCTET_AS_TRANSITIVE = 0x00  # RFC 10005 §2
EXT_TYPE_TWO_OCTET_AS_NON_TRANSITIVE = 0x40  # RFC 10005 §2
EXT_SUBTYPE_LINK_BANDWIDTH = 0x04  # RFC 10005 §2, §5
