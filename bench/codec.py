"""UPDATE encode/decode throughput: bagemu's codec and exabgp 5.0.15's, side by side.

    python bench/codec.py            # table
    python bench/codec.py --json     # one JSON object
    python bench/codec.py --quick    # a smaller run (CI checks that the bench works)

Workload: batches of 1 to 500 prefixes (log-uniform, fixed seed), half IPv4 (body NLRI)
and half IPv6 (MP_REACH_NLRI), prefix lengths mixed (/16-/32, /40-/128). Every prefix in
the run is distinct, and every batch has its own attributes (AS path, MED, communities
and a link-bandwidth extended community with its own value). Each side encodes each batch
into as many 4096-octet UPDATEs as it needs, then decodes every message it produced (the
two sides' messages have the same count and octets, only attribute and NLRI order differ;
decoding the other side's messages instead moved neither side's figure by over 4%).
IPv6 routes carry one 16-octet global next hop, as bagemu's speakers send them
(``speakers/policy.py`` ``_next_hop``; ``speakers/export.py`` passes no link-local): a
32-octet next hop (global + link-local) makes exabgp build every IPv6 NLRI twice.

Two workloads, the same prefixes and attributes in both; the order within a batch differs:

- ``default`` (the top-level JSON keys): prefixes in address order, lengths mixed at
  random, as a RIB walk and so an UPDATE stream gives them. exabgp's encoder sorts each
  UPDATE's NLRIs (``Update._split_nlris``: ``sorted``, whose comparison packs both NLRIs'
  index bytes every time), so it pays n log n of those here: 80% of its encode time
  under cProfile.
  That is exabgp's real cost on such input, but it favours bagemu, which does not sort.
- ``sorted``: each batch pre-sorted in exabgp's own order (length, then address), so its
  sort makes n - 1 comparisons and costs next to nothing. This favours exabgp: no speaker
  is handed routes in that order.

What is timed, alike on both sides: encode takes pre-built objects (our ``Prefix`` and
``PathAttributes``, exabgp's ``INET`` and ``Attributes``; building them is timed for
neither) to a list of wire messages; decode takes each message to a decoded UPDATE, counts
its prefixes and drops it, as a receiver that has handed the routes on. Nothing is
formatted as text. Ours also checks the 19-octet header (``decode_message``); exabgp is
handed the body, its reader having read the header. That each side decoded everything is
checked outside the timing: every message is decoded again and the multiset of (prefix,
length, next hop, MED, AS path) must be the workload's.

Caches, treated alike: both codecs keep process-wide caches of decoded values. Ours are the
memos of ``speakers/wire/update_decoder.py`` (attribute values ``_DECODED``, whole attribute
blocks ``_BLOCKS``: ``clear_memos``) and of ``update_memo.py`` (whole messages:
``clear``); exabgp's are the
attributes of the last IPv4 UPDATE of a session (``Negotiated.cached_wire``), its
per-attribute caches (``Attribute.cache``: ORIGIN, MED, NEXT_HOP...) and its interned ASNs
(``Resource.cache``). Before every timed encode and decode, outside the timing, both sides'
caches are put back as a fresh process has them (exabgp's preloaded entries kept); inside,
each works as it does in a running speaker. A round is a fresh process receiving the
stream once: a cache may reuse what the stream repeats (the attributes shared by one
batch's messages, MEDs that recur), never what an earlier round left. Warm across rounds
would time a replay no speaker sees (every attribute set here is distinct); emptied before
every message would take from both sides the caching they are built around.

exabgp's logger is disabled (its decoder calls it unconditionally). Each side runs
``--rounds`` times per workload, the two interleaved, and the fastest round counts.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import os
import platform
import random
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.interpreter import interpreter
from speakers.wire import (
    AsPath,
    LinkBandwidth,
    Origin,
    PathAttributes,
    Prefix,
    Update,
    decode_message,
    pack_announce,
    update_decoder,
    update_memo,
)
from speakers.wire.communities import ExtendedCommunity

V4_LENGTHS = (16, 20, 22, 24, 24, 24, 26, 28, 30, 32)
V6_LENGTHS = (40, 44, 48, 48, 56, 64, 64, 64, 96, 127, 128)
NEXT_HOP_V4 = ipaddress.IPv4Address("192.0.2.254")
NEXT_HOP_V6 = ipaddress.IPv6Address("2001:db8::1")  # global only, as our speakers send

WORKLOADS = {
    "default": (
        "prefixes in address order, lengths mixed at random, as a RIB walk gives them",
        "bagemu: exabgp's encoder sorts every UPDATE's NLRIs, n log n comparisons",
    ),
    "sorted": (
        "each batch pre-sorted in exabgp's order (length, then address)",
        "exabgp: its sort makes n - 1 comparisons; no speaker gets routes in this order",
    ),
}
CACHES = "both sides' reset to a fresh process's before every timed encode and decode"
TIMED = "encode: objects to wire; decode: wire to objects, prefixes counted; no text"

# What a decoded route must carry: (packed prefix, length, next hop, MED, AS path).
Route = tuple[bytes, int, bytes, int, tuple[int, ...]]


@dataclass(frozen=True)
class Batch:
    """One set of attributes and the prefixes that share it (the unit both sides encode)."""

    v6: bool
    asns: tuple[int, ...]
    med: int
    communities: tuple[int, ...]
    bandwidth_bps: float
    prefixes: tuple[tuple[bytes, int], ...]  # (full-width packed address, length)


def make_workload(n_batches: int, seed: int, workload: str = "default") -> list[Batch]:
    """The batches of ``workload``: the same prefixes and attributes for every workload."""
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
        if workload == "sorted":
            # exabgp's NLRI order (INET.index: family, path id, length octet, address)
            prefixes.sort(key=lambda p: (p[1], p[0]))
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


def expected_routes(batches: list[Batch]) -> Counter[Route]:
    out: Counter[Route] = Counter()
    for b in batches:
        hop = (NEXT_HOP_V6 if b.v6 else NEXT_HOP_V4).packed
        for packed, length in b.prefixes:
            out[(packed, length, hop, b.med, b.asns)] += 1
    return out


@dataclass(frozen=True)
class Side:
    """One codec under test: ``encode`` and ``decode`` are timed, the rest is not."""

    name: str
    prepare: Callable[[list[Batch]], Any]  # the workload as the codec's own objects
    encode: Callable[[Any], list[bytes]]
    decode: Callable[[list[bytes]], int]  # prefixes decoded
    routes: Callable[[list[bytes]], Counter[Route]]  # what the messages carry, for the check
    fresh_caches: Callable[[], None]


# --- ours ---------------------------------------------------------------------------------


def ours_side() -> Side:
    def prepare(batches: list[Batch]) -> list[tuple[PathAttributes, list[Prefix], bool]]:
        out = []
        for b in batches:
            attrs = PathAttributes(
                origin=Origin.IGP,
                as_path=AsPath.sequence(*b.asns),
                next_hop=None if b.v6 else NEXT_HOP_V4,
                med=b.med,
                communities=b.communities,
                ext_communities=(
                    LinkBandwidth.from_bps(b.bandwidth_bps, b.asns[0]),
                    ExtendedCommunity(bytes.fromhex("0002fde900000064")),
                ),
            )
            out.append((attrs, [Prefix(p, n) for p, n in b.prefixes], b.v6))
        return out

    def encode(prepared: list[tuple[PathAttributes, list[Prefix], bool]]) -> list[bytes]:
        wires: list[bytes] = []
        for attrs, prefixes, v6 in prepared:
            if v6:
                wires += pack_announce(attrs, prefixes, next_hop=NEXT_HOP_V6)
            else:
                wires += pack_announce(attrs, prefixes)
        return wires

    def decode(wires: list[bytes]) -> int:
        n = 0
        for w in wires:
            n += len(decode_message(w).announced)
        return n

    def routes(wires: list[bytes]) -> Counter[Route]:
        out: Counter[Route] = Counter()
        for w in wires:
            msg = decode_message(w)
            assert isinstance(msg, Update)
            attrs = msg.attributes
            hop = msg.mp_reach.next_hop if msg.mp_reach is not None else attrs.next_hop
            assert hop is not None and attrs.med is not None and attrs.as_path is not None
            key = (hop.packed, attrs.med, tuple(attrs.as_path.asns()))
            for p in msg.announced:
                out[(p.packed, p.length, *key)] += 1
        return out

    def fresh_caches() -> None:
        update_decoder.clear_memos()  # the decoder's memos, empty in a fresh process
        update_memo.clear()

    return Side("ours", prepare, encode, decode, routes, fresh_caches)


# --- exabgp -------------------------------------------------------------------------------


def exabgp_side() -> Side:
    from exabgp.logger import log

    log.disable()  # exabgp's decoder logs unconditionally; without a logger it crashes
    from exabgp.bgp.message.action import Action
    from exabgp.bgp.message.direction import Direction
    from exabgp.bgp.message.open.asn import ASN
    from exabgp.bgp.message.open.capability import Negotiated
    from exabgp.bgp.message.update import Update as XUpdate
    from exabgp.bgp.message.update.attribute import (
        MED,
        SEQUENCE,
        ASPath,
        Attribute,
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
    from exabgp.protocol.resource import Resource

    neg = Negotiated(Neighbor())
    neg.asn4 = True
    neg.families = [(AFI.ipv4, SAFI.unicast), (AFI.ipv6, SAFI.unicast)]
    neg.msg_size = 4096
    neg.local_as = ASN(65000)
    neg.peer_as = ASN(65001)
    nh4 = IP.create(str(NEXT_HOP_V4))
    nh6 = IP.create(str(NEXT_HOP_V6))  # 16 octets: no link-local

    # The caches as a fresh process has them: exabgp preloads some entries at import.
    attribute_caches = {k: (dict(c), list(c.ordered)) for k, c in Attribute.cache.items()}
    interned = {k: dict(v) for k, v in Resource.cache.items()}

    def prepare(batches: list[Batch]) -> list[tuple[list[Any], Any]]:
        out = []
        for b in batches:
            attrs = Attributes()
            attrs.add(XOrigin(XOrigin.IGP))
            attrs.add(ASPath([SEQUENCE([ASN(a) for a in b.asns])]))
            if not b.v6:
                attrs.add(NextHop(str(NEXT_HOP_V4)))
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

    def encode(prepared: list[tuple[list[Any], Any]]) -> list[bytes]:
        wires: list[bytes] = []
        for nlris, attrs in prepared:
            wires.extend(XUpdate(nlris, attrs).messages(neg))
        return wires

    def decode(wires: list[bytes]) -> int:
        n = 0
        for w in wires:
            n += len(XUpdate.unpack_message(w[19:], Direction.IN, neg).nlris)
        return n

    def routes(wires: list[bytes]) -> Counter[Route]:
        out: Counter[Route] = Counter()
        for w in wires:
            update = XUpdate.unpack_message(w[19:], Direction.IN, neg)
            attrs = update.attributes
            med = attrs[Attribute.CODE.MED].med
            path = tuple(int(a) for s in attrs[Attribute.CODE.AS_PATH].aspath for a in s)
            for nlri in update.nlris:
                out[(nlri.cidr.ton(), nlri.cidr.mask, nlri.nexthop.ton(), med, path)] += 1
        return out

    def fresh_caches() -> None:
        neg.cached_wire = b""
        neg.cached_attributes = None
        for code, cache in Attribute.cache.items():
            entries, order = attribute_caches.get(code, ({}, []))
            cache.clear()
            cache.update(entries)
            cache.ordered[:] = order
        Resource.cache.clear()
        Resource.cache.update({k: dict(v) for k, v in interned.items()})

    return Side("exabgp", prepare, encode, decode, routes, fresh_caches)


# --- run ----------------------------------------------------------------------------------


def measure(sides: list[Side], batches: list[Batch], rounds: int) -> dict[str, Any]:
    """Best-of-``rounds`` figures of every side on one workload, each checked untimed."""
    total = sum(len(b.prefixes) for b in batches)
    prepared = {s.name: s.prepare(batches) for s in sides}
    best = {(s.name, op): math.inf for s in sides for op in ("encode", "decode")}
    wires: dict[str, list[bytes]] = {}
    for _ in range(rounds):
        for s in sides:
            s.fresh_caches()
            t0 = time.perf_counter()
            wires[s.name] = s.encode(prepared[s.name])
            best[s.name, "encode"] = min(best[s.name, "encode"], time.perf_counter() - t0)
            s.fresh_caches()
            t0 = time.perf_counter()
            n = s.decode(wires[s.name])
            best[s.name, "decode"] = min(best[s.name, "decode"], time.perf_counter() - t0)
            if n != total:
                raise SystemExit(f"{s.name} decoded {n} prefixes of {total}")
    expected = expected_routes(batches)
    out: dict[str, Any] = {"prefixes": total, "batches": len(batches)}
    for s in sides:
        s.fresh_caches()
        if s.routes(wires[s.name]) != expected:
            raise SystemExit(f"{s.name}: the decoded routes are not the workload's")
        out[f"{s.name}_messages"] = len(wires[s.name])
        out[f"{s.name}_octets"] = sum(map(len, wires[s.name]))
    for s in sides:
        for op in ("encode", "decode"):
            out[f"{s.name}_{op}_pps"] = total / best[s.name, op]
            out[f"{s.name}_{op}_msgs_per_s"] = len(wires[s.name]) / best[s.name, op]
    out["encode_ratio"] = out["ours_encode_pps"] / out["exabgp_encode_pps"]
    out["decode_ratio"] = out["ours_decode_pps"] / out["exabgp_decode_pps"]
    return out


def run(n_batches: int, rounds: int, seed: int) -> dict[str, Any]:
    sides = [ours_side(), exabgp_side()]
    workloads = {}
    for name, (order, favours) in WORKLOADS.items():
        figures = measure(sides, make_workload(n_batches, seed, name), rounds)
        workloads[name] = {"order": order, "favours": favours, **figures}
    # The top-level keys are the default workload's, as before there were two.
    out: dict[str, Any] = dict(workloads["default"])
    out.update(
        workload="default",
        workloads=workloads,
        rounds=rounds,
        ipv6_next_hop=f"{NEXT_HOP_V6} alone (16 octets), as bagemu's speakers send it",
        caches=CACHES,
        timed=TIMED,
        python=interpreter(),
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs",
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="small run, to check the bench")
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.quick:
        args.batches, args.rounds = 20, 1
    result = run(args.batches, args.rounds, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"UPDATE codec throughput: {result['prefixes']:,} prefixes in {result['batches']} "
        f"batches of 1-500, IPv4+IPv6, link bandwidth on every path; best of {args.rounds}"
    )
    print(f"IPv6 next hop: {result['ipv6_next_hop']}")
    print(f"caches: {result['caches']}")
    print(f"python: {result['python']}")
    print(f"timed: {TIMED}; every route checked untimed")
    for name, w in result["workloads"].items():
        print(f"\nworkload {name}: {w['order']}\n  favours {w['favours']}")
        print(f"{'':10}{'encode pfx/s':>14}{'decode pfx/s':>14}{'enc msg/s':>12}{'dec msg/s':>12}")
        for side, label in (("ours", "bagemu"), ("exabgp", "exabgp")):
            print(
                f"{label:10}{w[f'{side}_encode_pps']:>14,.0f}{w[f'{side}_decode_pps']:>14,.0f}"
                f"{w[f'{side}_encode_msgs_per_s']:>12,.0f}{w[f'{side}_decode_msgs_per_s']:>12,.0f}"
            )
        print(
            f"{'ratio':10}{w['encode_ratio']:>13.1f}x{w['decode_ratio']:>13.1f}x"
            f"   (messages: ours {w['ours_messages']}, exabgp {w['exabgp_messages']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
