"""The delay model: what a received message waits before the speaker acts on it.

A real switch does not act on an UPDATE the instant its peer writes it: the bytes cross
the link (``NeighborConfig.latency_s``), then wait their turn at the switch's BGP agent,
which handles one message at a time (``SpeakerConfig.processing_s`` each). ``InputQueue``
is that agent as a single-server queue, one per speaker, shared by all its neighbors: a
message that arrives at ``t`` over a link of latency ``L`` is handed to its session at
``max(t + L, when the agent is free) + processing``, on the speaker's clock. On a
region's emulated clock this is what makes a convergence time a property of the
topology, the protocol and the model rather than of the host: a BAG chassis that must
read a thousand UPDATEs takes a thousand times the processing cost, whatever machine
runs it. With both figures 0 (the default) nothing waits.

The agent also works through its backlog before it computes what to send, as FRR's
bgpd and BIRD do (input is read in batches, then the outbound work runs): while messages
wait here the speaker holds its export back (``Speaker.schedule_flush``), and the
queue calls ``on_turn`` when the backlog is empty, or every ``TURN`` messages so a
steady stream cannot starve the output. Without it every UPDATE read would be answered
by its own round of UPDATEs out, a path exploration no real agent does. ``TURN`` is
about 10 ms of agent time at the default 10 us a message, below the 50 ms FRR's bgpd
lets its route-processing queue run before it yields; a turn of 64 had a Clos spine
work out its exports to 144 neighbors four times as often, for the same UPDATEs. The
FIB waits for the turn too: each UPDATE is decided as it is read, and what it changed
reaches the FIB and the route observers at the turn, once per prefix (``Routes.release``):
an RDSW that reads its 40 EDSWs' UPDATEs for a prefix changes its entry once, not 40
times, as bgpd hands zebra each destination once.

``Backlog`` holds what one neighbor's connections delivered until the queue hands it on,
under a single clock timer for the earliest: a timer per message, with its heap entry and
callback, cost some 300 B more each, and a cold start has many waiting at once (over
150,000 at the peak on z = 2 of ``bench/scale.py``). Freed, that memory stayed with the
allocator, in pools shared with the region's long-lived objects: it was most of what
the allocator held free once the region converged.

``split_messages`` cuts what a connection delivered into whole BGP messages (their
header's length field), so each is charged once; a header that no length fits is handed
on whole, for the session to refuse.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable
from typing import Generic, TypeVar

from ..clock import Clock, Timer

C = TypeVar("C")  # a connection (connection.py), as the backlog's owner hands it on

HEADER = 19
MAX_LENGTH = 65535  # RFC 8654 at most
TURN = 1024  # messages read, at most, before the held-back export gets its turn


class InputQueue:
    """One speaker's BGP agent as a single-server queue (module docstring)."""

    def __init__(self, processing_s: float) -> None:
        self.processing_s = processing_s
        self._free_at = float("-inf")
        self._pending: list[float] = []  # when each admitted message is handed on
        self._read = 0  # messages handed on since the last turn
        self.on_turn: Callable[[], None] | None = None  # the export's turn (docstring)
        # A message waits where none did: work is due at a time (``Speaker.work_due``).
        self.on_wait: Callable[[], None] | None = None

    def earliest(self, now: float, latency_s: float) -> float:
        """When a message arriving at ``now`` over a link of ``latency_s`` would be handed
        on, were it admitted next (``admit`` without admitting it)."""
        return max(now + latency_s, self._free_at) + self.processing_s

    def admit(self, now: float, latency_s: float) -> float:
        """A message arrived at ``now`` over a link of ``latency_s``: when it is handed on."""
        ready = max(now + latency_s, self._free_at) + self.processing_s
        self._free_at = ready
        self.hold(ready)
        return ready

    def hold(self, ready: float) -> None:
        """Something else handed on at ``ready`` without the agent's time (a connection
        lost, after the messages before it)."""
        if not self._pending and self.on_wait is not None:
            self.on_wait()
        heapq.heappush(self._pending, ready)

    def handed_on(self) -> None:
        """The earliest admitted message has been handed on (the clock runs its timers in
        deadline order, so it is always the earliest)."""
        heapq.heappop(self._pending)

    def acted_on(self) -> None:
        """The message last handed on has been acted on: the export's turn if the
        backlog is empty or ``TURN`` messages have been read since its last one."""
        self._read += 1
        if self._pending and self._read < TURN:
            return
        self._read = 0
        if self.on_turn is not None:
            self.on_turn()

    def backlog(self) -> bool:
        """Messages are waiting to be handed on."""
        return bool(self._pending)

    def due(self) -> float | None:
        """When the next message waiting here is handed on (None: none is waiting)."""
        return self._pending[0] if self._pending else None


class Backlog(Generic[C]):
    """What one neighbor's connections brought, each message (None: the connection's loss)
    handed on at its ``ready`` time, in the order added (module docstring). The speaker's
    queue is one server, so ready times only go back where a connection's loss came
    first (made to wait for what came before it) and the other connection of a collision
    then brings a message sent earlier: that message waits for the loss.

    Side by side: the ready times in an array of doubles, the connections and the
    messages in two lists, read from a head index, their fronts cut off once they are
    half of what is held (an empty ``deque`` is 760 B, and a region has one backlog per
    session end). Three slots are 24 B a message where a list slot, a tuple and a float
    were 96, and a cold start has millions waiting at its peak: on ``prometheus``, with
    each UPDATE of one family, the memory they took stayed with the allocator (README,
    "One family per UPDATE")."""

    __slots__ = ("_clock", "_conns", "_hand_on", "_head", "_messages", "_ready", "_timer", "last")

    def __init__(self, clock: Clock, hand_on: Callable[[C, bytes | None], None]) -> None:
        self._clock = clock
        self._hand_on = hand_on
        self._ready = array("d")
        self._conns: list[C] = []
        self._messages: list[bytes | None] = []
        self._head = 0
        self._timer: Timer | None = None
        self.last = float("-inf")  # the ready time of the last one added

    def add(self, ready: float, connection: C, message: bytes | None) -> None:
        self.last = ready = max(ready, self.last)
        self._ready.append(ready)
        self._conns.append(connection)
        self._messages.append(message)
        if self._timer is None:
            self._timer = self._clock.call_at(ready, self._due)

    def _due(self) -> None:
        conns, messages = self._conns, self._messages
        head = self._head
        connection, message = conns[head], messages[head]
        head += 1
        if head == len(conns):
            del self._ready[:]
            conns.clear()
            messages.clear()
            head, self._timer = 0, None
        else:  # the next one's timer, before this one's work
            self._timer = self._clock.call_at(self._ready[head], self._due)
            if head >= 32 and 2 * head >= len(conns):  # what was handed on lets go
                del self._ready[:head]
                del conns[:head]
                del messages[:head]
                head = 0
        self._head = head
        self._hand_on(connection, message)


def split_messages(buffer: bytearray) -> list[bytes]:
    """Take every whole message off the front of ``buffer``; what is left is the start of
    the next one (module docstring)."""
    out: list[bytes] = []
    while len(buffer) >= HEADER:
        length = int.from_bytes(buffer[16:18], "big")
        if not HEADER <= length <= MAX_LENGTH:
            out.append(bytes(buffer))  # no length fits: the session refuses it
            buffer.clear()
            break
        if len(buffer) < length:
            break
        out.append(bytes(buffer[:length]))
        del buffer[:length]
    return out


__all__ = ["Backlog", "InputQueue", "split_messages"]
