"""What a region answers about itself, read from its shards: FIB weights, every FIB, the
last operation's FIB change stream, a switch's sessions, RIB or FIB, which switches
changed, and memory (``RegionQueries``, a part of ``Region``: runtimes/region.py holds
the operations and their measurement). Each query is one request to the shard holding
the switch, or to every shard, through the typed protocol (runtimes/protocol.py).
"""

from __future__ import annotations

from typing import Any, TypeVar

from speakers.config import SpeakerConfig
from speakers.wire import Prefix

from .. import views
from ..topology.model import Topology
from . import protocol as rq
from .placement import ShardHandle
from .records import ChangeStream

R = TypeVar("R")


class RegionQueries:
    """The queries of a ``Region`` (module docstring); it reaches the shards."""

    async def _all(self, request: rq.Request[R]) -> list[R]:
        raise NotImplementedError  # Region's: every live shard

    def _shard_of(self, node: str) -> ShardHandle:
        raise NotImplementedError  # Region's: the shard holding ``node``

    topo: Topology  # Region's: what it runs
    configs: dict[str, SpeakerConfig]  # Region's: each switch's configuration

    async def weights(self, node: str, prefix: Prefix | str) -> dict[str, int]:
        """Next-hop node name -> integer weight in ``node``'s FIB entry for ``prefix``."""
        return await self._shard_of(node).call(rq.Weights(node, str(prefix)))

    async def fib_weights(self) -> dict[str, dict[str, dict[str, int]]]:
        """Every speaker's FIB: node -> prefix -> next-hop node -> integer weight (the
        verifier's actual side, ``bagctl.verify.FibSnapshot.from_names``)."""
        return {n: fib for part in await self._all(rq.Fibs()) for n, fib in part.items()}

    async def fib_changes(self) -> dict[str, object]:
        """The last operation's FIB change stream, every shard's, in time order."""
        parts = await self._all(rq.Changes())
        rows = sorted((row for part in parts for row in part.changes), key=lambda row: row[0])
        return ChangeStream(tuple(rows), sum(p.dropped for p in parts)).as_dict()

    async def show(self, what: str, node: str, prefix: str | None = None) -> dict[str, object]:
        """``what`` (sessions, rib or fib) of ``node``, JSON-able (``bagctl.views``)."""
        if what not in views.SHOW_WHAT:
            raise ValueError(f"show {what!r}: one of {', '.join(views.SHOW_WHAT)}")
        if what == "sessions" and prefix is not None:
            raise ValueError("show sessions takes no prefix")
        entries = await self._shard_of(node).call(rq.View(what, node, prefix))
        return {"node": node, "what": what, "prefix": prefix, what: entries}

    async def inspect(self) -> list[dict[str, object]]:
        """One row per switch, as containerlab's ``inspect``: role, AS, address, where it
        runs (the shard's label), and from its speaker sessions up of configured, RIB and
        FIB sizes (``state`` ``unreachable`` where its shard is gone)."""
        live = {n: row for part in await self._all(rq.Nodes()) for n, row in part.items()}
        rows: list[dict[str, object]] = []
        for node in self.topo.speakers():
            config = self.configs[node.name]
            rows.append(
                {
                    "node": node.name,
                    "role": node.role.value,
                    "asn": node.asn,
                    "address": str(config.listen_address),
                    "runs_in": self._shard_of(node.name).label,
                    "state": "running" if node.name in live else "unreachable",
                    **live.get(node.name, {}),
                }
            )
        return rows

    async def changed_nodes(self) -> set[str]:
        """Speakers whose FIB or sessions changed since the last call (all, the first time)."""
        return set().union(*(await self._all(rq.Dirty())))

    async def stats(self) -> dict[str, Any]:
        """Speakers, FIB entries, Adj-RIB-In paths, and each shard's process's memory (at
        its peak and now) and CPU seconds (how evenly the partition spread the work over
        worker processes)."""
        per = await self._all(rq.Stats())
        return {
            "shards": len(per),
            "speakers": [s.speakers for s in per],
            "fib_entries": sum(s.fib_entries for s in per),
            "rib_in_paths": sum(s.rib_in_paths for s in per),
            "peak_rss_kb": [s.peak_rss_kb for s in per],
            "rss_kb": [s.rss_kb for s in per],
            "cpu_s": [round(s.cpu_s, 3) for s in per],
        }


__all__ = ["RegionQueries"]
