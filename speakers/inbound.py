"""What a neighbor's session events do to one speaker: UPDATEs into the RIB (and the
RFC 7606 verdicts that withdraw or disable instead), a session coming up (the whole table
exported to it) or going down (its routes withdrawn), a route refresh, and the
maximum-prefix limit (RFC 4486 §4).

``apply_event`` is the speaker's one handler of ``SessionEvent`` (``Speaker._on_event``);
it changes the speaker's parts (``routes``, ``exports``) and never does I/O itself.

**Maximum-prefix.** A neighbor's ``max_prefixes`` bounds its Adj-RIB-In. Past it the
session ends with Cease, Maximum Number of Prefixes Reached (RFC 4486 §4: subcode 1), the
routes it sent are withdrawn as for any session loss, and it stays down: for
``max_prefixes_restart_s`` when set (then the speaker starts it again), else until an
operator brings it up (``Speaker.neighbor_up``), as FRR's ``maximum-prefix`` with and
without ``restart``. The whole UPDATE that crossed the limit is processed first (a
receiver cannot take half an UPDATE back); what it passed on is withdrawn with the rest.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from . import graceful
from .neighbor import Neighbor
from .session import (
    FamilyDisabled,
    RouteRefreshReceived,
    Session,
    SessionDown,
    SessionEstablished,
    SessionEvent,
    StateChanged,
    UpdateReceived,
    UpdateWithdrawn,
)
from .wire import CeaseSubcode
from .wire.prefix import unicast_family

if TYPE_CHECKING:
    from .speaker import Speaker

log = logging.getLogger("speakers.speaker")


def apply_event(speaker: Speaker, nb: Neighbor, session: Session, event: SessionEvent) -> None:
    """``event`` from ``nb``'s session, applied to ``speaker`` (module docstring)."""
    name, routes = speaker.config.name, speaker.routes
    if isinstance(event, UpdateReceived):
        nb.update_received()
        update = event.update
        if nb.stale is not None:
            graceful.refreshed(nb, update)
        routes.receive(nb, update)
        if nb.over_prefix_limit():
            _prefix_limit_reached(speaker, nb)
        family = update.end_of_rib
        if family is not None:
            graceful.end_of_rib(speaker, nb, family)
            if speaker.deferral is not None:
                speaker.deferral.check()
    elif isinstance(event, UpdateWithdrawn):
        nb.update_received()
        routes.withdraw(nb, [p for ps in event.update.families().values() for p in ps])
        log.warning("%s: treat-as-withdraw from %s: %s", name, nb.config.name, event.error)
    elif isinstance(event, FamilyDisabled):
        family = (event.afi, event.safi)
        routes.withdraw(nb, [p for p in nb.adj_in.prefixes() if unicast_family(p) == family])
        log.warning("%s: %s disabled family %s: %s", name, nb.config.name, family, event.error)
    elif isinstance(event, SessionEstablished):
        nb.session_established(event.negotiated, speaker.config.asn, speaker.clock.time())
        log.info("%s: session to %s established", name, nb.config.name)
        speaker.exports.refresh(nb.config.name, event.negotiated.families)
        speaker.schedule_flush()
        graceful.session_back(speaker, nb)
        if speaker.deferral is not None:
            speaker.deferral.check()
    elif isinstance(event, SessionDown):
        if event.was_established:
            nb.session_down(event)
            log.info("%s: session to %s down: %s", name, nb.config.name, nb.last_down)
            if graceful.session_lost(speaker, nb, event):
                held = graceful.stale_count(nb)
                log.info("%s: %d routes of %s kept stale (RFC 4724)", name, held, nb.name)
            else:
                routes.withdraw(nb, nb.adj_in.prefixes())
            nb.forget_session()
    elif isinstance(event, RouteRefreshReceived):
        family = (event.message.afi, event.message.safi)
        for prefix, _ in nb.adj_out.items():
            if unicast_family(prefix) == family:
                nb.adj_out.set(prefix, None)  # so the flush sends all of it again
        negotiated = session.negotiated
        if negotiated is not None and negotiated.enhanced_route_refresh:
            nb.refresh_due |= {family}  # the answer framed by BoRR and EoRR (RFC 7313 §4)
        speaker.exports.refresh(nb.config.name, [family])
        speaker.schedule_flush()
    elif isinstance(event, StateChanged):
        old, new = event.old.value, event.new.value
        log.debug("%s: %s %s -> %s (%s)", name, session.name, old, new, event.cause)


def _prefix_limit_reached(speaker: Speaker, nb: Neighbor) -> None:
    limit, restart = nb.config.max_prefixes, nb.config.max_prefixes_restart_s
    held = len(nb.adj_in)
    log.warning(
        "%s: %s sent %d prefixes, more than its maximum of %s: session closed%s",
        speaker.config.name, nb.config.name, held, limit,
        f", restarting in {restart:g} s" if restart is not None else " until brought up",
    )  # fmt: skip
    assert nb.transport is not None  # an UPDATE arrived over it
    reason = f"maximum-prefix {limit} exceeded ({held})"
    nb.transport.stop(reason, CeaseSubcode.MAXIMUM_NUMBER_OF_PREFIXES_REACHED)
    if restart is not None:
        name = nb.config.name

        def again() -> None:
            if speaker.started:  # not after the speaker stopped or froze
                speaker.neighbor_up(name)

        speaker.clock.call_at(speaker.clock.time() + restart, again)
