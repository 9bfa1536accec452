"""Run one scenario on an embedded region and judge every step.

The region runs on its own emulated clock at fast pace (runtimes/timekeeping.py): a
verdict does not depend on how loaded the runner is, and a long timer costs no wall
time. By default it uses the in-memory transport, so a run takes no port and no address
and any number of runs share a host. The cold start is judged first (the scenario's
``cold_start``), then each step in order: its action, then its expectations, whose
failures say expected against actual (expect.py). A step that cannot run (a timeout, a
worker lost) ends the scenario: the steps after it are reported as not run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..runtimes import Region, hooks
from ..runtimes.base import embedded
from ..runtimes.workercount import resolve_workers
from ..verify import VerifyOptions, verify_region
from ..verify.fibview import FibSnapshot
from ..verify.transients import FibChangeStream
from . import expect as judge
from .load import region_topology
from .model import Action, Expectations, RegionSpec, Scenario, VerifyExpect

STEP_TIMEOUT_S = 300.0  # wall seconds an action may take to converge
COLD_START = "cold start"


@dataclass(frozen=True, slots=True)
class StepResult:
    name: str
    action: str
    failures: tuple[str, ...] = ()
    error: str | None = None  # the step could not run (then the scenario stops)
    wall_s: float = 0.0
    report: Mapping[str, Any] | None = None  # the action's convergence report
    line: int | None = None
    ran: bool = True

    @property
    def passed(self) -> bool:
        return self.ran and self.error is None and not self.failures

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "action": self.action,
            "passed": self.passed,
            "ran": self.ran,
            "failures": list(self.failures),
            "error": self.error,
            "wall_s": round(self.wall_s, 3),
            "report": dict(self.report) if self.report is not None else None,
            "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    name: str
    file: str
    steps: tuple[StepResult, ...] = field(default=())
    wall_s: float = 0.0

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "file": self.file,
            "passed": self.passed,
            "wall_s": round(self.wall_s, 3),
            "steps": [s.as_dict() for s in self.steps],
        }


def _operation(region: Region, action: Action) -> Callable[[], Awaitable[object]] | None:
    """The region call an action makes (None: ``check``, nothing to do)."""
    args = action.args
    if action.kind == "check":
        return None
    if action.kind == "freeze":  # a test hook: the switch hangs, its sessions left open
        return lambda: hooks.freeze(region, *args)
    method: Callable[..., Awaitable[object]] = getattr(region, action.kind)  # load.py's names
    if action.kind == "wait":
        return lambda: method(*args)
    if action.kind == "restart":  # (node,) or (node, "graceful")
        return lambda: region.restart(args[0], STEP_TIMEOUT_S, graceful=len(args) > 1)
    return lambda: method(*args, timeout=STEP_TIMEOUT_S)


def region_for(spec: RegionSpec) -> Region:
    """The embedded region ``spec`` names, on its emulated clock at fast pace (what both
    ``bagctl test`` and ``bagctl.testing`` run)."""
    topo = region_topology(spec)
    workers = resolve_workers(spec.workers, topo, spec.transport).workers
    return embedded(topo, workers=workers, transport=spec.transport, pace="fast")


async def session_state(region: Region, a: str, b: str) -> str | None:
    """The state of the session to ``b``, seen from ``a`` (None: no such neighbor)."""
    entries: list[dict[str, Any]] = (await region.show("sessions", a))["sessions"]  # type: ignore[assignment]
    return next((str(e["state"]) for e in entries if e["neighbor"] == b), None)


async def run_scenario(scenario: Scenario, *, update_golden: bool = False) -> ScenarioResult:
    """Bring the region up, judge the cold start and every step, take the region down."""
    t0 = time.monotonic()
    region = region_for(scenario.region)
    results: list[StepResult] = []
    try:
        start = time.monotonic()
        try:
            report = (await region.start(timeout=STEP_TIMEOUT_S)).as_dict()
        except Exception as exc:
            results.append(StepResult(COLD_START, "start", error=_why(exc), ran=True))
        else:
            failures = await _judge(region, scenario.cold_start, report, update_golden)
            wall = time.monotonic() - start
            results.append(StepResult(COLD_START, "start", failures, None, wall, report))
        for step in scenario.steps:
            if any(r.error for r in results):
                results.append(
                    StepResult(step.name, step.action.describe(), ran=False, line=step.line)
                )
                continue
            start = time.monotonic()
            call = _operation(region, step.action)
            try:
                outcome = None if call is None else await call()
                got = outcome.as_dict() if hasattr(outcome, "as_dict") else None
                failures = await _judge(region, step.expect, got, update_golden)
            except Exception as exc:
                results.append(
                    StepResult(step.name, step.action.describe(), error=_why(exc), line=step.line)
                )
                continue
            wall = time.monotonic() - start
            results.append(
                StepResult(step.name, step.action.describe(), failures, None, wall, got, step.line)
            )
    finally:
        await region.aclose()
    return ScenarioResult(scenario.name, scenario.file, tuple(results), time.monotonic() - t0)


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no convergence within {STEP_TIMEOUT_S:g} s (wall)"
    return f"{type(exc).__name__}: {exc}"


async def _judge(
    region: Region,
    expect: Expectations,
    report: Mapping[str, Any] | None,
    update_golden: bool,
) -> tuple[str, ...]:
    """Every failure of ``expect`` against the region now and ``report``."""
    out: list[str] = []
    if report is not None:
        out += judge.report_failures(expect, report)
    for s in expect.sessions:
        failure = judge.session_failure(s, await session_state(region, s.a, s.b))
        out += [failure] if failure else []
    for r in expect.routes:
        try:
            entries = (await region.show("rib", r.node, r.prefix))["rib"]
        except KeyError:  # the RIB has no such prefix at all
            entries = []
        best = entries[0]["best"] if entries else None  # type: ignore[index]
        failure = judge.route_failure(r, None if best is None else str(best))
        out += [failure] if failure else []
    for w in expect.weights:
        failure = judge.weights_failure(w, await region.weights(w.node, w.prefix))
        out += [failure] if failure else []
    if expect.verify is not None or expect.fib_golden is not None:
        fib = await region.fib_weights()
        if expect.verify is not None:
            out += await _verify(region, expect.verify, fib, report)
        if expect.fib_golden is not None:
            out += _golden(expect.fib_golden, fib, update_golden)
    return tuple(out)


async def _verify(
    region: Region, want: VerifyExpect, fib: judge.Fib, report: Mapping[str, Any] | None
) -> list[str]:
    """``bagctl verify``'s problems, and the ideal ratio when one is asked for."""
    transient_finds = any(k.startswith("transient-") for k in want.finds)
    transients = (want.max_transient_ms is not None or transient_finds) and report is not None
    options = VerifyOptions(
        tolerance=want.tolerance,
        transients=transients,
        max_transient_ms=want.max_transient_ms if transients else None,
    )
    stream = FibChangeStream.from_dict(await region.fib_changes()) if transients else None
    found = verify_region(
        region.topo,
        FibSnapshot.from_names(fib),
        region.failures,
        options,
        fib_changes=stream,
        last_report=report,
    )
    if want.finds:
        t = found.transients
        during = {"transient-black-hole": t.black_holes, "transient-loop": t.loops} if t else {}
        missing = [
            k
            for k in want.finds
            if not during.get(k) and not any(f"a {k};" in p for p in found.problems)
        ]
        seen = "; ".join(found.problems) or "no problem"
        if t is not None:
            seen += f" (transients: {t.black_holes} black holes, {t.loops} loops)"
        out = [f"verify: expected it to find a {k}, it found {seen}" for k in missing]
    else:
        out = [f"verify: {p}" for p in found.problems]
    ratio = found.check.actual_vs_ideal
    if want.min_ideal_ratio is not None and ratio < want.min_ideal_ratio:
        out.append(
            f"verify: the FIBs deliver {ratio:.1%} of the ideal's throughput, expected at "
            f"least {want.min_ideal_ratio:.1%}"
        )
    return out


def _golden(path: str, fib: judge.Fib, update: bool) -> list[str]:
    file = Path(path)
    if update:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(fib, indent=1, sort_keys=True) + "\n")
        return []
    try:
        golden = json.loads(file.read_text())
    except FileNotFoundError:
        return [f"fib_golden {path}: no such file (bagctl test --update-golden writes it)"]
    except (OSError, json.JSONDecodeError) as exc:
        return [f"fib_golden {path}: cannot read: {exc}"]
    failure = judge.fib_failure(path, golden, fib)
    return [failure] if failure else []


__all__ = ["COLD_START", "STEP_TIMEOUT_S", "ScenarioResult", "StepResult", "run_scenario"]
