"""One prefix's paths, its best path and its multipath set, recomputed per change.

``Destination.set_path`` is the whole incremental step: one source's path for this prefix
appears, changes or goes (implicit or explicit withdraw), and a ``RouteChange`` comes
back when the best path or the multipath set moved. Callers turn route changes into
UCMP weights and FIB changes, and into UPDATEs for the other peers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..wire import Prefix
from .decision import decide
from .multipath import MultipathConfig, select_multipath
from .path import Path


@dataclass(frozen=True, slots=True)
class RouteChange:
    """What changed for ``prefix``; a None best means the prefix became unreachable."""

    prefix: Prefix
    old_best: Path | None
    new_best: Path | None
    old_multipath: tuple[Path, ...]
    new_multipath: tuple[Path, ...]
    reason: str


class Destination:
    __slots__ = ("best", "multipath", "paths", "prefix", "reason")

    def __init__(self, prefix: Prefix) -> None:
        self.prefix = prefix
        self.paths: dict[str, Path] = {}
        self.best: Path | None = None
        self.multipath: tuple[Path, ...] = ()
        self.reason = ""

    def set_path(
        self, source: str, path: Path | None, config: MultipathConfig
    ) -> RouteChange | None:
        """Install (or, with None, withdraw) ``source``'s path and recompute."""
        if path is None:
            if self.paths.pop(source, None) is None:
                return None
        else:
            if self.paths.get(source) == path:
                return None
            self.paths[source] = path
        return self._recompute(config)

    def _recompute(self, config: MultipathConfig) -> RouteChange | None:
        decision = decide(list(self.paths.values()))
        old_best, old_mp = self.best, self.multipath
        if decision is None:
            self.best, self.multipath, self.reason = None, (), "no-path"
        else:
            self.best, self.reason = decision.best, decision.reason
            self.multipath = select_multipath(decision, config)
        if self.best == old_best and self.multipath == old_mp:
            return None
        return RouteChange(self.prefix, old_best, self.best, old_mp, self.multipath, self.reason)
