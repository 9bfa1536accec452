"""``PeerTransport``: the asyncio adapter that runs one ``Peer`` (aioquic's
``asyncio/protocol.py`` shape).

After every input (bytes, a connection coming or going, a timer) the adapter drains each
FSM of the peer (``_pump``/``_drain``): bytes go to that FSM's connection,
``ConnectRequested`` starts a dial, ``CloseRequested`` closes gracefully, and everything
else goes to the speaker's ``on_event``. Then it resolves collisions and re-arms one timer
at the earliest deadline (``_arm_timer``), on the speaker's clock (``clock.py``: the
host's, or a region's emulated time); the loop is only for I/O. Each connection is a
``Connection`` (connection.py).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from functools import partial

from ..clock import Clock, LoopClock
from ..clock import Timer as Scheduled
from ..memnet import MemoryNetwork
from ..session import CloseRequested, ConnectRequested, Session, SessionEvent, State, Timer
from ..session.peer import COLLISION_REFUSAL, REFUSAL, Peer
from .barrier import StepBarrier
from .connection import Connection
from .endpoint import Endpoint
from .gtsm import set_gtsm
from .inputs import Backlog, InputQueue, split_messages
from .tcp_md5 import set_md5


class PeerTransport:
    """Runs one ``Peer`` over TCP (module docstring). ``on_event(session, event)`` gets
    every routing event in order; it may call ``send_updates`` re-entrantly."""

    def __init__(
        self,
        peer: Peer,
        endpoint: Endpoint,
        on_event: Callable[[Session, SessionEvent], None],
        clock: Clock | None = None,
        network: MemoryNetwork | None = None,
        on_activity: Callable[[], None] | None = None,
        inputs: InputQueue | None = None,
        latency_s: float = 0.0,
        barrier: StepBarrier | None = None,
    ) -> None:
        """``inputs``: the speaker's delay model (inputs.py; None: input is acted on at
        once), ``latency_s`` the link's part of it; ``barrier``: on a region's clock,
        where TCP connections cross the region's steps (barrier.py; only with a delay
        model, which says when what crossed is acted on)."""
        self.peer = peer
        self.inputs = inputs
        self.barrier = barrier if inputs is not None and network is None else None
        self._key = (str(endpoint.local_address), str(endpoint.remote_address))
        self._arrived: list[tuple[Connection, bytes | None]] = []  # for the next step
        self.latency_s = latency_s
        self.on_activity = on_activity  # called after every input is processed
        self.endpoint = endpoint
        self.network = network  # None: real TCP; else the in-memory network (memnet.py)
        self.on_event = on_event
        self.loop = asyncio.get_running_loop()
        self.clock: Clock = clock if clock is not None else LoopClock(self.loop)
        self._backlog: Backlog[Connection] = Backlog(self.clock, self._handed_on)
        self._conns: dict[int, Connection] = {}  # id(session) -> its connection
        self._dial: asyncio.Task[None] | None = None
        self.dials: set[asyncio.Task[None]] | None = None  # the speaker's: every dial added
        self._timer: Scheduled | None = None
        self._timer_at: float | None = None  # when ``_timer`` fires
        self._closed = self._pumping = self.frozen = False
        self._finishing: tuple[Connection, ...] = ()  # closing (``Connection.finish``); () shared

    # --- control ------------------------------------------------------------------------

    def start(self) -> None:
        self.peer.start(self.clock.time())
        self._pump()

    def stop(self, reason: str = "", subcode: int = 2) -> None:
        """Administrative down: Cease (RFC 4486 ``subcode``) with ``reason`` (RFC 8203)."""
        self.peer.stop(self.clock.time(), reason, subcode)
        self._pump()

    def close(self) -> None:
        """Forget everything at once (process exit): no NOTIFICATION, sockets closed."""
        self._closed = True
        self._cancel_dial()
        if self._timer is not None:
            self._timer.cancel()
        for proto in list(self._conns.values()):
            proto.close()
        self._conns.clear()

    async def wait_finished(self) -> None:
        """Until every connection closing gracefully is gone (each has its grace period)."""
        while self._finishing:
            await asyncio.gather(*(p.lost for p in self._finishing))

    def _cancel_dial(self) -> None:
        """No dial under way any more (its outcome will not come: not ``dials``')."""
        if self._dial is not None:
            self._dial.cancel()
            if self.dials is not None:
                self.dials.discard(self._dial)
            self._dial = None

    def send_updates(self, messages: list[bytes]) -> int:
        """Queue UPDATEs on the established session, written together; how many were
        queued (0: no established session). Sending raises no event and only moves the
        keepalive later, so the timer set stays right: with no collision and no pump
        under way, only the bytes are written (not a pump per neighbor of a flush)."""
        session = self.peer.primary
        if session.state is not State.ESTABLISHED or not messages:
            return 0
        session.send_updates(messages, self.clock.time())
        proto = self._conns.get(id(session))
        busy = self._pumping or self.frozen or self.peer.secondary is not None
        if busy or self._timer is None or proto is None:
            self._pump()
            return len(messages)
        proto.write(session.data_to_send())
        if self.on_activity is not None:
            self.on_activity()
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
        now = self.clock.time()
        for session in self.peer.sessions():
            session.connection_failed(now)  # Event 18 now: no NOTIFICATION crossed the link
        self.peer.stop(now, "link down")  # ... and none will: down until ``start``
        self._pump()

    # --- incoming connections (from the speaker's listener) ------------------------------

    def accept(self, proto: Connection) -> None:
        session = self.peer.accept(self.clock.time())
        if session is None:
            established = self.peer.state is State.ESTABLISHED
            proto.write(COLLISION_REFUSAL if established else REFUSAL)
            proto.close()
            return
        if session is self.peer.primary:
            self._cancel_dial()  # the peer's connection won the race to the primary FSM
        old = self._conns.pop(id(session), None)
        if old is not None:
            old.close()
        proto.owner, proto.session, proto.barrier = self, session, self.barrier
        self._conns[id(session)] = proto
        if self.barrier is not None:  # (its input is in flight until read: barrier.py)
            self.barrier.watch(proto)
        self._pump()

    # --- I/O callbacks -------------------------------------------------------------------

    def data_from(self, proto: Connection, data: bytes) -> None:
        inputs = self.inputs
        if inputs is None:
            self._receive(proto, data)
            return
        if self.barrier is not None:  # acted on from the next step (barrier.py)
            self._arrived.append((proto, data))
            earliest = inputs.earliest(self.clock.time(), self.latency_s)
            self.barrier.arrived(self._key, earliest, self._take_arrived)
        else:  # counted from when the bytes left, where the network says (memnet.py)
            sent_at = None if self.network is None else self.network.sent_at
            self._admit(proto, data, self.clock.time() if sent_at is None else sent_at)
        if self.on_activity is not None:
            self.on_activity()  # input arrived (to wait its turn): whoever waits may look

    def _admit(self, proto: Connection, data: bytes, now: float) -> None:
        """Into the delay model: each whole message is handed on when it says."""
        assert self.inputs is not None
        proto.partial += data
        for message in split_messages(proto.partial):
            ready = self.inputs.admit(now, self.latency_s)
            self._backlog.add(ready, proto, message)

    def _take_arrived(self) -> None:
        """A step starts: what TCP brought since the last one, in order (barrier.py)."""
        arrived, self._arrived = self._arrived, []
        now = self.clock.time()
        for proto, data in arrived:
            if data is None:
                self._admit_loss(proto, now)
            else:
                self._admit(proto, data, now)

    def _handed_on(self, proto: Connection, message: bytes | None) -> None:
        """A message (None: the connection's loss) whose delay has passed."""
        assert self.inputs is not None
        self.inputs.handed_on()
        if message is None:
            self._lost(proto)
        else:
            self._receive(proto, message)
        self.inputs.acted_on()

    def _receive(self, proto: Connection, data: bytes) -> None:
        session = proto.session
        if self.frozen or session is None or self._conns.get(id(session)) is not proto:
            return
        session.receive_data(data, self.clock.time())
        self._pump()

    def lost_from(self, proto: Connection) -> None:
        if self.inputs is None:
            self._lost(proto)
        elif self.barrier is not None:
            self._arrived.append((proto, None))
            now = self.clock.time()
            self.barrier.arrived(self._key, now + self.latency_s, self._take_arrived)
            if self.on_activity is not None:
                self.on_activity()
        else:
            self._admit_loss(proto, self.clock.time())

    def _admit_loss(self, proto: Connection, now: float) -> None:
        """The loss crosses the link too, after all that the neighbor's connections brought."""
        assert self.inputs is not None
        ready = max(now + self.latency_s, self._backlog.last)
        self.inputs.hold(ready)
        self._backlog.add(ready, proto, None)

    def _lost(self, proto: Connection) -> None:
        session = proto.session
        if self.frozen or session is None or self._conns.get(id(session)) is not proto:
            return
        del self._conns[id(session)]
        session.connection_failed(self.clock.time())
        self._pump()

    def freeze(self) -> None:
        """Act on nothing more and send nothing (a test hook: a speaker that stops, its
        connections still open, as a hung process's are). Bytes still arrive and are
        counted, unread: only the peer's hold timer can tell."""
        self.frozen = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

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
            if ep.ttl_security:
                set_gtsm(sock, ep.remote_address.version)
            async with asyncio.timeout(ep.connect_timeout_s):
                await self.loop.sock_connect(sock, (str(ep.remote_address), ep.port))
            proto = Connection(self, session)
            proto.pending = True
            proto.barrier = self.barrier
            await self.loop.create_connection(lambda: proto, sock=sock)
        except (OSError, TimeoutError):
            sock.close()
            if not self._closed and self.peer.primary is session:
                session.connection_failed(self.clock.time())
                self._pump()
            return
        except asyncio.CancelledError:
            sock.close()
            raise
        if self._closed or self.peer.primary is not session or session.state is not State.CONNECT:
            proto.close()  # superseded while dialing (the peer's connection got there first)
            return
        self._conns[id(session)] = proto
        if self.barrier is not None:
            self.barrier.watch(proto)
        self.peer.connection_made(self.clock.time())
        self._pump()
        # What arrived while the dial was returning, in order: bytes, then the loss.
        proto.pending = False
        early, proto.early = proto.early, []
        for data in early:
            self.data_from(proto, data)
        if proto.lost.done():
            self.lost_from(proto)

    def _connect_memory(self, session: Session) -> None:
        ep = self.endpoint
        assert self.network is not None
        proto = Connection(self, session)
        try:
            self.network.connect(ep.local_address, ep.remote_address, ep.port, proto)
        except ConnectionRefusedError:
            if not self._closed and self.peer.primary is session:
                session.connection_failed(self.clock.time())
                self._pump()
            return
        if self._closed or self.peer.primary is not session or session.state is not State.CONNECT:
            proto.close()
            return
        self._conns[id(session)] = proto
        self.peer.connection_made(self.clock.time())
        self._pump()

    def owns(self, proto: Connection) -> bool:
        return proto.session is not None and self._conns.get(id(proto.session)) is proto

    def bytes_in_flight(self) -> int:
        """Bytes on their way over this peer's connections, seen from our end: written
        and not yet handed to the kernel, or arrived and not yet read. Summed over both
        ends of every connection of a region, what has been written and not read: each
        end counts only what it holds, so a connection closed at one end counts nothing
        there, and no byte is counted twice."""
        return sum(p.unsent() + p.pending_input() for p in self._conns.values())

    def bytes_sent_received(self) -> tuple[int, int]:
        """(bytes sent, bytes received) so far over this peer's current connections:
        running totals, not what is in flight (that is the difference between the two
        ends' totals, summed over a region: ``Shard.balance``)."""
        conns = self._conns.values()
        return sum(p.bytes_sent for p in conns), sum(p.bytes_received for p in conns)

    def _on_timer(self) -> None:
        self._timer = None
        now = self.clock.time()
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
        if self._closed or self._pumping or self.frozen:
            return
        self._pumping = True
        try:
            dumped: list[Session] = []
            for _ in range(8):  # a collision resolution can queue more output
                if self.peer.secondary is None and not dumped:  # (most: no collision)
                    self._drain(self.peer.primary)
                    if self.peer.secondary is None:
                        break
                for session in self.peer.sessions() + dumped:
                    self._drain(session)
                loser = self.peer.resolve_collisions(self.clock.time())
                dumped = [] if loser is None else [loser]
                if loser is None:
                    break
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
                self._cancel_dial()
                self._dial = self.loop.create_task(self._connect(session))
                self._dial.add_done_callback(self._dialled)
                if self.dials is not None:
                    self.dials.add(self._dial)
            elif isinstance(event, CloseRequested):
                proto = self._conns.pop(id(session), None)
                if proto is not None:
                    # A handler of an earlier event may have stopped the session (maximum-
                    # prefix): its NOTIFICATION was queued after ``data`` was taken above.
                    late = session.data_to_send()
                    if late:
                        proto.write(late)
                    proto.finish()  # what is buffered, then FIN; the peer closes its side
                    self._finishing += (proto,)
                    proto.lost.add_done_callback(partial(self._forget, proto))
            else:
                self.on_event(session, event)

    def _arm_timer(self) -> None:
        when = None if self._closed else self.peer.next_deadline()
        if self._timer is not None:
            if when is not None and self._timer_at is not None and when >= self._timer_at:
                return  # set for then or sooner (a sooner one finds nothing and sets again)
            self._timer.cancel()
            self._timer = None
        self._timer_at = when
        if when is not None:
            self._timer = self.clock.call_at(when, self._on_timer)

    def _forget(self, proto: Connection, _: asyncio.Future[None]) -> None:
        """Closed: nothing left to wait for (``wait_finished``)."""
        self._finishing = tuple(p for p in self._finishing if p is not proto)

    def _dialled(self, task: asyncio.Task[None]) -> None:
        if self._dial is task:  # a finished task keeps its coroutine: 480 B per dialing end
            self._dial = None
