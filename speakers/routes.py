"""``Routes``: a speaker's Loc-RIB, FIB and aggregates, and the one way routes change them.

Inputs are a neighbor's UPDATE or withdrawal (through import policy into its Adj-RIB-In
and the Loc-RIB), and our own originations. Every ``RouteChange`` then takes the same
path (``apply``): the FIB is updated (UCMP weights from the multipaths' link bandwidth),
the prefix is marked for export (``export.ExportQueue``), the aggregates covering it
update their contributors, and the ``route_events`` observers hear of it. At the end of
the batch each touched aggregate is re-evaluated and its path installed, rebuilt or
withdrawn (``origination.sync_aggregate``), itself a ``RouteChange`` like any other.
An aggregate's more-specifics stay in our FIB (its best path is local, so it is not
installed: we forward by the specifics). No I/O, and the FIB's clock is injected
(``clock_ns``): the speaker is told (``schedule_export``) that something waits for export,
and decides when.

While the speaker's agent has more messages waiting (``backlog``: its delay model,
``transport/inputs.py``), what an UPDATE changes is decided at once but kept, one change
per prefix from the state before the first to the state after the last, until the
agent's turn (``release``): the FIB, the export and the observers hear of a burst once
per prefix, and not at all of a prefix the burst left as it was. FRR's bgpd does the
same with what it gives zebra (a queue of destinations to install, each queued once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from .aggregate import AggregateState, AggregateTable
from .config import SpeakerConfig
from .export import ExportQueue
from .fib import Fib, NextHopGroup
from .neighbor import Neighbor
from .origination import originated_path, sync_aggregate
from .policy import import_accepts
from .rib import AdjRibIn, AdjRibOut, AdjRibOuts, LocRib, Path, RouteChange, local_source
from .rib.interning import Interner
from .rib.path import LOCAL_NAME
from .ucmp import MissingBandwidthMode
from .wire import PathAttributes, Prefix, Update
from .wire.prefix import IPAddress


class Routes:
    """The routing state of one speaker (module docstring)."""

    def __init__(
        self,
        config: SpeakerConfig,
        neighbors: Mapping[str, Neighbor],
        exports: ExportQueue,
        schedule_export: Callable[[], None],
        clock_ns: Callable[[], int] = time.monotonic_ns,
        fib_change_log: int = 1 << 17,
        interner: Interner | None = None,
    ) -> None:
        """``interner``: where route records are shared (by default, this speaker's own:
        a process running many speakers gives them one)."""
        interner = Interner() if interner is None else interner
        self.asn = config.asn
        self.loc_rib = LocRib(config.multipath)
        default_bps = config.default_bandwidth_bps
        self.fib = Fib(
            config.missing_bandwidth,
            config.max_group_size,
            clock_ns,
            default_bandwidth_bytes_per_s=None if default_bps is None else default_bps / 8,
            change_log_size=fib_change_log,
        )
        self.aggregates = AggregateTable(config.aggregates)
        self.local = local_source(config.asn, config.router_id)
        self.route_events: list[Callable[[RouteChange], None]] = []  # every RouteChange
        self._neighbors = neighbors
        # Every neighbor's Adj-RIB-Out, a column each (with few neighbors, a dict each).
        sent = AdjRibOuts() if len(neighbors) >= AdjRibOuts.SHARED_FROM else None
        for nb in neighbors.values():
            nb.adj_in = AdjRibIn(self.loc_rib, nb.name)
            nb.adj_out = AdjRibOut(sent)
        self._exports = exports
        self._schedule_export = schedule_export
        self._fib_held = False  # a graceful restart's preserved FIB (``preserve_fib``)
        # The last attributes received and Path built per neighbor and next-hop family.
        self._last_paths: dict[tuple[str, int], tuple[PathAttributes, Path]] = {}
        self.interner = interner
        self.backlog: Callable[[], bool] | None = None  # (module docstring)
        self._held: dict[Prefix, RouteChange] = {}  # what waits for ``release``

    # --- from neighbors -------------------------------------------------------------------

    def receive(self, nb: Neighbor, update: Update) -> None:
        """An UPDATE from ``nb`` (established): withdrawals, then announcements, each as
        one batch of prefixes (``LocRib.set_paths``: they share the outcome)."""
        assert nb.info is not None
        changes: list[RouteChange] = []
        if update.withdrawn_all:
            changes += self._set(nb, update.withdrawn_all, None)
        if update.announced:
            attrs = update.attributes
            ok = import_accepts(attrs, self.asn, nb.config.import_policy)
            policy = nb.config.import_policy.prefix_list
            groups: list[tuple[tuple[Prefix, ...], IPAddress | None]] = [
                (update.nlri, attrs.next_hop)
            ]
            if update.mp_reach is not None:
                groups.append((update.mp_reach.nlri, update.mp_reach.next_hop))
            shared_prefixes = self.interner.prefixes
            for prefixes, hop in groups:
                if not prefixes:
                    continue
                # One Path per next hop of the UPDATE, shared by its prefixes (a Path holds
                # no prefix): that is most of a route's memory saved.
                shared = self._path(nb, attrs, hop) if ok else None
                batch = shared_prefixes(prefixes)
                if policy is not None and shared is not None:
                    # Rejected by import policy: as if withdrawn (RFC 4271 §9.1.2).
                    permitted: list[Prefix] = []
                    rejected: list[Prefix] = []
                    for p in batch:
                        (permitted if policy.permits(p) else rejected).append(p)
                    if rejected:
                        batch = permitted
                        changes += self._set(nb, rejected, None)
                changes += self._set(nb, batch, shared)
        if self.backlog is None:
            self.apply(changes)
            return
        self._hold(changes)
        if not self.backlog():  # the burst's last: its turn comes now (module docstring)
            self.release()

    def _hold(self, changes: list[RouteChange]) -> None:
        """Keep ``changes`` for ``release``, each merged with what its prefix waits with
        already: from the state before that one to the state after this one."""
        held = self._held
        for change in changes:
            prefix = change[0]
            first = held.get(prefix)
            if first is not None:
                change = RouteChange(prefix, first[1], change[2], first[3], change[4])
            held[prefix] = change

    def release(self) -> None:
        """The agent's turn (module docstring): what was kept goes to the FIB, the
        export and the observers, but where a prefix's best path and multipath set are
        back as they were (``Selection.moved_from``'s test)."""
        if self._held:
            held, self._held = self._held.values(), {}
            self._apply([c for c in held if c[1] != c[2] or c[3] != c[4]])

    def _set(
        self, nb: Neighbor, prefixes: Sequence[Prefix], path: Path | None
    ) -> list[RouteChange]:
        """``nb``'s path for each of ``prefixes`` is ``path`` (None: withdrawn), in the
        Loc-RIB (its Adj-RIB-In is a view of it): the changes of best path or multipath
        set."""
        return self.loc_rib.set_paths(prefixes, nb.config.name, path)

    def _path(self, nb: Neighbor, attrs: PathAttributes, hop: IPAddress | None) -> Path:
        """The Path for ``attrs`` and ``hop`` from ``nb``, of shared parts
        (``rib.interning``): the one built for its previous UPDATE of this next-hop
        family when equal (a peer flooding one prefix per UPDATE repeats its attributes),
        else a new one. Equal paths are the same route (``Selection.with_path``
        compares them by value), so sharing changes no decision; it saves a Path per
        UPDATE, lets the Loc-RIB reuse its outcome for the next UPDATE's prefixes
        (``LocRib.set_paths``), and the export, which works a route out once per best
        path object (``export.FlushCache``), then does it once per run of such UPDATEs
        instead of once per prefix."""
        assert nb.info is not None
        key = (nb.config.name, 0 if hop is None else hop.version)
        last = self._last_paths.get(key)
        if (
            last is not None
            and last[0] is attrs
            and last[1].source is nb.info
            and last[1].next_hop == hop  # (an MP_REACH_NLRI's next hop is not in attrs)
        ):
            return last[1]
        path = self.interner.path(nb.info, attrs, hop)
        if last is not None and last[1] == path:
            path = last[1]
        self._last_paths[key] = (attrs, path)
        return path

    def withdraw(self, nb: Neighbor, prefixes: Iterable[Prefix]) -> None:
        """Withdraw ``nb``'s paths for ``prefixes`` (treat-as-withdraw, session down)."""
        self.apply(self._set(nb, list(prefixes), None))

    # --- our own --------------------------------------------------------------------------

    def originate(
        self, prefix: Prefix, bandwidth_bps: float | None, communities: tuple[int, ...] = ()
    ) -> None:
        path = originated_path(self.local, bandwidth_bps, communities)
        state = self.aggregates.get(prefix)
        if state is not None:
            state.path = None  # the originated route takes the aggregate's place (same key)
        self.apply([self.loc_rib.set_path(prefix, self.local.name, path)])

    def withdraw_origin(self, prefix: Prefix) -> None:
        state = self.aggregates.get(prefix)
        dest = self.loc_rib.get(prefix)
        if state is not None and dest is not None and dest.paths.get(LOCAL_NAME) is state.path:
            return  # only the aggregate is there: nothing of ours was originated
        self.apply([self.loc_rib.set_path(prefix, self.local.name, None)])
        if state is not None:
            self.sync_aggregates([state])  # the aggregate comes back if still active

    def sync_aggregates(self, states: Iterable[AggregateState] | None = None) -> None:
        """Re-evaluate ``states`` (None: every active aggregate, as after a change of link
        capacity, which caps each neighbor's share: ``aggregate.py``)."""
        if states is None:
            states = [s for s in self.aggregates.states.values() if s.active]
        self.apply(
            [
                sync_aggregate(s, self.loc_rib, self.local, self._capacity_bytes_per_s)
                for s in states
            ]
        )

    # --- every change ---------------------------------------------------------------------

    def apply(self, changes: Iterable[RouteChange | None]) -> None:
        """FIB, export, aggregates and observers for each change (module docstring),
        after what was kept for the agent's turn, so that they hear of it in order."""
        if self._held:
            self.release()
        self._apply(changes)

    def _apply(self, changes: Iterable[RouteChange | None]) -> None:
        aggregates: dict[Prefix, AggregateState] = {}
        # The FIB group per multipath set (by identity: the prefixes of a batch share one
        # set object, ``LocRib.set_paths``), worked out once for all of them; a run of
        # changes to one set (a batch's) does not even look it up.
        groups: dict[int, tuple[tuple[Path, ...], NextHopGroup | None]] = {}
        prefixes: list[Prefix] = []
        installed: list[NextHopGroup | None] = []  # (beside ``prefixes``: no pair each)
        last: tuple[Path, ...] | None = None
        group: NextHopGroup | None = None
        table, listeners = self.aggregates, self.route_events
        contributors = bool(table)
        for change in changes:
            if change is None:
                continue
            prefix, _, best, _, mp = change
            if mp is not last:
                known = groups.get(id(mp))
                if known is None:
                    known = groups[id(mp)] = (mp, self._group(best, mp))
                last, group = mp, known[1]
            prefixes.append(prefix)
            installed.append(group)
            if contributors:
                for state in table.route_changed(prefix, best, mp):
                    aggregates[state.aggregate.prefix] = state
            for listener in listeners:
                listener(change)
        if not prefixes:
            return
        self._exports.mark_all(prefixes)
        if not self._fib_held:
            self.fib.put(zip(prefixes, installed, strict=True))
        self._schedule_export()
        if aggregates:
            # Once per burst, not per prefix. Whether a contributor is suppressed follows
            # its aggregate being active, which only changes with a contributor arriving or
            # leaving: those prefixes are already dirty, so no extra export is needed.
            self.sync_aggregates(aggregates.values())

    def reweigh(self, mode: MissingBandwidthMode) -> int:
        """Weigh paths without link bandwidth by ``mode`` (FRR's ``bgp bestpath bandwidth``,
        changed at run time): every installed group is rebuilt from its multipaths, nothing
        is exported (what we advertise reads the bandwidths, not the weights). Returns how
        many FIB entries changed."""
        self.fib.set_mode(mode)
        changed = 0
        for dest in self.loc_rib:
            mp = dest.multipath
            change = RouteChange(dest.prefix, dest.best, dest.best, mp, mp)
            if dest.best is not None and self._update_fib(change):
                changed += 1
        return changed

    def preserve_fib(self, entries: Iterable[tuple[Prefix, NextHopGroup]]) -> None:
        """Start from the forwarding state the last instance left (a graceful restart,
        RFC 4724 §4.1) and keep it, whatever is learned, until ``resume_fib``."""
        self.fib.adopt(entries)
        self._fib_held = True

    def resume_fib(self) -> None:
        """Routes are selected again: every prefix's entry follows its multipaths, and
        preserved entries nothing was learned for go. Entries equal to what was kept
        change nothing (``Fib.install``): traffic never noticed the restart."""
        self._fib_held = False
        for dest in self.loc_rib:
            mp = dest.multipath
            self._update_fib(RouteChange(dest.prefix, dest.best, dest.best, mp, mp))
        for prefix, _ in self.fib.entries():
            selected = self.loc_rib.get(prefix)
            if selected is None or selected.best is None:
                self.fib.remove(prefix)

    def _update_fib(self, change: RouteChange) -> bool:
        """Whether ``prefix``'s FIB entry changed (never while the FIB is held)."""
        if self._fib_held:
            return False
        group = self._group(change.new_best, change.new_multipath)
        return bool(self.fib.put([(change.prefix, group)]))

    def _group(self, best: Path | None, multipath: tuple[Path, ...]) -> NextHopGroup | None:
        """The FIB group for ``multipath`` (best first): None for no route or a local one."""
        if best is None or best.source.local or best.next_hop is None:
            return None
        members = []
        key: list[int | float | None] = []  # flat: one tuple per group, not one per member
        for p in multipath:
            if p.next_hop is not None:
                members.append((p.next_hop, p.link_bandwidth))
                key += (p.hop_key, p.link_bandwidth)
        return self.fib.group(members, tuple(key))

    def _capacity_bytes_per_s(self, source: str) -> float | None:
        nb = self._neighbors.get(source)
        capacity = None if nb is None else nb.config.link_capacity_bps
        return None if capacity is None else capacity / 8
