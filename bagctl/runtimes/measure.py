"""What an operation did to a region, as one report: how long it took to converge, in the
region's emulated time and in wall time, what it changed, and the sessions it lost.

``converged_emulated_s`` runs from the operation to the last FIB change anywhere on the
region's clock (runtimes/timekeeping.py): a property of the topology, the protocol and
the delay model, the same on a quiet workstation and a loaded CI runner.
``converged_s`` is the same span in wall time (CLOCK_MONOTONIC, which every process and
container of a machine shares), comparable with a real router's figures; ``dilation`` is
wall over emulated time for the whole phase. ``session_losses`` counts the sessions
that left Established during the phase without the operation asking for it (a bundle
taken down or a node restarted asks for its own), each with its cause: on the region's
clock it must be 0, whatever the host's load.
"""

from __future__ import annotations

from dataclasses import dataclass

from .shard import SessionLoss

COLD_START = "cold-start"  # the event of a region's bring-up


@dataclass(frozen=True, slots=True)
class ConvergenceReport:
    """What one operation did to the region, measured when it went quiet again."""

    event: str
    started_ns: int  # wall (CLOCK_MONOTONIC)
    converged_s: float  # wall: operation -> last FIB change anywhere (0 if none)
    quiescent_s: float  # wall: operation -> quiescence detected
    fib_changes: int
    updates_sent: int
    prefixes_changed: int
    sessions_established: int
    sessions_expected: int
    converged_emulated_s: float = 0.0  # the region's clock: operation -> last FIB change
    quiescent_emulated_s: float = 0.0  # the region's clock: operation -> quiescence
    dilation: float | None = None  # wall / emulated over the phase (None: no time passed)
    losses: tuple[SessionLoss, ...] = ()

    @property
    def session_losses(self) -> int:
        return len(self.losses)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "event": self.event,
            "started_ns": self.started_ns,
            "converged_s": self.converged_s,
            "quiescent_s": self.quiescent_s,
            "fib_changes": self.fib_changes,
            "updates_sent": self.updates_sent,
            "prefixes_changed": self.prefixes_changed,
            "sessions_established": self.sessions_established,
            "sessions_expected": self.sessions_expected,
            "converged_emulated_s": self.converged_emulated_s,
            "quiescent_emulated_s": self.quiescent_emulated_s,
            "dilation": self.dilation,
            "session_losses": self.session_losses,
            "losses": [loss.as_dict() for loss in self.losses],
        }
        return out


@dataclass(frozen=True, slots=True)
class RegionProgress:
    """How far an operation has got, for progress bars: ``done`` of ``total`` things
    (``what``: sessions, or containers while they start) and FIB changes so far."""

    what: str
    done: int
    total: int
    fib_changes: int


__all__ = ["COLD_START", "ConvergenceReport", "RegionProgress"]
