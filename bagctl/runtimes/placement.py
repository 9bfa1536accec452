"""Where a region's shards run: the ``Placement`` interface, and the region's handle on
each shard.

A runtime is a way to place shards. ``Region`` (runtimes/region.py) asks its placement
how to split the speakers (``groups``) and at which addresses they listen
(``addresses``), then to start one shard per group (``spawn``), and from then on only
talks to the ``ShardHandle``s it got back, with the typed requests of
runtimes/protocol.py. Three placements exist: ``InProcess`` (runtimes/local.py, one
shard in this process), ``WorkerProcesses`` (runtimes/process.py, a shard per worker
process over a pipe) and ``Containers`` (runtimes/compose.py, a shard per speaker's
container over the region's MQTT broker).

Handles whose shard is elsewhere share ``RemoteShard``: numbered requests awaiting their
replies, and the events (idle cue, progress) handed to the region as they arrive.

**Frozen or busy** (``within``): a shard that answers nothing for ``stall_s`` wall
seconds is frozen (stopped, hung) and left behind, unless its handle can tell that it
is working: a worker process whose CPU time moved on meanwhile is busy, however long
one step of the region's clock takes it. On a host at load 4.4, one step of
``two-region-planar``'s cold start took each of two workers 23 s wall for 11.5 s of
CPU; with less of a core each, such a step nears the minute (the likely end of a run at
load 6.8 that lost every shard, and converged when run alone). So how busy the host is
never decides which shard is lost: a stopped process uses no CPU, a busy one does.
Where the handle cannot tell (an agent in a container: ``cpu_seconds`` None), silence
alone decides, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..topology.model import Topology
from .messages import ProtocolError, ShardError, decode_event, encode_request, raise_error
from .protocol import Request, ShardEvent
from .records import ShardSpec

if TYPE_CHECKING:
    from ..mqtt.broker import BrokerUrl

R = TypeVar("R")


class RegionEvents(Protocol):
    """What the region hears from its shards, unasked."""

    def shard_event(self, index: int, event: ShardEvent) -> None:
        """An ``Idle`` cue or a ``Progress`` report from shard ``index``."""
        ...

    def shard_lost(self, index: int, why: str) -> None:
        """Shard ``index`` stopped answering (it died, or its carrier went away)."""
        ...

    def placement_progress(self, done: int, total: int, what: str) -> None:
        """How far the placement's own start has got (``what``: containers)."""
        ...


class ShardHandle(Protocol):
    """The region's end of one shard."""

    label: str  # how errors name it: "worker 1", "agent r1-bag1-1"

    async def call(self, request: Request[R]) -> R:
        """Run ``request`` on the shard and return its typed result. The shard's own
        ``KeyError`` and ``ValueError`` come back as such; anything else, or a shard that
        is gone, as ``ShardError`` naming the shard."""
        ...

    async def close(self) -> None:
        """Stop the shard, waiting for it."""
        ...

    def cpu_seconds(self) -> float | None:
        """The CPU time the shard's process has used so far, if this side can read it
        (a worker process on this host); else None (module docstring: frozen or busy)."""
        ...


class Placement(Protocol):
    """Where and how a region's shards run (module docstring)."""

    name: str  # the runtime, as status reports it: embedded, compose
    # The shards bring their speakers up by themselves (containers); else the region
    # drives listen, start_sessions and originate.
    autonomous: bool

    def addresses(self, topo: Topology) -> Mapping[str, IPv4Address] | None:
        """Each speaker's own address where it is not its loopback."""
        ...

    def groups(self, topo: Topology) -> list[list[str]]:
        """The speakers of each shard."""
        ...

    async def broker(self) -> BrokerUrl | None:
        """The region's own MQTT broker, if this placement brings one (started once)."""
        ...

    async def spawn(self, specs: Sequence[ShardSpec], events: RegionEvents) -> list[ShardHandle]:
        """Start one shard per spec; their handles, in the same order."""
        ...

    async def aclose(self) -> None:
        """Remove whatever the placement started (after the handles are closed)."""
        ...

    def status(self) -> dict[str, object]:
        """What ``bagctl status`` shows of the placement."""
        ...


