"""A shard's own end: runs the requests a region sends it and tells the region when to look.

``ShardService`` wraps one ``Shard`` wherever it runs: in the region's own process
(runtimes/local.py calls it directly), in a worker process (runtimes/worker.py) or in a
container's agent (runtimes/agent.py), which both reach it through ``serve``: requests
in over a ``Channel``, checked (``protocol.decode_request``), run one at a time in
order, answered; a malformed request is answered with the reason and changes nothing.

Unasked, the service emits ``Idle`` whenever its shard has gone quiet after routing
activity: the region's cue to look at every shard at once (runtimes/timekeeping.py). A
wave of snapshots costs a pass over every session, so the cue is only given when the
shard itself could be part of a quiet region (on the host's clock, with all its sessions
up; on the region's, whenever it is idle: the region may have to move time on for a
session to come up), and once per burst of activity. A snapshot that found the shard
busy, or with bytes on their way, also calls for a cue once it is not: what kept it so
(a KEEPALIVE on the in-memory network, bytes for a connection already closed, a message
that arrived to wait out the delay model) may end without any routing activity, and the
region, which saw it so, would otherwise wait for a cue that never comes. While it works
the service also emits ``Progress``, at most a few times a second, for progress bars.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from .messages import ProtocolError, decode_request, encode_event, reply_error, reply_ok
from .protocol import Close, Idle, Progress, Request, ShardEvent
from .records import ShardSnapshot, ShardSpec
from .shard import Shard

log = logging.getLogger("bagctl.shard")

PROGRESS_INTERVAL_S = 0.25  # progress events, at most this often
R = TypeVar("R")


class ShardService:
    """One shard and its cue to the region (module docstring)."""

    def __init__(self, spec: ShardSpec, emit: Callable[[ShardEvent], None]) -> None:
        self.loop = asyncio.get_running_loop()
        self.shard = Shard(spec, on_wake=self._on_wake)
        self._emit = emit
        self._check: asyncio.Handle | None = None
        self._cued_activity = -1
        self._owed = False  # a snapshot saw the shard busy: cue once it is not
        self._progress_at = 0.0

    async def handle(self, request: Request[R]) -> R:
        """Run one request on the shard (runtimes/protocol.py: each names its method)."""
        result = await request.apply(self.shard)
        if isinstance(result, ShardSnapshot) and (result.busy or result.bytes_in_flight):
            self._owed = True
            self._on_wake()
        return result

    def close(self) -> None:
        if self._check is not None:
            self._check.cancel()
            self._check = None
        self.shard.close()

    # --- the cue ------------------------------------------------------------------------

    def _on_wake(self) -> None:
        if self._check is None:
            self._check = self.loop.call_soon(self._look)

    def _look(self) -> None:
        """After a burst of events: progress now and then, and the idle cue."""
        self._check = None
        shard = self.shard
        now = self.loop.time()
        if now - self._progress_at >= PROGRESS_INTERVAL_S:
            self._progress_at = now
            up, expected = shard.ends()  # (and a sum over the sessions: a few times a second)
            self._emit(Progress(up, expected, shard.counters.fib_changes, shard.updates_sent()))
        if (shard.activity == self._cued_activity and not self._owed) or shard.busy():
            return
        if shard.virtual is None:
            up, expected = shard.ends()
            if up != expected:
                return  # sessions still coming up: the host's timers will bring them
        self._cued_activity = shard.activity
        self._owed = False
        self._emit(Idle(shard.activity))


class Channel(Protocol):
    """How a shard hears its region and answers: requests in, replies and events out, in
    order (the wire form of runtimes/protocol.py, whatever carries it)."""

    def send(self, obj: dict[str, object]) -> None:
        """Queue one message to the region (never blocks: the cue sends from callbacks)."""
        ...

    async def receive(self) -> dict[str, Any] | None:
        """The next request, or None once the region has gone."""
        ...

    async def drain(self) -> None:
        """Until what was sent so far is on its way."""
        ...


def emitter(channel: Channel) -> Callable[[ShardEvent], None]:
    """Events onto ``channel`` (for a ``ShardService`` whose region is elsewhere)."""
    return lambda event: channel.send(encode_event(event))


async def serve(service: ShardService, channel: Channel) -> None:
    """Obey requests from ``channel`` until ``Close`` or the region goes away."""
    try:
        while True:
            message = await channel.receive()
            if message is None:
                break  # the region went away: stop with it
            try:
                rid, request = decode_request(message)
            except ProtocolError as exc:
                given = message.get("id")
                log.warning("refused a request: %s", exc)
                channel.send(reply_error(given if isinstance(given, int) else None, exc))
                continue
            try:
                result = await service.handle(request)  # one at a time, in order
            except Exception as exc:  # every failure goes back to the region, named
                channel.send(reply_error(rid, exc))
            else:
                channel.send(reply_ok(rid, request.encode_result(result)))
            await channel.drain()
            if isinstance(request, Close):
                break
    finally:
        service.close()


__all__ = ["PROGRESS_INTERVAL_S", "Channel", "ShardService", "emitter", "serve"]
