"""One worker process of a sharded region: runs a ``Shard`` and obeys its parent.

Started as ``python -m bagctl.runtimes.worker SPEC`` where SPEC is a pickle the parent
wrote (``WorkerSpec``: this worker's speaker configurations, the transport, the names of
the speakers other workers run, a seed). The parent talks over stdin/stdout, one JSON
object per line; stdout carries nothing else (logs go to stderr). The protocol does not
depend on the pipe: a ``Channel`` carries it (``StdioChannel`` here; a compose
container's agent carries the same messages over MQTT, runtimes/agent.py).

Requests ``{"id": N, "op": ..., ...}`` get ``{"id": N, "ok": true, "result": ...}`` or
``{"id": N, "ok": false, "error": "..."}``. Operations: listen (``originate: false``
holds the routes back), originate, start_sessions, begin
(reset the FIB counters), snapshot (``ShardSnapshot`` as an object), report (FIB counters
since begin), link_down / link_up / set_capacity (node, peer[, bps]), drain / undrain /
restart (node[, method]), weights (node, prefix), view (what, node[, prefix]), fib (every
speaker's FIB as names and weights), settle (a
collection, then ``gc.freeze``: after the cold start), dirty
(speakers whose FIB or sessions changed since last asked), stats, close (reply, then exit).

Unasked, the worker sends ``{"ev": "idle", ...}`` whenever it has gone quiet after
routing activity with all of its session ends up: the parent's cue to look at the whole
region (runtimes/sharded.py). A wave of snapshots costs a pass over every session, so
the cue is only given when the shard itself could be part of a quiescent region. While
it works it also sends ``{"ev": "progress", "ends_up": U, "ends_expected": E,
"fib_changes": F}``, at most a few times a second, for the progress bar.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import resource
import signal
import sys
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from speakers.config import SpeakerConfig
from speakers.wire import Prefix
from speakers.wire.prefix import IPAddress

from ..shard import Shard, group_names
from .gctune import settle, tune_for_region

PROGRESS_INTERVAL_S = 0.25  # session bring-up progress, at most this often


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    index: int
    configs: dict[str, SpeakerConfig]
    transport: str
    remote: frozenset[str]  # speakers run by other workers
    names: dict[IPAddress, str]  # every speaker by its next hops (``next_hop_names``)
    seed: int


class Channel(Protocol):
    """How a worker hears its parent and answers: requests in, replies and events out, in
    order (the worker protocol of the module docstring, whatever carries it)."""

    def send(self, obj: dict[str, object]) -> None:
        """Queue one message to the parent (never blocks: callbacks send progress)."""
        ...

    async def receive(self) -> dict[str, Any] | None:
        """The next request, or None once the parent has gone."""
        ...

    async def drain(self) -> None:
        """Until what was sent so far is on its way."""
        ...


class StdioChannel:
    """The parent's pipes: requests on stdin, replies and events on stdout, a line each."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls) -> StdioChannel:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 24)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, sys.stdout
        )
        return cls(reader, asyncio.StreamWriter(transport, protocol, None, loop))

    def send(self, obj: dict[str, object]) -> None:
        self.writer.write((json.dumps(obj, separators=(",", ":")) + "\n").encode())

    async def receive(self) -> dict[str, Any] | None:
        line = await self.reader.readline()
        return json.loads(line) if line else None

    async def drain(self) -> None:
        await self.writer.drain()


