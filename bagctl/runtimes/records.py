"""What a shard is given and what it says about itself: its spec, snapshots, reports,
the sessions it lost, its FIB change stream and its figures; plain frozen values that
cross a pipe or a broker as they are (runtimes/messages.py).

What a shard reports is what quiescence needs, read from the speakers' own state:
``busy`` (an export queued, or bytes on the in-memory network), session ends up against
the ends expected up (a bundle taken down removes its two ends), the UPDATEs sent and
received over the current sessions (equal across the whole region when none is in
flight, even between processes), and an activity counter that moves on every routing
event (an UPDATE in, a session up or down, a FIB change, an operation), so that two
identical snapshots in a row mean nothing happened in between. KEEPALIVEs count in
neither: they change no route, and a large region always has some on the wire. For
moving time on, the snapshot also says what no counter of UPDATEs shows: the bytes on
their way over the shard's connections (a KEEPALIVE or an OPEN), when the next timer is
due, and when work held back for later (an MRAI, a message waiting out the delay model)
is due.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from speakers.config import SpeakerConfig
from speakers.wire import Prefix
from speakers.wire.prefix import IPAddress

from ..topology.configs import next_hop_names

TRANSPORTS = ("tcp", "memory")
CLOCKS = ("region", "host")


def check_transport(transport: str) -> str:
    if transport not in TRANSPORTS:
        raise ValueError(f"transport {transport!r}: tcp or memory")
    return transport


def check_clock(clock: str) -> str:
    if clock not in CLOCKS:
        raise ValueError(f"clock {clock!r}: region (emulated, the default) or host")
    return clock


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """What one shard runs: its speakers' configurations, the transport between them,
    the region's other speakers (reached over TCP), every speaker by its next hops (for
    views by name) and a seed for the speakers' timer jitter."""

    index: int
    configs: Mapping[str, SpeakerConfig]
    transport: str  # tcp or memory
    remote: frozenset[str]
    names: Mapping[IPAddress, str]
    seed: int
    clock: str = "region"  # the region's emulated time, or the host's (module docstring)


def shard_specs(
    configs: Mapping[str, SpeakerConfig],
    groups: Sequence[Sequence[str]],
    transport: str,
    seed: int,
    clock: str,
) -> list[ShardSpec]:
    """One spec per group of speakers (a placement's ``groups``), each seeded apart."""
    names = next_hop_names(configs.values())
    return [
        ShardSpec(
            index=i,
            configs={n: configs[n] for n in group},
            transport=transport,
            remote=frozenset(configs) - frozenset(group),
            names=names,
            seed=seed * 1000 + i,
            clock=clock,
        )
        for i, group in enumerate(groups)
    ]


@dataclass(frozen=True, slots=True)
class ShardSnapshot:
    """One look at a shard's state (module docstring)."""

    busy: bool
    ends_up: int
    ends_expected: int
    session_updates_out: int
    session_updates_in: int
    activity: int
    updates_sent: int
    bytes_in_flight: int  # on their way over this shard's connections (KEEPALIVEs too)
    now: float  # the shard's clock
    next_deadline: float | None  # the shard's next timer (region clock only)
    work_due: float | None  # work held back for later, due then (an MRAI-delayed flush)


@dataclass(frozen=True, slots=True)
class SessionLoss:
    """An established session that went down: where, why, when on the shard's clock."""

    node: str
    peer: str
    cause: str  # a DownReason value, with the NOTIFICATION if there was one
    at: float

    @property
    def key(self) -> tuple[str, str]:
        """The bundle the session ran over, as ``Bundle.key`` (sorted ends)."""
        return (self.node, self.peer) if self.node <= self.peer else (self.peer, self.node)

    def as_dict(self) -> dict[str, object]:
        return {"node": self.node, "peer": self.peer, "cause": self.cause, "at": self.at}


@dataclass(frozen=True, slots=True)
class ShardReport:
    """What the shard did since ``begin``: FIB changes, the last one's time on the
    shard's clock and on the host's (CLOCK_MONOTONIC ns, shared by every process and
    container of the machine), the prefixes they touched; the established sessions that
    went down; the UPDATEs sent since the shard started."""

    fib_changes: int
    last_fib_ns: int  # the shard's clock (emulated on the region's)
    last_fib_wall_ns: int  # the host's
    prefixes: tuple[str, ...]
    updates_sent: int
    losses: tuple[SessionLoss, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangeStream:
    """FIB changes since ``begin`` as rows ``[at_ns, node, prefix, old, new]`` (groups as
    next-hop name -> weight, None for no route) and how many were dropped past
    ``CHANGE_RECORD``."""

    changes: tuple[tuple[int, str, str, dict[str, int] | None, dict[str, int] | None], ...]
    dropped: int

    def as_dict(self) -> dict[str, object]:
        return {"changes": [list(row) for row in self.changes], "dropped": self.dropped}


@dataclass(frozen=True, slots=True)
class ShardStats:
    speakers: int
    fib_entries: int
    peak_rss_kb: int
    rib_in_paths: int = 0  # Adj-RIB-In paths held (0 from a shard that predates it)
    cpu_s: float = 0.0  # the shard's process's user and system CPU so far (a worker's own)
    rss_kb: int = 0  # resident now (memory.py; 0 where the system does not say)


@dataclass
class FibCounters:
    """A shard's FIB changes since the last reset: how many, the last one's time, which prefixes."""

    fib_changes: int = 0
    last_fib_ns: int = 0
    last_fib_wall_ns: int = 0
    prefixes: set[Prefix] = field(default_factory=set)
    losses: list[SessionLoss] = field(default_factory=list)


__all__ = [
    "CLOCKS",
    "TRANSPORTS",
    "ChangeStream",
    "FibCounters",
    "SessionLoss",
    "ShardReport",
    "ShardSnapshot",
    "ShardSpec",
    "ShardStats",
    "check_clock",
    "check_transport",
    "shard_specs",
]
