"""``bagctl test PATH...``: run convergence tests written as scenario files
(``bagctl.scenario``), each on its own embedded region, and say what passed.

PATHs are scenario files or folders (every ``*.yaml`` under them). Every file is read
and checked before anything runs. Exit status: 0 every step passed, 1 an expectation
failed or a step could not run, 2 a scenario file is invalid (each error printed as
``file:line: field: message``) or the command line is wrong.

``-j N`` runs N scenarios at once, each in its own process (a region is CPU-bound: one
process per core is what runs them in parallel); every region uses the in-memory
transport unless its file says otherwise, so runs never compete for ports, and its own
emulated clock, so running several at once changes no verdict.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from speakers.yamldoc import ConfigError

from .. import interrupts
from ..scenario import Scenario, ScenarioResult, StepResult, load_scenario, run_scenario
from ..scenario.junit import junit_xml
from .output import emit_json, interrupted

EXIT_FAILED, EXIT_INVALID = 1, 2
INTERRUPT_GRACE_S = 2.0  # a child given a signal has this long to tear its region down


def scenario_files(paths: tuple[Path, ...]) -> list[Path]:
    """The files named, and every ``*.yaml`` under the folders named, each once."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    return list(dict.fromkeys(found))


def _run_one(
    file: Path, update_golden: bool, running: set[subprocess.Popen[str]]
) -> ScenarioResult:
    """One scenario in a child process (``-j``): its ``--json`` result read back."""
    argv = [sys.executable, "-m", "bagctl", "test", str(file), "--json"]
    argv += ["--update-golden"] if update_golden else []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        running.add(proc)
        try:
            out, err = proc.communicate()
        finally:
            running.discard(proc)
    try:
        (raw,) = json.loads(out)["scenarios"]
    except (ValueError, KeyError, TypeError):
        why = (err.strip() or out.strip())[-2000:]
        step = StepResult("cold start", "start", error=f"the run's process failed: {why}")
        return ScenarioResult(file.stem, str(file), (step,))
    steps = tuple(StepResult(**{k: v for k, v in s.items() if k != "passed"}) for s in raw["steps"])
    return ScenarioResult(raw["name"], raw["file"], steps, raw["wall_s"])


def _in_parallel(scenarios: list[Scenario], jobs: int, update_golden: bool) -> list[ScenarioResult]:
    """``jobs`` child processes at a time; on Ctrl-C or SIGTERM each child is stopped
    (it tears its region down: bagctl/interrupts.py) and ``Interrupted`` raised."""
    running: set[subprocess.Popen[str]] = set()
    got: list[int] = []

    def on_signal(signum: int, _: object) -> None:
        got.append(signum)
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in interrupts.SIGNALS}
    pool = ThreadPoolExecutor(jobs)
    try:
        return list(pool.map(lambda s: _run_one(Path(s.file), update_golden, running), scenarios))
    except KeyboardInterrupt:
        for proc in list(running):
            proc.send_signal(got[0] if got else signal.SIGINT)
        deadline = time.monotonic() + INTERRUPT_GRACE_S  # one grace for them all
        for proc in list(running):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - time.monotonic()))
            proc.kill()
        raise interrupts.Interrupted(got[0] if got else signal.SIGINT) from None
    finally:
        pool.shutdown(wait=not got, cancel_futures=True)
        for s, handler in previous.items():
            signal.signal(s, handler)


def _print(result: ScenarioResult) -> None:
    click.echo(f"{result.name} ({result.file})")
    for step in result.steps:
        mark = "PASS" if step.passed else ("SKIP" if not step.ran else "FAIL")
        report = step.report or {}
        figures = ""
        if report:
            emulated = 1000 * float(report.get("converged_emulated_s", 0.0))
            figures = f"{emulated:9.3f} ms emulated  {report.get('updates_sent', 0):>7} UPDATEs"
        click.echo(f"  {mark}  {step.name:<40} {figures}  {step.wall_s:6.2f} s wall")
        for line in ([step.error] if step.error else []) + list(step.failures):
            click.echo("        " + line.replace("\n", "\n        "))


@click.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-k", "pattern", help="Only scenarios whose name or file name contains this.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, help="Scenarios at once.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML.")
@click.option("--update-golden", is_flag=True, help="Rewrite every fib_golden file.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def test_cmd(
    paths: tuple[Path, ...],
    pattern: str | None,
    jobs: int,
    junit: Path | None,
    update_golden: bool,
    as_json: bool,
) -> None:
    """Run the scenario files in PATHS (files or folders) as convergence tests."""
    scenarios: list[Scenario] = []
    invalid: list[str] = []
    for file in scenario_files(paths):
        try:
            scenarios.append(load_scenario(file))
        except ConfigError as exc:
            invalid.append(str(exc))
    if pattern:
        needle = pattern.lower()
        scenarios = [s for s in scenarios if needle in s.name.lower() or needle in s.file.lower()]
    if invalid or not scenarios:
        problems = invalid or [f"no scenario to run in {', '.join(map(str, paths))}"]
        if as_json:
            emit_json({"ok": False, "invalid": problems, "scenarios": []})
        else:
            for problem in problems:
                click.echo(f"error: {problem}", err=True)
        sys.exit(EXIT_INVALID)
    try:
        if jobs > 1 and len(scenarios) > 1:
            results = _in_parallel(scenarios, jobs, update_golden)
        else:
            results = [
                interrupts.run(run_scenario(s, update_golden=update_golden)) for s in scenarios
            ]
    except interrupts.Interrupted as exc:  # each region torn down; never exit 0
        interrupted(exc)
        return
    if junit is not None:
        junit.write_text(junit_xml(results))
    steps = [step for r in results for step in r.steps]
    ok = all(r.passed for r in results)
    if as_json:
        emit_json({"ok": ok, "scenarios": [r.as_dict() for r in results]})
    else:
        for result in results:
            _print(result)
        failed = sum(1 for s in steps if s.ran and not s.passed)
        skipped = sum(1 for s in steps if not s.ran)
        summary = (
            f"{len(results)} scenarios, {len(steps)} steps: {len(steps) - failed - skipped} passed"
        )
        click.echo(summary + f", {failed} failed" + (f", {skipped} not run" if skipped else ""))
    if not ok:
        sys.exit(EXIT_FAILED)