class Worker:
    def __init__(self, spec: WorkerSpec, channel: Channel) -> None:
        self.spec = spec
        self.channel = channel
        self.loop = asyncio.get_running_loop()
        self.shard = Shard(
            spec.configs,
            transport=spec.transport,
            remote=spec.remote,
            seed=spec.seed,
            on_wake=self._on_wake,
        )
        self._check: asyncio.Handle | None = None
        self._pushed_activity = -1
        self._progress_at = 0.0
        self._names = spec.names
        self.done = asyncio.Event()

    def send(self, obj: dict[str, object]) -> None:
        self.channel.send(obj)

    # --- the idle cue -------------------------------------------------------------------

    def _on_wake(self) -> None:
        if self._check is None:
            self._check = self.loop.call_soon(self._maybe_idle)

    def _maybe_idle(self) -> None:
        self._check = None
        shard = self.shard
        now = self.loop.time()
        if now - self._progress_at >= PROGRESS_INTERVAL_S:
            self._progress_at = now
            up, expected = shard.ends()
            self.send(
                {
                    "ev": "progress",
                    "ends_up": up,
                    "ends_expected": expected,
                    "fib_changes": shard.counters.fib_changes,
                }
            )
        if shard.activity == self._pushed_activity or shard.busy():
            return
        up, expected = shard.ends()
        if up != expected:
            return
        self._pushed_activity = shard.activity
        self.send({"ev": "idle", "activity": shard.activity})

    # --- requests -----------------------------------------------------------------------

    async def handle(self, request: dict[str, Any]) -> None:
        rid = request.get("id")
        try:
            result = await self._dispatch(request)
        except Exception as exc:  # every failure goes back to the parent, named
            self.send({"id": rid, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
            return
        self.send({"id": rid, "ok": True, "result": result})
        if request.get("op") == "close":
            self.done.set()

    async def _dispatch(self, r: dict[str, Any]) -> object:
        shard, op = self.shard, r.get("op")
        if op == "listen":
            await shard.listen(originate=bool(r.get("originate", True)))
        elif op == "originate":
            shard.originate()
        elif op == "start_sessions":
            shard.start_sessions()
        elif op == "settle":
            settle()
        elif op == "begin":
            shard.reset_counters()
            return shard.updates_sent()
        elif op == "snapshot":
            return asdict(shard.snapshot())
        elif op == "report":
            c = shard.counters
            return {
                "fib_changes": c.fib_changes,
                "last_fib_ns": c.last_fib_ns,
                "prefixes": sorted(str(p) for p in c.prefixes),
                "updates_sent": shard.updates_sent(),
            }
        elif op == "link_down":
            shard.link_down(r["node"], r["peer"])
        elif op == "link_up":
            shard.link_up(r["node"], r["peer"])
        elif op == "set_capacity":
            shard.set_capacity(r["node"], r["peer"], float(r["bps"]))
        elif op == "drain":
            shard.drain(r["node"], r["method"])
        elif op == "undrain":
            shard.undrain(r["node"])
        elif op == "restart":
            await shard.restart(r["node"])
        elif op == "weights":
            group = shard.speaker(r["node"]).fib_table.lookup(Prefix.parse(r["prefix"]))
            if group is None:
                return {}
            return group_names(group, self._names)
        elif op == "view":
            from .. import views  # the bus's views of a speaker

            speaker = shard.speaker(r["node"])
            what = r["what"]
            if what == "sessions":
                return views.sessions_view(speaker)
            if what == "rib":
                return views.rib_view(speaker, r.get("prefix"))
            if what == "fib":
                return views.fib_view(speaker, r.get("prefix"), names=self._names)
            raise ValueError(f"unknown view {what!r} (sessions, rib or fib)")
        elif op == "fib":  # every speaker's FIB by names (the verifier's actual side)
            from ..region import fib_names

            return {n: fib_names(s, self._names) for n, s in shard.speakers.items()}
        elif op == "changes":  # the last operation's FIB change stream
            return shard.change_stream(self._names)
        elif op == "dirty":
            return sorted(shard.take_dirty())
        elif op == "stats":
            return {
                "speakers": len(shard.speakers),
                "fib_entries": shard.fib_entries(),
                "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        elif op == "close":
            shard.close()
        else:
            raise ValueError(f"unknown operation {op!r}")
        return None


async def run(worker: Worker, channel: Channel) -> None:
    """Obey requests from ``channel`` until ``close`` or the parent goes away."""
    try:
        while not worker.done.is_set():
            request = await channel.receive()
            if request is None:
                break  # the parent went away: stop with it
            await worker.handle(request)  # one at a time, in order
            await channel.drain()
    finally:
        worker.shard.close()


async def serve(spec: WorkerSpec) -> None:
    channel = await StdioChannel.open()
    await run(Worker(spec, channel), channel)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    level = os.environ.get("BAGEMU_WORKER_LOG", "WARNING").upper()
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.WARNING))
    # Ctrl-C at the terminal is for the parent, which stops the workers in order; a
    # worker whose parent is gone sees its stdin close and stops by itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_for_region()
    with open(args[0], "rb") as f:
        spec: WorkerSpec = pickle.load(f)
    asyncio.run(serve(spec))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
