"""Convergence tests in plain pytest: a region you call like a library, and assertions
that say what was expected and what was found.

``Lab`` runs every region on an event loop of its own, in a thread, so a test needs no
asyncio set-up (no plugin mode, no marker): each call waits for its result. Regions use
the in-memory transport by default (no port, no address: any number of test runs share
a host) and the region's emulated clock at fast pace (verdicts do not depend on the
runner's load; a 90 s hold timer costs no wall time). The pytest plugin
(``bagctl.pytest_plugin``, installed with bagemu) hands a ``Lab`` to any test that asks
for the ``bagemu`` fixture and closes every region it started afterwards::

    def test_uplink_down(bagemu):
        region = bagemu.region("mini")
        report = region.bundle_down("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1")
        assert_converged_within(report, ms=1)
        assert_weights(region, "r1-nsf1-rtsw1-1", "10.0.7.0/24", {"r1-nsf1-ftsw1-2": 1})
        assert_verify(region)

The assertions reuse ``bagctl test``'s judges (bagctl/scenario/expect.py), so a failure
reads the same in both.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from .runtimes import Region, hooks
from .runtimes.measure import ConvergenceReport
from .runtimes.workercount import WorkerRequest
from .scenario import expect as judge
from .scenario.model import Expectations, RegionSpec, WeightsExpect
from .scenario.run import region_for, session_state
from .verify import Verification, VerifyOptions, verify_region
from .verify.fibview import FibSnapshot

T = TypeVar("T")
TIMEOUT_S = 600.0  # wall seconds any one call may take


class Lab:
    """Regions on a private event loop (module docstring); ``close`` ends them all."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._regions: list[LabRegion] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the lab's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(TIMEOUT_S)

    def region(
        self,
        preset: str | None = None,
        *,
        topology: str | Path | None = None,
        workers: WorkerRequest = 1,
        transport: str = "memory",
        hold_time_s: int | None = None,
        **params: Any,
    ) -> LabRegion:
        """Bring a region up (a preset with ``params``, or a ``topology`` file) and wait
        for its cold start; ``.cold`` is its report."""
        spec = RegionSpec(
            preset=preset,
            params=tuple(sorted(params.items())),
            topology=None if topology is None else str(topology),
            workers=workers,
            transport=transport,
            hold_time_s=hold_time_s,
        )
        if (preset is None) == (topology is None):
            raise ValueError("give a preset or a topology file")

        async def up() -> tuple[Region, ConvergenceReport]:
            region = region_for(spec)
            try:
                return region, await region.start(timeout=TIMEOUT_S)
            except BaseException:
                await region.aclose()
                raise

        region, cold = self.run(up())
        lab_region = LabRegion(self, region, cold)
        self._regions.append(lab_region)
        return lab_region

    def close(self) -> None:
        """Take down every region this lab started, then stop its loop."""
        try:
            for r in self._regions:
                self.run(r.region.aclose())
        finally:
            self._regions.clear()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()


class LabRegion:
    """A running region whose calls wait for their results (``Region``'s, made plain)."""

    def __init__(self, lab: Lab, region: Region, cold: ConvergenceReport) -> None:
        self.lab, self.region, self.cold = lab, region, cold

    def bundle_down(self, a: str, b: str) -> ConvergenceReport:
        return self.lab.run(self.region.bundle_down(a, b))

    def bundle_up(self, a: str, b: str) -> ConvergenceReport:
        return self.lab.run(self.region.bundle_up(a, b))

    def set_members(self, a: str, b: str, up: int) -> ConvergenceReport:
        return self.lab.run(self.region.set_members(a, b, up))

    def drain(self, node: str, method: str = "link-bandwidth-zero") -> ConvergenceReport:
        return self.lab.run(self.region.drain(node, method))

    def undrain(self, node: str) -> ConvergenceReport:
        return self.lab.run(self.region.undrain(node))

    def announce(
        self, node: str, prefix: str, bandwidth_bps: float | None = None
    ) -> ConvergenceReport:
        return self.lab.run(self.region.announce(node, prefix, bandwidth_bps))

    def withdraw(self, node: str, prefix: str) -> ConvergenceReport:
        return self.lab.run(self.region.withdraw(node, prefix))

    def restart(self, node: str, *, graceful: bool = False) -> ConvergenceReport:
        return self.lab.run(self.region.restart(node, graceful=graceful))

    def flap(self, a: str, b: str, count: int, interval_s: float) -> ConvergenceReport:
        return self.lab.run(self.region.flap(a, b, count, interval_s))

    def freeze(self, node: str) -> None:
        """A test hook: ``node`` hangs, its sessions left open (only hold timers tell)."""
        self.lab.run(hooks.freeze(self.region, node))

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` of the region's emulated time pass."""
        self.lab.run(self.region.wait(seconds))

    def weights(self, node: str, prefix: str) -> dict[str, int]:
        """``node``'s FIB entry for ``prefix``: next-hop node -> integer weight."""
        return self.lab.run(self.region.weights(node, prefix))

    def fib(self) -> dict[str, dict[str, dict[str, int]]]:
        """Every FIB: node -> prefix -> next-hop node -> weight."""
        return self.lab.run(self.region.fib_weights())

    def session_state(self, a: str, b: str) -> str | None:
        """The state of the session to ``b``, seen from ``a`` (None: no such neighbor)."""
        return self.lab.run(session_state(self.region, a, b))

    def verify(self, tolerance: float | None = None) -> Verification:
        """``bagctl verify``'s checks on the FIBs now."""
        options = VerifyOptions() if tolerance is None else VerifyOptions(tolerance=tolerance)
        snapshot = FibSnapshot.from_names(self.fib())
        return verify_region(self.region.topo, snapshot, self.region.failures, options)


# --- assertions (their messages are bagctl test's) --------------------------------------


def assert_converged_within(report: ConvergenceReport, *, ms: float) -> None:
    """The operation's last FIB change came at most ``ms`` after it, on the region's clock."""
    failures = judge.report_failures(Expectations(converged_within_ms=ms), report.as_dict())
    assert not failures, "; ".join(failures)


def assert_no_session_lost(report: ConvergenceReport) -> None:
    failures = judge.report_failures(Expectations(session_losses=0), report.as_dict())
    assert not failures, "; ".join(failures)


def assert_weights(
    region: LabRegion,
    node: str,
    prefix: str,
    ratios: Mapping[str, float],
    tolerance: float = 0.01,
) -> None:
    """Each next hop's share of ``node``'s FIB entry for ``prefix`` is within
    ``tolerance`` of its share of ``ratios`` (any scale)."""
    want = WeightsExpect(node, prefix, tuple(sorted(ratios.items())), tolerance)
    failure = judge.weights_failure(want, region.weights(node, prefix))
    assert failure is None, failure


def assert_verify(region: LabRegion, tolerance: float | None = None) -> None:
    found = region.verify(tolerance)
    assert found.ok, "verify: " + "; ".join(found.problems)


def assert_fib_equal(region: LabRegion, golden: Mapping[str, Any]) -> None:
    """Every FIB equals ``golden`` (node -> prefix -> next hop -> weight)."""
    failure = judge.fib_failure("golden", golden, region.fib())
    assert failure is None, failure


__all__ = [
    "Lab",
    "LabRegion",
    "assert_converged_within",
    "assert_fib_equal",
    "assert_no_session_lost",
    "assert_verify",
    "assert_weights",
]
