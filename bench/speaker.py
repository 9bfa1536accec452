"""UPDATE ingestion rate of one speaker, and its memory per route.

    python bench/speaker.py            # table
    python bench/speaker.py --json     # one JSON object
    python bench/speaker.py --quick    # a small run (CI checks that the bench works)

Setup: the speaker under test runs in this process; two feeders, each a separate process
(the second core) with its own loopback address, open real BGP sessions to it over TCP.
Each feeder pre-encodes its UPDATEs (as many prefixes per message as fit: ``pack_announce``)
before the clock starts, then writes them as fast as the socket takes them.

Phase 1 (``first``): feeder A announces N prefixes (half IPv4 /24, half IPv6 /64) with a
link bandwidth of 800G: every prefix gets a best path and a one-member FIB group.
Phase 2 (``second``): feeder B announces the same N prefixes at 400G: every prefix gains a
multipath, and its FIB group is recomputed with UCMP weights 2:1.
Each phase is timed from the feeder's first byte to the speaker's last FIB change for it
(the FIB change stream, followed a batch at a time: ``Fib.subscribe_batches``), so it
includes decoding, import, best path, multipath, UCMP and FIB, and the export of the
changes to the other feeder. ``prefixes_per_s`` is N over the slower phase.

Twice, each in a fresh process: this one, under CPython's default garbage collector (the
unprefixed keys: a library user's own process), then a child with the collector set as
every process running a region sets it (``region_gc_*``: ``bagctl/runtimes/gctune.py``, a young
pass every 100,000 allocations instead of 700), which is how bagemu runs its speakers.

Memory: resident set size before the feeders connect and once both phases are done, after a
garbage collection, divided by N: ``bytes_per_route`` is what one prefix costs with two
paths (Adj-RIB-In x 2, Loc-RIB, FIB group, Adj-RIB-Out entries to each feeder).

Flood propagation (``bench/flood.py``, issue 17): then, through a fresh speaker each time,
10,000 UPDATEs of one prefix each written by one neighbor, timed from its first byte to
the last re-advertised prefix read by the other neighbor, with the times in between
(``flood_*`` keys; ``--flood-only`` runs just that); and, run for run alternately, the
same through FRR's bgpd where it is installed and we may make a network namespace
(``bench/flood_frr.py``; ``frr_flood_*`` keys, else ``frr_skipped``; ``--no-frr``).

Addresses are drawn at random from 127/8 per run and the speaker listens on a port the
kernel picks, so runs side by side do not collide.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flood import (  # bench/flood.py
    FLOOD_UPDATES,
    WORKLOADS,
    Addresses,
    bgp_session,
    flood_once,
    summary,
)
from flood_frr import frr_flood_once, unavailable, version  # bench/flood_frr.py

from bagctl.runtimes.gctune import tune_for_region
from bench.interpreter import interpreter
from speakers.config import ExportPolicy, NeighborConfig, SpeakerConfig
from speakers.speaker import Speaker
from speakers.ucmp import ReadvertiseMode
from speakers.wire import (
    AsPath,
    LinkBandwidth,
    Origin,
    PathAttributes,
    Prefix,
    pack_announce,
)

FEEDERS = {"a": (65102, 800e9), "b": (65103, 400e9)}  # AS, link bandwidth
DUT_AS = 65100


def prefixes(n: int) -> tuple[list[Prefix], list[Prefix]]:
    half = n // 2
    v4 = [Prefix((0x0A000000 + (i << 8)).to_bytes(4, "big"), 24) for i in range(half)]
    v6 = [Prefix(((0x20010DB8 << 96) | (i << 64)).to_bytes(16, "big"), 64) for i in range(n - half)]
    return v4, v6


def feeder_messages(name: str, address: str, n: int) -> list[bytes]:
    asn, bps = FEEDERS[name]
    v4, v6 = prefixes(n)
    attrs = PathAttributes(
        origin=Origin.IGP,
        as_path=AsPath.sequence(asn, 64512),
        next_hop=ipaddress.IPv4Address(address),
        ext_communities=(LinkBandwidth.from_bps(bps, asn),),
    )
    return pack_announce(attrs, v4) + pack_announce(
        attrs, v6, next_hop=ipaddress.IPv6Address(f"::ffff:{address}")
    )


def run_feeder(name: str, address: str, dut: str, port: int, n: int) -> None:
    """Child process: connect, handshake, wait for 'go' on stdin, blast, keep alive."""
    asn, _ = FEEDERS[name]
    messages = feeder_messages(name, address, n)
    blob = b"".join(messages)
    sock = bgp_session(address, asn, dut, port)  # up to the exchange of KEEPALIVEs
    print(f"ready {len(messages)} {len(blob)}", flush=True)
    sys.stdin.readline()
    sock.sendall(blob)
    print("sent", flush=True)
    sock.setblocking(False)
    while sys.stdin.readline():  # keep the session until the parent closes stdin
        pass


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def run(n: int) -> dict[str, object]:
    drawn = Addresses.draw()
    dut, feeders = drawn.dut, {"a": drawn.writer, "b": drawn.reader}
    neighbors = tuple(
        NeighborConfig(
            name=name,
            address=ipaddress.ip_address(feeders[name]),
            remote_as=asn,
            local_address=ipaddress.ip_address(dut),
            passive=True,
            link_capacity_bps=1.6e12,
            export=ExportPolicy(link_bandwidth=ReadvertiseMode.CUMULATIVE),
        )
        for name, (asn, _) in FEEDERS.items()
    )
    speaker = Speaker(
        SpeakerConfig(
            name="dut",
            asn=DUT_AS,
            router_id=ipaddress.IPv4Address(dut),
            listen_address=ipaddress.ip_address(dut),
            listen_port=0,
            hold_time_s=90,
            neighbors=neighbors,
        )
    )
    fib_changes = 0
    done = asyncio.Event()
    target = 0
    last_change_ns = 0

    def on_changes(changes: tuple[object, ...]) -> None:
        # Once per batch of FIB changes (an UPDATE's), as the region's shards follow
        # them: the instrument's own cost stays out of the figure as far as it can.
        nonlocal fib_changes, last_change_ns
        fib_changes += len(changes)
        last_change_ns = time.perf_counter_ns()
        if fib_changes >= target:
            done.set()

    speaker.fib_table.subscribe_batches(on_changes)
    session_change = asyncio.Event()
    speaker.session_events.append(lambda name, event: session_change.set())
    gc.collect()
    rss0 = rss_bytes()
    await speaker.start()
    procs = {}
    for name in FEEDERS:
        procs[name] = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--feeder", name, feeders[name], dut,
            str(speaker.listen_port), "--prefixes", str(n),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
    phases: dict[str, float] = {}
    try:
        ready = {}
        for name, proc in procs.items():
            assert proc.stdout is not None
            async with asyncio.timeout(120):
                ready[name] = (await proc.stdout.readline()).decode().split()
        async with asyncio.timeout(60):
            while not all(s["state"] == "Established" for s in speaker.sessions()):
                session_change.clear()
                await session_change.wait()
        for phase, name in (("first", "a"), ("second", "b")):
            target = fib_changes + n
            done.clear()
            proc = procs[name]
            assert proc.stdin is not None and proc.stdout is not None
            t0 = time.perf_counter_ns()
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
            async with asyncio.timeout(600):
                await done.wait()
            phases[phase] = (last_change_ns - t0) / 1e9
        gc.collect()
        rss1 = rss_bytes()
        groups = [g for _, g in speaker.fib_table.entries()]
        two_member = sum(1 for g in groups if len(g.members) == 2)
        weights = sorted({tuple(w for _, w in g.members) for g in groups})
    finally:
        for proc in procs.values():
            if proc.stdin is not None:
                proc.stdin.close()
            proc.kill()
            await proc.wait()
        speaker.close()
    slowest = max(phases.values())
    return {
        "prefixes": n,
        "messages_per_feeder": int(ready["a"][1]),
        "first_s": round(phases["first"], 4),
        "second_s": round(phases["second"], 4),
        "first_prefixes_per_s": n / phases["first"],
        "second_prefixes_per_s": n / phases["second"],
        "prefixes_per_s": n / slowest,
        "bytes_per_route": (rss1 - rss0) / n,
        "rss_growth_bytes": rss1 - rss0,
        "fib_entries": len(groups),
        "two_member_groups": two_member,
        "weights_seen": [list(w) for w in weights],
    }


def tuned_ingestion(n: int) -> dict[str, Any]:
    """The same ingestion in a fresh process whose collector is set as every process
    that runs a region sets it (``bagctl/runtimes/gctune.py``: a young pass every 100,000
    allocations instead of 700), as ``region_gc_*`` keys: a speaker of a region runs so,
    a library user's own speaker with CPython's defaults (the unprefixed keys)."""
    out = subprocess.run(
        [sys.executable, __file__, "--ingestion-tuned", "--prefixes", str(n)],
        capture_output=True, text=True, check=True, timeout=900,
    ).stdout  # fmt: skip
    tuned = json.loads(out)
    keys = ("first_s", "second_s", "first_prefixes_per_s", "second_prefixes_per_s",
            "prefixes_per_s", "bytes_per_route")  # fmt: skip
    return {f"region_gc_{key}": tuned[key] for key in keys}


async def floods(runs: int, frr: bool) -> dict[str, Any]:
    """The flood of bench/flood.py through bagemu's speaker and, if ``frr`` and FRR can
    run here (bench/flood_frr.py), through FRR's bgpd: run after run, alternately, so
    that both see the same load on the machine. Medians (``flood.summary``)."""
    skipped = unavailable() if frr else "not asked (--no-frr)"
    out: dict[str, Any] = {"flood_updates": FLOOD_UPDATES, "flood_runs": runs}
    if skipped is None:
        out["frr_version"] = version()
    else:
        out["frr_skipped"] = skipped
    for workload in WORKLOADS:
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(await flood_once(FLOOD_UPDATES, workload))
            if skipped is None:
                theirs.append(await frr_flood_once(FLOOD_UPDATES, workload))
        tail = "" if workload == "same" else f"_{workload}"
        out.update(summary(f"flood{tail}", ours))
        if theirs:
            out.update(summary(f"frr_flood{tail}", theirs))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="20,000 prefixes, 3 floods each")
    parser.add_argument("--prefixes", type=int, default=200_000)
    parser.add_argument("--flood-runs", type=int, default=5, help="floods per workload")
    parser.add_argument("--flood-only", action="store_true", help="only the flood")
    parser.add_argument("--no-frr", action="store_true", help="no flood through FRR's bgpd")
    parser.add_argument("--feeder", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--ingestion-tuned", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.feeder:
        name, address, dut, port = args.feeder
        run_feeder(name, address, dut, int(port), args.prefixes)
        return 0
    n = 20_000 if args.quick else args.prefixes
    if args.ingestion_tuned:  # (a child: ``tuned_ingestion``)
        tune_for_region()
        print(json.dumps(asyncio.run(run(n))))
        return 0
    runs = 3 if args.quick else args.flood_runs
    result: dict[str, Any] = {"python": interpreter()}  # (its build: bench/interpreter.py)
    if not args.flood_only:
        result.update(asyncio.run(run(n)))
        result.update(tuned_ingestion(n))
    result.update(asyncio.run(floods(runs, frr=not args.no_frr)))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    r = result
    print(f"python: {r['python']}")
    if not args.flood_only:
        print_ingestion(r)
    print_flood(r)
    return 0


def print_ingestion(r: dict[str, Any]) -> None:
    n = r["prefixes"]
    print(f"speaker ingestion: {n} prefixes (half IPv4 /24, half IPv6 /64), two feeders over TCP")
    rows = [("", "CPython's default collector"), ("region_gc_", "collector tuned as a region's")]
    for head, collector in rows:
        if f"{head}first_s" not in r:
            continue
        print(f"  {collector} (bagctl/runtimes/gctune.py):" if head else f"  {collector}:")
        for phase, label in (("first", "first path (800G)"), ("second", "second path (400G)")):
            rate = r[f"{head}{phase}_prefixes_per_s"]
            print(f"    {label:20} {r[f'{head}{phase}_s']:.3f} s {rate:>12,.0f} prefixes/s")
    print(
        f"  FIB: {r['fib_entries']} entries, {r['two_member_groups']} with 2 members, "
        f"weights {r['weights_seen']}"
    )
    growth_mb = r["rss_growth_bytes"] / 1e6
    print(f"  memory: {r['bytes_per_route']:,.0f} bytes per prefix (RSS growth {growth_mb:.1f} MB)")


def print_flood(r: dict[str, Any]) -> None:
    print(
        f"flood propagation: {r['flood_updates']:,} UPDATEs of one /24 each, writer to reader "
        f"through the speaker, median of {r['flood_runs']} runs (s from the first byte)"
    )
    print(f"  {'speaker':10} {'attributes':10} {'acted on':>9} {'exported':>9} "
          f"{'1st read':>9} {'last read':>9} {'CPU':>9} {'UPDATEs out':>12}")  # fmt: skip
    rows = [("bagemu", "same", "flood"), ("bagemu", "distinct", "flood_distinct")]
    if "frr_version" in r:
        frr = f"FRR {r['frr_version']}"
        rows += [(frr, "same", "frr_flood"), (frr, "distinct", "frr_flood_distinct")]
    for name, label, head in rows:
        keys = ("received_s", "exported_s", "first_arrival_s", "s", "dut_cpu_s")
        cells = " ".join(
            f"{r[f'{head}_{key}']:9.3f}" if f"{head}_{key}" in r else f"{'-':>9}" for key in keys
        )
        print(f"  {name:10} {label:10} {cells} {r[f'{head}_updates_out']:>12,.0f}")
    if "frr_skipped" in r:
        print(f"  FRR not measured: {r['frr_skipped']}")


if __name__ == "__main__":
    raise SystemExit(main())
