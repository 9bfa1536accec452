"""How the CLI prints a convergence report: wall and emulated time, and the warning on
stderr when sessions were lost without being asked to (``bagctl up`` and every control
command)."""

from __future__ import annotations

import click
from click.testing import CliRunner

from bagctl.cli.control import losses_warning, render_report, report_line

REPORT = {
    "event": "bundle-down a b",
    "converged_s": 0.0123,
    "quiescent_s": 0.02,
    "fib_changes": 12,
    "updates_sent": 42,
    "sessions_established": 63,
    "sessions_expected": 63,
    "converged_emulated_s": 95e-6,
    "session_losses": 0,
    "losses": [],
}


def test_a_report_gives_wall_and_emulated_time() -> None:
    line = report_line(REPORT)
    assert "converged in 0.012 s, 0.095 ms on the region's clock" in line
    assert "42 UPDATEs, sessions 63/63" in line
    assert "region's clock" not in report_line({**REPORT, "converged_emulated_s": 0.0})


def test_lost_sessions_are_a_warning_on_stderr_and_name_each_one() -> None:
    assert losses_warning(REPORT) is None and losses_warning(None) is None
    lost = [
        {"node": f"n{i}", "peer": "p", "cause": "hold-timer-expired", "at": 1.0} for i in range(7)
    ]
    text = losses_warning({**REPORT, "session_losses": 7, "losses": lost})
    assert text is not None and text.startswith("warning: 7 session(s) lost during bundle-down")
    assert "n0 - p: hold-timer-expired" in text and "and 2 more" in text

    @click.command()
    def show() -> None:
        render_report({"report": {**REPORT, "session_losses": 1, "losses": lost[:1]}})

    result = CliRunner().invoke(show)  # (click 8.2: stdout and stderr apart)
    assert "warning" not in result.stdout and "converged in" in result.stdout
    assert "warning: 1 session(s) lost" in result.stderr
