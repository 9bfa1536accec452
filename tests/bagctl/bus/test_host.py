"""``cold_start``, called directly: a region started, converged, reported and stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from bagctl.bus.host import cold_start
from bagctl.runtimes import ConvergenceReport
from bagctl.topology import load_topology

PLANES = Path(__file__).resolve().parents[1] / "runtimes" / "planes.yaml"


async def test_cold_start_reports_before_it_stops() -> None:
    seen: list[ConvergenceReport] = []
    report = await cold_start(load_topology(PLANES), on_ready=seen.append, transport="memory")
    assert seen == [report] and report.event == "cold-start"
    assert report.sessions_established == report.sessions_expected == 6


async def test_an_unknown_runtime_starts_nothing() -> None:
    with pytest.raises(ValueError, match="unknown runtime 'nowhere'"):
        await cold_start(load_topology(PLANES), runtime="nowhere", on_ready=pytest.fail)
