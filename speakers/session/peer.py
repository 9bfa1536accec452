"""One configured neighbor: its FSM, and RFC 4271 §6.8 connection collision resolution.

Both ends of an eBGP link connect at once more often than not, so for a while a peer can
have two connections. ``Peer`` holds the FSM that dials out (``primary``) and, while a
collision lasts, a second FSM for the connection the peer opened (``secondary``). After
each input the driver calls ``resolve_collisions``; once both FSMs have the peer's OPEN,
the connection opened by the side with the higher BGP Identifier survives (RFC 4271 §6.8;
with equal identifiers, the side with the larger AS, RFC 6286 §2.3) and the other gets
OpenCollisionDump (Event 23). A connection arriving while a session is Established is
refused (§6.8: the newly created connection is closed). Sans I/O like ``Session``.
"""

from __future__ import annotations

import random

from ..wire import CeaseSubcode, ErrorCode, Notification, encode_message
from .events import State
from .fsm import Session
from .negotiation import SessionConfig

REFUSAL = encode_message(Notification(ErrorCode.CEASE, CeaseSubcode.CONNECTION_REJECTED))
COLLISION_REFUSAL = encode_message(
    Notification(ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION)
)


class Peer:
    """Owns the FSMs of one neighbor (module docstring)."""

    def __init__(
        self, config: SessionConfig, *, rng: random.Random | None = None, name: str = ""
    ) -> None:
        self.config = config
        self.name = name or str(config.peer_as)
        self._rng = rng or random.Random()
        self.primary = Session(config, rng=self._rng, name=self.name)
        self.secondary: Session | None = None
        # Whether the primary's connection is the one we opened (the secondary's never is:
        # it is the connection the peer opened).
        self._primary_dialed = False

    def configure(self, config: SessionConfig) -> None:
        """What the next OPEN offers, here and in any later connection (``Session.configure``)."""
        self.config = config
        for session in self.sessions():
            session.configure(config)

    def sessions(self) -> list[Session]:
        return [s for s in (self.primary, self.secondary) if s is not None]

    def next_deadline(self) -> float | None:
        """The earliest deadline of this peer's FSMs (None: no timer runs): asked after
        every input (``PeerTransport``), so the usual single FSM builds no list."""
        first, second = self.primary.next_deadline(), self.secondary
        later = None if second is None else second.next_deadline()
        if first is None or (later is not None and later < first):
            return later
        return first

    def initiated_locally(self, session: Session) -> bool:
        return session is self.primary and self._primary_dialed

    @property
    def state(self) -> State:
        """The most advanced state among this peer's FSMs (what an operator asks for)."""
        order = list(State)
        return max((s.state for s in self.sessions()), key=order.index)

    def start(self, now: float) -> None:
        self.primary.start(now)

    def stop(
        self, now: float, reason: str = "", subcode: int = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN
    ) -> None:
        for session in self.sessions():
            session.stop(now, reason, subcode)

    def connection_made(self, now: float) -> Session:
        """Our outgoing connection (asked for by the primary's ``ConnectRequested``) is up."""
        self._primary_dialed = True
        self.primary.connection_made(now)
        return self.primary

    def accept(self, now: float) -> Session | None:
        """The peer connected to us. Returns the FSM that now owns the connection (its OPEN
        is queued), or None: write ``REFUSAL`` (or ``COLLISION_REFUSAL`` if
        ``self.state`` is Established) and close. If the returned FSM is the primary and it
        was in Connect, its own connection attempt is abandoned: cancel it."""
        primary = self.primary
        if primary.state is State.IDLE:
            if primary.admin_down:
                return None  # RFC 4271 §8.2.2 Idle: refuse incoming connections
            primary.automatic_start_passive(now)
        if primary.state in (State.CONNECT, State.ACTIVE):
            self._primary_dialed = False  # the peer's connection, not ours
            primary.connection_made(now)
            return primary
        if primary.state is State.ESTABLISHED or self.secondary is not None:
            return None
        secondary = Session(self.config, rng=self._rng, name=f"{self.name}/in")
        secondary.start(now, passive=True)
        secondary.connection_made(now)
        self.secondary = secondary
        return secondary

    def resolve_collisions(self, now: float) -> Session | None:
        """Apply RFC 4271 §6.8 if it can be decided now; returns the FSM dumped, if any.

        The dumped FSM has queued its Cease and ``CloseRequested``: the driver drains it
        one last time, then forgets it (it is no longer in ``sessions()``).
        """
        second = self.secondary
        if second is None:
            return None
        first = self.primary
        if second.state is State.IDLE or (first.state is State.IDLE and second.connected):
            # One of them failed on its own: the other carries on as the primary.
            loser = second if second.state is State.IDLE else first
            self._keep(first if loser is second else second)
            return loser
        if first.state is State.ESTABLISHED or second.state is State.ESTABLISHED:
            loser = second if first.state is State.ESTABLISHED else first
        elif first.negotiated is not None and second.negotiated is not None:
            loser = self._collision_loser(first, second)
        else:
            return None  # wait until both have the peer's OPEN
        loser.collision_dump(now)
        self._keep(first if loser is second else second)
        return loser

    def _collision_loser(self, a: Session, b: Session) -> Session:
        assert a.negotiated is not None  # (what the peer's OPEN said, kept as agreed)
        local_id = int(self.config.router_id)
        remote_id = int(a.negotiated.peer_router_id)
        if local_id != remote_id:
            keep_ours = local_id > remote_id  # RFC 4271 §6.8
        else:
            keep_ours = self.config.local_as > a.negotiated.peer_as  # RFC 6286 §2.3
        ours = a if self.initiated_locally(a) else b
        theirs = b if ours is a else a
        return theirs if keep_ours else ours

    def _keep(self, survivor: Session) -> None:
        self._primary_dialed = self._primary_dialed and survivor is self.primary
        self.primary = survivor
        self.secondary = None
        survivor.name = self.name
