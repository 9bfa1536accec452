"""``Connection``: one TCP (or in-memory) connection of a peer, the asyncio protocol
around it: its byte counts, what it holds unsent or unread, and its graceful close.

It hands what it reads and its loss to its ``owner`` (a ``PeerTransport``,
peer_transport.py), once a listener or a dial has given it one.
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import struct
import termios
from typing import TYPE_CHECKING, Protocol

from ..memnet import MemoryTransport
from .barrier import StepBarrier

if TYPE_CHECKING:
    from ..session import Session


class Owner(Protocol):
    """What a connection reports to (``PeerTransport``)."""

    def data_from(self, proto: Connection, data: bytes) -> None: ...

    def lost_from(self, proto: Connection) -> None: ...

    def owns(self, proto: Connection) -> bool: ...


CLOSE_GRACE_S = 2.0  # after our NOTIFICATION, how long the peer has to close its side


class Connection(asyncio.Protocol):
    """One TCP connection (or in-memory one). ``owner`` is None while a listener has not
    yet handed it to the neighbor's ``PeerTransport``; input before then is dropped."""

    def __init__(self, owner: Owner | None, session: Session | None) -> None:
        self.owner = owner
        self.session = session
        self.transport: asyncio.Transport | None = None
        self.bytes_sent = 0
        self.bytes_received = 0
        self.lost = asyncio.get_running_loop().create_future()
        # A dialed connection is not handed to its FSM until the dial returns; what the
        # peer sends before then (a refusal, say) waits here instead of being dropped.
        self.pending = False
        self.early: list[bytes] = []
        # With a delay model (inputs.py): bytes not yet a whole message.
        self.partial = bytearray()
        # On a region's clock, over TCP: writes wait for the step's end (barrier.py).
        self.barrier: StepBarrier | None = None
        self.held = 0  # bytes written and held there

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.bytes_received += len(data)
        if self.pending:
            self.early.append(data)
            return
        if self.owner is not None:
            self.owner.data_from(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        if not self.pending and self.owner is not None:
            self.owner.lost_from(self)

    def eof_received(self) -> bool:
        return False  # the peer closed its side: close ours (asyncio then calls lost)

    def finish(self, grace_s: float = CLOSE_GRACE_S) -> None:
        """Close after what we wrote (a NOTIFICATION) has gone, the way a router does: send,
        half-close (FIN), and let the peer close its side within ``grace_s``. Closing a
        socket with unread input at once sends a RST instead, and a RST can make the peer's
        kernel drop our NOTIFICATION before the peer has read it."""
        if self.barrier is not None and self.barrier.holds(self):
            self.barrier.hold(self, lambda: self.finish(grace_s))
            return
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if not transport.can_write_eof():
            transport.close()
            return
        try:
            transport.write_eof()  # after the buffered bytes
        except OSError:  # the peer has already reset the connection (ENOTCONN)
            transport.abort()
            return
        timer = asyncio.get_running_loop().call_later(grace_s, transport.close)
        self.lost.add_done_callback(lambda _: timer.cancel())

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.bytes_sent += len(data)
            if self.barrier is not None:
                self.barrier.written(self)  # bytes in flight, until found gone (barrier.py)
                if self.barrier.holds(self):
                    self.held += len(data)
                    self.barrier.hold(self, lambda: self._send_held(data))
                    return
            self.transport.write(data)

    def _send_held(self, data: bytes) -> None:
        self.held -= len(data)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.barrier is not None and self.barrier.holds(self):
            self.barrier.hold(self, self.close)
            return
        if self.transport is not None:
            self.transport.close()

    def current(self) -> bool:
        """Still one of its owner's connections (not closed or replaced)."""
        return self.owner is not None and self.owner.owns(self)

    def fileno(self) -> int | None:
        """The socket's file descriptor (None: in memory, or no socket any more)."""
        transport = self.transport
        if transport is None or isinstance(transport, MemoryTransport):
            return None
        sock = transport.get_extra_info("socket")
        return None if sock is None else int(sock.fileno())

    def unsent(self) -> int:
        """Bytes we wrote that are held for the step's end (barrier.py) or still in our
        transport's buffer, not yet handed to the kernel (or the in-memory network,
        which delivers what it is handed)."""
        transport = self.transport
        if transport is None or isinstance(transport, MemoryTransport):
            return self.held
        return self.held + transport.get_write_buffer_size()

    def pending_input(self) -> int:
        """Bytes from the peer not read yet: queued on an in-memory link, or in the
        kernel's receive buffer (FIONREAD)."""
        transport = self.transport
        if transport is None:
            return 0
        if isinstance(transport, MemoryTransport):
            return transport.pending_in
        sock = transport.get_extra_info("socket")
        if sock is None:
            return 0
        try:
            waiting: int = struct.unpack(
                "i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
            )[0]
            return waiting
        except (OSError, ValueError):  # closed meanwhile (a file descriptor of -1)
            return 0


__all__ = ["CLOSE_GRACE_S", "Connection", "Owner"]
