"""``bagctl up``'s progress on stderr, by phase (runtimes/progress.py): the placement's own
(containers starting), ``sessions`` Established of those expected, then ``routes``:
UPDATEs and FIB changes until the region has converged, with the time each took.

Two displays, chosen by rich's view of stderr (``Console.is_interactive``: a terminal
that is not ``TERM=dumb``; ``TTY_INTERACTIVE=0`` or ``1`` decides otherwise):

- ``LiveProgress``: a rich progress display, one row per phase (spinner, bar, counts,
  the phase's own time; the routes bar pulses, as nothing says how many UPDATEs are to
  come), redrawn by rich at 4 Hz; ``finish`` marks the last phase done and stops it.
- ``LineProgress``: plain lines for CI logs and pipes, never a carriage return: one when
  a phase begins, else at most one every ``interval_s`` (``--progress-interval``), each
  with the time since ``up`` began.

Either ignores every report once finished or closed: a region keeps sending progress
after its final report (sessions go down at ``bagctl down``), and nothing may be drawn
after that report.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any, Protocol

from rich.console import Console
from rich.progress import BarColumn, ProgressColumn, SpinnerColumn, Task, TaskID, TextColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

from ..runtimes.progress import ROUTES, SESSIONS, Pacer, RegionProgress

LINE_INTERVAL_S = 5.0  # without a terminal: a line at most this often within a phase
LIVE_INTERVAL_S = 0.1  # on a terminal: the display takes a report at most this often


def describe(p: RegionProgress) -> str:
    """The counts of one report, as both displays show them."""
    if p.phase == ROUTES:
        return (
            f"{p.updates_sent:,} UPDATEs, {p.fib_changes:,} FIB changes "
            f"(sessions {p.done:,}/{p.total:,})"
        )
    if p.phase == SESSIONS:
        return f"{p.done:,}/{p.total:,} established, {p.fib_changes:,} FIB changes"
    return f"{p.done:,}/{p.total:,} ready"


class ProgressView(Protocol):
    """What ``bagctl up`` hands its region (``on_progress``) and stops before its report."""

    def __call__(self, p: RegionProgress) -> None: ...

    def finish(self, final: RegionProgress | None = None) -> None:
        """The operation is done: show it so (with the ``final`` counts, the report's,
        when given), and nothing after."""
        ...

    def close(self) -> None:
        """Stop showing, as things stand (an error or an interrupt comes next)."""
        ...


class LineProgress:
    """Plain lines (module docstring)."""

    def __init__(
        self,
        console: Console,
        interval_s: float = LINE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._pacer = Pacer(interval_s, clock)
        self._clock = clock
        self._t0 = clock()
        self._closed = False

    def __call__(self, p: RegionProgress) -> None:
        if self._closed or not self._pacer.due(p):
            return
        line = f"{self._clock() - self._t0:7.1f} s  {p.phase:<10} {describe(p)}"
        self._console.print(line, markup=False, highlight=False, soft_wrap=True)

    def finish(self, final: RegionProgress | None = None) -> None:
        self._closed = True  # (the report, next, has the final counts)

    def close(self) -> None:
        self._closed = True


class _Elapsed(ProgressColumn):
    """The phase's own time, to a tenth of a second (rich's column shows whole seconds)."""

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        return Text(f"{elapsed or 0.0:6.1f} s", style="progress.elapsed")


class LiveProgress:
    """A rich progress display, a row per phase (module docstring)."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self._bar = RichProgress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("{task.description:<10}"),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[counts]}"),
            _Elapsed(),
            console=console,
            refresh_per_second=4,
            get_time=clock,
        )
        self._pacer = Pacer(LIVE_INTERVAL_S, clock)
        self._task: TaskID | None = None
        self._phase: str | None = None
        self._unshown: RegionProgress | None = None  # (the last report, if paced out)
        self._closed = False
        self._bar.start()

    def __call__(self, p: RegionProgress) -> None:
        if self._closed:
            return
        if self._pacer.due(p):  # (always, for a phase's first report)
            self._show(p)
            self._unshown = None
        else:
            self._unshown = p

    def _show(self, p: RegionProgress) -> None:
        if p.phase != self._phase:  # a new phase: the one before it is over, as it ended
            if self._unshown is not None:
                self._update(self._unshown)
            if self._phase == SESSIONS and p.phase == ROUTES:
                self._update(replace(p, phase=SESSIONS))  # all up: what began the routes
            self._done()
            total = None if p.phase == ROUTES else p.total  # (None: a pulsing bar)
            self._task = self._bar.add_task(p.phase, total=total, counts="")
            self._phase = p.phase
        self._update(p)

    def _update(self, p: RegionProgress) -> None:
        """The current phase's row with ``p``'s counts."""
        assert self._task is not None
        if p.phase == ROUTES:
            self._bar.update(self._task, counts=describe(p))
        else:
            self._bar.update(self._task, total=p.total, completed=p.done, counts=describe(p))

    def _done(self) -> None:
        """The current phase's row full, ticked and its time stopped (its counts stay)."""
        if self._task is not None:
            self._bar.update(self._task, total=1, completed=1)
            self._bar.stop_task(self._task)

    def finish(self, final: RegionProgress | None = None) -> None:
        if self._closed:
            return
        last = final if final is not None else self._unshown
        if last is not None:
            self._show(last)  # the counts as they ended, not as last paced
        self._done()
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._bar.stop()


def final_progress(report: Mapping[str, Any]) -> RegionProgress:
    """The last phase's counts as a report (``ConvergenceReport.as_dict``) gives them: a
    shard's FIB changes reach the display only a few times a second."""
    return RegionProgress(
        ROUTES,
        report["sessions_established"],
        report["sessions_expected"],
        report["fib_changes"],
        report["updates_sent"],
    )


@contextlib.contextmanager
def progress_display(
    interval_s: float = LINE_INTERVAL_S, console: Console | None = None
) -> Iterator[ProgressView]:
    """The display that suits stderr (module docstring), closed on the way out."""
    console = console if console is not None else Console(stderr=True)
    live = console.is_interactive
    view: ProgressView = LiveProgress(console) if live else LineProgress(console, interval_s)
    try:
        yield view
    finally:
        view.close()


__all__ = [
    "LINE_INTERVAL_S",
    "LineProgress",
    "LiveProgress",
    "ProgressView",
    "describe",
    "final_progress",
    "progress_display",
]
