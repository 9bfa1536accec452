"""``StepBarrier``: what crosses between processes of a region on emulated time does so
at the boundaries of the region's steps, in a fixed order, so the host cannot reorder it.

On a region's clock (speakers/clock.py's ``VirtualClock``) every process runs its timers
up to the same instant, one step at a time, and the region starts the next step only
once nothing is in flight. Bytes written on the in-memory network carry their sending
time; bytes over real TCP (sessions between worker processes or containers) do not, so
the receiver can only count them from its own clock, and whether that still stands at
the end of the previous step or already at the end of this one would depend on which
process the host ran first. Two runs of one failure then differ by a step (seen in CI:
25 vs 30 µs on ``region`` over two workers). The barrier removes both races:

- **Out:** what a speaker writes on a TCP connection during a step (``stepping``) is
  held, and leaves when the owner calls ``release``, once every process has finished
  the step (a region does it with its first look after the step). Writes on a
  connection with something still held queue behind it, so its order is kept; a
  close or a graceful finish waits its turn too.
- **In:** what a TCP connection brings is not acted on when the host happens to
  deliver it but at the start of the next step (``admit``), every connection's in a
  fixed order (its endpoint), counted from the end of the step it was sent in: where
  every process's clock stands between two steps. ``due`` says when the earliest of it
  can be handed on, so the region knows that time must move on.

Both are counted as they should be: held bytes are unsent (in flight), arrived ones are
work due at a time. The owner calls ``admit`` at the start of each step, sets
``stepping`` while the step's timers run, and calls ``release`` after it; a clock whose
owner never releases would hold for one step only, since ``admit`` releases first.

**In flight** (``in_flight``): the bytes on their way over the process's connections,
seen from its ends (``Connection.unsent`` and ``pending_input``), which the region
asks for at every step. Only two kinds of connection can have any: one written to
since it was last found empty (held here, or in its transport's buffer), and one
whose socket has bytes to read. Every connection with a barrier says when it writes
(``written``); its socket goes into an epoll set then, or when its owner takes it
(``watch``), whichever comes first (level-triggered, so ``poll(0)`` lists exactly the
sockets with bytes to read, in one system call; a closed socket leaves the set by
itself). So the look costs the connections with bytes, not
every session to another process (1,008 ends per worker on ``prometheus``).
"""

from __future__ import annotations

import select
from collections.abc import Callable, Hashable
from typing import Protocol

from ..watch import Watchlist


class Carrier(Hashable, Protocol):
    """A connection as the in-flight count sees it (``Connection``)."""

    def unsent(self) -> int: ...

    def pending_input(self) -> int: ...

    def fileno(self) -> int | None: ...

    def current(self) -> bool: ...


class StepBarrier:
    """Held writes and deferred reads of one process's TCP connections (module docstring)."""

    def __init__(self) -> None:
        self.stepping = False
        self._held: list[Callable[[], None]] = []
        self._holding: set[int] = set()  # id() of the connections with something held
        # Owners with input for the next step, by key; each owner once (a dict as a set).
        self._arrived: dict[tuple[str, ...], dict[Callable[[], None], None]] = {}
        self._due: float | None = None
        # In flight (module docstring): connections written to, sockets in the epoll set.
        self._written: Watchlist[Carrier] = Watchlist()
        self._epoll: select.epoll | None = None  # (closed with the barrier, by the collector)
        self._sockets: dict[int, Carrier] = {}  # file descriptor -> its connection

    # --- out ------------------------------------------------------------------------------

    def holds(self, connection: object) -> bool:
        """Must what ``connection`` does now wait for the release?"""
        return self.stepping or id(connection) in self._holding

    def hold(self, connection: object, action: Callable[[], None]) -> None:
        """Do ``action`` (a write, a close) at the release, after what is held before it."""
        self._holding.add(id(connection))
        self._held.append(action)

    def release(self) -> None:
        """The step is over everywhere: what was held leaves, in the order it was done."""
        self.stepping = False
        while self._held:
            held, self._held = self._held, []
            self._holding.clear()
            for action in held:
                action()

    # --- in -------------------------------------------------------------------------------

    def arrived(self, key: tuple[str, ...], earliest: float, admit: Callable[[], None]) -> None:
        """A connection's owner (``key``, its place in the fixed order; a restarted
        speaker's new owner may share its old one's) has input, which ``admit`` hands to
        the delay model; none of it is handed on before ``earliest``."""
        self._arrived.setdefault(key, {})[admit] = None
        if self._due is None or earliest < self._due:
            self._due = earliest

    def admit(self) -> None:
        """A step starts: release what is still held, then take in what arrived since the
        last step, owner by owner in key order (in the order they came, within a key)."""
        self.release()
        arrived, self._arrived, self._due = self._arrived, {}, None
        for key in sorted(arrived):
            for admit in arrived[key]:
                admit()

    def due(self) -> float | None:
        """When the earliest input waiting for the next step can be handed on (None:
        none waits)."""
        return self._due

    # --- in flight --------------------------------------------------------------------------

    def written(self, connection: Carrier) -> None:
        """``connection`` wrote (or held) bytes; its socket is watched from now on."""
        self._written.mark(connection)
        self.watch(connection)

    def watch(self, connection: Carrier) -> None:
        """Watch ``connection``'s socket for bytes to read (its owner took it: whatever
        it brings is in flight until read, even before it writes anything)."""
        fd = connection.fileno()
        if fd is None or self._sockets.get(fd) is connection:
            return
        if self._epoll is None:
            self._epoll = select.epoll()
        try:
            self._epoll.register(fd, select.EPOLLIN)
        except FileExistsError:  # (a descriptor reused before the old one was seen gone)
            self._epoll.modify(fd, select.EPOLLIN)
        self._sockets[fd] = connection

    def in_flight(self) -> int:
        """Bytes on their way over this process's connections with a barrier, seen from
        its ends: what a walk over every one of them would sum (module docstring)."""
        total = self._written.total(_holds)  # (those found empty forgotten)
        if self._epoll is not None:
            readable = {self._sockets.get(fd) for fd, _ in self._epoll.poll(0)}
            total += sum(_holds(c) for c in readable if c is not None and c not in self._written)
        return total


def _holds(carrier: Carrier) -> int:
    """What ``carrier`` holds in flight: nothing once its owner has let it go (a connection
    closed or replaced, whose remains a walk over the owners' connections never saw)."""
    return carrier.unsent() + carrier.pending_input() if carrier.current() else 0


__all__ = ["Carrier", "StepBarrier"]
