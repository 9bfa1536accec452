"""UPDATE encode/decode throughput: bagemu's codec and exabgp 5.0.15's, side by side.

    python bench/codec.py            # table
    python bench/codec.py --json     # one JSON object
    python bench/codec.py --quick    # a smaller run (CI checks that the bench works)

Workload: batches of 1 to 500 prefixes (log-uniform, fixed seed), half IPv4 (body NLRI)
and half IPv6 (MP_REACH_NLRI), prefix lengths mixed (/16-/32, /40-/128). Every prefix in
the run is distinct, and every batch has its own attributes (AS path, MED, communities
and a link-bandwidth extended community with its own value), so no work repeats across
iterations. Each side encodes each batch into as many 4096-octet UPDATEs as it needs, then
decodes every message it produced.

Fairness: both sides start from pre-built objects (our ``Prefix`` + ``PathAttributes``,
exabgp's ``INET`` + ``Attributes``), so object construction outside the codec is timed
for neither. exabgp 5.0.15 memoizes the attributes of the last IPv4 UPDATE it decoded on
its ``Negotiated`` object (``cached_wire``/``cached_attributes``); the bench clears that
cache before every exabgp decode, and says so in its output. exabgp's own logger is
disabled (its decoder calls it unconditionally). Each side runs ``--rounds`` times,
interleaved, and the fastest round counts.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import platform
import random
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speakers.wire import (
    AsPath,
    LinkBandwidth,
    Origin,
    PathAttributes,
    Prefix,
    decode_message,
    pack_announce,
)
from speakers.wire.communities import ExtendedCommunity

V4_LENGTHS = (16, 20, 22, 24, 24, 24, 26, 28, 30, 32)
V6_LENGTHS = (40, 44, 48, 48, 56, 64, 64, 64, 96, 127, 128)
NEXT_HOP_V6 = ipaddress.IPv6Address("2001:db8::1")
LINK_LOCAL = ipaddress.IPv6Address("fe80::1")


@dataclass(frozen=True)
class Batch:
    """One set of attributes and the prefixes that share it (the unit both sides encode)."""

    v6: bool
    asns: tuple[int, ...]
    med: int
    communities: tuple[int, ...]
    bandwidth_bps: float
    prefixes: tuple[tuple[bytes, int], ...]  # (full-width packed address, length)


def make_workload(n_batches: int, seed: int) -> list[Batch]:
    rng = random.Random(seed)
    batches = []
    v4_next = 0x0B000000  # 11.0.0.0, walked upward so every prefix is distinct
    v6_next = 0
    for i in range(n_batches):
        v6 = i % 2 == 1
        count = min(500, int(math.exp(rng.uniform(0, math.log(501)))))
        prefixes = []
        for _ in range(count):
            if v6:
                length = rng.choice(V6_LENGTHS)
                v6_next += 1
                addr = (0x20010DB8 << 96) | (v6_next << (128 - 40))  # distinct /40 blocks
                addr &= ((1 << 128) - 1) ^ ((1 << (128 - length)) - 1)
                prefixes.append((addr.to_bytes(16, "big"), length))
            else:
                length = rng.choice(V4_LENGTHS)
                addr = v4_next & (0xFFFFFFFF ^ ((1 << (32 - length)) - 1))
                v4_next += 1 << (32 - 16)  # one /16 per prefix keeps them distinct
                if v4_next >= 0xDF000000:
                    v4_next = 0x0B000000 + (v4_next & 0xFFFF) + 0x100
                prefixes.append((addr.to_bytes(4, "big"), length))
        asns = (65000 + i % 500, 4200000000 + i, 64512 + rng.randrange(100))
        batches.append(
            Batch(
                v6=v6,
                asns=asns,
                med=rng.randrange(1000),
                communities=((65001 << 16) | (i & 0xFFFF), 0xFFFFFF01),
                bandwidth_bps=rng.choice((100e9, 400e9, 800e9, 12.8e12, 345.6e12)) * (1 + i % 7),
                prefixes=tuple(prefixes),
            )
        )
    return batches


# --- ours ---------------------------------------------------------------------------------


def ours_inputs(batches: list[Batch]) -> list[tuple[PathAttributes, list[Prefix], bool]]:
    out = []
    for b in batches:
        attrs = PathAttributes(
            origin=Origin.IGP,
            as_path=AsPath.sequence(*b.asns),
            next_hop=None if b.v6 else ipaddress.IPv4Address("192.0.2.254"),
            med=b.med,
            communities=b.communities,
            ext_communities=(
                LinkBandwidth.from_bps(b.bandwidth_bps, b.asns[0]),
                ExtendedCommunity(bytes.fromhex("0002fde900000064")),
            ),
        )
        out.append((attrs, [Prefix(p, n) for p, n in b.prefixes], b.v6))
    return out


def ours_encode(inputs: list[tuple[PathAttributes, list[Prefix], bool]]) -> list[bytes]:
    wires: list[bytes] = []
    for attrs, prefixes, v6 in inputs:
        if v6:
            wires += pack_announce(attrs, prefixes, next_hop=NEXT_HOP_V6, link_local=LINK_LOCAL)
        else:
            wires += pack_announce(attrs, prefixes)
    return wires


def ours_decode(wires: list[bytes]) -> int:
    n = 0
    for w in wires:
        n += len(decode_message(w).announced)
    return n


# --- exabgp -------------------------------------------------------------------------------


def exabgp_side():
    from exabgp.logger import log

    log.disable()  # exabgp's decoder logs unconditionally; without a logger it crashes
    from exabgp.bgp.message.action import Action
    from exabgp.bgp.message.direction import Direction
    from exabgp.bgp.message.open.asn import ASN
    from exabgp.bgp.message.open.capability import Negotiated
    from exabgp.bgp.message.update import Update
    from exabgp.bgp.message.update.attribute import (
        MED,
        SEQUENCE,
        ASPath,
        Attributes,
        Communities,
        ExtendedCommunities,
        NextHop,
    )
    from exabgp.bgp.message.update.attribute import Origin as XOrigin
    from exabgp.bgp.message.update.attribute.community.extended.bandwidth import Bandwidth
    from exabgp.bgp.message.update.attribute.community.extended.community import (
        ExtendedCommunity as XExt,
    )
    from exabgp.bgp.message.update.attribute.community.initial.community import Community
    from exabgp.bgp.message.update.nlri.cidr import CIDR
    from exabgp.bgp.message.update.nlri.inet import INET
    from exabgp.bgp.neighbor import Neighbor
    from exabgp.protocol.family import AFI, SAFI
    from exabgp.protocol.ip import IP

    neg = Negotiated(Neighbor())
    neg.asn4 = True
    neg.families = [(AFI.ipv4, SAFI.unicast), (AFI.ipv6, SAFI.unicast)]
    neg.msg_size = 4096
    neg.local_as = ASN(65000)
    neg.peer_as = ASN(65001)
    nh4 = IP.create("192.0.2.254")
    nh6 = IP.create("2001:db8::1", NEXT_HOP_V6.packed + LINK_LOCAL.packed)

    def inputs(batches: list[Batch]):
        out = []
        for b in batches:
            attrs = Attributes()
            attrs.add(XOrigin(XOrigin.IGP))
            attrs.add(ASPath([SEQUENCE([ASN(a) for a in b.asns])]))
            if not b.v6:
                attrs.add(NextHop("192.0.2.254"))
            attrs.add(MED(b.med))
            attrs.add(Communities([Community(struct.pack("!I", c)) for c in b.communities]))
            lb = LinkBandwidth.from_bps(b.bandwidth_bps, b.asns[0])
            attrs.add(
                ExtendedCommunities(
                    [
                        Bandwidth(lb.asn, lb.bytes_per_s, lb.encode()),
                        XExt(bytes.fromhex("0002fde900000064")),
                    ]
                )
            )
            nlris = []
            for packed, length in b.prefixes:
                nl = INET(AFI.ipv6 if b.v6 else AFI.ipv4, SAFI.unicast, Action.ANNOUNCE)
                nl.cidr = CIDR(packed, length)
                nl.nexthop = nh6 if b.v6 else nh4
                nlris.append(nl)
            out.append((nlris, attrs))
        return out

    def encode(prepared) -> list[bytes]:
        wires: list[bytes] = []
        for nlris, attrs in prepared:
            wires.extend(Update(nlris, attrs).messages(neg))
        return wires

    def decode(wires: list[bytes]) -> int:
        n = 0
        seen: set = set()
        for w in wires:
            neg.cached_attributes = None  # exabgp's last-UPDATE attribute cache: cleared
            neg.cached_wire = b""
            update = Update.unpack_message(w[19:], Direction.IN, neg)
            # exabgp yields each NLRI once per next hop (global, link-local): count prefixes
            seen.clear()
            for nlri in update.nlris:
                seen.add(nlri.cidr.prefix())
            n += len(seen)
        return n

    return inputs, encode, decode


# --- run ----------------------------------------------------------------------------------


def timed(fn, arg) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn(arg)
    return time.perf_counter() - t0, result


def run(n_batches: int, rounds: int, seed: int) -> dict[str, object]:
    batches = make_workload(n_batches, seed)
    total = sum(len(b.prefixes) for b in batches)
    x_inputs, x_encode, x_decode = exabgp_side()
    ours_in = ours_inputs(batches)
    x_in = x_inputs(batches)
    best = {k: math.inf for k in ("oe", "od", "xe", "xd")}
    ours_wires: list[bytes] = []
    x_wires: list[bytes] = []
    for _ in range(rounds):
        t, ours_wires = timed(ours_encode, ours_in)
        best["oe"] = min(best["oe"], t)
        t, x_wires = timed(x_encode, x_in)
        best["xe"] = min(best["xe"], t)
        t, n = timed(ours_decode, ours_wires)
        assert n == total, (n, total)
        best["od"] = min(best["od"], t)
        t, n = timed(x_decode, x_wires)
        assert n == total, (n, total)
        best["xd"] = min(best["xd"], t)
    out = {
        "prefixes": total,
        "batches": n_batches,
        "ours_messages": len(ours_wires),
        "exabgp_messages": len(x_wires),
        "rounds": rounds,
        "ours_encode_pps": total / best["oe"],
        "ours_decode_pps": total / best["od"],
        "exabgp_encode_pps": total / best["xe"],
        "exabgp_decode_pps": total / best["xd"],
        "ours_encode_msgs_per_s": len(ours_wires) / best["oe"],
        "ours_decode_msgs_per_s": len(ours_wires) / best["od"],
        "exabgp_encode_msgs_per_s": len(x_wires) / best["xe"],
        "exabgp_decode_msgs_per_s": len(x_wires) / best["xd"],
        "exabgp_decode_cache": "cleared before every decode",
        "python": platform.python_version(),
    }
    out["encode_ratio"] = out["ours_encode_pps"] / out["exabgp_encode_pps"]
    out["decode_ratio"] = out["ours_decode_pps"] / out["exabgp_decode_pps"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="small run, to check the bench")
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.quick:
        args.batches, args.rounds = 20, 1
    result = run(args.batches, args.rounds, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"UPDATE codec throughput: {result['prefixes']} prefixes in {result['batches']} "
        f"batches of 1-500, IPv4+IPv6, link bandwidth on every path; best of {args.rounds}"
    )
    print(f"exabgp decode cache: {result['exabgp_decode_cache']}\n")
    print(f"{'':10}{'encode pfx/s':>14}{'decode pfx/s':>14}{'enc msg/s':>12}{'dec msg/s':>12}")
    for side, label in (("ours", "bagemu"), ("exabgp", "exabgp")):
        print(
            f"{label:10}{result[f'{side}_encode_pps']:>14,.0f}{result[f'{side}_decode_pps']:>14,.0f}"
            f"{result[f'{side}_encode_msgs_per_s']:>12,.0f}{result[f'{side}_decode_msgs_per_s']:>12,.0f}"
        )
    print(
        f"{'ratio':10}{result['encode_ratio']:>13.1f}x{result['decode_ratio']:>13.1f}x"
        f"   (messages: ours {result['ours_messages']}, exabgp {result['exabgp_messages']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
