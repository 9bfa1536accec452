"""The in-process placement: every speaker of the region in one shard, in this process.

Requests are plain calls on the shard's ``ShardService`` (no encoding), its events go
straight to the region, and a shard's ``KeyError`` or ``ValueError`` reaches the caller
as it was raised: the same results and errors as a shard behind a pipe or a broker
(runtimes/placement.py), at the cost of a function call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, TypeVar

from ..topology.model import Topology
from .placement import RegionEvents, ShardHandle
from .protocol import Request, ShardEvent
from .records import ShardSpec
from .service import ShardService
from .shard import Shard

if TYPE_CHECKING:
    from ..mqtt.broker import BrokerUrl

R = TypeVar("R")


class LocalShard:
    """The handle on a shard in this process."""

    def __init__(self, spec: ShardSpec, events: RegionEvents) -> None:
        self.label = "this process"
        self.index = spec.index
        self._events = events
        self.service = ShardService(spec, self._emit)

    @property
    def shard(self) -> Shard:
        return self.service.shard

    def _emit(self, event: ShardEvent) -> None:
        self._events.shard_event(self.index, event)

    async def call(self, request: Request[R]) -> R:
        return await self.service.handle(request)

    def cpu_seconds(self) -> float | None:
        return None  # (its requests run in the region's own loop: silence alone decides)

    async def close(self) -> None:
        self.service.close()


class InProcess:
    """Every speaker in one shard in this process (module docstring)."""

    name = "embedded"
    autonomous = False

    def __init__(self) -> None:
        self.handle: LocalShard | None = None

    @property
    def shard(self) -> Shard:
        """The region's one shard (its speakers, for tests and tools in this process)."""
        if self.handle is None:
            raise RuntimeError("the region has not started")
        return self.handle.shard

    def addresses(self, topo: Topology) -> Mapping[str, IPv4Address] | None:
        return None

    def groups(self, topo: Topology) -> list[list[str]]:
        return [[n.name for n in topo.speakers()]]

    async def broker(self) -> BrokerUrl | None:
        return None

    async def spawn(self, specs: Sequence[ShardSpec], events: RegionEvents) -> list[ShardHandle]:
        (spec,) = specs
        self.handle = LocalShard(spec, events)
        return [self.handle]

    async def aclose(self) -> None:
        if self.handle is not None:
            self.handle.service.close()

    def status(self) -> dict[str, object]:
        return {}


__all__ = ["InProcess", "LocalShard"]
