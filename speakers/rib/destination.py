"""One prefix's paths, best path and multipath set, as a view; and ``RouteChange``.

A prefix's state is the ``Selection`` it shares with every prefix that has the same
paths (``selection.py``); ``Destination`` pairs it with the prefix, for those who ask
about one prefix (views, the tests, a graceful restart's resumption). A ``RouteChange``
comes back from the Loc-RIB when a prefix's best path or multipath set moved: callers
turn it into UCMP weights and FIB changes, and into UPDATEs for the other peers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ..wire import Prefix
from .decision import decide
from .path import Path
from .selection import Selection


class RouteChange(NamedTuple):
    """What changed for ``prefix``; a None best means the prefix became unreachable. A
    NamedTuple: one is made per prefix and change, and a tuple is three times quicker
    to make than a frozen dataclass."""

    prefix: Prefix
    old_best: Path | None
    new_best: Path | None
    old_multipath: tuple[Path, ...]
    new_multipath: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class Destination:
    """``prefix`` and its ``selection``, read as one prefix's table."""

    prefix: Prefix
    selection: Selection

    @property
    def paths(self) -> Mapping[str, Path]:
        return self.selection.paths

    @property
    def best(self) -> Path | None:
        return self.selection.best

    @property
    def multipath(self) -> tuple[Path, ...]:
        return self.selection.multipath

    @property
    def tied(self) -> tuple[Path, ...]:
        return self.selection.tied

    @property
    def reason(self) -> str:
        """The decision step that chose the best path (computed when asked)."""
        decision = decide(list(self.paths.values()))
        return "no-path" if decision is None else decision.reason
