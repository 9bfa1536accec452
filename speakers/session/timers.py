"""The session's timers as deadlines on a clock the caller passes in.

Nothing here reads a clock or sleeps: ``start(name, now, seconds)`` records a deadline,
``expired(now)`` pops those that passed, ``next_deadline()`` tells the driver when to call
back (aioquic's ``get_timer``/``handle_timer``). Jitter comes from an injected
``random.Random``, so tests are deterministic.
"""

from __future__ import annotations

import random
from enum import Enum


class Timer(Enum):
    CONNECT_RETRY = "ConnectRetryTimer"  # RFC 4271 §8.2.2
    HOLD = "HoldTimer"
    KEEPALIVE = "KeepaliveTimer"
    IDLE_HOLD = "IdleHoldTimer"  # RFC 4271 §8.1.1 (optional): pace AutomaticStart


# RFC 4271 §10: jitter multiplies ConnectRetry, KeepAlive, ... by a factor in [0.75, 1.0].
JITTER_LOW = 0.75


class Timers:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._deadlines: dict[Timer, float] = {}

    def start(self, timer: Timer, now: float, seconds: float, *, jitter: bool = False) -> None:
        if jitter:
            seconds *= self._rng.uniform(JITTER_LOW, 1.0)
        self._deadlines[timer] = now + seconds

    def stop(self, timer: Timer) -> None:
        self._deadlines.pop(timer, None)

    def stop_all(self) -> None:
        self._deadlines.clear()

    def running(self, timer: Timer) -> bool:
        return timer in self._deadlines

    def deadline(self, timer: Timer) -> float | None:
        return self._deadlines.get(timer)

    def next_deadline(self) -> float | None:
        return min(self._deadlines.values(), default=None)

    def pop_expired(self, now: float) -> Timer | None:
        """The earliest timer whose deadline is at or before ``now``, removed; or None."""
        due = [(t, name) for name, t in self._deadlines.items() if t <= now]
        if not due:
            return None
        _, name = min(due, key=lambda item: item[0])
        del self._deadlines[name]
        return name
