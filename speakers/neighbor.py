"""``Neighbor``: what a speaker keeps about one configured neighbor while it runs.

The session (``Peer``, driven by its ``PeerTransport``), the Adj-RIBs that hold what was
received from and sent to it, and the counters ``bagctl`` and the runtimes read. The
speaker updates it on each session event (``session_established``, ``session_down``,
``update_received``) and export (``updates_sent``); nothing here does I/O.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .config import NeighborConfig, SpeakerConfig
from .graceful import StaleRoutes, offer
from .rib import AdjRibIn, AdjRibOut, PeerInfo
from .session import Negotiated, SessionConfig, SessionDown, State
from .session.negotiation import DEFAULT_FAMILIES, NO_FAMILIES
from .session.peer import Peer
from .transport import PeerTransport
from .wire import GracefulRestartCapability

Family = tuple[int, int]


@dataclass
class UpdateTally:
    """UPDATEs counted over many neighbors (a speaker's, or every speaker's of a shard):
    what a region reads at every step of its clock, kept as they happen rather than
    summed over every session. Each field is the sum of the neighbors' own counts of the
    same name, over those counted here (tests/speakers/test_tally.py)."""

    updates_in: int = 0
    updates_out: int = 0
    session_updates_in: int = 0
    session_updates_out: int = 0

    def detach(self, neighbors: Iterable[Neighbor]) -> None:
        """``neighbors`` are counted here no more (a restarted speaker's old ones, in a
        shard's tally): what they counted leaves the sums, and they count apart."""
        for nb in neighbors:
            if nb.tally is not self:
                continue
            self.updates_in -= nb.updates_in
            self.updates_out -= nb.updates_out
            self.session_updates_in -= nb.session_updates_in
            self.session_updates_out -= nb.session_updates_out
            nb.tally = UpdateTally(
                nb.updates_in, nb.updates_out, nb.session_updates_in, nb.session_updates_out
            )


@dataclass
class Neighbor:
    """Runtime state of one configured neighbor."""

    config: NeighborConfig
    peer: Peer
    transport: PeerTransport | None = None
    info: PeerInfo | None = None  # set once established
    adj_in: AdjRibIn = field(init=False, repr=False)  # a view of the Loc-RIB (``Routes``)
    adj_out: AdjRibOut = field(default_factory=AdjRibOut)
    established_at: float | None = None  # the speaker's clock when last established
    last_down: str = ""
    updates_in: int = 0
    updates_out: int = 0
    flaps: int = 0
    # UPDATEs over the current session only, zeroed when it is established and when it
    # goes down: summed over a region, out minus in is what is in flight (runtimes use it
    # where byte counts would include KEEPALIVEs, which change no route).
    session_updates_in: int = 0
    session_updates_out: int = 0
    tally: UpdateTally = field(default_factory=UpdateTally)  # summed with others'
    # Graceful restart (graceful.py): the capability the neighbor sent on its last session
    # (kept once it is down: it says what to keep), its routes kept stale, the families
    # it has sent End-of-RIB for (with when: the clock's ns, as FIB changes' ``at_ns``)
    # and those we still owe it End-of-RIB for, this session.
    graceful_peer: GracefulRestartCapability | None = None
    stale: StaleRoutes | None = None
    end_of_rib: dict[Family, int] = field(default_factory=dict)
    end_of_rib_due: frozenset[Family] = NO_FAMILIES
    refresh_due: frozenset[Family] = NO_FAMILIES  # RFC 7313 markers to frame with
    link_failed: bool = False  # the link is down: its next hops are gone, nothing is kept

    @classmethod
    def configured(
        cls,
        config: NeighborConfig,
        speaker: SpeakerConfig,
        rng: random.Random,
        restarting: bool = False,
    ) -> Neighbor:
        """The neighbor as ``speaker``'s configuration sets it up, its session idle;
        ``restarting``: the speaker restarts gracefully (graceful.py)."""
        offered = cls.graceful_offer(config, speaker, restarting)
        session = SessionConfig(
            local_as=speaker.asn,
            router_id=speaker.router_id,
            peer_as=config.remote_as,
            hold_time_s=speaker.hold_time_s if config.hold_time_s is None else config.hold_time_s,
            connect_retry_s=speaker.connect_retry_s,
            idle_hold_s=min(1.0, speaker.connect_retry_s),
            # deviation (passive): a speaker restarting gracefully dials its passive
            # neighbors too, until its routes are selected (``restart_over``). RFC 4724 does
            # not say who reconnects, and a helper need not dial a peer it keeps routes
            # for: FRR 8.4's does not (bgp_fsm.c: Active with PEER_STATUS_NSF_WAIT turns
            # the connect timer off), so a passive restarting speaker would be reached
            # only after the helper's restart time, its routes flushed by then.
            passive=config.passive and not (restarting and offered is not None),
            local_addresses=(config.local_address,),
            extended_message=speaker.extended_message
            if config.extended_message is None
            else config.extended_message,
            graceful_restart=offered,
        )
        return cls(config, Peer(session, rng=rng, name=config.name))

    def restart_over(self, speaker: SpeakerConfig) -> None:
        """The speaker's graceful restart is over (its routes selected): later OPENs no
        longer say it is restarting (RFC 4724 §4.1), and a passive neighbor is passive
        again (``configured``)."""
        offer_ = self.graceful_offer(self.config, speaker, restarting=False)
        self.peer.configure(
            replace(self.peer.config, graceful_restart=offer_, passive=self.config.passive)
        )

    @staticmethod
    def graceful_offer(
        config: NeighborConfig, speaker: SpeakerConfig, restarting: bool
    ) -> GracefulRestartCapability | None:
        """The graceful restart capability offered to this neighbor, if any."""
        settings = speaker.graceful_restart
        wanted = settings.enabled if config.graceful_restart is None else config.graceful_restart
        return offer(settings, DEFAULT_FAMILIES, restarting) if wanted else None

    def over_prefix_limit(self) -> bool:
        """More prefixes in the Adj-RIB-In than ``max_prefixes`` allows (inbound.py)."""
        limit = self.config.max_prefixes
        return limit is not None and len(self.adj_in) > limit

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def established(self) -> bool:
        return self.peer.primary.state is State.ESTABLISHED

    def update_received(self) -> None:
        self.updates_in += 1
        self.session_updates_in += 1
        tally = self.tally
        tally.updates_in += 1
        tally.session_updates_in += 1

    def updates_sent(self, count: int) -> None:
        self.updates_out += count
        self.session_updates_out += count
        tally = self.tally
        tally.updates_out += count
        tally.session_updates_out += count

    def _new_session_counts(self) -> None:
        tally = self.tally
        tally.session_updates_in -= self.session_updates_in
        tally.session_updates_out -= self.session_updates_out
        self.session_updates_in = self.session_updates_out = 0

    def session_established(self, negotiated: Negotiated, local_as: int, now: float) -> None:
        """A new session: its routes start from nothing (RFC 4271 §9: nothing is assumed
        advertised), so the Adj-RIB-Out is emptied and everything is sent again."""
        self.info = PeerInfo(
            self.config.name,
            self.config.address,
            negotiated.peer_as,
            negotiated.peer_router_id,
            ebgp=negotiated.peer_as != local_as,
        )
        self.established_at = now
        self._new_session_counts()
        self.adj_out.clear()
        self.graceful_peer = negotiated.graceful_restart
        self.end_of_rib = {}
        self.end_of_rib_due = negotiated.families  # after the first table (RFC 4724 §2)
        self.refresh_due = NO_FAMILIES

    def session_down(self, event: SessionDown) -> None:
        """An established session ended: counted, and why. The speaker then withdraws
        what it received (``adj_in``) and calls ``forget_session``."""
        self._new_session_counts()
        self.end_of_rib_due = NO_FAMILIES
        self.refresh_due = NO_FAMILIES
        self.flaps += 1
        self.last_down = event.reason.value + (
            f": {event.notification}" if event.notification else ""
        )

    def forget_session(self) -> None:
        self.adj_out.clear()
        self.info = None
