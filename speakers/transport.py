"""The asyncio adapter around ``Peer``: the only module of ``speakers`` that does I/O.

After every input (bytes, a connection coming or going, a timer) the adapter drains each
FSM of the peer: bytes go to that FSM's TCP connection, ``ConnectRequested`` starts a dial,
``CloseRequested`` closes, and everything else goes to the speaker's ``on_event``. Then it
resolves collisions and re-arms one timer at the earliest deadline (aioquic's
``asyncio/protocol.py`` shape).

Sockets: each speaker binds its own address (127.x.y.z, ::1 or a namespace address) for
both listening and dialing, sets TCP_NODELAY, and optionally TCP-MD5 (RFC 2385) per
neighbor through Linux's ``TCP_MD5SIG``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import socket
import struct
import termios
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from .memnet import MemoryNetwork, MemoryTransport
from .session import CloseRequested, ConnectRequested, Session, SessionEvent, State, Timer
from .session.peer import COLLISION_REFUSAL, REFUSAL, Peer
from .wire.prefix import IPAddress

TCP_MD5SIG = getattr(socket, "TCP_MD5SIG", 14)  # linux/tcp.h
_TCP_MD5SIG_MAXKEYLEN = 80


def md5sig_option(peer: IPAddress, key: bytes) -> bytes:
    """``struct tcp_md5sig`` for ``setsockopt(IPPROTO_TCP, TCP_MD5SIG, ...)`` (RFC 2385)."""
    if len(key) > _TCP_MD5SIG_MAXKEYLEN:
        raise ValueError(f"TCP-MD5 key of {len(key)} octets exceeds {_TCP_MD5SIG_MAXKEYLEN}")
    if peer.version == 4:
        addr = struct.pack("=H", socket.AF_INET) + b"\0\0" + peer.packed
    else:
        addr = struct.pack("=H", socket.AF_INET6) + b"\0\0" + b"\0" * 4 + peer.packed + b"\0" * 4
    storage = addr + bytes(128 - len(addr))  # struct sockaddr_storage
    return (
        storage
        + struct.pack("=BBHI", 0, 0, len(key), 0)
        + key
        + bytes(_TCP_MD5SIG_MAXKEYLEN - len(key))
    )


def set_md5(sock: socket.socket, peer: IPAddress, password: str) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, md5sig_option(peer, password.encode()))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a neighbor is and how to reach it."""

    local_address: IPAddress
    remote_address: IPAddress
    port: int = 179
    md5_password: str | None = None
    connect_timeout_s: float = 3.0


CLOSE_GRACE_S = 2.0  # after our NOTIFICATION, how long the peer has to close its side


