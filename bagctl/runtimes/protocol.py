"""The shard interface as typed requests: one frozen dataclass per operation of ``Shard``.

A ``Region`` (runtimes/region.py) does everything to its shards through these requests,
whatever carries them: a direct call for the shard in this process, one JSON line over a
worker process's pipes, an MQTT message to a container's agent. Each request knows the
one ``Shard`` method it runs (``apply``) and the type of its result, so the caller gets
a ``ShardSnapshot`` back, not a dict, and mypy checks both ends; the wire form is derived
from the dataclass fields, so adding an operation is adding a class here.

The wire form of these requests, their replies and the shards' events is
runtimes/messages.py's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Generic, TypeVar

from speakers.speaker import DrainMethod, Speaker
from speakers.ucmp import MissingBandwidthMode, ReadvertiseMode
from speakers.wire import Prefix

from . import shardviews
from .records import ChangeStream, SessionLoss, ShardReport, ShardSnapshot, ShardStats
from .shard import Shard

R = TypeVar("R")


class Request(Generic[R]):
    """One operation of the shard interface (module docstring). Subclasses are frozen
    dataclasses with their name on the wire as ``op``, listed in ``REQUESTS``."""

    op: ClassVar[str]

    async def apply(self, shard: Shard) -> R:
        raise NotImplementedError

    def encode_result(self, result: R) -> object:
        """The result as JSON-able data (dataclasses as objects)."""
        return asdict(result) if dataclasses.is_dataclass(result) else result  # type: ignore[arg-type]

    def decode_result(self, raw: Any) -> R:
        """The typed result from its JSON form (the inverse of ``encode_result``)."""
        return raw  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Listen(Request[None]):
    op: ClassVar[str] = "listen"
    originate: bool = True

    async def apply(self, shard: Shard) -> None:
        await shard.listen(originate=self.originate)


@dataclass(frozen=True, slots=True)
class StartSessions(Request[None]):
    op: ClassVar[str] = "start_sessions"

    async def apply(self, shard: Shard) -> None:
        shard.start_sessions()


@dataclass(frozen=True, slots=True)
class Originate(Request[None]):
    op: ClassVar[str] = "originate"

    async def apply(self, shard: Shard) -> None:
        shard.originate()


@dataclass(frozen=True, slots=True)
class Settle(Request[None]):
    op: ClassVar[str] = "settle"

    async def apply(self, shard: Shard) -> None:
        shard.settle()


@dataclass(frozen=True, slots=True)
class Close(Request[None]):
    op: ClassVar[str] = "close"

    async def apply(self, shard: Shard) -> None:
        shard.close()


@dataclass(frozen=True, slots=True)
class Advance(Request[None]):
    op: ClassVar[str] = "advance"
    to: float

    async def apply(self, shard: Shard) -> None:
        shard.advance(self.to)


@dataclass(frozen=True, slots=True)
class Begin(Request[int]):
    op: ClassVar[str] = "begin"

    async def apply(self, shard: Shard) -> int:
        return shard.begin()


@dataclass(frozen=True, slots=True)
class Snapshot(Request[ShardSnapshot]):
    op: ClassVar[str] = "snapshot"
    release: bool = False  # the first look after a step (``Shard.snapshot``)

    async def apply(self, shard: Shard) -> ShardSnapshot:
        return shard.snapshot(self.release)

    def decode_result(self, raw: Any) -> ShardSnapshot:
        return ShardSnapshot(**raw)


@dataclass(frozen=True, slots=True)
class Report(Request[ShardReport]):
    op: ClassVar[str] = "report"

    async def apply(self, shard: Shard) -> ShardReport:
        return shard.report()

    def decode_result(self, raw: Any) -> ShardReport:
        losses = tuple(SessionLoss(**loss) for loss in raw["losses"])
        return ShardReport(**{**raw, "prefixes": tuple(raw["prefixes"]), "losses": losses})


BOTH = """A link's two ends in one shard change in one request, one after the other with
nothing in between: in separate requests, whether the first end's consequences (its
connection's loss, crossing the link to the second) ran before the second end changed
would depend on how the host delivered the requests, and so would the time of the
second end's UPDATEs. Ends in two shards need nothing of the kind: what crosses between
shards waits for the next step of the region's clock (speakers/transport/barrier.py)."""


