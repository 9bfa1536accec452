"""The ``Runtime`` interface and its registry (containerlab's runtime/ in miniature).

A runtime starts a topology's speakers somewhere and performs the region operations on
them; each operation returns a ``ConvergenceReport`` once the region is quiet again. A
runtime that brings its own MQTT broker (compose: the region's mosquitto) also has
``async broker() -> BrokerUrl``, and ``bagctl up`` serves the management bus there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

from ..region import ConvergenceReport, Region
from ..topology.failures import Failures
from ..topology.model import Topology


class Runtime(Protocol):
    topo: Topology

    async def start(self, timeout: float = ...) -> ConvergenceReport: ...
    def close(self) -> None: ...
    async def aclose(self) -> None: ...
    async def bundle_down(self, a: str, b: str, timeout: float = ...) -> ConvergenceReport: ...
    async def bundle_up(self, a: str, b: str, timeout: float = ...) -> ConvergenceReport: ...
    async def set_members(
        self, a: str, b: str, members_up: int, timeout: float = ...
    ) -> ConvergenceReport: ...
    async def drain(
        self, node: str, method: str = ..., timeout: float = ...
    ) -> ConvergenceReport: ...
    async def undrain(self, node: str, timeout: float = ...) -> ConvergenceReport: ...
    async def restart(self, node: str, timeout: float = ...) -> ConvergenceReport: ...
    def weights(self, node: str, prefix: object) -> dict[str, int]: ...
    async def show(self, what: str, node: str, prefix: str | None = ...) -> dict[str, object]: ...
    async def status(self) -> dict[str, object]: ...
    async def changed_nodes(self) -> set[str]: ...
    async def fib_weights(self) -> dict[str, dict[str, dict[str, int]]]: ...
    async def fib_changes(self) -> dict[str, object]: ...
    def failures(self) -> Failures: ...
    async def flap(
        self, a: str, b: str, count: int, interval_s: float, timeout: float = ...
    ) -> ConvergenceReport: ...


def _embedded(topo: Topology, *, workers: int = 1, **options: object) -> Runtime:
    """One process (``Region``), or ``workers`` worker processes (``ShardedRegion``); 0
    means one per CPU core."""
    from .sharded import ShardedRegion

    if workers == 0:
        workers = os.cpu_count() or 1
    if workers < 0:
        raise ValueError(f"workers must be 0 (one per core) or more, not {workers}")
    if workers > 1:
        return ShardedRegion(topo, workers=workers, **options)  # type: ignore[arg-type]
    return Region(topo, **options)  # type: ignore[arg-type]


def _compose(topo: Topology, **options: object) -> Runtime:
    """One docker container per speaker (runtimes/compose.py), driven over MQTT."""
    from .compose import ComposeRegion

    return ComposeRegion(topo, **options)  # type: ignore[arg-type]


RUNTIMES: dict[str, Callable[..., Runtime]] = {"embedded": _embedded, "compose": _compose}


def get_runtime(name: str) -> Callable[..., Runtime]:
    try:
        return RUNTIMES[name]
    except KeyError:
        raise ValueError(
            f"unknown runtime {name!r} (runtimes: {', '.join(sorted(RUNTIMES))})"
        ) from None
