"""``bagctl up``'s progress (bagctl/cli/progress.py): without a terminal, plain lines, one
per phase (sessions, then routes) or per interval, never a carriage return, and none
after the final report; on a terminal, a rich display that draws nothing once finished;
``up --detach`` shows the detached region's progress while it waits.

The displays are driven with a test's own clock; the command runs ``mini``, embedded.
Every step awaits a line of output or an exit; nothing sleeps to synchronise."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from bagctl.cli import cli
from bagctl.cli.progress import LineProgress, LiveProgress, final_progress, progress_display
from bagctl.runtimes.progress import ROUTES, SESSIONS, RegionProgress

ROOT = Path(__file__).resolve().parents[2]
MINI = str(ROOT / "topologies" / "mini.yaml")
# rich's overrides of "is stderr a terminal": kept out, so that a pipe is a pipe here
NO_TTY_OVERRIDES = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}
LINE = re.compile(r"^ +\d+\.\d s  (sessions|routes|containers|shards) +\S.*$")
S1, S2 = RegionProgress(SESSIONS, 10, 64, 0), RegionProgress(SESSIONS, 30, 64, 0)
R1, R2 = RegionProgress(ROUTES, 64, 64, 900, 400), RegionProgress(ROUTES, 64, 64, 2816, 1408)


def pipe_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, force_interactive=False), out


def phases(lines: list[str]) -> list[str]:
    """The phases of the progress lines, in order, each once: [sessions, routes]."""
    seen = [m.group(1) for m in map(LINE.match, lines) if m]
    return [p for i, p in enumerate(seen) if i == 0 or seen[i - 1] != p]


def test_without_a_terminal_a_line_per_phase_then_at_most_one_per_interval() -> None:
    console, out = pipe_console()
    now = [100.0]
    view = LineProgress(console, interval_s=5.0, clock=lambda: now[0])
    for t, p in [(0.0, S1), (0.5, S2), (2.0, R1), (4.0, R2), (7.5, R2), (7.6, R1)]:
        now[0] = 100.0 + t
        view(p)
    view.finish()
    view(R2)  # after the final report: nothing
    assert "\r" not in out.getvalue()
    assert out.getvalue().splitlines() == [
        "    0.0 s  sessions   10/64 established, 0 FIB changes",
        "    2.0 s  routes     400 UPDATEs, 900 FIB changes (sessions 64/64)",
        "    7.5 s  routes     1,408 UPDATEs, 2,816 FIB changes (sessions 64/64)",
    ]


def test_on_a_terminal_a_row_per_phase_and_nothing_drawn_once_finished() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, force_interactive=True, width=120)
    now = [0.0]
    view = LiveProgress(console, clock=lambda: now[0])
    for t, p in [(0.0, S1), (0.01, S2), (1.5, R1), (1.51, R1)]:  # S2: paced out
        now[0] = t
        view(p)
    report = {"sessions_established": 64, "sessions_expected": 64}
    view.finish(final_progress({**report, "fib_changes": 2816, "updates_sent": 1408}))
    drawn = out.getvalue()
    view(R1)
    view.close()
    assert out.getvalue() == drawn  # no stale redraw after the report
    last = drawn.rsplit("\x1b[2K", 1)[-1]  # the final frame: both phases, done, the report's
    rows = [re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", row) for row in last.splitlines()]
    assert re.match(r"✓ sessions +━+ 64/64 established, 900 FIB changes +1\.5 s$", rows[0])
    assert re.match(r"✓ routes +━+ 1,408 UPDATEs, 2,816 FIB changes \(sessions 64/64\)", rows[1])


def test_the_display_follows_the_console() -> None:
    with progress_display(0.0, pipe_console()[0]) as view:
        assert isinstance(view, LineProgress)
    tty = Console(file=io.StringIO(), force_terminal=True, force_interactive=True)
    with progress_display(0.0, tty) as view:
        assert isinstance(view, LiveProgress)


def test_up_without_a_terminal_prints_lines_sessions_then_routes_then_the_report() -> None:
    runner = CliRunner(env=NO_TTY_OVERRIDES)
    result = runner.invoke(cli, ["up", MINI, "--once", "--progress-interval", "0"])
    assert result.exit_code == 0, result.output
    assert "\r" not in result.output
    progress = result.stderr.splitlines()
    assert progress and all(LINE.match(line) for line in progress), progress
    assert phases(progress) == [SESSIONS, ROUTES]
    *before, report = result.output.splitlines()  # nothing after the report
    assert report.startswith("region mini converged: 64/64 sessions") and before == progress
    # A long interval: one line as each phase begins, no more.
    result = runner.invoke(cli, ["up", MINI, "--once", "--progress-interval", "3600"])
    assert result.exit_code == 0, result.output
    assert phases(lines := result.stderr.splitlines()) == [SESSIONS, ROUTES] and len(lines) == 2


def run_env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NO_TTY_OVERRIDES}
    return env | {"BAGEMU_STATE_DIR": str(state_dir)}


def down(env: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "bagctl", "down", "--json"]
    subprocess.run(argv, env=env, capture_output=True, timeout=120, check=True)


def test_up_serving_draws_no_progress_after_its_report(tmp_path: Path) -> None:
    env = run_env(tmp_path)
    argv = [sys.executable, "-m", "bagctl", "up", MINI, "--transport", "memory"]
    with subprocess.Popen(
        [*argv, "--progress-interval", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        try:
            lines = []
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if line.startswith("running;"):
                    break
        finally:
            down(env)  # the sessions go down: the region's progress events go on, unshown
        rest = proc.stdout.read().splitlines()
        assert proc.wait(timeout=60) == 0, lines + rest
    *progress, report, running = lines
    assert phases(progress) == [SESSIONS, ROUTES] and all(map(LINE.match, progress))
    assert report.startswith("region mini converged") and running.startswith("running;")
    assert not any(LINE.match(line) for line in rest), rest


def test_up_detach_prints_the_regions_progress_while_it_waits(tmp_path: Path) -> None:
    env = run_env(tmp_path)
    argv = [sys.executable, "-m", "bagctl", "up", MINI, "--detach", "--transport", "memory"]
    try:
        proc = subprocess.run(
            [*argv, "--progress-interval", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        down(env)
    assert proc.returncode == 0, proc.stderr
    progress = proc.stderr.splitlines()
    assert "\r" not in proc.stderr and all(LINE.match(line) for line in progress), progress
    assert phases(progress) == [SESSIONS, ROUTES]
    assert proc.stdout.startswith("region mini converged: 64/64 sessions")