@dataclass(frozen=True, slots=True)
class LinkDown(Request[None]):
    op: ClassVar[str] = "link_down"
    node: str
    peer: str
    both: bool = False  # and the peer's end, in this shard too (``BOTH``)

    async def apply(self, shard: Shard) -> None:
        shard.link_down(self.node, self.peer)
        if self.both:
            shard.link_down(self.peer, self.node)


@dataclass(frozen=True, slots=True)
class LinkUp(Request[None]):
    op: ClassVar[str] = "link_up"
    node: str
    peer: str
    both: bool = False  # and the peer's end, in this shard too (``BOTH``)

    async def apply(self, shard: Shard) -> None:
        shard.link_up(self.node, self.peer)
        if self.both:
            shard.link_up(self.peer, self.node)


@dataclass(frozen=True, slots=True)
class SetCapacity(Request[None]):
    op: ClassVar[str] = "set_capacity"
    node: str
    peer: str
    bps: float
    both: bool = False  # and the peer's end, in this shard too (``BOTH``)

    async def apply(self, shard: Shard) -> None:
        shard.set_capacity(self.node, self.peer, self.bps)
        if self.both:
            shard.set_capacity(self.peer, self.node, self.bps)


@dataclass(frozen=True, slots=True)
class Drain(Request[None]):
    op: ClassVar[str] = "drain"
    node: str
    method: str

    async def apply(self, shard: Shard) -> None:
        shard.configure(self.node, lambda speaker: speaker.drain(DrainMethod(self.method)))


@dataclass(frozen=True, slots=True)
class Announce(Request[None]):
    op: ClassVar[str] = "announce"
    node: str
    prefix: str
    bps: float | None = None  # the link bandwidth it carries (None: none)

    async def apply(self, shard: Shard) -> None:
        prefix = Prefix.parse(self.prefix)  # (an anycast address, say)
        shard.configure(self.node, lambda speaker: speaker.originate(prefix, self.bps))


@dataclass(frozen=True, slots=True)
class Withdraw(Request[None]):
    op: ClassVar[str] = "withdraw"
    node: str
    prefix: str

    async def apply(self, shard: Shard) -> None:
        prefix = Prefix.parse(self.prefix)
        shard.configure(self.node, lambda speaker: speaker.withdraw_origin(prefix))


@dataclass(frozen=True, slots=True)
class Undrain(Request[None]):
    op: ClassVar[str] = "undrain"
    node: str

    async def apply(self, shard: Shard) -> None:
        shard.configure(self.node, lambda speaker: speaker.undrain())


@dataclass(frozen=True, slots=True)
class SetBandwidth(Request[None]):
    """A switch's link-bandwidth policy changed at run time: what it attaches toward
    ``peer`` (None: every neighbor), ``export`` a ``ReadvertiseMode``, and how it weighs
    paths without a value, ``missing`` a ``MissingBandwidthMode`` (None: unchanged)."""

    op: ClassVar[str] = "set-bandwidth"
    node: str
    peer: str | None = None
    export: str | None = None
    missing: str | None = None

    async def apply(self, shard: Shard) -> None:
        def change(speaker: Speaker) -> None:
            if self.export is not None:
                speaker.set_export_mode(ReadvertiseMode(self.export), self.peer)
            if self.missing is not None:
                speaker.routes.reweigh(MissingBandwidthMode(self.missing))

        shard.configure(self.node, change)


@dataclass(frozen=True, slots=True)
class Restart(Request[None]):
    op: ClassVar[str] = "restart"
    node: str
    graceful: bool = False

    async def apply(self, shard: Shard) -> None:
        await shard.restart(self.node, self.graceful)


