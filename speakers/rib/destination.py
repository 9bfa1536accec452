"""One prefix's paths, its best path and its multipath set, kept up to date per change.

``Destination.set_path`` is the whole incremental step: one source's path for this prefix
appears, changes or goes (implicit or explicit withdraw), and a ``RouteChange`` comes
back when the best path or the multipath set moved. Callers turn route changes into
UCMP weights and FIB changes, and into UPDATEs for the other peers.

Why incremental: a leaf of a Meta-style fabric hears every prefix from each of its
uplinks (dozens on a DSF interface node), one path at a time. Re-running the decision
over every path at each arrival costs O(n) per path and O(n^2) per prefix; but without
MED (every eBGP export strips it, so the fabric never carries one) the decision is one
lexicographic key (``Path.rank``), and an arriving path only needs comparing with the
best: worse through the multipath steps leaves best and multipath as they were, equal
joins the tied set, better replaces it. Anything else (a MED anywhere, the best or a
tied path leaving or changing) re-runs the whole decision, which stays the reference;
a hypothesis test checks the two agree on every sequence of changes.
"""

from __future__ import annotations

import bisect
import operator
from dataclasses import dataclass

from ..wire import Prefix
from .decision import Decision, decide
from .multipath import MultipathConfig, select_multipath
from .path import Path

_HOP_KEY = operator.attrgetter("hop_key")
_TIEBREAK = operator.attrgetter("rank.tiebreak")  # multipath order after the best path


@dataclass(frozen=True, slots=True)
class RouteChange:
    """What changed for ``prefix``; a None best means the prefix became unreachable."""

    prefix: Prefix
    old_best: Path | None
    new_best: Path | None
    old_multipath: tuple[Path, ...]
    new_multipath: tuple[Path, ...]


class Destination:
    __slots__ = ("best", "meds", "multipath", "paths", "prefix", "tied")

    def __init__(self, prefix: Prefix) -> None:
        self.prefix = prefix
        self.paths: dict[str, Path] = {}
        self.best: Path | None = None
        self.multipath: tuple[Path, ...] = ()
        self.tied: list[Path] = []  # paths tied with the best through the multipath steps
        self.meds = 0  # paths carrying a MED (the fast path needs none)

    @property
    def reason(self) -> str:
        """The decision step that chose the best path (computed when asked)."""
        decision = decide(list(self.paths.values()))
        return "no-path" if decision is None else decision.reason

    def set_path(
        self, source: str, path: Path | None, config: MultipathConfig
    ) -> RouteChange | None:
        """Install (or, with None, withdraw) ``source``'s path and update the decision."""
        old = self.paths.get(source)
        if path is None:
            if old is None:
                return None
            del self.paths[source]
        else:
            if old == path:
                return None
            self.paths[source] = path
            if path.attributes.med is not None:
                self.meds += 1
        if old is not None and old.attributes.med is not None:
            self.meds -= 1
        best = self.best
        if self.meds or (
            old is not None and best is not None and old.rank.preference <= best.rank.preference
        ):
            return self._recompute(config)  # a MED, or a tied path left or changed
        if path is None:
            return None  # a path worse than the multipath set left: nothing moves
        if best is None:
            return self._set(path, [path], config)
        preference, best_preference = path.rank.preference, best.rank.preference
        if preference > best_preference:
            return None  # worse than the multipath set: kept as a backup, nothing moves
        if preference < best_preference:
            return self._set(path, [path], config)
        self.tied.append(path)
        new_best = best if best.rank < path.rank else path
        grown = self._grown(new_best, path, config)
        if grown is not None:  # the common case, without re-selecting from scratch
            old_mp = self.multipath
            self.best, self.multipath = new_best, grown
            return RouteChange(self.prefix, best, new_best, old_mp, grown)
        return self._set(new_best, self.tied, config)

    def _grown(
        self, new_best: Path, path: Path, config: MultipathConfig
    ) -> tuple[Path, ...] | None:
        """The multipath set with ``path`` (tied with the best) added, if that is all
        that changes: relax on, room under maximum-paths, a next hop not yet in the set,
        nothing local. None: let ``select_multipath`` decide."""
        mp = self.multipath
        if (
            not config.as_path_relax
            or not new_best.source.ebgp
            or len(mp) >= config.max_paths_ebgp
            or len(mp) + 1 != len(self.tied)  # some tied path was left out before
            or path.source.local
            or mp[0].source.local
            or path.hop_key in map(_HOP_KEY, mp)
        ):
            return None
        rest = list(mp[1:])  # in multipath order already
        if new_best is path:
            bisect.insort(rest, mp[0], key=_TIEBREAK)  # the old best becomes a member
        else:
            bisect.insort(rest, path, key=_TIEBREAK)
        return (new_best, *rest)

    def _set(self, best: Path, tied: list[Path], config: MultipathConfig) -> RouteChange | None:
        old_best, old_mp = self.best, self.multipath
        self.best, self.tied = best, tied
        # The reason does not matter to multipath selection.
        self.multipath = select_multipath(Decision(best, "", tuple(tied)), config)
        if self.best is old_best and self.multipath == old_mp:
            return None
        return RouteChange(self.prefix, old_best, self.best, old_mp, self.multipath)

    def _recompute(self, config: MultipathConfig) -> RouteChange | None:
        decision = decide(list(self.paths.values()))
        old_best, old_mp = self.best, self.multipath
        if decision is None:
            self.best, self.multipath, self.tied = None, (), []
        else:
            self.best, self.tied = decision.best, list(decision.tied)
            self.multipath = select_multipath(decision, config)
        if self.best == old_best and self.multipath == old_mp:
            return None
        return RouteChange(self.prefix, old_best, self.best, old_mp, self.multipath)
