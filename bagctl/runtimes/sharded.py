"""A region sharded over worker processes: every core busy, no process near its file limit.

``ShardedRegion`` has the ``Region`` API (start, bundle_down/up, set_members, drain,
undrain, restart, flap; each returns a ``ConvergenceReport``) but runs the speakers in
``workers`` child processes (runtimes/worker.py), split by ``partition`` so that whole
fabrics stay together. Sessions inside a worker use the worker's transport (TCP on 127/8,
or the in-memory network); sessions between workers always run over real TCP, which is
what lets the in-memory transport scale past one process.

Quiescence spans processes, so it is read from the workers' snapshots (shard.py), in
waves, never from a sleep. A wave asks every worker for its snapshot; the region is
quiescent when a wave finds no worker busy, every expected session end Established, as
many UPDATEs received as sent over the current sessions, and a second wave right after
finds every worker's activity counter and UPDATE counts unchanged (Mattern's
four-counter rule: nothing happened between the two, so at the moment between them the
whole region was quiet at once, with nothing in flight). A wave runs after an operation
and then whenever a worker reports it has gone idle (``{"ev": "idle"}``).

Times are CLOCK_MONOTONIC nanoseconds, which all processes of a machine share, so the
last FIB change reported by any worker is comparable with the operation's start here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from speakers.speaker import DrainMethod

from ..region import ConvergenceReport
from ..topology.configs import DEFAULT_PORT, next_hop_names, speaker_configs
from ..topology.failures import Failures, members_capacity
from ..topology.model import Topology
from .partition import partition
from .worker import WorkerSpec

LINE_LIMIT = 1 << 26  # a view of a big FIB is one line


class WorkerError(RuntimeError):
    """A worker refused an operation or died; the message names the worker."""


class Replies:
    """The parent's bookkeeping for one worker, whatever carries its messages (a pipe
    here, MQTT for a compose agent: ``compose._AgentHandle``): numbered requests awaiting
    their replies, and the unasked events (progress, the idle cue)."""

    def __init__(
        self, label: str, on_idle: Callable[[], None], on_progress: Callable[[], None]
    ) -> None:
        self.label = label  # "worker 1", "agent r1-bag1-1": how errors name it
        self.ends = (0, 0)  # (up, expected) as last reported
        self.fib_changes = 0  # since the operation began, as last reported
        self._on_idle = on_idle
        self._on_progress = on_progress
        self._next = 0
        self._waiting: dict[int, asyncio.Future[Any]] = {}

    def on_message(self, msg: dict[str, Any]) -> None:
        """One message from the worker: progress, an event, or a reply."""
        if msg.get("ev") == "progress":
            self.ends = (msg["ends_up"], msg["ends_expected"])
            self.fib_changes = msg["fib_changes"]
            self._on_progress()
            return
        if "ev" in msg:
            self._on_idle()
            return
        fut = self._waiting.pop(msg.get("id", -1), None)
        if fut is None or fut.done():
            return
        if msg.get("ok"):
            fut.set_result(msg.get("result"))
        else:
            fut.set_exception(WorkerError(f"{self.label}: {msg.get('error')}"))

    def new_request(self, op: str, args: dict[str, object]) -> tuple[dict[str, object], Any]:
        """The request to send and the future its reply will resolve."""
        self._next += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[self._next] = fut
        return {"id": self._next, "op": op, **args}, fut

    def fail_waiting(self, error: str) -> None:
        """Every request still waiting fails with ``error``; a waiting measurement wakes
        and sees it."""
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(WorkerError(error))
        self._waiting.clear()
        self._on_idle()


class _WorkerHandle(Replies):
    """The parent's end of one worker process: its pipes, and its exit."""

    def __init__(
        self,
        index: int,
        proc: asyncio.subprocess.Process,
        on_idle: Callable[[], None],
        on_progress: Callable[[], None],
    ) -> None:
        super().__init__(f"worker {index}", on_idle, on_progress)
        self.index = index
        self.proc = proc
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            while line := await self.proc.stdout.readline():
                self.on_message(json.loads(line))
        finally:
            code = await self.proc.wait()
            self.fail_waiting(f"worker {self.index} exited with {code}")

    async def request(self, op: str, **args: object) -> Any:
        if self.proc.returncode is not None or self.proc.stdin is None:
            raise WorkerError(f"worker {self.index} is not running")
        message, fut = self.new_request(op, args)
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        await self.proc.stdin.drain()
        return await fut

    async def close(self) -> None:
        if self.proc.returncode is None:
            # A worker busy with a long operation answers late or never: it gets a few
            # seconds, then its stdin closes (it stops at its next read), then SIGKILL.
            with contextlib.suppress(WorkerError, ConnectionError, TimeoutError):
                async with asyncio.timeout(5):
                    await self.request("close")
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            try:
                async with asyncio.timeout(10):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class ShardedRegion:
    """A region's speakers over ``workers`` processes (module docstring)."""

    def __init__(
        self,
        topo: Topology,
        *,
        workers: int = 2,
        transport: str = "memory",
        port: int = DEFAULT_PORT,
        seed: int = 1,
        on_progress: Callable[[int, int, int], None] | None = None,
        addresses: Mapping[str, IPv4Address] | None = None,
        groups: list[list[str]] | None = None,
    ) -> None:
        """``addresses``: the speakers' own addresses where not their loopbacks
        (``speaker_configs``); ``groups``: which speakers each worker runs, where not
        ``partition``'s choice (a subclass whose workers are containers: one each)."""
        if transport not in ("tcp", "memory"):
            raise ValueError(f"transport {transport!r}: tcp or memory")
        self.topo = topo
        self.transport = transport
        self.port = port
        self.seed = seed
        self.configs = speaker_configs(topo, port=port, addresses=addresses)
        self.groups = groups if groups is not None else [g for g in partition(topo, workers) if g]
        self.where = {name: i for i, names in enumerate(self.groups) for name in names}
        self.workers: list[_WorkerHandle] = []
        self._idle = asyncio.Event()
        self.broken = Failures()
        self._on_progress = on_progress
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.last_snapshots: list[dict[str, Any]] = []

    # --- lifecycle ----------------------------------------------------------------------

    async def _spawn(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="bagemu-shards-")
        hop_names = next_hop_names(self.configs.values())
        root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        for i, names in enumerate(self.groups):
            spec = WorkerSpec(
                index=i,
                configs={n: self.configs[n] for n in names},
                transport=self.transport,
                remote=frozenset(self.configs) - frozenset(names),
                names=hop_names,
                seed=self.seed * 1000 + i,
            )
            path = Path(self._tmp.name) / f"worker{i}.pickle"
            path.write_bytes(pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL))
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bagctl.runtimes.worker",
                str(path),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
                limit=LINE_LIMIT,
            )
            self.workers.append(_WorkerHandle(i, proc, self._idle.set, self._progress))

    def _progress(self) -> None:
        if self._on_progress is not None:
            up = sum(w.ends[0] for w in self.workers) // 2
            expected = self._sessions_expected()
            changes = sum(w.fib_changes for w in self.workers)
            self._on_progress(min(up, expected), expected, changes)

    def _note(self, snaps: list[dict[str, Any]]) -> None:
        """Take a wave's session counts as the workers' latest, and show progress."""
        for w, snap in zip(self.workers, snaps, strict=True):
            w.ends = (snap["ends_up"], snap["ends_expected"])
        self._progress()

    async def _all(self, op: str, **args: object) -> list[Any]:
        return list(await asyncio.gather(*(w.request(op, **args) for w in self.workers)))

    async def start(self, timeout: float = 600.0) -> ConvergenceReport:
        """Start the workers and every speaker; wait for cold-start convergence."""
        await self._spawn()

        async def act() -> None:
            # Every listener bound before any session dials; routes once every session
            # is up (the module docstring of region.py says why).
            await self._all("listen", originate=False)
            await self._all("start_sessions")
            while True:
                self._idle.clear()
                snaps = await self._all("snapshot")
                if all(s["ends_up"] == s["ends_expected"] for s in snaps):
                    break
                self._note(snaps)
                await self._idle.wait()
            await self._all("originate")

        report = await self._measure("cold-start", act, timeout)
        await self._all("settle")
        return report

    async def aclose(self) -> None:
        await asyncio.gather(*(w.close() for w in self.workers))
        self.workers = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def close(self) -> None:
        """Stop the workers without waiting (from sync code); ``aclose`` waits for them."""
        for w in self.workers:
            if w.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    w.proc.terminate()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # --- operations ---------------------------------------------------------------------

    def _worker(self, node: str) -> _WorkerHandle:
        try:
            return self.workers[self.where[node]]
        except KeyError:
            raise KeyError(f"no BGP speaker {node!r} in region {self.topo.name}") from None

    async def _on_ends(self, a: str, b: str, op: str, **args: object) -> None:
        bundle = self.topo.bundle(a, b)
        await asyncio.gather(
            self._worker(bundle.a).request(op, node=bundle.a, peer=bundle.b, **args),
            self._worker(bundle.b).request(op, node=bundle.b, peer=bundle.a, **args),
        )

    async def bundle_down(self, a: str, b: str, timeout: float = 120.0) -> ConvergenceReport:
        bundle = self.topo.bundle(a, b)

        async def act() -> None:
            self.broken = self.broken.bundle_down(bundle)
            await self._on_ends(a, b, "link_down")

        return await self._measure(f"bundle-down {a} {b}", act, timeout)

    async def bundle_up(self, a: str, b: str, timeout: float = 120.0) -> ConvergenceReport:
        bundle = self.topo.bundle(a, b)

        async def act() -> None:
            self.broken = self.broken.bundle_up(bundle)
            await self._on_ends(a, b, "link_up")

        return await self._measure(f"bundle-up {a} {b}", act, timeout)

    async def set_members(
        self, a: str, b: str, members_up: int, timeout: float = 120.0
    ) -> ConvergenceReport:
        bundle = self.topo.bundle(a, b)
        capacity = members_capacity(bundle, members_up)

        async def act() -> None:
            self.broken = self.broken.with_members(bundle, members_up)
            await self._on_ends(a, b, "set_capacity", bps=capacity)

        return await self._measure(f"members {a} {b} {members_up}/{bundle.members}", act, timeout)

    async def drain(
        self, node: str, method: str = "link-bandwidth-zero", timeout: float = 120.0
    ) -> ConvergenceReport:
        worker = self._worker(node)
        DrainMethod(method)  # a bad method is refused here, by name

        async def act() -> None:
            self.broken = self.broken.drain(node, method)
            await worker.request("drain", node=node, method=method)

        return await self._measure(f"drain {node} {method}", act, timeout)

    async def undrain(self, node: str, timeout: float = 120.0) -> ConvergenceReport:
        worker = self._worker(node)

        async def act() -> None:
            self.broken.drained.pop(node, None)
            await worker.request("undrain", node=node)

        return await self._measure(f"undrain {node}", act, timeout)

    async def restart(self, node: str, timeout: float = 120.0) -> ConvergenceReport:
        worker = self._worker(node)

        async def act() -> None:
            self.broken = self.broken.undrain(node)  # a fresh speaker starts undrained
            await worker.request("restart", node=node)

        return await self._measure(f"restart {node}", act, timeout)

    async def flap(
        self, a: str, b: str, count: int, interval_s: float, timeout: float = 120.0
    ) -> ConvergenceReport:
        """Down and up ``count`` times, ``interval_s`` apart (real time: a flap's rhythm)."""
        self.topo.bundle(a, b)

        async def act() -> None:
            for i in range(count):
                await self._on_ends(a, b, "link_down")
                await asyncio.sleep(interval_s)
                await self._on_ends(a, b, "link_up")
                if i < count - 1:
                    await asyncio.sleep(interval_s)

        return await self._measure(f"flap {a} {b} x{count}", act, timeout)

    # --- queries ------------------------------------------------------------------------

    async def fib_weights(self) -> dict[str, dict[str, dict[str, int]]]:
        """Every speaker's FIB: node -> prefix -> next-hop node -> integer weight."""
        out: dict[str, dict[str, dict[str, int]]] = {}
        for part in await self._all("fib"):
            out.update(part)
        return out

    async def fib_changes(self) -> dict[str, object]:
        """The last operation's FIB change stream, every worker's, in time order."""
        rows: list[list[object]] = []
        dropped = 0
        for part in await self._all("changes"):
            rows.extend(part["changes"])
            dropped += part["dropped"]
        rows.sort(key=lambda row: row[0])  # CLOCK_MONOTONIC is shared by the workers
        return {"changes": rows, "dropped": dropped}

    def failures(self) -> Failures:
        """What this region was told to break or drain and has not restored."""
        return self.broken

    async def weights(self, node: str, prefix: str) -> dict[str, int]:
        """Next-hop node name -> integer weight in ``node``'s FIB for ``prefix``."""
        return await self._worker(node).request("weights", node=node, prefix=str(prefix))

    async def view(self, what: str, node: str, prefix: str | None = None) -> Any:
        return await self._worker(node).request("view", what=what, node=node, prefix=prefix)

    async def show(self, what: str, node: str, prefix: str | None = None) -> dict[str, object]:
        """The same views as ``Region.show``, computed in the node's worker."""
        if what not in ("sessions", "rib", "fib"):
            raise ValueError(f"show {what!r}: one of sessions, rib, fib")
        if what == "sessions" and prefix is not None:
            raise ValueError("show sessions takes no prefix")
        entries = await self.view(what, node, prefix)
        return {"node": node, "what": what, "prefix": prefix, what: entries}

    async def status(self) -> dict[str, object]:
        snaps = await self._all("snapshot") if self.workers else []
        return {
            "region": self.topo.name,
            "speakers": len(self.configs),
            "sessions_established": sum(s["ends_up"] for s in snaps) // 2,
            "sessions_expected": self._sessions_expected(),
            "bundles_down": [list(key) for key in sorted(self.broken.down)],
            "transport": self.transport,
            "workers": [len(g) for g in self.groups],
        }

    async def changed_nodes(self) -> set[str]:
        """Speakers whose FIB or sessions changed since the last call (all, the first time)."""
        return set().union(*(await self._all("dirty")))

    async def stats(self) -> dict[str, Any]:
        per = await self._all("stats")
        return {
            "workers": len(per),
            "speakers": [s["speakers"] for s in per],
            "fib_entries": sum(s["fib_entries"] for s in per),
            "peak_rss_kb": [s["peak_rss_kb"] for s in per],
        }

    # --- measurement --------------------------------------------------------------------

    def _sessions_expected(self) -> int:
        return sum(1 for b in self.topo.sessions() if b.key not in self.broken.down)

    @staticmethod
    def _settled(snaps: list[dict[str, Any]]) -> bool:
        return (
            not any(s["busy"] for s in snaps)
            and all(s["ends_up"] == s["ends_expected"] for s in snaps)
            and sum(s["session_updates_out"] for s in snaps)
            == sum(s["session_updates_in"] for s in snaps)
        )

    @staticmethod
    def _fingerprint(snaps: list[dict[str, Any]]) -> tuple[tuple[int, int, int], ...]:
        return tuple(
            (s["activity"], s["session_updates_out"], s["session_updates_in"]) for s in snaps
        )

    async def _measure(
        self, event: str, act: Callable[[], Awaitable[None]], timeout: float
    ) -> ConvergenceReport:
        updates0 = sum(await self._all("begin"))
        t0 = time.monotonic_ns()
        await act()
        async with asyncio.timeout(timeout):
            previous = None
            while True:
                self._idle.clear()
                snaps = await self._all("snapshot")
                self.last_snapshots = snaps
                if self._settled(snaps):
                    fingerprint = self._fingerprint(snaps)
                    if fingerprint == previous:
                        break
                    previous = fingerprint
                    continue  # confirm with a second wave at once
                previous = None
                self._note(snaps)
                await self._idle.wait()
        t1 = time.monotonic_ns()
        reports = await self._all("report")
        changes = sum(r["fib_changes"] for r in reports)
        last = max((r["last_fib_ns"] for r in reports if r["fib_changes"]), default=t0)
        prefixes = set().union(*(r["prefixes"] for r in reports))
        expected = self._sessions_expected()
        return ConvergenceReport(
            event=event,
            started_ns=t0,
            converged_s=max(0, last - t0) / 1e9,
            quiescent_s=(t1 - t0) / 1e9,
            fib_changes=changes,
            updates_sent=sum(r["updates_sent"] for r in reports) - updates0,
            prefixes_changed=len(prefixes),
            sessions_established=expected,  # quiescence means every expected one is up
            sessions_expected=expected,
        )


__all__ = ["ShardedRegion", "WorkerError"]