class RemoteShard:
    """A handle whose shard is reached by messages (module docstring); subclasses send
    them (``_send``) and feed what arrives to ``on_message``."""

    def __init__(self, index: int, label: str, events: RegionEvents) -> None:
        self.index = index
        self.label = label
        # Why the shard cannot be reached, once it cannot: a predicate of the label
        # ("exited with 9", "has died"), so that "worker 1 exited with 9" reads well.
        self.gone: str | None = None
        self._events = events
        self._next = 0
        self._waiting: dict[int, asyncio.Future[Any]] = {}

    async def _send(self, message: dict[str, object]) -> None:
        raise NotImplementedError

    def cpu_seconds(self) -> float | None:
        return None  # (a worker process on this host can tell: runtimes/process.py)

    async def call(self, request: Request[R]) -> R:
        if self.gone is not None:
            raise ShardError(f"{self.label} {self.gone}")
        self._next += 1
        rid = self._next
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = fut
        try:
            await self._send(encode_request(rid, request))
            raw = await fut
        finally:
            self._waiting.pop(rid, None)
        return request.decode_result(raw)

    def on_message(self, msg: Mapping[str, Any]) -> None:
        """One message from the shard: an event or a reply."""
        if "ev" in msg:
            try:
                event = decode_event(msg)
            except ProtocolError:
                return  # not from a shard of ours
            self._events.shard_event(self.index, event)
            return
        fut = self._waiting.pop(msg.get("id", -1), None)
        if fut is None or fut.done():
            return
        if msg.get("ok"):
            fut.set_result(msg.get("result"))
        else:
            fut.set_exception(raise_error(self.label, msg))

    def lost(self, why: str) -> None:
        """The shard cannot be reached: every request waiting fails, later ones at once,
        and the region hears of it."""
        self.gone = why
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(ShardError(f"{self.label} {why}"))
        self._waiting.clear()
        self._events.shard_lost(self.index, why)


# A shard silent for a whole ``stall_s`` is still working if its CPU time grew by at
# least this share of the span: a busy worker gets far more even on a host loaded tenfold,
# a stopped one none, one hung with an idle event loop next to none.
WORKING_SHARE = 0.01


async def within(
    shards: Sequence[tuple[int, ShardHandle]],
    request: Request[R],
    stall_s: float,
    on_stall: Callable[[int, str], None],
) -> list[R]:
    """``request`` to each of ``shards`` (index, handle) at once; the answers of those
    that answer before they have been silent and idle for ``stall_s`` wall seconds
    (module docstring: frozen or busy). One that does not is frozen (stopped, hung):
    ``on_stall`` hears of it, and the region leaves it behind, so that its clock goes on
    and the neighbors' hold timers catch it, as on a real network."""

    async def call(i: int, shard: ShardHandle) -> R | None:
        try:
            return await _answer(shard, request, stall_s)
        except TimeoutError:
            on_stall(i, f"answered nothing for {stall_s:g} s and did no work (frozen?)")
            return None
        except ShardError:
            if getattr(shard, "gone", None) is None:
                raise  # an error of the request, not of the shard
            return None  # it died meanwhile (``RemoteShard.lost`` told the region)

    answers = await asyncio.gather(*(call(i, shard) for i, shard in shards))
    return [a for a in answers if a is not None]


async def _answer(shard: ShardHandle, request: Request[R], stall_s: float) -> R:
    """``shard``'s answer to ``request``, waited for while each ``stall_s`` of silence
    finds it working; ``TimeoutError`` once one finds it idle (or cannot tell)."""
    task = asyncio.ensure_future(shard.call(request))
    try:
        mark = shard.cpu_seconds()
        while True:
            done, _ = await asyncio.wait({task}, timeout=stall_s)
            if done:
                return task.result()
            now = shard.cpu_seconds()
            if mark is None or now is None or now - mark < WORKING_SHARE * stall_s:
                raise TimeoutError
            mark = now
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # (an abandoned request's answer, or error, is of no use)


__all__ = ["Placement", "RegionEvents", "RemoteShard", "ShardHandle", "within"]