class _Protocol(asyncio.Protocol):
    """One TCP connection (or in-memory one). ``owner`` is None while a listener has not
    yet handed it to the neighbor's ``PeerTransport``; input before then is dropped."""

    def __init__(self, owner: PeerTransport | None, session: Session | None) -> None:
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
            self.owner._on_data(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        if not self.pending and self.owner is not None:
            self.owner._on_lost(self)

    def eof_received(self) -> bool:
        return False  # the peer closed its side: close ours (asyncio then calls lost)

    def finish(self, grace_s: float = CLOSE_GRACE_S) -> None:
        """Close after what we wrote (a NOTIFICATION) has gone, the way a router does: send,
        half-close (FIN), and let the peer close its side within ``grace_s``. Closing a
        socket with unread input at once sends a RST instead, and a RST can make the peer's
        kernel drop our NOTIFICATION before the peer has read it."""
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
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

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
        except OSError:
            return 0


class PeerTransport:
    """Runs one ``Peer`` over TCP (module docstring). ``on_event(session, event)`` gets
    every routing event in order; it may call ``send_update`` re-entrantly."""

    def __init__(
        self,
        peer: Peer,
        endpoint: Endpoint,
        on_event: Callable[[Session, SessionEvent], None],
        loop: asyncio.AbstractEventLoop | None = None,
        network: MemoryNetwork | None = None,
        on_activity: Callable[[], None] | None = None,
    ) -> None:
        self.peer = peer
        self.on_activity = on_activity  # called after every input is processed
        self.endpoint = endpoint
        self.network = network  # None: real TCP; else the in-memory network (memnet.py)
        self.on_event = on_event
        self.loop = loop or asyncio.get_running_loop()
        self._conns: dict[int, _Protocol] = {}  # id(session) -> its connection
        self._dial: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._pumping = False
        self._finishing: set[_Protocol] = set()  # closing gracefully (``_Protocol.finish``)

    # --- control ------------------------------------------------------------------------

    def start(self) -> None:
        self.peer.start(self.loop.time())
        self._pump()

    def stop(self, reason: str = "", subcode: int = 2) -> None:
        """Administrative down: Cease (RFC 4486 ``subcode``) with ``reason`` (RFC 8203)."""
        self.peer.stop(self.loop.time(), reason, subcode)
        self._pump()

    def close(self) -> None:
        """Forget everything at once (process exit): no NOTIFICATION, sockets closed."""
        self._closed = True
        if self._dial is not None:
            self._dial.cancel()
        if self._timer is not None:
            self._timer.cancel()
        for proto in list(self._conns.values()):
            proto.close()
        self._conns.clear()

    async def wait_finished(self) -> None:
        """Until every connection closing gracefully is gone (each has its grace period)."""
        while self._finishing:
            await asyncio.gather(*(p.lost for p in list(self._finishing)))

    def send_update(self, message: bytes) -> bool:
        """Queue one UPDATE on the established session; False if there is none."""
        return self.send_updates([message]) == 1

    def send_updates(self, messages: list[bytes]) -> int:
        """Queue UPDATEs on the established session, written together; how many were
        queued (0 if there is no established session)."""
        session = self.peer.primary
        if session.state is not State.ESTABLISHED or not messages:
            return 0
        now = self.loop.time()
        for message in messages:
            session.send_update(message, now)
        self._pump()
        return len(messages)

    def drop(self) -> None:
        """Cut every connection abruptly, as a failed link does (no NOTIFICATION)."""
        for proto in list(self._conns.values()):
            if proto.transport is not None:
                proto.transport.abort()

    def link_down(self) -> None:
        """The link is down: connections cut with no NOTIFICATION (nothing can cross a dead
        link), and the session stays down until ``start`` (fast external fallover)."""
        self.drop()
        self.peer.stop(self.loop.time(), "link down")
        self._pump()

    # --- incoming connections (from the speaker's listener) ------------------------------

    def accept(self, proto: _Protocol) -> None:
        session = self.peer.accept(self.loop.time())
        if session is None:
            established = self.peer.state is State.ESTABLISHED
            proto.write(COLLISION_REFUSAL if established else REFUSAL)
            proto.close()
            return
        if session is self.peer.primary and self._dial is not None:
            self._dial.cancel()  # the peer's connection won the race to the primary FSM
            self._dial = None
        old = self._conns.pop(id(session), None)
        if old is not None:
            old.close()
        proto.owner, proto.session = self, session
        self._conns[id(session)] = proto
        self._pump()

    # --- I/O callbacks -------------------------------------------------------------------

    def _on_data(self, proto: _Protocol, data: bytes) -> None:
        session = proto.session
        if session is None or self._conns.get(id(session)) is not proto:
            return
        session.receive_data(data, self.loop.time())
        self._pump()

    def _on_lost(self, proto: _Protocol) -> None:
        session = proto.session
        if session is None or self._conns.get(id(session)) is not proto:
            return
        del self._conns[id(session)]
        session.connection_failed(self.loop.time())
        self._pump()

    async def _connect(self, session: Session) -> None:
        ep = self.endpoint
        if self.network is not None:
            self._connect_memory(session)
            return
        family = socket.AF_INET if ep.remote_address.version == 4 else socket.AF_INET6
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            sock.bind((str(ep.local_address), 0))
            if ep.md5_password:
                set_md5(sock, ep.remote_address, ep.md5_password)
            async with asyncio.timeout(ep.connect_timeout_s):
                await self.loop.sock_connect(sock, (str(ep.remote_address), ep.port))
            proto = _Protocol(self, session)
            proto.pending = True
            await self.loop.create_connection(lambda: proto, sock=sock)
        except (OSError, TimeoutError):
            sock.close()
            if not self._closed and self.peer.primary is session:
                session.connection_failed(self.loop.time())
                self._pump()
            return
        except asyncio.CancelledError:
            sock.close()
            raise
        if self._closed or self.peer.primary is not session or session.state is not State.CONNECT:
            proto.close()  # superseded while dialing (the peer's connection got there first)
            return
        self._conns[id(session)] = proto
        self.peer.connection_made(self.loop.time())
        self._pump()
        # What arrived while the dial was returning, in order: bytes, then the loss.
        proto.pending = False
        early, proto.early = proto.early, []
        for data in early:
            self._on_data(proto, data)
        if proto.lost.done():
            self._on_lost(proto)

    def _connect_memory(self, session: Session) -> None:
        ep = self.endpoint
        assert self.network is not None
        proto = _Protocol(self, session)
        try:
            self.network.connect(ep.local_address, ep.remote_address, ep.port, proto)
        except ConnectionRefusedError:
            if not self._closed and self.peer.primary is session:
                session.connection_failed(self.loop.time())
                self._pump()
            return
        if self._closed or self.peer.primary is not session or session.state is not State.CONNECT:
            proto.close()
            return
        self._conns[id(session)] = proto
        self.peer.connection_made(self.loop.time())
        self._pump()

    def bytes_sent_received(self) -> tuple[int, int]:
        """(bytes sent, bytes received) so far over this peer's current connections:
        running totals, not what is in flight (that is the difference between the two
        ends' totals, summed over a region: ``Shard.balance``)."""
        sent = sum(p.bytes_sent for p in self._conns.values())
        received = sum(p.bytes_received for p in self._conns.values())
        return sent, received

    def _on_timer(self) -> None:
        self._timer = None
        now = self.loop.time()
        for session in self.peer.sessions():
            hold = session.timer_deadline(Timer.HOLD)
            if hold is not None and hold <= now:
                proto = self._conns.get(id(session))
                if proto is not None and proto.pending_input():
                    session.input_pending(now)  # the peer spoke; we are just behind
            session.handle_timer(now)
        self._pump()

    # --- the pump -------------------------------------------------------------------------

    def _pump(self) -> None:
        if self._closed or self._pumping:
            return
        self._pumping = True
        try:
            dumped: list[Session] = []
            for _ in range(8):  # a collision resolution can queue more output
                for session in self.peer.sessions() + dumped:
                    self._drain(session)
                dumped = []
                loser = self.peer.resolve_collisions(self.loop.time())
                if loser is None:
                    break
                dumped.append(loser)
            for session in dumped:
                self._drain(session)
        finally:
            self._pumping = False
        self._arm_timer()
        if self.on_activity is not None:
            self.on_activity()

    def _drain(self, session: Session) -> None:
        proto = self._conns.get(id(session))
        data = session.data_to_send()
        if data and proto is not None:
            proto.write(data)
        while (event := session.next_event()) is not None:
            if isinstance(event, ConnectRequested):
                if self._dial is not None:
                    self._dial.cancel()
                self._dial = self.loop.create_task(self._connect(session))
            elif isinstance(event, CloseRequested):
                proto = self._conns.pop(id(session), None)
                if proto is not None:
                    proto.finish()  # what is buffered, then FIN; the peer closes its side
                    self._finishing.add(proto)
                    proto.lost.add_done_callback(partial(_forget, self._finishing, proto))
            else:
                self.on_event(session, event)

    def _arm_timer(self) -> None:
        deadlines = [d for s in self.peer.sessions() if (d := s.next_deadline()) is not None]
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if deadlines and not self._closed:
            self._timer = self.loop.call_at(min(deadlines), self._on_timer)


def _forget(finishing: set[_Protocol], proto: _Protocol, _: asyncio.Future[None]) -> None:
    finishing.discard(proto)  # closed: nothing left to wait for (``wait_finished``)


class Listener:
    """One speaker's listening socket: hands each incoming connection to the
    ``PeerTransport`` of the neighbor at the remote address, and refuses strangers."""

    def __init__(self, address: IPAddress, port: int, network: MemoryNetwork | None = None) -> None:
        self.address = address
        self.port = port
        self.network = network
        self.peers: dict[IPAddress, PeerTransport] = {}
        self._server: asyncio.Server | None = None
        self._sock: socket.socket | None = None

    async def start(self) -> None:
        if self.network is not None:
            self.port = self.network.listen(self.address, self.port, self._accept_memory)
            return
        family = socket.AF_INET if self.address.version == 4 else socket.AF_INET6
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((str(self.address), self.port))
            for remote, pt in self.peers.items():
                if pt.endpoint.md5_password:
                    set_md5(sock, remote, pt.endpoint.md5_password)
            sock.listen(512)
            sock.setblocking(False)
        except BaseException:
            sock.close()  # e.g. the address is in use: no socket left for the GC to find
            raise
        self._sock = sock
        self.port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._factory, sock=sock)

    def _factory(self) -> _Protocol:
        return _IncomingProtocol(self)

    def _accept_memory(self, transport: MemoryTransport) -> None:
        proto = _IncomingProtocol(self)
        transport.protocol = proto
        proto.connection_made(transport)

    def close(self) -> None:
        if self.network is not None:
            self.network.unlisten(self.address, self.port)
        if self._server is not None:
            self._server.close()


class _IncomingProtocol(_Protocol):
    def __init__(self, listener: Listener) -> None:
        super().__init__(owner=None, session=None)
        self.listener = listener

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        host = transport.get_extra_info("peername")[0]
        with contextlib.suppress(ValueError):
            remote = ipaddress.ip_address(host.split("%")[0])
            pt = self.listener.peers.get(remote)
            if pt is not None:
                pt.accept(self)
                return
        self.write(REFUSAL)  # RFC 4486 §4: Connection Rejected, not a configured peer
        self.close()
