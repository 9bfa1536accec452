"""Drive sans-IO sessions without sockets: a fake clock and a byte-moving pair.

Like h11's ``ConnectionPair`` and aioquic's ``client_and_server``/``transfer``: every test
moves bytes and time by hand, so a hold-timer expiry costs no wall time.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field

from speakers.session import Session, SessionConfig, SessionEvent
from speakers.session.peer import Peer


def config(local_as: int, router_id: str, peer_as: int | None, **kw: object) -> SessionConfig:
    return SessionConfig(
        local_as=local_as,
        router_id=ipaddress.IPv4Address(router_id),
        peer_as=peer_as,
        **kw,  # type: ignore[arg-type]
    )


def drain(session: Session) -> list[SessionEvent]:
    out = []
    while (event := session.next_event()) is not None:
        out.append(event)
    return out


@dataclass
class Clock:
    now: float = 1000.0

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@dataclass
class Pair:
    """Two sessions joined by one in-memory connection."""

    a: Session
    b: Session
    clock: Clock = field(default_factory=Clock)
    events_a: list[SessionEvent] = field(default_factory=list)
    events_b: list[SessionEvent] = field(default_factory=list)

    @classmethod
    def make(cls, cfg_a: SessionConfig, cfg_b: SessionConfig, seed: int = 1) -> Pair:
        return cls(
            Session(cfg_a, rng=random.Random(seed), name="a"),
            Session(cfg_b, rng=random.Random(seed + 1), name="b"),
        )

    def connect(self) -> None:
        """a dials, b listens, the TCP connection comes up."""
        now = self.clock.now
        self.a.start(now)
        self.b.start(now, passive=True)
        self.a.connection_made(now)
        self.b.connection_made(now)
        self.collect()

    def collect(self) -> None:
        self.events_a += drain(self.a)
        self.events_b += drain(self.b)

    def transfer(self, rounds: int = 10) -> None:
        """Move bytes both ways until neither side has anything to send."""
        for _ in range(rounds):
            ab, ba = self.a.data_to_send(), self.b.data_to_send()
            if not ab and not ba:
                break
            if ab:
                self.b.receive_data(ab, self.clock.now)
            if ba:
                self.a.receive_data(ba, self.clock.now)
            self.collect()
        self.collect()

    def tick(self, seconds: float) -> None:
        """Advance time, firing each side's timers in deadline order."""
        target = self.clock.now + seconds
        while True:
            deadlines = [
                d for d in (self.a.next_deadline(), self.b.next_deadline()) if d is not None
            ]
            due = [d for d in deadlines if d <= target]
            if not due:
                break
            self.clock.now = min(due)
            self.a.handle_timer(self.clock.now)
            self.b.handle_timer(self.clock.now)
            self.collect()
        self.clock.now = target


def of_type(events: list[SessionEvent], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


@dataclass
class Wire:
    """One in-memory connection between two Peers' FSMs (for collision tests)."""

    left: Session
    right: Session


def pump(peers: list[Peer], wires: list[Wire], now: float, rounds: int = 20) -> None:
    """Move bytes over every wire, resolving collisions after each delivery."""
    for _ in range(rounds):
        moved = False
        for wire in wires:
            for src, dst in ((wire.left, wire.right), (wire.right, wire.left)):
                data = src.data_to_send()
                if data:
                    moved = True
                    dst.receive_data(data, now)
            for peer in peers:
                peer.resolve_collisions(now)
        if not moved:
            return
