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

import asyncio
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from speakers.yamldoc import ConfigError

from ..scenario import Scenario, ScenarioResult, StepResult, load_scenario, run_scenario
from ..scenario.junit import junit_xml
from .output import emit_json

EXIT_FAILED, EXIT_INVALID = 1, 2


def scenario_files(paths: tuple[Path, ...]) -> list[Path]:
    """The files named, and every ``*.yaml`` under the folders named, each once."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    return list(dict.fromkeys(found))


def _run_one(file: Path, update_golden: bool) -> ScenarioResult:
    """One scenario in a child process (``-j``): its ``--json`` result read back."""
    argv = [sys.executable, "-m", "bagctl", "test", str(file), "--json"]
    proc = subprocess.run(
        argv + (["--update-golden"] if update_golden else []),
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        (raw,) = json.loads(proc.stdout)["scenarios"]
    except (ValueError, KeyError, TypeError):
        why = (proc.stderr.strip() or proc.stdout.strip())[-2000:]
        step = StepResult("cold start", "start", error=f"the run's process failed: {why}")
        return ScenarioResult(file.stem, str(file), (step,))
    steps = tuple(StepResult(**{k: v for k, v in s.items() if k != "passed"}) for s in raw["steps"])
    return ScenarioResult(raw["name"], raw["file"], steps, raw["wall_s"])


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
    if jobs > 1 and len(scenarios) > 1:
        with ThreadPoolExecutor(jobs) as pool:
            results = list(pool.map(lambda s: _run_one(Path(s.file), update_golden), scenarios))
    else:
        results = [asyncio.run(run_scenario(s, update_golden=update_golden)) for s in scenarios]
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
