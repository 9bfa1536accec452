"""Test hooks on a running region: a host that lags, a switch that hangs, and the
sessions lost meanwhile. They exist to show what the region's clock promises
(runtimes/timekeeping.py): the emulator's own lateness is never a protocol event, and
real silence still is, caught by the hold timer in emulated time.

They reach the shards with the same typed requests as every operation
(runtimes/protocol.py), so they work wherever the shards run: in this process, in
worker processes, in containers.
"""

from __future__ import annotations

import asyncio

from . import protocol as rq
from .records import SessionLoss
from .region import Region


async def lag(
    region: Region, seconds: float, times: int = 1, shard: int | None = None, busy: bool = False
) -> None:
    """Block the event loop of ``shard`` (every shard's if None) for ``seconds`` at each
    of its next ``times`` FIB changes (``Shard.lag``; ``busy``: spinning, not asleep): the
    next operation's convergence runs on a host that falls behind, on purpose."""
    if shard is not None and not 0 <= shard < len(region.shards):
        raise ValueError(f"shard {shard}: region {region.topo.name} has {len(region.shards)}")
    targets = region.shards if shard is None else [region.shards[shard]]
    await asyncio.gather(*(s.call(rq.Lag(seconds, times, busy)) for s in targets))


async def freeze(region: Region, node: str) -> None:
    """``node`` hangs from now on, its sessions left open (``Speaker.freeze``); wait
    (``Region.wait``) for its neighbors' hold timers to notice."""
    if node not in region.where:
        raise KeyError(f"no BGP speaker {node!r} in region {region.topo.name}")
    # Every shard: its sessions toward ``node`` are no longer expected up (Shard.freeze).
    await asyncio.gather(*(shard.call(rq.Freeze(node)) for _, shard in region.live()))


async def sessions_lost(region: Region) -> tuple[SessionLoss, ...]:
    """Every session that left Established since the last operation began, with its
    cause and its time on the region's clock; not those over bundles the region was told
    to take down (they were asked for)."""
    reports = await asyncio.gather(*(s.call(rq.Report()) for _, s in region.live()))
    down = region.failures.down
    return tuple(loss for r in reports for loss in r.losses if loss.key not in down)


__all__ = ["freeze", "lag", "sessions_lost"]
