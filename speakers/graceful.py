"""Graceful restart (RFC 4724): what a speaker configures, offers and keeps.

**Configuration** (``GracefulRestart``), FRR's knobs with FRR's defaults: ``enabled``
offers the capability to every neighbor (each may say otherwise), which makes the
speaker a *helper* and lets it restart gracefully itself; ``restart_time_s`` is what it
advertises (how long neighbors keep its routes while it is away); ``stalepath_time_s``
bounds how long it keeps a returned neighbor's stale routes waiting for that neighbor's
End-of-RIB; ``select_defer_time_s`` bounds how long, after its own restart, it waits for
its neighbors' End-of-RIB before selecting routes.

**Helper** (RFC 4724 §4.2; ``session_lost``, ``session_back``, ``end_of_rib``,
``refreshed``). When the session of a neighbor that offered the capability ends with no
NOTIFICATION either way (the TCP connection failed or was reset: the neighbor's process
died or restarts), its routes of the families it listed stay, still forwarding, marked
stale; its others go. If the session is not back within the neighbor's restart time, the
stale routes go. When it is back: families the new OPEN no longer lists, or lists
without the Forwarding State bit, go at once; the rest stay until the neighbor's
End-of-RIB for the family, or ``stalepath_time_s``; whatever it sends again meanwhile is
no longer stale.

**Restarting speaker** (RFC 4724 §4.1; ``Deferral``). A speaker started with the
forwarding state of its previous instance (``Speaker(preserved_fib=...)``) sets the
Restart State and Forwarding State bits and keeps that FIB untouched while it learns its
neighbors' routes; it selects routes (reconciles the FIB with its Loc-RIB) and advertises
only once every neighbor it waits for has sent End-of-RIB for every family of its
session, or after ``select_defer_time_s``. It waits for every configured neighbor whose
session it started, not only those up so far: counting only established neighbors could
end the wait at the first neighbor's End-of-RIB and flush the preserved FIB of every
route the others had not sent yet. Neighbors that come up without the capability, or
restarting themselves (R bit), are not waited for (§4.1).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .session import SessionDown
from .session.events import DownReason
from .wire import GracefulRestartCapability, GracefulRestartFamily, Prefix, Update
from .wire.prefix import unicast_family

if TYPE_CHECKING:
    from .clock import Timer
    from .neighbor import Neighbor
    from .speaker import Speaker

log = logging.getLogger("speakers.graceful")

Family = tuple[int, int]


@dataclass(frozen=True, slots=True)
class GracefulRestart:
    """A speaker's graceful restart settings (module docstring)."""

    enabled: bool = False
    restart_time_s: int = 120
    stalepath_time_s: float = 360.0
    select_defer_time_s: float = 360.0

    def __post_init__(self) -> None:
        if not 0 <= self.restart_time_s <= 0xFFF:
            raise ValueError(f"restart time {self.restart_time_s}s: 0..4095 (12 bits)")
        if self.stalepath_time_s < 0 or self.select_defer_time_s < 0:
            raise ValueError("stalepath and select-defer times must not be negative")


def offer(
    settings: GracefulRestart, families: tuple[Family, ...], restarting: bool
) -> GracefulRestartCapability:
    """The capability a speaker sends: while restarting with its forwarding state kept,
    the R bit and each family's F bit; otherwise neither (it keeps nothing to offer)."""
    return GracefulRestartCapability(
        restart_time_s=settings.restart_time_s,
        families=tuple(GracefulRestartFamily(a, s, restarting) for a, s in families),
        restarting=restarting,
    )


def retains(event: SessionDown, peer: GracefulRestartCapability | None) -> bool:
    """Whether the end of a session leaves its routes in place (RFC 4724 §4.2): the peer
    offered graceful restart and no NOTIFICATION crossed either way (RFC 8538's N bit is
    not negotiated here, so a NOTIFICATION or our hold timer ends it plainly)."""
    return (
        peer is not None
        and event.was_established
        and event.notification is None
        and event.reason is DownReason.CONNECTION_LOST
    )


