"""What a convergence test says, as frozen data: the region to bring up, then steps, each
an action on the running region and what must hold afterwards.

A scenario file (``load.py`` reads it; ``scenarios/README.md`` and the README describe
the format) becomes one ``Scenario``; ``run.py`` runs it on an embedded region and
``expect.py`` judges each expectation against what the region reports. Nothing here
touches a region.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from speakers.graceful import GracefulRestart

if TYPE_CHECKING:
    from ..runtimes.workercount import WorkerRequest


@dataclass(frozen=True, slots=True)
class RegionSpec:
    """The region a scenario runs: a preset with parameters, or a topology file."""

    preset: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    topology: str | None = None  # a path, already resolved against the scenario's folder
    workers: WorkerRequest = 1  # 1: one process; "auto": runtimes/workercount.py's choice
    transport: str = "memory"  # no port, no address: the test default (runs never collide)
    hold_time_s: int | None = None  # every speaker's hold time (None: the topology's)
    graceful_restart: GracefulRestart | None = None  # every speaker's (None: the topology's)


@dataclass(frozen=True, slots=True)
class Action:
    """One operation on the running region: ``kind`` names the ``Region`` method
    (``run.ACTIONS``), ``args`` its arguments in order. ``check`` does nothing."""

    kind: str
    args: tuple[Any, ...] = ()

    def describe(self) -> str:
        return " ".join(
            [self.kind.replace("_", "-"), *(str(a) for a in self.args if a is not None)]
        )


@dataclass(frozen=True, slots=True)
class SessionExpect:
    a: str
    b: str
    established: bool


@dataclass(frozen=True, slots=True)
class RouteExpect:
    node: str
    prefix: str
    present: bool


@dataclass(frozen=True, slots=True)
class WeightsExpect:
    """Next-hop shares at ``node`` for ``prefix``, as ratios (any scale: normalized)."""

    node: str
    prefix: str
    ratios: tuple[tuple[str, float], ...]
    tolerance: float = 0.01  # on each next hop's share of the whole


@dataclass(frozen=True, slots=True)
class VerifyExpect:
    """``bagctl verify`` passes: weights within ``tolerance`` of the model's, no steady
    loop or black hole, no link overloaded; and, when set, the FIBs deliver at least
    ``min_ideal_ratio`` of the ideal's throughput and no transient loop or black hole of
    the step's operation lasts over ``max_transient_ms`` (emulated)."""

    tolerance: float
    min_ideal_ratio: float | None = None
    max_transient_ms: float | None = None
    # The faults verify must find instead ("loop", "black-hole"): a scenario showing a
    # hazard (RFC 7938 §8.2's) passes when verify names it; its other problems then pass.
    finds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Expectations:
    """What must hold after a step; every field optional (None or empty: not checked).
    Times are the region's emulated clock's (runtimes/timekeeping.py): the same on a
    loaded CI runner as on an idle workstation."""

    converged_within_ms: float | None = None
    max_updates: int | None = None
    session_losses: int | None = None
    sessions: tuple[SessionExpect, ...] = ()
    routes: tuple[RouteExpect, ...] = ()
    weights: tuple[WeightsExpect, ...] = ()
    verify: VerifyExpect | None = None
    fib_golden: str | None = None  # the whole FIB equals this JSON file (resolved path)

    def wants_report(self) -> bool:
        """Does it judge an operation's convergence report?"""
        return any(
            v is not None for v in (self.converged_within_ms, self.max_updates, self.session_losses)
        )


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    action: Action
    expect: Expectations = field(default_factory=Expectations)
    line: int | None = None  # where it starts in the file (JUnit and messages name it)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    file: str
    region: RegionSpec
    cold_start: Expectations
    steps: tuple[Step, ...]


__all__ = [
    "Action",
    "Expectations",
    "RegionSpec",
    "RouteExpect",
    "Scenario",
    "SessionExpect",
    "Step",
    "VerifyExpect",
    "WeightsExpect",
]
