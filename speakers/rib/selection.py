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

A selection holds its paths as one tuple in order of source name, found by bisection,
and reads as a mapping (``paths``) only for those who ask: 8 B a path where a dict costs
30 to 40 (on the 2-zone region of ``bench/scale.py``, cold-started, the dicts were 36 B
of the 565 a path cost in objects).

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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .decision import Decision, decide
from .multipath import MultipathConfig, select_multipath
from .path import Path

_HOP_KEY = operator.attrgetter("hop_key")
_SOURCE_NAME = operator.attrgetter("source.name")  # the order of ``Selection.by_source``
_TIEBREAK = operator.attrgetter("rank.tiebreak")  # multipath order after the best path


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class Selection:
    """The paths, one per source in order of source name (a change makes a new
    selection), the best path (None: no path), the multipath set (best first) and the
    paths tied with the best through the multipath steps; ``meds``: how many paths carry
    a MED (the incremental step needs none). Compared by identity: equal selections may
    be two objects, which costs memory, never an outcome."""

    by_source: tuple[Path, ...]
    best: Path | None
    multipath: tuple[Path, ...]
    tied: tuple[Path, ...]  # in no particular order: the multipath tuple itself when equal
    meds: int

    @property
    def paths(self) -> Mapping[str, Path]:
        """The paths by source name (a view)."""
        return SourcePaths(self.by_source)

    def path_from(self, source: str) -> Path | None:
        """``source``'s path, None if it gave none."""
        return _find(self.by_source, source)[1]

    def moved_from(self, old: Selection) -> bool:
        """Whether the best path or the multipath set differ from ``old``'s: what the
        FIB and the export are told of (a change of backup paths alone is not)."""
        return self.best != old.best or self.multipath != old.multipath

    def with_path(self, source: str, path: Path | None, config: MultipathConfig) -> Selection:
        """The selection once ``source``'s path is ``path`` (None: withdrawn); ``self``
        when that changes nothing. Pure: ``self`` is left as it was."""
        assert path is None or path.source.name == source, (source, path.source.name)
        held = self.by_source
        i, old = _find(held, source)
        if path is None:
            if old is None:
                return self
            paths = held[:i] + held[i + 1 :]
        else:
            if old == path:
                return self
            paths = (*held[:i], path, *held[i + (old is not None) :])
        meds = self.meds
        if path is not None and path.attributes.med is not None:
            meds += 1
        if old is not None and old.attributes.med is not None:
            meds -= 1
        best = self.best
        if not meds and old is not None and path is not None and _same_place(old, path, config):
            return self._swapped(paths, old, path)
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
            # Every tied path is in ``grown``: one tuple serves as both.
            return Selection(paths, new_best, grown, grown, meds)
        return _chosen(paths, meds, new_best, tied, config)

    def _swapped(self, paths: tuple[Path, ...], old: Path, path: Path) -> Selection:
        """This selection with ``path`` wherever ``old`` was (``_same_place``)."""
        best = path if self.best is old else self.best
        multipath = tuple([path if p is old else p for p in self.multipath])
        if self.tied is self.multipath:
            return Selection(paths, best, multipath, multipath, self.meds)
        tied = tuple([path if p is old else p for p in self.tied])
        return Selection(paths, best, multipath, tied, self.meds)


EMPTY = Selection((), None, (), (), 0)  # a prefix without paths


def _same_place(old: Path, path: Path, config: MultipathConfig) -> bool:
    """Whether ``path`` takes ``old``'s place (same source) with nothing else moving:
    the same rank (every step of the decision, tie-breaks included), next hop and, when
    multipath needs the best's AS_PATH, AS_PATH; no MED either side. A link bandwidth
    changed, as every path through a failed bundle's does, is such a change: the
    decision over dozens of paths (an RDSW's 40 EDSWs) is not run again for it."""
    return (
        (path.rank is old.rank or path.rank == old.rank)
        and path.hop_key == old.hop_key
        and path.attributes.med is None
        and old.attributes.med is None
        and (config.as_path_relax or path.attributes.as_path == old.attributes.as_path)
    )


def _find(paths: tuple[Path, ...], source: str) -> tuple[int, Path | None]:
    """Where ``source``'s path is in ``paths`` (ordered by source name), or would go;
    and the path, None if there is none."""
    i = bisect.bisect_left(paths, source, key=_SOURCE_NAME)
    if i < len(paths) and paths[i].source.name == source:
        return i, paths[i]
    return i, None


class SourcePaths(Mapping[str, Path]):
    """A selection's paths read as a mapping from source name."""

    __slots__ = ("_paths",)

    def __init__(self, paths: tuple[Path, ...]) -> None:
        self._paths = paths

    def __getitem__(self, source: str) -> Path:
        path = _find(self._paths, source)[1]
        if path is None:
            raise KeyError(source)
        return path

    def __iter__(self) -> Iterator[str]:
        return map(_SOURCE_NAME, self._paths)

    def __len__(self) -> int:
        return len(self._paths)


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
    paths: tuple[Path, ...],
    meds: int,
    best: Path,
    tied: tuple[Path, ...],
    config: MultipathConfig,
) -> Selection:
    # The reason does not matter to multipath selection.
    multipath = select_multipath(Decision(best, "", tied), config)
    return Selection(paths, best, multipath, _tied(tied, multipath), meds)


def _decided(paths: tuple[Path, ...], meds: int, config: MultipathConfig) -> Selection:
    decision = decide(list(paths))
    if decision is None:
        return EMPTY
    multipath = select_multipath(decision, config)
    return Selection(paths, decision.best, multipath, _tied(decision.tied, multipath), meds)


def _tied(tied: tuple[Path, ...], multipath: tuple[Path, ...]) -> tuple[Path, ...]:
    """``tied``, or the multipath tuple when it holds every tied path (a fabric's usual
    case: all of them share the load): one tuple instead of two per selection, 8 B per
    path of a prefix with many."""
    return multipath if len(multipath) == len(tied) else tied
