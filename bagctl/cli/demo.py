"""``bagctl demo``: what bagemu can show today, with no setup.

First the BGP codec the way a BAG switch uses it: the OPEN a 4-octet-AS BAG chassis sends,
an UPDATE for GPU subnets carrying the link bandwidth of a 16 x 800G bundle (RFC 10005), a
full table packed into as few UPDATEs as the 4096-octet limit allows, and a malformed
UPDATE with the RFC 7606 verdict. Then the ``mini`` region on the embedded runtime (every
switch a speaker in this process, real TCP on 127/8): cold start, one bundle failing, its
members partly failing, each with its convergence report and a BAG's UCMP weights.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
import time
from typing import Any

import click

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
    format_bps,
    pack_announce,
)
from speakers.wire.describe import describe_error, describe_message

from .output import emit_json

BAG_ASN = 4_200_001_000  # a 4-octet private ASN: My AS carries AS_TRANS (RFC 6793)
RTSW_ASN = 4_200_100_001
BUNDLE_BPS = 16 * 800e9  # one RTSW->BAG bundle: 16 members of 800G


def run_demo() -> dict[str, Any]:
    """Build, encode and decode the demo messages; return a JSON-friendly report."""
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
    report["region"] = asyncio.run(_region_demo())
    return report


async def _region_demo() -> dict[str, Any]:
    from ..runtimes import Region
    from ..topology.generate import generate

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


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def demo(as_json: bool) -> None:
    """Encode and decode what a BAG switch sends: OPEN, UPDATE with link bandwidth, a packed
    table, and a malformed UPDATE."""
    report = run_demo()
    if as_json:
        emit_json({"ok": True, **report})
        return
    o, u, p, m = report["open"], report["update"], report["packing"], report["malformed"]
    echo = click.echo
    echo(f"OPEN from a BAG chassis, AS {BAG_ASN} (My AS = AS_TRANS): {o['octets']} octets")
    echo(f"  {o['hex']}")
    echo(
        f"UPDATE from an RTSW, 4 GPU subnets, link bandwidth {format_bps(BUNDLE_BPS)} "
        f"(16 x 800G): {u['octets']} octets"
    )
    echo(f"  {u['hex']}")
    echo(
        f"  received link bandwidth {u['link_bandwidth_received_bps']:.6g} b/s "
        f"(float32, relative error {u['float32_relative_error']:.1e})"
    )
    echo(
        f"Packing: {p['ipv4_prefixes']} IPv4 /24 -> {p['ipv4_updates']} UPDATEs, "
        f"{p['ipv6_prefixes']} IPv6 /64 -> {p['ipv6_updates']} UPDATEs "
        f"(largest {p['largest_update_octets']} octets); encode {p['encode_s']}s, "
        f"decode {p['decode_s']}s, all prefixes read back"
    )
    echo(f"Malformed UPDATE: {m.get('error')}")
    echo(f"  -> {m.get('action')}, per {m['problems'][0]['rule'] if m.get('problems') else '-'}")
    r = report["region"]
    echo(f"Region {r['preset']} (embedded runtime, TCP): {r['bag']} UCMP weights for {r['prefix']}")
    for step in r["steps"]:
        rep = step["report"]
        echo(
            f"  {rep['event']:45} converged {rep['converged_s'] * 1000:7.1f} ms, "
            f"{rep['updates_sent']:5} UPDATEs, {rep['fib_changes']:5} FIB changes -> "
            + ", ".join(
                f"{hop.rsplit('-', 2)[-2]}-{hop.rsplit('-', 1)[-1]}:{w}"
                for hop, w in step["weights"].items()
            )
        )
    sys.stdout.flush()
