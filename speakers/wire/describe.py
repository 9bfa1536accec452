"""JSON-friendly views of messages and errors, for structured logs and ``--json`` output.

Pure functions from codec values to dicts of str/int/float/bool/list; no I/O.
"""

from __future__ import annotations

from .capabilities import (
    Capability,
    EnhancedRouteRefreshCapability,
    ExtendedMessageCapability,
    FourOctetAsCapability,
    MultiprotocolCapability,
    RouteRefreshCapability,
    UnknownCapability,
)
from .communities import LinkBandwidth, format_bps
from .constants import MessageType
from .errors import BgpError, UpdateMessageError
from .messages import Keepalive, Message, Open, RouteRefresh
from .notification import Notification
from .update import MpReachNlri, MpUnreachNlri, Update


def describe_capability(cap: Capability) -> dict[str, object]:
    if isinstance(cap, MultiprotocolCapability):
        return {"name": "multiprotocol", "afi": cap.afi, "safi": cap.safi}
    if isinstance(cap, FourOctetAsCapability):
        return {"name": "four-octet-as", "asn": cap.asn}
    if isinstance(cap, RouteRefreshCapability):
        return {"name": "route-refresh"}
    if isinstance(cap, EnhancedRouteRefreshCapability):
        return {"name": "enhanced-route-refresh"}
    if isinstance(cap, ExtendedMessageCapability):
        return {"name": "extended-message"}
    assert isinstance(cap, UnknownCapability)
    return {"name": "unknown", "code": cap.code, "value": cap.value.hex()}


def _mp_reach(mp: MpReachNlri) -> dict[str, object]:
    out: dict[str, object] = {"afi": mp.afi, "safi": mp.safi}
    if mp.raw is not None:
        out["raw"] = mp.raw.hex()
        return out
    out["next_hop"] = str(mp.next_hop)
    if mp.link_local is not None:
        out["link_local"] = str(mp.link_local)
    out["nlri"] = [str(p) for p in mp.nlri]
    return out


def _mp_unreach(mp: MpUnreachNlri) -> dict[str, object]:
    out: dict[str, object] = {"afi": mp.afi, "safi": mp.safi}
    if mp.raw is not None:
        out["raw"] = mp.raw.hex()
    else:
        out["withdrawn"] = [str(p) for p in mp.withdrawn]
    return out


def describe_message(msg: Message) -> dict[str, object]:
    """One dict per message; ``type`` names the message as RFC 4271 does."""
    out: dict[str, object] = {"type": MessageType(msg.type).name}
    if isinstance(msg, Open):
        out.update(
            version=msg.version,
            my_as=msg.my_as,
            asn=msg.asn,
            hold_time_s=msg.hold_time_s,
            bgp_identifier=str(msg.bgp_identifier),
            capabilities=[describe_capability(c) for c in msg.capabilities],
        )
    elif isinstance(msg, Update):
        if msg.withdrawn:
            out["withdrawn"] = [str(p) for p in msg.withdrawn]
        attrs = msg.attributes.describe()
        lbs = [c for c in msg.attributes.ext_communities if isinstance(c, LinkBandwidth)]
        if lbs:
            effective = msg.attributes.link_bandwidth_bytes_per_s
            attrs["link_bandwidth"] = {
                "values_bps": [c.bps for c in lbs],
                "effective_bps": None if effective is None else effective * 8,
                "effective": "none (RFC 10005 §4)"
                if effective is None
                else format_bps(effective * 8),
            }
        if attrs:
            out["attributes"] = attrs
        if msg.mp_reach is not None:
            out["mp_reach_nlri"] = _mp_reach(msg.mp_reach)
        if msg.mp_unreach is not None:
            out["mp_unreach_nlri"] = _mp_unreach(msg.mp_unreach)
        if msg.nlri:
            out["nlri"] = [str(p) for p in msg.nlri]
        eor = msg.end_of_rib
        if eor is not None:
            out["end_of_rib"] = {"afi": eor[0], "safi": eor[1]}
    elif isinstance(msg, Notification):
        out.update(
            code=msg.code,
            subcode=msg.subcode,
            code_name=msg.code_name,
            subcode_name=msg.subcode_name,
            data=msg.data.hex(),
        )
        if msg.shutdown_communication is not None:
            out["shutdown_communication"] = msg.shutdown_communication
    elif isinstance(msg, RouteRefresh):
        out.update(afi=msg.afi, safi=msg.safi, subtype=msg.subtype)
    else:
        assert isinstance(msg, Keepalive)
    return out


def describe_error(err: BgpError) -> dict[str, object]:
    """What was wrong, what the RFCs say to do, and the NOTIFICATION that would be sent."""
    note = err.to_notification()
    out: dict[str, object] = {
        "error": str(err),
        "code": note.code,
        "subcode": note.subcode,
        "code_name": note.code_name,
        "subcode_name": note.subcode_name,
        "data": note.data.hex(),
        "action": err.action.label,
    }
    if isinstance(err, UpdateMessageError):
        out["problems"] = [
            {
                "reason": p.reason,
                "action": p.action.label,
                "rule": p.rule,
                "subcode": p.subcode,
                "attribute": p.attr_type,
            }
            for p in err.problems
        ]
        if err.afi_safi is not None:
            out["afi_safi"] = list(err.afi_safi)
        if err.update is not None:
            out["update"] = describe_message(err.update)
    return out
