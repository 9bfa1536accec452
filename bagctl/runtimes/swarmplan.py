"""Where a region's shards go on a swarm of several hosts, and how much memory each
needs: ``bagctl swarm plan`` prints it, ``bagctl swarm generate --hosts`` writes it
into the stack file (placement constraints on the node label ``bagemu.host`` and a
memory reservation per task, so the scheduler never overfills a node).

Pure arithmetic on the topology:

- **Shards**: the partitioner's groups (runtimes/partition.py: fabrics together, few
  sessions cut).
- **Memory of a shard**: a process base, then per speaker, per session end, and per
  Adj-RIB-In path. The paths are counted, not guessed: the verifier's independent model
  of the converged region (bagctl/verify/model.py) gives every switch's multipath set
  per prefix, and in these fabrics (one AS per tier, valley-free) a switch keeps exactly
  the paths of its multipath sets: on ``mini`` 2,816 and on ``region`` 364,352 paths,
  equal to what the running speakers hold. The bytes per path are a measurement (README,
  "Swarm"), not a guarantee: ``--bytes-per-path`` overrides it.
- **Placement**: longest-processing-time first, each shard to the host with the most
  memory left; a plan that does not fit says which shard, and by how much.
- **Cut sessions per host**: sessions with their two ends on different hosts: they
  cross the network between machines (the overlay's VXLAN), the rest stay inside one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..topology.model import Topology
from .partition import partition

MB = 1 << 20
UNLIMITED_GB = 1e9  # hosts whose memory is not given: placement only
BASE_MB = 80.0  # one agent process: CPython, bagctl and speakers imported, MQTT client
BYTES_PER_SPEAKER = 200_000  # a speaker's configuration, neighbors, timers and tables
BYTES_PER_SESSION_END = 60_000  # a session's state machine, transport and buffers
# An Adj-RIB-In path and its share of Loc-RIB, FIB and export state: prometheus's 15.4
# million paths took 11.2 GB over two workers (issue 19's measurement), 730 B each.
BYTES_PER_PATH = 730


@dataclass(frozen=True, slots=True)
class ShardPlan:
    index: int
    speakers: int
    session_ends: int
    paths: int  # estimated Adj-RIB-In paths
    memory_mb: float
    host: int


@dataclass(frozen=True, slots=True)
class HostPlan:
    index: int
    shards: tuple[int, ...]
    memory_mb: float
    capacity_mb: float
    cut_sessions: int  # sessions with one end here and the other on another host


@dataclass(frozen=True, slots=True)
class SwarmPlan:
    region: str
    prefixes: int
    bytes_per_path: int
    shards: tuple[ShardPlan, ...]
    hosts: tuple[HostPlan, ...]
    cut_between_shards: int
    fits: bool
    problem: str | None  # why it does not fit

    def as_dict(self) -> dict[str, object]:
        return {
            "region": self.region,
            "fits": self.fits,
            "problem": self.problem,
            "prefixes": self.prefixes,
            "bytes_per_path": self.bytes_per_path,
            "cut_between_shards": self.cut_between_shards,
            "shards": [vars_of(s) for s in self.shards],
            "hosts": [vars_of(h) for h in self.hosts],
        }


def vars_of(obj: ShardPlan | HostPlan) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in obj.__slots__:
        value = getattr(obj, name)
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def shard_memory_mb(speakers: int, ends: int, paths: int, bytes_per_path: int) -> float:
    """The estimate of one shard's memory (module docstring)."""
    return (
        BASE_MB
        + (speakers * BYTES_PER_SPEAKER + ends * BYTES_PER_SESSION_END + paths * bytes_per_path)
        / MB
    )


def paths_per_switch(topo: Topology) -> Counter[str]:
    """Adj-RIB-In paths each switch holds once converged (module docstring)."""
    from ..verify.model import build_model  # the model's imports: only for a plan

    held: Counter[str] = Counter()
    for per_node in build_model(topo).routes.values():
        for node, route in per_node.items():
            held[node] += len(route.next_hops)
    return held


def plan(
    topo: Topology,
    hosts: int,
    memory_per_host_gb: float,
    shards: int | None = None,
    bytes_per_path: int = BYTES_PER_PATH,
) -> SwarmPlan:
    """The region's shards (``shards``, default one per host) placed on ``hosts`` hosts
    of ``memory_per_host_gb`` GiB each (module docstring)."""
    if hosts < 1:
        raise ValueError(f"hosts must be at least 1, not {hosts}")
    if memory_per_host_gb <= 0:
        raise ValueError(f"memory per host must be positive, not {memory_per_host_gb:g} GB")
    count = hosts if shards is None else shards
    groups = [g for g in partition(topo, count) if g]
    where = {name: i for i, group in enumerate(groups) for name in group}
    ends: Counter[int] = Counter()
    for b in topo.sessions():
        ends[where[b.a]] += 1
        ends[where[b.b]] += 1
    prefixes = sum(len(n.prefixes) for n in topo.speakers())
    held = paths_per_switch(topo)
    estimates = []
    for i, group in enumerate(groups):
        paths = sum(held.get(name, 0) for name in group)
        estimates.append(
            (
                i,
                len(group),
                ends[i],
                paths,
                shard_memory_mb(len(group), ends[i], paths, bytes_per_path),
            )
        )
    capacity = memory_per_host_gb * 1024
    used = [0.0] * hosts
    on_host: dict[int, int] = {}
    problem = None
    for i, _, _, _, memory in sorted(estimates, key=lambda e: (-e[4], e[0])):
        host = min(range(hosts), key=lambda h: (used[h], h))
        if used[host] + memory > capacity and problem is None:
            problem = (
                f"shard {i} needs {memory:,.0f} MB; the emptiest host has "
                f"{capacity - used[host]:,.0f} MB left: more hosts, more memory, or more shards"
            )
        used[host] += memory
        on_host[i] = host
    host_of = {name: on_host[where[name]] for name in where}
    cut: Counter[int] = Counter()
    between = 0
    for b in topo.sessions():
        if where[b.a] != where[b.b]:
            between += 1
        if host_of[b.a] != host_of[b.b]:
            cut[host_of[b.a]] += 1
            cut[host_of[b.b]] += 1
    shard_plans = tuple(
        ShardPlan(i, speakers, e, paths, round(memory, 1), on_host[i])
        for i, speakers, e, paths, memory in estimates
    )
    host_plans = tuple(
        HostPlan(
            h,
            tuple(i for i in range(len(groups)) if on_host[i] == h),
            round(used[h], 1),
            capacity,
            cut[h],
        )
        for h in range(hosts)
    )
    return SwarmPlan(
        topo.name,
        prefixes,
        bytes_per_path,
        shard_plans,
        host_plans,
        between,
        problem is None,
        problem,
    )


__all__ = [
    "UNLIMITED_GB",
    "HostPlan",
    "ShardPlan",
    "SwarmPlan",
    "paths_per_switch",
    "plan",
    "shard_memory_mb",
]
