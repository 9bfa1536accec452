"""How many worker processes a region runs on when ``--workers auto`` (the default of
``bagctl up``) leaves it to us: from the region's sessions, the cores this process may
use, the transport and the open-file limit each worker inherits.

The rule, measured on a 2-core host (``bench/scale.py``, one process against two
workers; wall seconds to cold-start convergence):

- **Below 4,000 sessions, one process.** Two workers were no faster up to the
  ``region`` preset (2,704 sessions): what a second core buys is eaten by the sessions
  between the workers, which run over TCP and wait for the end of each step of the
  region's clock (runtimes/timekeeping.py), and by a second process's start.
- **Above that, a worker per usable core** (``os.sched_getaffinity``: a container's or
  ``taskset``'s cores, not the machine's), **but none with fewer than 2,000 sessions**,
  the size below which a worker stops paying for itself. The z = 2 ladder region (736
  speakers, 4,672 sessions) went from 58.6 s to 40.2 s on two workers in memory, and
  ``two-region-planar`` (9,216 sessions) from 239 s to 137 s.
- **Over TCP, enough workers that each stays under its descriptor limit**, whatever
  the cores: every session end in a worker is a socket, and every speaker listens on
  one more. ``two-region-spread`` (9,664 sessions, 19,328 ends) never converges in one
  process under the usual 20,000 open files: it runs out of descriptors. A worker may
  use ``FD_SHARE`` of its limit (the rest: its pipes, logs, the interpreter's own); the
  count is checked on the partition the region will run (runtimes/partition.py), since
  whole DSF zones can load a worker well past an even share: ``prometheus`` over TCP
  needs eight workers, not the six its sockets over 16,000 suggest. A zone is never
  cut, so a limit below one zone's sockets cannot be met by any count: the choice then
  says to use the in-memory network or raise the limit. Over the in-memory network
  only the sessions between workers are sockets, and the partition keeps those few: no
  descriptor rule there.

Workers never change the routing outcome (the region's clock, and the contract tests
of tests/bagctl/runtimes/test_contract.py), only how long it takes, so choosing them
from the host is safe. An explicit count is taken as given; ``0`` means one per usable
core, as it always has.
"""

from __future__ import annotations

import math
import os
import resource
from dataclasses import dataclass
from typing import Literal

from ..topology.model import Topology
from .partition import BALANCE_SLACK, partition, speaker_weights, units

AUTO = "auto"
ONE_PROCESS_BELOW = 4_000  # sessions: fewer, and one process is as fast as two
SESSIONS_PER_WORKER = 2_000  # no worker gets fewer than this (when auto chose them)
FD_SHARE = 0.8  # of a worker's open-file limit, for its sockets (bench/scale.py's 16,000)

WorkerRequest = int | Literal["auto"]


def parse_workers(text: str) -> WorkerRequest:
    """``auto``, or a count of at least 0 (0: one per usable core); ``ValueError``
    otherwise, saying what is accepted."""
    value = text.strip().lower()
    if value == "auto":
        return "auto"
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(f"{text!r} is not auto or a count of workers (0: one per core)")
    return count


@dataclass(frozen=True, slots=True)
class Host:
    """What the choice needs of this host: the cores this process may run on, and the
    open files each process it starts may hold (None: no limit)."""

    cores: int
    open_files: int | None

    @classmethod
    def this(cls) -> Host:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        return cls(usable_cores(), None if soft == resource.RLIM_INFINITY else soft)


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # (not Linux)
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class WorkerChoice:
    """How many workers, asked how (``auto``, ``0`` or a count) and why, for the user."""

    workers: int
    asked: str  # "auto", "0" or the count given
    why: str  # "42,048 sessions, 2 cores"

    def describe(self) -> str:
        """``2 workers (auto: 9,216 sessions, 2 cores)``; one process is said so."""
        what = "one process" if self.workers == 1 else f"{self.workers} workers"
        return f"{what} ({self.asked}: {self.why})"

    def as_dict(self) -> dict[str, object]:
        return {"count": self.workers, "asked": self.asked, "why": self.why}


