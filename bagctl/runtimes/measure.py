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

from .records import SessionLoss, ShardReport

COLD_START = "cold-start"  # the event of a region's bring-up
DEFAULT_TIMEOUT_S = 120.0  # how long an operation may take to converge, unless told


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


def summarize(
    event: str,
    reports: list[ShardReport],
    *,
    wall: tuple[int, int],
    emulated: tuple[float, float] | None,
    updates_before: int,
    sessions_expected: int,
    may_drop: set[tuple[str, str]],
) -> ConvergenceReport:
    """One operation's report from every shard's (``Shard.report``): ``wall`` the phase in
    CLOCK_MONOTONIC ns, ``emulated`` in the region's seconds (None on the host's clock:
    the emulated fields stay 0), ``updates_before`` the
    UPDATEs sent before it, ``may_drop`` the bundles (``Bundle.key``) whose sessions the
    operation took down itself (not losses)."""
    t0, t1 = wall
    changed = [r for r in reports if r.fib_changes]
    last_wall = max((r.last_fib_wall_ns for r in changed), default=t0)
    e0, e1 = emulated if emulated is not None else (0.0, 0.0)
    last_emulated = max((r.last_fib_ns for r in changed), default=round(e0 * 1e9))
    if emulated is None:
        last_emulated = 0
    prefixes = set().union(*(r.prefixes for r in reports))
    losses = tuple(loss for r in reports for loss in r.losses if loss.key not in may_drop)
    return ConvergenceReport(
        event=event,
        started_ns=t0,
        converged_s=max(0, last_wall - t0) / 1e9,
        quiescent_s=(t1 - t0) / 1e9,
        fib_changes=sum(r.fib_changes for r in reports),
        updates_sent=sum(r.updates_sent for r in reports) - updates_before,
        prefixes_changed=len(prefixes),
        sessions_established=sessions_expected,  # quiescence: every expected one is up
        sessions_expected=sessions_expected,
        converged_emulated_s=max(0.0, last_emulated / 1e9 - e0),
        quiescent_emulated_s=e1 - e0,
        dilation=(t1 - t0) / 1e9 / (e1 - e0) if e1 > e0 else None,
        losses=losses,
    )


__all__ = ["COLD_START", "ConvergenceReport", "summarize"]