@dataclass
class StaleRoutes:
    """A neighbor's stale routes by family, and the timer that sweeps them."""

    families: dict[Family, set[Prefix]]
    timer: Timer | None = None
    due: float | None = None  # when ``timer`` sweeps them
    # The speaker's stale routes with a sweep set (``Speaker.stale_sweeps``), this among them.
    sweeps: dict[int, StaleRoutes] = field(default_factory=dict, repr=False, compare=False)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.due = None
        self.sweeps.pop(id(self), None)

    def sweep_at(self, speaker: Speaker, nb: Neighbor, when: float) -> None:
        self.cancel()
        self.due = when
        self.timer = speaker.clock.call_at(when, lambda: sweep(speaker, nb))
        # Work due at ``when`` (``Speaker.work_due``): the speaker finds it here, not by
        # a walk over its neighbors, and its owner's next look asks it (watch.py).
        self.sweeps = speaker.stale_sweeps
        self.sweeps[id(self)] = self
        speaker.watches.due.mark(speaker)


def session_lost(speaker: Speaker, nb: Neighbor, event: SessionDown) -> bool:
    """The helper's part when ``nb``'s established session ends: True if its routes of the
    families its capability listed stay, stale, until its restart time (the others are
    withdrawn here); False: the caller withdraws everything, as without the capability."""
    peer = nb.graceful_peer
    if nb.stale is not None:
        nb.stale.cancel()
    if peer is None or nb.link_failed or not retains(event, peer):
        nb.stale = None  # (a failed link's next hops are gone: nothing forwards over them)
        return False
    kept = {(f.afi, f.safi) for f in peer.families}
    by_family: dict[Family, set[Prefix]] = {}
    dropped = []
    for prefix in nb.adj_in.prefixes():
        family = unicast_family(prefix)
        if family in kept:
            by_family.setdefault(family, set()).add(prefix)
        else:
            dropped.append(prefix)
    speaker.routes.withdraw(nb, dropped)
    nb.stale = StaleRoutes(by_family)
    nb.stale.sweep_at(speaker, nb, speaker.clock.time() + peer.restart_time_s)
    return True


def session_back(speaker: Speaker, nb: Neighbor) -> None:
    """``nb``'s session is up again: families it no longer keeps forwarding for go at
    once; the rest wait for its End-of-RIB, at most ``stalepath_time_s``."""
    stale = nb.stale
    if stale is None:
        return
    stale.cancel()
    peer = nb.graceful_peer
    for family in list(stale.families):
        listed = None if peer is None else peer.family(*family)
        if listed is None or not listed.forwarding:
            speaker.routes.withdraw(nb, stale.families.pop(family))
    if not stale.families:
        nb.stale = None
        return
    wait = speaker.config.graceful_restart.stalepath_time_s
    stale.sweep_at(speaker, nb, speaker.clock.time() + wait)


def refreshed(nb: Neighbor, update: Update) -> None:
    """What ``update`` announces or withdraws is no longer stale."""
    stale = nb.stale
    if stale is None:
        return
    for family, prefixes in update.families().items():
        held = stale.families.get(family)
        if held:
            held.difference_update(prefixes)


def end_of_rib(speaker: Speaker, nb: Neighbor, family: Family) -> None:
    """``nb`` has sent its whole table of ``family``: what is still stale there goes."""
    nb.end_of_rib[family] = speaker.clock.time_ns()
    stale = nb.stale
    if stale is not None and family in stale.families:
        speaker.routes.withdraw(nb, stale.families.pop(family))
        if not stale.families:
            stale.cancel()
            nb.stale = None


def sweep(speaker: Speaker, nb: Neighbor) -> None:
    """The restart or stale-path time is up: every stale route of ``nb`` goes."""
    stale, nb.stale = nb.stale, None
    if stale is not None:
        stale.cancel()
        speaker.routes.withdraw(nb, [p for ps in stale.families.values() for p in ps])