def descriptor_workers(sessions: int, speakers: int, open_files: int | None) -> int:
    """An estimate of the fewest workers over TCP whose sockets (a session end each, a
    listener per speaker) fit ``FD_SHARE`` of ``open_files`` each, the busiest loaded
    ``BALANCE_SLACK`` above an even share; ``fitting_workers`` checks it."""
    if open_files is None:
        return 1
    budget = max(1, int(open_files * FD_SHARE))
    sockets = 2 * sessions + speakers
    if sockets <= budget:
        return 1  # one process holds them all, with no partition to unbalance
    return math.ceil(sockets * (1 + BALANCE_SLACK) / budget)


def fitting_workers(topo: Topology, open_files: int | None, at_least: int = 1) -> int | None:
    """The fewest workers, ``at_least`` of them, over which the partition leaves no
    worker more sockets over TCP than ``FD_SHARE`` of ``open_files``; None if no count
    can, because one DSF zone (never cut) alone has more. The estimate first, then one
    more while the real partition's busiest worker is over: whole zones can load a
    worker more than ``BALANCE_SLACK`` above a share (prometheus over six: 16,712 of
    16,000 sockets on one). A partition of prometheus takes 0.2 s."""
    weight = speaker_weights(topo)
    sessions, speakers = sum(weight.values()) // 2, len(weight)
    workers = max(at_least, descriptor_workers(sessions, speakers, open_files))
    if open_files is None or workers == 1:
        return workers
    budget = int(open_files * FD_SHARE)
    zones = [sum(weight[n] + 1 for n in unit) for unit, whole in units(topo) if whole]
    if max(zones, default=0) > budget:
        return None
    while max(sum(weight[n] + 1 for n in g) for g in partition(topo, workers)) > budget:
        if workers >= speakers:
            return None  # (not seen: a worker a piece fits once each piece does)
        workers += 1
    return workers


def core_workers(sessions: int, cores: int) -> tuple[int, str]:
    """The workers the region's size and the cores call for, and why (module docstring)."""
    why = f"{sessions:,} sessions"
    if sessions < ONE_PROCESS_BELOW:
        return 1, f"{why}, fewer than {ONE_PROCESS_BELOW:,}"
    workers = max(1, min(cores, sessions // SESSIONS_PER_WORKER))
    why += f", {_cores(cores)}"
    if workers < cores:
        why += f", at least {SESSIONS_PER_WORKER:,} sessions a worker"
    return workers, why


def choose_workers(topo: Topology, transport: str, host: Host) -> WorkerChoice:
    """``auto``'s choice for ``topo`` on ``transport`` and ``host`` (module docstring)."""
    sessions = sum(1 for _ in topo.sessions())
    workers, why = core_workers(sessions, host.cores)
    if transport != "tcp" or host.open_files is None:
        return WorkerChoice(workers, AUTO, why)
    files = f"{host.open_files:,} open files a process"
    fitting = fitting_workers(topo, host.open_files, workers)
    if fitting is None:  # it fails whatever the count: say what would help
        why += f"; over TCP a DSF zone alone needs more than {files}: use --transport "
        why += "memory, or raise the limit (ulimit -n)"
    elif fitting > workers:
        workers, why = fitting, f"{sessions:,} sessions over TCP, {files}; {_cores(host.cores)}"
    return WorkerChoice(workers, AUTO, why)


def _cores(n: int) -> str:
    return f"{n} core{'s' if n != 1 else ''}"


def resolve_workers(
    asked: WorkerRequest, topo: Topology, transport: str, host: Host | None = None
) -> WorkerChoice:
    """The worker count ``asked`` means for ``topo`` (``auto``: ``choose_workers``;
    0: one per usable core; else as given)."""
    host = host if host is not None else Host.this()
    if isinstance(asked, str):  # (parse_workers: only "auto")
        return choose_workers(topo, transport, host)
    if asked == 0:
        return WorkerChoice(host.cores, "0", f"one per core, {host.cores} usable")
    if asked < 0:
        raise ValueError(f"workers must be auto, 0 (one per core) or more, not {asked}")
    return WorkerChoice(asked, str(asked), "as asked")


__all__ = [
    "AUTO",
    "FD_SHARE",
    "Host",
    "ONE_PROCESS_BELOW",
    "SESSIONS_PER_WORKER",
    "WorkerChoice",
    "WorkerRequest",
    "choose_workers",
    "core_workers",
    "descriptor_workers",
    "fitting_workers",
    "parse_workers",
    "resolve_workers",
    "usable_cores",
]
