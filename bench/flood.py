"""Flood propagation: how long a burst of UPDATEs written to one speaker takes to reach
its other neighbor (issue 17, item 8). ``bench/speaker.py`` runs it and reports it, beside
FRR's bgpd on the same flood (bench/flood_frr.py).

Workload: a writer process opens a BGP session to the speaker under test (the DUT, in
this process) and writes ``FLOOD_UPDATES`` (10,000) UPDATE messages, one IPv4 /24 each,
pre-encoded into one buffer before the clock starts and handed to the kernel in one
``sendall``. A reader process holds a second session and reads what the DUT
re-advertises; it notes when each read returns and counts the prefixes, walking each
UPDATE's NLRI without decoding its attributes (``body_nlri``) so as to keep up. Before
the flood the reader waits for the DUT's own route (``SENTINEL``): the DUT has then sent
it its table. Real TCP sessions over loopback, each peer in its own process, so the DUT
has one core to itself at best (the machine has two).

Two workloads (``WORKLOADS``). ``same``: every UPDATE carries the same attributes (AS_PATH
of two ASes, link bandwidth), as a peer sends a table one prefix per message; it favours
the DUT, whose decoder decodes the attributes once, whose routes share one path, and
whose export works the route out once and packs it into a few UPDATEs. ``distinct``: the
AS_PATH's last AS differs from one UPDATE to the next, so every route is decoded, built,
exported and encoded on its own and 10,000 UPDATEs go out: the most work per prefix.

Times, all in seconds from the writer's first byte, on one clock (CLOCK_MONOTONIC is
system-wide, so the three processes' timestamps compare):

- ``written``: the writer's ``sendall`` returned (the kernel took the last byte; it can
  only take it as fast as the DUT reads, beyond the socket buffers);
- ``received``: the DUT has acted on the last UPDATE of the burst (decoded, imported,
  best path, FIB), seen when its processing of that read returns;
- ``first_export`` / ``exported``: the DUT's first export flush that sent the reader
  some of the burst had returned, and the one after which its Adj-RIB-Out to the reader
  holds all of it (its UPDATEs handed to the socket);
- ``first_arrival`` / ``arrived``: the reader read the first and the last re-advertised
  prefix. ``arrived`` is the figure (``flood_s``).

``dut_cpu_s`` is the DUT process's CPU time from the first byte to ``arrived``: near
``arrived`` means the DUT was busy all along (work, not waiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import random
import socket
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speakers.config import ExportPolicy, NeighborConfig, Originate, SpeakerConfig
from speakers.session import SessionEstablished
from speakers.speaker import Speaker
from speakers.ucmp import ReadvertiseMode
from speakers.wire import (
    AsPath,
    Keepalive,
    LinkBandwidth,
    MessageReader,
    MessageType,
    MultiprotocolCapability,
    Open,
    Origin,
    PathAttributes,
    Prefix,
    decode_message,
    encode_message,
    pack_announce,
)
from speakers.wire.prefix import encode_nlri

FLOOD_UPDATES = 10_000
DUT_AS, WRITER_AS, READER_AS = 65100, 65102, 65103
# The DUT's own route: the reader waits for it before the flood starts, so every DUT has
# sent its table (FRR holds a new neighbor's first UPDATEs for its coalesce time).
SENTINEL = Prefix.parse("192.0.2.0/24")
KEYS = ("written", "received", "first_export", "exported", "first_arrival", "arrived")


@dataclass(frozen=True)
class Addresses:
    """The addresses of one run: the DUT's, the writer's and the reader's. ``draw`` picks
    loopback ones at random from 127/8, so that concurrent runs differ (the DUT's port is
    the kernel's choice as well); FRR's runs have a namespace of their own instead."""

    dut: str
    writer: str
    reader: str

    @classmethod
    def draw(cls) -> Addresses:
        net = random.SystemRandom().randrange(1 << 14) << 2  # 127.a.b.c, c in 1..3
        base = 0x7F400000 + net
        return cls(*(str(ipaddress.IPv4Address(base + i)) for i in (1, 2, 3)))


WORKLOADS = ("same", "distinct")


def flood_messages(writer: str, n: int, workload: str = "same") -> list[bytes]:
    """``n`` UPDATEs, one /24 each (module docstring): ``same`` attributes in all, or
    ``distinct`` ones (the AS_PATH's last AS differs from one UPDATE to the next)."""
    out: list[bytes] = []
    for i in range(n):
        origin_as = 64512 if workload == "same" else 4_200_000_000 + i
        attrs = PathAttributes(
            origin=Origin.IGP,
            as_path=AsPath.sequence(WRITER_AS, origin_as),
            next_hop=ipaddress.IPv4Address(writer),
            ext_communities=(LinkBandwidth.from_bps(800e9, WRITER_AS),),
        )
        prefix = Prefix((0x0B000000 + (i << 8)).to_bytes(4, "big"), 24)
        out += pack_announce(attrs, [prefix])
    return out


def bgp_session(local: str, asn: int, dut: str, port: int) -> socket.socket:
    """A BGP session to the DUT from ``local``, up to the exchange of KEEPALIVEs."""
    sock = socket.socket()
    sock.bind((local, 0))
    sock.connect((dut, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    caps = (MultiprotocolCapability(1, 1), MultiprotocolCapability(2, 1))
    sock.sendall(encode_message(Open.build(asn, 90, local, caps)))
    reader = MessageReader()
    while True:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("the DUT closed the session")
        reader.feed(data)
        got = []
        while (item := reader.next_message()) is not None:
            got.append(decode_message(item[1]))
        if any(isinstance(m, Keepalive) for m in got):
            break
    sock.sendall(encode_message(Keepalive()))
    return sock


def run_writer(addresses: Addresses, port: int, n: int, workload: str) -> None:
    """Child process: connect, wait for 'go' on stdin, write the flood, report when the
    first byte left and when ``sendall`` returned; keep the session until stdin closes."""
    blob = b"".join(flood_messages(addresses.writer, n, workload))
    sock = bgp_session(addresses.writer, WRITER_AS, addresses.dut, port)
    print(f"ready {n} {len(blob)}", flush=True)
    sys.stdin.readline()
    t0 = time.monotonic_ns()
    sock.sendall(blob)
    t1 = time.monotonic_ns()
    print(f"sent {t0} {t1}", flush=True)
    while sys.stdin.readline():
        pass
    sock.close()


def body_nlri(message: bytes) -> list[bytes]:
    """The IPv4 prefixes an UPDATE announces in its body, each as its NLRI octets (length
    and address), without decoding its attributes: the reader must keep up with a
    speaker that sends 10,000 UPDATEs (decoding them whole in Python took as long as
    FRR took to send them). The flood is IPv4 only (no MP_REACH_NLRI)."""
    body = message[19:]
    withdrawn = int.from_bytes(body[0:2], "big")
    attributes = int.from_bytes(body[2 + withdrawn : 4 + withdrawn], "big")
    i, end, out = 4 + withdrawn + attributes, len(body), []
    while i < end:
        size = 1 + (body[i] + 7) // 8
        out.append(body[i : i + size])
        i += size
    return out


def run_reader(addresses: Addresses, port: int, n: int, workload: str) -> None:
    """Child process: hold a session and read everything the DUT sends; say 'ready' once
    the DUT's own route (``SENTINEL``) has come, and once ``n`` distinct prefixes of the
    flood have, report when the first and the last arrived (the time each read returned,
    before looking into it) and how many UPDATEs and octets carried them; keep the
    session until stdin closes."""
    sock = bgp_session(addresses.reader, READER_AS, addresses.dut, port)
    reader = MessageReader()
    sentinel = encode_nlri([SENTINEL])
    seen: set[bytes] = set()
    first = updates = octets = 0
    ready = False
    while len(seen) < n:
        data = sock.recv(1 << 20)
        at = time.monotonic_ns()
        if not data:
            raise ConnectionError("the DUT closed the session")
        reader.feed(data)
        while (item := reader.next_message()) is not None:
            if item[0] != MessageType.UPDATE or not (announced := body_nlri(item[1])):
                continue
            if sentinel in announced:  # the DUT's table, sent once we were up
                ready = True
                print("ready", flush=True)
                continue
            updates += 1
            octets += len(item[1])
            seen.update(announced)
            first = first or at
    assert ready, "the flood arrived before the DUT's own route"
    print(f"arrived {first} {at} {updates} {octets}", flush=True)
    while sys.stdin.readline():
        pass
    sock.close()


def _dut(addresses: Addresses) -> Speaker:
    neighbors = tuple(
        NeighborConfig(
            name=name,
            address=ipaddress.ip_address(address),
            remote_as=asn,
            local_address=ipaddress.ip_address(addresses.dut),
            passive=True,
            link_capacity_bps=1.6e12,
            export=ExportPolicy(link_bandwidth=ReadvertiseMode.CUMULATIVE),
        )
        for name, address, asn in (
            ("writer", addresses.writer, WRITER_AS),
            ("reader", addresses.reader, READER_AS),
        )
    )
    return Speaker(
        SpeakerConfig(
            name="dut",
            asn=DUT_AS,
            router_id=ipaddress.IPv4Address(addresses.dut),
            listen_address=ipaddress.ip_address(addresses.dut),
            listen_port=0,
            hold_time_s=90,
            neighbors=neighbors,
            originate=(Originate(SENTINEL),),
        )
    )


async def child(
    role: str, addresses: Addresses, port: int, n: int, workload: str, wrap: tuple[str, ...] = ()
) -> asyncio.subprocess.Process:
    """A writer or reader process (``role``: ``--flood-writer`` or ``--flood-reader``);
    ``wrap``: a command to run it under (``ip netns exec NAME``)."""
    return await asyncio.create_subprocess_exec(
        *wrap, sys.executable, __file__, role, addresses.dut, addresses.writer,
        addresses.reader, str(port), str(n), workload,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def line(proc: asyncio.subprocess.Process, timeout_s: float) -> list[str]:
    """The next line a child prints, as words (a child that exits instead: an error)."""
    assert proc.stdout is not None
    async with asyncio.timeout(timeout_s):
        text = await proc.stdout.readline()
    if not text:
        raise RuntimeError(f"a flood child exited ({await proc.wait()})")
    return text.decode().split()


async def stop_children(procs: list[asyncio.subprocess.Process]) -> None:
    """End the writer and reader (those of this run, by their process objects)."""
    for proc in procs:
        if proc.stdin is not None:
            proc.stdin.close()
        with contextlib.suppress(ProcessLookupError):  # it exited already
            proc.kill()
        await proc.wait()


async def flood_once(n: int = FLOOD_UPDATES, workload: str = "same") -> dict[str, float]:
    """One flood through a fresh DUT: the times of the module docstring (seconds), the
    DUT's flushes and UPDATEs to the reader, and its CPU time."""
    addresses = Addresses.draw()
    speaker = _dut(addresses)
    marks: dict[str, int] = {}
    writer_nb, reader_nb = speaker.neighbors["writer"], speaker.neighbors["reader"]
    flushes = received_before = sent_before = held_before = 0
    established = asyncio.Event()

    def on_event(name: str, event: object) -> None:
        ready = writer_nb.established and reader_nb.established
        if ready and isinstance(event, SessionEstablished):
            established.set()

    def on_activity() -> None:
        # After every input processed and every flush: cheap, so as not to be measured.
        nonlocal flushes, sent_before
        now = time.monotonic_ns()
        if "received" not in marks and writer_nb.updates_in - received_before >= n:
            marks["received"] = now
        if reader_nb.updates_out != sent_before:
            sent_before = reader_nb.updates_out
            flushes += 1
            marks.setdefault("first_export", now)
            if len(reader_nb.adj_out) - held_before >= n:
                marks.setdefault("exported", now)

    speaker.session_events.append(on_event)
    speaker.activity.append(on_activity)
    await speaker.start()
    procs = []
    try:
        for role in ("--flood-writer", "--flood-reader"):
            procs.append(await child(role, addresses, speaker.listen_port, n, workload))
        writer, reader = procs
        for proc in procs:
            await line(proc, 120)
        async with asyncio.timeout(60):
            await established.wait()
        speaker.session_events.remove(on_event)
        received_before = writer_nb.updates_in
        sent_before = reader_nb.updates_out  # the DUT's own route
        held_before = len(reader_nb.adj_out)
        flushes = 0
        marks.clear()
        gc.collect()
        assert writer.stdin is not None
        cpu0 = time.process_time()
        writer.stdin.write(b"go\n")
        await writer.stdin.drain()
        _, t0, t1 = await line(writer, 120)
        _, first, last, updates, octets = await line(reader, 120)
        cpu = time.process_time() - cpu0
    finally:
        await stop_children(procs)
        speaker.close()
    marks.update(written=int(t1), first_arrival=int(first), arrived=int(last))
    start = int(t0)
    out = {key: (marks[key] - start) / 1e9 for key in KEYS}
    out.update(dut_cpu_s=cpu, flushes=flushes, updates_out=int(updates), octets_out=int(octets))
    return out


def summary(head: str, results: list[dict[str, float]]) -> dict[str, object]:
    """The ``--json`` keys of bench/speaker.py for one workload's runs: ``<head>_s``, the
    median ``arrived``; ``<head>_<time>_s``, the median of each other time (and of the
    DUT's CPU time) measured; every run's ``arrived``; the median flushes and UPDATEs.
    ``head``: ``flood`` (same attributes), ``flood_distinct``, ``frr_flood``..."""
    out: dict[str, object] = {}
    for key in (*KEYS, "dut_cpu_s"):
        if key in results[0]:
            name = f"{head}_s" if key == "arrived" else f"{head}_{key.removesuffix('_s')}_s"
            out[name] = round(statistics.median(r[key] for r in results), 4)
    out[f"{head}_runs_s"] = [round(r["arrived"], 4) for r in results]
    for key in ("flushes", "updates_out"):
        if key in results[0]:
            out[f"{head}_{key}"] = statistics.median(r[key] for r in results)
    return out


def child_main(argv: list[str]) -> None:
    """``flood.py --flood-writer|--flood-reader DUT WRITER READER PORT N WORKLOAD``."""
    role, dut, writer, reader, port, n, workload = argv
    addresses = Addresses(dut, writer, reader)
    run = run_writer if role == "--flood-writer" else run_reader
    run(addresses, int(port), int(n), workload)


if __name__ == "__main__":
    child_main(sys.argv[1:])
