"""BGP sessions, sans I/O: the RFC 4271 §8 FSM (``fsm.py``), OPEN negotiation
(``negotiation.py``), its timers (``timers.py``), what it reports (``events.py``) and the
arbiter that resolves connection collisions (``peer.py``)."""

from .events import (
    CloseRequested,
    ConnectRequested,
    DownReason,
    FamilyDisabled,
    RouteRefreshReceived,
    SessionDown,
    SessionEstablished,
    SessionEvent,
    State,
    StateChanged,
    UpdateReceived,
    UpdateWithdrawn,
)
from .fsm import Session, SessionError
from .negotiation import Negotiated, SessionConfig, build_open, negotiate
from .timers import Timer

__all__ = [
    "CloseRequested",
    "ConnectRequested",
    "DownReason",
    "FamilyDisabled",
    "Negotiated",
    "RouteRefreshReceived",
    "Session",
    "SessionConfig",
    "SessionDown",
    "SessionError",
    "SessionEstablished",
    "SessionEvent",
    "State",
    "StateChanged",
    "Timer",
    "UpdateReceived",
    "UpdateWithdrawn",
    "build_open",
    "negotiate",
]
