"""A shard that dies: what the rest of the region does about it.

A worker process killed (``kill -9``, the OOM killer) or a container gone takes its
switches with it, as a power failure would: every link to them goes dark at once. So
the region takes each such link down at its live end (``isolate``: fast external
fallover, the routes through the dead switches withdrawn), stops counting their sessions
among those expected (``Dead.sessions_expected``), and goes on: every command answers,
``status`` says the region is degraded and why, and a command on a dead switch fails
naming the shard that died. A shard that only stops answering (frozen, stopped) is not
dead: it is left behind for its neighbors' hold timers to catch, as a hung switch would
be (runtimes/placement.py's ``within``).

Restarting a dead shard (its speakers rebuilt, sessions and FIBs back) is not done: the
region says it is degraded instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet

from ..topology.model import Bundle
from . import protocol as rq
from .messages import ShardError
from .placement import ShardHandle

log = logging.getLogger("bagctl.runtimes.supervision")


class Dead:
    """The shards of a region that died and their switches (module docstring)."""

    def __init__(self) -> None:
        self.nodes: set[str] = set()
        self.why: dict[str, str] = {}  # shard label -> what happened, and when
        self._tasks: set[asyncio.Future[None]] = set()
        self.closing = False  # the region is closing: its shards end, none dies
        # ``sessions_expected``'s last answer, by what it depends on: the region's progress
        # asks at every wave, and a walk over 42,048 sessions took 50 ms each time.
        self._expected: tuple[AbstractSet[tuple[str, str]], int, int] | None = None

    def died(
        self,
        label: str,
        why: str,
        nodes: Iterable[str],
        isolate: Callable[[set[str]], Awaitable[None]],
    ) -> None:
        """A shard died: record it, and take its links down (``isolate``) in the
        background (the region's event handlers do not wait)."""
        if self.closing:
            return
        self.record(label, why, nodes)
        task = asyncio.ensure_future(isolate(set(self.nodes)))
        self._tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Future[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("taking down the links to a dead shard failed", exc_info=task.exception())

    def record(self, label: str, why: str, nodes: Iterable[str]) -> None:
        self.nodes.update(nodes)
        self.why[label] = f"{why} at {time.strftime('%H:%M:%S')}"

    def sessions_expected(
        self, sessions: Iterable[Bundle], down: AbstractSet[tuple[str, str]]
    ) -> int:
        """Sessions that should be up: not over a bundle taken down, not to a dead switch.
        ``sessions`` are the region's, always the same ones: counted again only when
        ``down`` (a new set at every change, ``Failures``) or the dead switches change."""
        cached = self._expected
        if cached is not None and cached[0] is down and cached[1] == len(self.nodes):
            return cached[2]
        expected = sum(
            1
            for b in sessions
            if b.key not in down and b.a not in self.nodes and b.b not in self.nodes
        )
        self._expected = (down, len(self.nodes), expected)
        return expected

    def status(self) -> dict[str, object]:
        """What ``status`` adds: nothing while none died."""
        if not self.why:
            return {}
        said = "; ".join(f"{label} {why}" for label, why in sorted(self.why.items()))
        return {"degraded": f"{said}: its switches are gone, their links down"}


async def isolate(
    dead: set[str],
    sessions: Iterable[Bundle],
    shard_of: Callable[[str], ShardHandle],
    where: Mapping[str, int],
    lost: Mapping[int, str],
    clock_stands: Callable[[], contextlib.AbstractAsyncContextManager[object]],
) -> None:
    """Take down, at its live end (``where`` it is, not a ``lost`` shard), every link to
    a switch in ``dead``, while the region's clock stands (one instant, as a power
    failure)."""
    calls: list[Awaitable[None]] = []
    for b in sessions:
        for here, there in ((b.a, b.b), (b.b, b.a)):
            if there in dead and here not in dead and where[here] not in lost:
                calls.append(shard_of(here).call(rq.LinkDown(here, there)))
    async with clock_stands():
        for outcome in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(outcome, BaseException) and not isinstance(outcome, ShardError):
                raise outcome  # (a shard dying meanwhile is its own story)


__all__ = ["Dead", "isolate"]
