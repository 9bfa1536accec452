"""What bagemu can show today, with no setup (``bagctl demo`` prints it).

First the BGP codec the way a BAG switch uses it: the OPEN a 4-octet-AS BAG chassis sends,
an UPDATE for GPU subnets carrying the link bandwidth of a 16 x 800G bundle (RFC 10005), a
full table packed into as few UPDATEs as the 4096-octet limit allows, and a malformed
UPDATE with the RFC 7606 verdict. Then the ``mini`` region on the embedded runtime (every
switch a speaker in this process, real TCP on 127/8): cold start, one bundle failing, its
members partly failing, each with its convergence report and a BAG's UCMP weights.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from speakers.wire import (
    AsPath,
    BgpError,
    LinkBandwidth,
    MultiprotocolCapability,
    Open,
    Origin,
    PathAttributes,
    Prefix,
    RouteRefreshCapability,
    Update,
    decode_message,
    encode_message,
    pack_announce,
)
from speakers.wire.describe import describe_error, describe_message

from . import interrupts

BAG_ASN = 4_200_001_000  # a 4-octet private ASN: My AS carries AS_TRANS (RFC 6793)
RTSW_ASN = 4_200_100_001
BUNDLE_BPS = 16 * 800e9  # one RTSW->BAG bundle: 16 members of 800G


def run_demo() -> dict[str, Any]:
    """The whole demo as a JSON-friendly report: the codec's part, then the region's
    (``region``)."""
    return {**codec_demo(), "region": interrupts.run(region_demo())}


def codec_demo() -> dict[str, Any]:
    """Build, encode and decode the demo messages (``open``, ``update``, ``packing``,
    ``malformed``); each is decoded back and compared with what was built."""
    report: dict[str, Any] = {}

    open_msg = Open.build(
        BAG_ASN,
        9,
        "10.255.0.1",
        (MultiprotocolCapability(1, 1), MultiprotocolCapability(2, 1), RouteRefreshCapability()),
    )
    wire = encode_message(open_msg)
    assert decode_message(wire) == open_msg
    report["open"] = {"octets": len(wire), "hex": wire.hex(), "decoded": describe_message(open_msg)}

    lb = LinkBandwidth.from_bps(BUNDLE_BPS, RTSW_ASN)
    attrs = PathAttributes(
        origin=Origin.IGP,
        as_path=AsPath.sequence(RTSW_ASN),
        next_hop=ipaddress.IPv4Address("10.0.0.1"),
        ext_communities=(lb,),
    )
    update = Update(attributes=attrs, nlri=tuple(Prefix.parse(f"10.1.{i}.0/24") for i in range(4)))
    wire = encode_message(update)
    decoded = decode_message(wire)
    assert decoded == update
    report["update"] = {
        "octets": len(wire),
        "hex": wire.hex(),
        "decoded": describe_message(decoded),
        "link_bandwidth_sent_bps": BUNDLE_BPS,
        "link_bandwidth_received_bps": lb.bps,
        "float32_relative_error": abs(lb.bps - BUNDLE_BPS) / BUNDLE_BPS,
    }

    v4 = [Prefix((0x0A000000 + (i << 8)).to_bytes(4, "big"), 24) for i in range(20_000)]
    v6 = [Prefix(((0x20010DB8 << 96) | (i << 64)).to_bytes(16, "big"), 64) for i in range(20_000)]
    t0 = time.perf_counter()
    v4_msgs = pack_announce(attrs, v4)
    v6_msgs = pack_announce(
        attrs, v6, next_hop=ipaddress.IPv6Address("2001:db8::1"), link_local=None
    )
    encode_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    updates = [decode_message(m) for m in v4_msgs + v6_msgs]
    back = [p for u in updates if isinstance(u, Update) for p in u.announced]
    decode_s = time.perf_counter() - t0
    assert sorted(back) == sorted(v4 + v6)
    report["packing"] = {
        "ipv4_prefixes": len(v4),
        "ipv4_updates": len(v4_msgs),
        "ipv6_prefixes": len(v6),
        "ipv6_updates": len(v6_msgs),
        "largest_update_octets": max(len(m) for m in v4_msgs + v6_msgs),
        "encode_s": round(encode_s, 4),
        "decode_s": round(decode_s, 4),
    }

    broken = bytearray(encode_message(update))
    at = broken.index(b"\xc0\x10\x08")  # EXTENDED_COMMUNITIES, length 8
    broken[at + 2] = 12  # a length that is not a multiple of 8 (RFC 7606 §7.14)
    broken[at + 3 + 8 : at + 3 + 8] = b"\0\0\0\0"
    broken[16:18] = len(broken).to_bytes(2, "big")
    broken[21:23] = (int.from_bytes(broken[21:23], "big") + 4).to_bytes(2, "big")
    try:
        decode_message(bytes(broken))
        report["malformed"] = {"error": None}
    except BgpError as exc:
        report["malformed"] = describe_error(exc)
    return report


async def region_demo() -> dict[str, Any]:
    """The ``mini`` region in this process over TCP: cold start, one of a leaf's bundles
    down and up again, then half the members of its other one down; each step's report
    and the BAG's UCMP weights for the leaf's prefix."""
    from .runtimes import Region
    from .topology.generate import generate

    bag, prefix = "r1-bag1-1", "10.0.0.0/24"
    region = Region(generate("mini"))
    steps: list[dict[str, object]] = []
    try:
        cold = await region.start(timeout=120)
        steps.append({"report": cold.as_dict(), "weights": await region.weights(bag, prefix)})
        leaf, ftsw = "r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1"
        down = await region.bundle_down(leaf, ftsw)
        steps.append({"report": down.as_dict(), "weights": await region.weights(bag, prefix)})
        up = await region.bundle_up(leaf, ftsw)
        steps.append({"report": up.as_dict(), "weights": await region.weights(bag, prefix)})
        half = await region.set_members(leaf, "r1-nsf1-ftsw1-2", 16)
        steps.append({"report": half.as_dict(), "weights": await region.weights(bag, prefix)})
    finally:
        await region.aclose()
    return {"preset": "mini", "bag": bag, "prefix": prefix, "steps": steps}


__all__ = ["BAG_ASN", "BUNDLE_BPS", "RTSW_ASN", "codec_demo", "region_demo", "run_demo"]
