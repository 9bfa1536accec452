"""``Selection``: a set of paths and what the decision makes of them, shared by prefixes.

Most prefixes of a fabric switch have the same paths: a leaf hears every prefix of a pod
from the same uplinks, with the same attributes, often in one UPDATE. So the state of a
prefix (its paths per source, best path, multipath set, the paths tied with the best) is
an immutable ``Selection`` that every prefix with those paths holds, and a change is a
function from one selection to the next (``Selection.with_path``). The Loc-RIB applies an
UPDATE's prefixes as one batch: prefixes that held the same selection before get the same
one after, worked out once (``loc_rib.LocRib.set_paths``). That is the CPU of decision and
multipath once per class of prefixes instead of once per prefix, and one selection's
memory for all of them, instead of a table of paths per prefix.

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
from collections.abc import Mapping
from dataclasses import dataclass

from .decision import Decision, decide
from .multipath import MultipathConfig, select_multipath
from .path import Path

_HOP_KEY = operator.attrgetter("hop_key")
_TIEBREAK = operator.attrgetter("rank.tiebreak")  # multipath order after the best path


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class Selection:
    """Paths by source (a mapping nobody changes: a change makes a new selection), the
    best path (None: no path), the multipath set (best first) and the paths tied with
    the best through the multipath steps; ``meds``: how many paths carry a MED (the
    incremental step needs none). Compared by identity: equal selections may be two
    objects, which costs memory, never an outcome."""

    paths: Mapping[str, Path]
    best: Path | None
    multipath: tuple[Path, ...]
    tied: tuple[Path, ...]
    meds: int

    def moved_from(self, old: Selection) -> bool:
        """Whether the best path or the multipath set differ from ``old``'s: what the
        FIB and the export are told of (a change of backup paths alone is not)."""
        return self.best != old.best or self.multipath != old.multipath

    def with_path(self, source: str, path: Path | None, config: MultipathConfig) -> Selection:
        """The selection once ``source``'s path is ``path`` (None: withdrawn); ``self``
        when that changes nothing. Pure: ``self`` is left as it was."""
        old = self.paths.get(source)
        if path is None:
            if old is None:
                return self
            paths = dict(self.paths)
            del paths[source]
        else:
            if old == path:
                return self
            paths = {**self.paths, source: path}
        meds = self.meds
        if path is not None and path.attributes.med is not None:
            meds += 1
        if old is not None and old.attributes.med is not None:
            meds -= 1
        best = self.best
        if meds or (
            old is not None and best is not None and old.rank.preference <= best.rank.preference
        ):
            # A MED, or a tied path left or changed: the whole decision again.
            return _decided(paths, meds, config)
        if path is None:
            # A path worse than the multipath set left: nothing moves.
            return Selection(paths, best, self.multipath, self.tied, meds)
        if best is None:
            return _chosen(paths, meds, path, (path,), config)  # the first path
        preference, best_preference = path.rank.preference, best.rank.preference
        if preference > best_preference:
            # Worse than the multipath set: kept as a backup, nothing moves.
            return Selection(paths, best, self.multipath, self.tied, meds)
        if preference < best_preference:
            return _chosen(paths, meds, path, (path,), config)
        tied = (*self.tied, path)
        new_best = best if best.rank < path.rank else path
        grown = _grown(self.multipath, len(tied), new_best, path, config)
        if grown is not None:  # the common case, without re-selecting from scratch
            return Selection(paths, new_best, grown, tied, meds)
        return _chosen(paths, meds, new_best, tied, config)


EMPTY = Selection({}, None, (), (), 0)  # a prefix without paths


def _grown(
    mp: tuple[Path, ...], tied: int, new_best: Path, path: Path, config: MultipathConfig
) -> tuple[Path, ...] | None:
    """The multipath set ``mp`` with ``path`` (tied with the best; ``tied`` paths are,
    with it) added, if that is all that changes: relax on, room under maximum-paths, a
    next hop not yet in the set, nothing local. None: let ``select_multipath`` decide."""
    if (
        not config.as_path_relax
        or not new_best.source.ebgp
        or len(mp) >= config.max_paths_ebgp
        or len(mp) + 1 != tied  # some tied path was left out before
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


def _chosen(
    paths: dict[str, Path],
    meds: int,
    best: Path,
    tied: tuple[Path, ...],
    config: MultipathConfig,
) -> Selection:
    # The reason does not matter to multipath selection.
    multipath = select_multipath(Decision(best, "", tied), config)
    return Selection(paths, best, multipath, tied, meds)


def _decided(paths: dict[str, Path], meds: int, config: MultipathConfig) -> Selection:
    decision = decide(list(paths.values()))
    if decision is None:
        return EMPTY
    multipath = select_multipath(decision, config)
    return Selection(paths, decision.best, multipath, decision.tied, meds)