def stop_timers(speaker: Speaker) -> None:
    """The speaker stops (closed or frozen): no restart wait or stale-route sweep may
    change its routes afterwards; what is stale stays as it is."""
    if speaker.deferral is not None:
        speaker.deferral.cancel()
    for nb in speaker.neighbors.values():
        if nb.stale is not None:
            nb.stale.cancel()


def resume_selection(speaker: Speaker) -> None:
    """The restart's wait is over (``Deferral``): the FIB kept from the last instance is
    reconciled with the routes selected since, later OPENs no longer say we are
    restarting (passive neighbors are passive again: ``Neighbor.restart_over``), and
    every neighbor up gets our table and then End-of-RIB."""
    assert speaker.deferral is not None
    name, why = speaker.config.name, speaker.deferral.ended_by
    log.info("%s: routes selected after restart: %s", name, why)
    speaker.routes.resume_fib()
    for nb in speaker.neighbors.values():
        nb.restart_over(speaker.config)
    speaker.reexport(speaker.neighbors.values())


def family_name(afi: int, safi: int) -> str:
    """``ipv4-unicast``, ``ipv6-unicast``; others as AFI/SAFI numbers."""
    return _FAMILY_NAMES.get((afi, safi), f"{afi}/{safi}")


_FAMILY_NAMES = {(1, 1): "ipv4-unicast", (2, 1): "ipv6-unicast"}


def restart_view(speaker: Speaker) -> dict[str, object]:
    """A speaker's own graceful restart, for its control socket: its settings, whether it
    started with a preserved FIB, and whether it still defers route selection (for which
    neighbors' End-of-RIB), or what ended the wait."""
    settings = speaker.config.graceful_restart
    deferral = speaker.deferral
    return {
        "enabled": settings.enabled,
        "restart_time_s": settings.restart_time_s,
        "stalepath_time_s": settings.stalepath_time_s,
        "select_defer_time_s": settings.select_defer_time_s,
        "restarting": speaker.restarting,
        "deferring": speaker.deferring,
        "awaited": deferral.awaited() if deferral is not None and deferral.active else [],
        "ended_by": deferral.ended_by if deferral is not None and not deferral.active else None,
    }


def stale_count(nb: Neighbor) -> int:
    stale = nb.stale
    return 0 if stale is None else sum(map(len, stale.families.values()))


class Deferral:
    """A restarting speaker's wait for its neighbors' End-of-RIB (module docstring)."""

    def __init__(self, speaker: Speaker) -> None:
        self.speaker = speaker
        clock = speaker.clock
        self.deadline = clock.time() + speaker.config.graceful_restart.select_defer_time_s
        self._timer: Timer | None = clock.call_at(self.deadline, self.end)
        self.ended_by = ""

    def awaited(self) -> list[str]:
        """The neighbors whose End-of-RIB is still awaited."""
        return [nb.name for nb in self.speaker.neighbors.values() if self._waits_for(nb)]

    def _waits_for(self, nb: Neighbor) -> bool:
        if nb.peer.config.graceful_restart is None or nb.peer.primary.admin_down:
            return False  # we offered nothing to it, or never started its session
        negotiated = nb.peer.primary.negotiated if nb.established else None
        if negotiated is None:
            return True  # not up yet: it may still come and send its table
        peer = negotiated.graceful_restart
        if peer is None or peer.restarting:
            return False  # RFC 4724 §4.1: neither is waited for
        return not negotiated.families <= nb.end_of_rib.keys()

    def check(self) -> None:
        """After an End-of-RIB or a session change: end the wait if nobody is left."""
        if self._timer is not None and not self.awaited():
            self.end("every neighbor's End-of-RIB")

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def end(self, why: str = "select-defer-time expired") -> None:
        if self._timer is None:
            return
        self._timer.cancel()
        self._timer = None
        self.ended_by = why
        resume_selection(self.speaker)

    @property
    def active(self) -> bool:
        return self._timer is not None
