"""An in-process network: the same BGP bytes through the same session code, no sockets.

For regions too large for one process's file descriptors (the embedded runtime's largest
presets), ``MemoryNetwork`` stands in for the kernel: listeners are registered by
(address, port), ``connect`` returns a pair of ``MemoryTransport`` ends, and bytes written
on one end reach the other's protocol through ``loop.call_soon``, in order, after the
writer returns (as a socket would deliver them). ``close`` delivers what was written
first; ``abort`` drops it, like a failed link.

The network also keeps the count of bytes written but not yet delivered, which makes
quiescence exact: when it is zero and no speaker has work queued, nothing is in flight.
``on_quiet`` is called each time that count returns to zero (even when what arrived was
a KEEPALIVE, or bytes for a connection already gone, which no speaker reacts to), so
whoever waits for quiescence learns of it without looking again and again.

With a ``clock`` (the speakers' own, ``speakers.clock``), bytes carry the time they were
written: while they are handed to the receiving protocol, ``sent_at`` says when, so a
delay model can count from the moment they left rather than from when the loop got to
them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .clock import Clock
from .wire.prefix import IPAddress

Acceptor = Callable[["MemoryTransport"], None]


class MemoryTransport(asyncio.Transport):
    """One end of an in-memory connection; the subset of ``asyncio.Transport`` the BGP
    transport uses (write, close, abort, is_closing, get_extra_info)."""

    def __init__(
        self, network: MemoryNetwork, local: tuple[str, int], remote: tuple[str, int]
    ) -> None:
        super().__init__()
        self._network = network
        self._local = local
        self._remote = remote
        self.protocol: asyncio.Protocol | None = None
        self.other: MemoryTransport | None = None
        self._closing = False
        self._lost = False
        self.pending_in = 0  # bytes written to us, not yet delivered

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": self._remote, "sockname": self._local}.get(name, default)

    def is_closing(self) -> bool:
        return self._closing

    def can_write_eof(self) -> bool:
        return False  # no half-close: ``close`` already delivers what was written first

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data or self.other is None:
            return
        network = self._network
        network.in_flight += len(data)
        self.other.pending_in += len(data)
        sent_at = None if network.clock is None else network.clock.time()
        network.loop.call_soon(self.other._deliver, bytes(data), sent_at)

    def _deliver(self, data: bytes, sent_at: float | None = None) -> None:
        network = self._network
        network.in_flight -= len(data)
        self.pending_in -= len(data)
        if not self._lost and self.protocol is not None:
            network.sent_at = sent_at
            try:
                self.protocol.data_received(data)
            finally:
                network.sent_at = None
        if network.in_flight == 0 and network.on_quiet is not None:
            network.on_quiet()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        loop = self._network.loop
        loop.call_soon(self._connection_lost)  # after the bytes already written
        if self.other is not None:
            loop.call_soon(self.other._peer_closed)

    def abort(self) -> None:
        self._lost = True  # bytes written to us but not yet delivered are dropped
        if self.other is not None:
            self.other._lost = True
        self.close()

    def _peer_closed(self) -> None:
        self._closing = True
        self._connection_lost()

    def _connection_lost(self) -> None:
        if self.protocol is not None and not getattr(self, "_lost_called", False):
            self._lost_called = True
            self.protocol.connection_lost(None)


class MemoryNetwork:
    """Listeners by (address, port) and the connections between them (module docstring)."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop | None = None, clock: Clock | None = None
    ) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.clock = clock  # stamps what is written (module docstring)
        self.sent_at: float | None = None  # while bytes are handed on: when they left
        self.in_flight = 0  # bytes written and not yet delivered
        self.on_quiet: Callable[[], None] | None = None  # in_flight back to zero
        self._listeners: dict[tuple[str, int], Acceptor] = {}
        self._ports = 40000

    def listen(self, address: IPAddress, port: int, acceptor: Acceptor) -> int:
        if port == 0:
            self._ports += 1
            port = self._ports
        key = (str(address), port)
        if key in self._listeners:
            raise OSError(f"address {address} port {port} already in use")
        self._listeners[key] = acceptor
        return port

    def unlisten(self, address: IPAddress, port: int) -> None:
        self._listeners.pop((str(address), port), None)

    def connect(
        self, local: IPAddress, remote: IPAddress, port: int, protocol: asyncio.Protocol
    ) -> MemoryTransport:
        """Connect ``protocol`` to whoever listens at (``remote``, ``port``); the listener's
        acceptor gets the other end. Raises ConnectionRefusedError if nobody listens."""
        acceptor = self._listeners.get((str(remote), port))
        if acceptor is None:
            raise ConnectionRefusedError(f"nothing listens on {remote} port {port}")
        self._ports += 1
        mine = MemoryTransport(self, (str(local), self._ports), (str(remote), port))
        theirs = MemoryTransport(self, (str(remote), port), (str(local), self._ports))
        mine.other, theirs.other = theirs, mine
        mine.protocol = protocol
        acceptor(theirs)
        protocol.connection_made(mine)
        return mine
