"""What a ``Session`` tells its driver: frozen dataclasses pulled with ``next_event()``.

The driver (an asyncio transport, or a test) performs the I/O ones (``ConnectRequested``,
``CloseRequested``) and hands the routing ones (``UpdateReceived``, ``SessionEstablished``,
``SessionDown``) to the RIB. Bytes to send are pulled separately with ``data_to_send()``.
Field meanings are one line each, as aioquic documents its events.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..wire import Notification, RouteRefresh, Update, UpdateMessageError
from .negotiation import Negotiated


class State(Enum):
    """RFC 4271 §8.2.2 states."""

    IDLE = "Idle"
    CONNECT = "Connect"
    ACTIVE = "Active"
    OPEN_SENT = "OpenSent"
    OPEN_CONFIRM = "OpenConfirm"
    ESTABLISHED = "Established"


class DownReason(Enum):
    """Why a session left OpenSent/OpenConfirm/Established (gobgp's fsmStateReason)."""

    ADMIN_STOP = "admin-stop"  # ManualStop (Event 2)
    MAXIMUM_PREFIX = "maximum-prefix"  # ManualStop for RFC 4486 Cease subcode 1
    HOLD_TIMER_EXPIRED = "hold-timer-expired"  # Event 10
    CONNECTION_LOST = "connection-lost"  # TcpConnectionFails (Event 18)
    NOTIFICATION_RECEIVED = "notification-received"  # Events 24, 25
    NOTIFICATION_SENT = "notification-sent"  # we found an error and reset the session
    COLLISION = "collision"  # OpenCollisionDump (Event 23), RFC 4271 §6.8


@dataclass(frozen=True, slots=True)
class ConnectRequested:
    """Open a TCP connection to the peer (RFC 4271 §8.2.2 Connect state)."""


@dataclass(frozen=True, slots=True)
class CloseRequested:
    """Close the TCP connection once pending bytes are written."""


@dataclass(frozen=True, slots=True)
class StateChanged:
    """``old`` -> ``new``; ``cause`` names the RFC 4271 §8.1 event that moved it."""

    old: State
    new: State
    cause: str


@dataclass(frozen=True, slots=True)
class SessionEstablished:
    """Both OPENs agreed and a KEEPALIVE confirmed them; ``negotiated`` is the contract."""

    negotiated: Negotiated


@dataclass(frozen=True, slots=True)
class SessionDown:
    """The session left Established (routes learned over it must go) or failed to get
    there. ``notification`` is the one sent or received, if any; ``sent`` says which."""

    reason: DownReason
    was_established: bool
    notification: Notification | None = None
    sent: bool = False
    detail: str = ""


@dataclass(frozen=True, slots=True)
class UpdateReceived:
    """A valid UPDATE (after RFC 7606 attribute-discard, if ``error`` is set)."""

    update: Update
    error: UpdateMessageError | None = None


@dataclass(frozen=True, slots=True)
class UpdateWithdrawn:
    """RFC 7606 treat-as-withdraw: withdraw every prefix ``update`` carries, announced or
    withdrawn, each in its family (``update.families()``); ``error`` says why."""

    update: Update
    error: UpdateMessageError


@dataclass(frozen=True, slots=True)
class FamilyDisabled:
    """RFC 7606 AFI/SAFI disable (RFC 4760 §7): drop the family's routes from this peer
    and ignore it for the rest of the session."""

    afi: int
    safi: int
    error: UpdateMessageError


@dataclass(frozen=True, slots=True)
class RouteRefreshReceived:
    """The peer asks for our Adj-RIB-Out again (RFC 2918, RFC 7313)."""

    message: RouteRefresh


SessionEvent = (
    ConnectRequested
    | CloseRequested
    | StateChanged
    | SessionEstablished
    | SessionDown
    | UpdateReceived
    | UpdateWithdrawn
    | FamilyDisabled
    | RouteRefreshReceived
)