@dataclass(frozen=True, slots=True)
class Lag(Request[None]):
    """Test hook: block the shard's event loop ``seconds`` at each of its next ``times``
    FIB changes, asleep or ``busy`` on the CPU (``Shard.lag``)."""

    op: ClassVar[str] = "lag"
    seconds: float
    times: int
    busy: bool = False

    async def apply(self, shard: Shard) -> None:
        shard.lag(self.seconds, self.times, self.busy)


@dataclass(frozen=True, slots=True)
class Freeze(Request[None]):
    """Test hook: ``node`` hangs, its sessions left open (``Speaker.freeze``)."""

    op: ClassVar[str] = "freeze"
    node: str

    async def apply(self, shard: Shard) -> None:
        shard.freeze(self.node)


@dataclass(frozen=True, slots=True)
class Weights(Request[dict[str, int]]):
    op: ClassVar[str] = "weights"
    node: str
    prefix: str

    async def apply(self, shard: Shard) -> dict[str, int]:
        return shardviews.weights(shard, self.node, self.prefix)


@dataclass(frozen=True, slots=True)
class View(Request[list[dict[str, object]]]):
    op: ClassVar[str] = "view"
    what: str
    node: str
    prefix: str | None = None

    async def apply(self, shard: Shard) -> list[dict[str, object]]:
        return shardviews.view(shard, self.what, self.node, self.prefix)


@dataclass(frozen=True, slots=True)
class Fibs(Request[dict[str, dict[str, dict[str, int]]]]):
    op: ClassVar[str] = "fib"

    async def apply(self, shard: Shard) -> dict[str, dict[str, dict[str, int]]]:
        return shardviews.fibs(shard)


@dataclass(frozen=True, slots=True)
class Nodes(Request[dict[str, dict[str, int]]]):
    op: ClassVar[str] = "nodes"

    async def apply(self, shard: Shard) -> dict[str, dict[str, int]]:
        return shardviews.nodes(shard)


@dataclass(frozen=True, slots=True)
class Changes(Request[ChangeStream]):
    op: ClassVar[str] = "changes"

    async def apply(self, shard: Shard) -> ChangeStream:
        return shard.change_stream()

    def encode_result(self, result: ChangeStream) -> object:
        return result.as_dict()

    def decode_result(self, raw: Any) -> ChangeStream:
        return ChangeStream(tuple(tuple(row) for row in raw["changes"]), raw["dropped"])


@dataclass(frozen=True, slots=True)
class Dirty(Request[frozenset[str]]):
    op: ClassVar[str] = "dirty"

    async def apply(self, shard: Shard) -> frozenset[str]:
        return shard.take_dirty()

    def encode_result(self, result: frozenset[str]) -> object:
        return sorted(result)

    def decode_result(self, raw: Any) -> frozenset[str]:
        return frozenset(raw)


@dataclass(frozen=True, slots=True)
class Stats(Request[ShardStats]):
    op: ClassVar[str] = "stats"

    async def apply(self, shard: Shard) -> ShardStats:
        return shard.stats()

    def decode_result(self, raw: Any) -> ShardStats:
        return ShardStats(**raw)


REQUESTS: dict[str, type[Request[Any]]] = {
    cls.op: cls
    for cls in (
        Listen,
        StartSessions,
        Originate,
        Settle,
        Close,
        Advance,
        Begin,
        Snapshot,
        Report,
        LinkDown,
        LinkUp,
        SetCapacity,
        Drain,
        Undrain,
        Announce,
        Withdraw,
        SetBandwidth,
        Restart,
        Lag,
        Freeze,
        Weights,
        View,
        Fibs,
        Nodes,
        Changes,
        Dirty,
        Stats,
    )
}


# --- events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Idle:
    """The shard went quiet after routing activity with all its session ends up: the
    region's cue to look at every shard at once."""

    activity: int


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the shard got: session ends up of those expected, FIB changes since begin,
    UPDATEs sent since the shard started (0 from a shard that does not say)."""

    ends_up: int
    ends_expected: int
    fib_changes: int
    updates_sent: int = 0


ShardEvent = Idle | Progress
