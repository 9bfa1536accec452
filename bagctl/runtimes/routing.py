"""What a region's switches originate and how they weigh link bandwidth, changed at run
time (``RegionRouting``, a part of ``Region``): a server behind a rack switch announcing
or withdrawing an anycast address, and a route map or ``bgp bestpath bandwidth`` changed
on a switch. Each is one request to the shard holding the switch (runtimes/protocol.py),
measured as every operation is (runtimes/region.py's ``_measure``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from speakers.config import SpeakerConfig
from speakers.wire import Prefix

from ..topology.model import EXPORT_MODES, MISSING_MODES
from . import protocol as rq
from .measure import DEFAULT_TIMEOUT_S, ConvergenceReport
from .placement import ShardHandle


def _check(mode: str, modes: tuple[str, ...], what: str) -> None:
    if mode not in modes:
        raise ValueError(f"{what} mode {mode!r}: expected one of {', '.join(modes)}")


class RegionRouting:
    """The routing operations of a ``Region`` (module docstring)."""

    configs: dict[str, SpeakerConfig]  # Region's: each switch's configuration

    def _shard_of(self, node: str) -> ShardHandle:
        raise NotImplementedError  # Region's: the shard holding ``node``

    async def _measure(
        self, event: str, act: Callable[[], Awaitable[None]], timeout: float
    ) -> ConvergenceReport:
        raise NotImplementedError  # Region's: run ``act``, wait for convergence, report

    async def announce(
        self,
        node: str,
        prefix: Prefix | str,
        bandwidth_bps: float | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> ConvergenceReport:
        """``node`` originates ``prefix`` (with ``bandwidth_bps`` as its link bandwidth),
        as a server announcing an anycast address through its rack switch would."""
        shard, p = self._shard_of(node), Prefix.parse(str(prefix))  # a bad one fails here

        async def act() -> None:
            await shard.call(rq.Announce(node, str(p), bandwidth_bps))

        return await self._measure(f"announce {node} {p}", act, timeout)

    async def withdraw(
        self, node: str, prefix: Prefix | str, timeout: float = DEFAULT_TIMEOUT_S
    ) -> ConvergenceReport:
        """``node`` stops originating ``prefix`` (announced, or from the topology)."""
        shard, p = self._shard_of(node), Prefix.parse(str(prefix))

        async def act() -> None:
            await shard.call(rq.Withdraw(node, str(p)))

        return await self._measure(f"withdraw {node} {p}", act, timeout)

    async def set_bandwidth(
        self,
        node: str,
        peer: str | None = None,
        export: str | None = None,
        missing: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> ConvergenceReport:
        """Change ``node``'s link-bandwidth policy: ``export`` (a ``ReadvertiseMode`` but
        ``fixed``) toward ``peer`` or every neighbor, ``missing`` (a
        ``MissingBandwidthMode``) for its own weights. Until the node restarts: a restart
        starts from the topology's configuration, as a router reloads its saved one."""
        shard = self._shard_of(node)  # an unknown node is refused here, by name
        if export is None and missing is None:
            raise ValueError("set-bandwidth: name an export mode, a missing mode or both")
        if export is not None:
            _check(export, EXPORT_MODES, "export")
        if missing is not None:
            _check(missing, MISSING_MODES, "missing")
        if peer is not None and peer not in {nb.name for nb in self.configs[node].neighbors}:
            raise KeyError(f"{node} has no neighbor {peer!r}")

        async def act() -> None:
            await shard.call(rq.SetBandwidth(node, peer, export, missing))

        what = " ".join(
            f"{k} {v}" for k, v in (("to", peer), ("export", export), ("missing", missing)) if v
        )
        return await self._measure(f"set-bandwidth {node} {what}", act, timeout)
