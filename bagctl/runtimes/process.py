"""The worker-process placement: a region's speakers sharded over child processes, every
core busy and no process near its file limit.

``partition`` splits the speakers so that whole fabrics stay together; each group runs in
a worker process (``python -m bagctl.runtimes.worker SPEC``, runtimes/worker.py) that
the region drives over its stdin and stdout, one JSON message per line
(runtimes/protocol.py). Sessions inside a worker use the region's transport (TCP, or the
in-memory network); sessions between workers always run over real TCP, which is what
lets the in-memory transport scale past one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import sys
import tempfile
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING

from ..topology.model import Topology
from .messages import ShardError
from .partition import partition
from .placement import RegionEvents, RemoteShard, ShardHandle
from .protocol import Close
from .records import ShardSpec

if TYPE_CHECKING:
    from ..mqtt.broker import BrokerUrl

LINE_LIMIT = 1 << 26  # a view of a big FIB is one line
CLOSE_GRACE_S = 5.0  # a worker busy with a long operation answers late or never
EXIT_GRACE_S = 10.0


class ProcessShard(RemoteShard):
    """The handle on one worker process: its pipes, and its exit."""

    def __init__(self, index: int, proc: asyncio.subprocess.Process, events: RegionEvents):
        super().__init__(index, f"worker {index}", events)
        self.proc = proc
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            while line := await self.proc.stdout.readline():
                self.on_message(json.loads(line))
        finally:
            code = await self.proc.wait()
            self.lost(f"exited with {code}")

    def cpu_seconds(self) -> float | None:
        """The worker's user and system CPU seconds (Linux: ``/proc/PID/stat``), which a
        busy worker moves and a stopped one does not (runtimes/placement.py)."""
        return process_cpu_seconds(self.proc.pid)

    async def _send(self, message: dict[str, object]) -> None:
        if self.proc.returncode is not None or self.proc.stdin is None:
            raise ShardError(f"{self.label} is not running")
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        try:
            await self.proc.stdin.drain()
        except ConnectionError as exc:
            # Its pipe broke: it died (or is dying) before anyone reaped it. Wait for the
            # reader to see it out (``lost``), so callers hear of a lost shard, as they do
            # once it is reaped, instead of a stray ConnectionResetError (which stopped the
            # region's clock keeper when a worker was killed under load).
            await asyncio.wait({self._reader}, timeout=EXIT_GRACE_S)
            raise ShardError(f"{self.label} {self.gone or 'is not running'}") from exc

    async def close(self) -> None:
        if self.proc.returncode is None:
            # It gets a few seconds to answer, then its stdin closes (it stops at its next
            # read), then SIGKILL.
            with contextlib.suppress(ShardError, ConnectionError, TimeoutError):
                async with asyncio.timeout(CLOSE_GRACE_S):
                    await self.call(Close())
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            try:
                async with asyncio.timeout(EXIT_GRACE_S):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def process_cpu_seconds(pid: int) -> float | None:
    """Process ``pid``'s CPU seconds so far (utime and stime, the 14th and 15th fields of
    ``/proc/PID/stat``, after the command name in parentheses); None where there is no
    such file (not Linux, or the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class WorkerProcesses:
    """A shard per worker process (module docstring)."""

    name = "embedded"
    autonomous = False

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.workers = workers
        self.handles: list[ProcessShard] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def addresses(self, topo: Topology) -> Mapping[str, IPv4Address] | None:
        return None

    def groups(self, topo: Topology) -> list[list[str]]:
        return [g for g in partition(topo, self.workers) if g]

    async def broker(self) -> BrokerUrl | None:
        return None

    async def spawn(self, specs: Sequence[ShardSpec], events: RegionEvents) -> list[ShardHandle]:
        self._tmp = tempfile.TemporaryDirectory(prefix="bagemu-shards-")
        root = str(Path(__file__).resolve().parents[2])
        path_env = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path_env}
        for spec in specs:
            path = Path(self._tmp.name) / f"worker{spec.index}.pickle"
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
            self.handles.append(ProcessShard(spec.index, proc, events))
        return list(self.handles)

    async def aclose(self) -> None:
        self.handles = []
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def status(self) -> dict[str, object]:
        return {}


__all__ = ["ProcessShard", "WorkerProcesses", "process_cpu_seconds"]
