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


def test_the_topology_copy_is_scanned_and_removed_with_the_state(tmp_path: Path) -> None:
    """What ``serve_region`` leaves for shell completion: the running topology in the
    one-line form ``topology/names.py`` scans, private as the state file, gone with it."""
    from bagctl.bus.host import StateDir
    from bagctl.topology.names import names_of, scan_names

    sd, topo = StateDir(tmp_path), load_topology(PLANES)
    path = sd.write_topology(topo)
    assert path == tmp_path / f"{topo.name}.topology.yaml" and path.is_absolute()
    assert path.stat().st_mode & 0o777 == 0o600
    assert scan_names(path.read_text()) == names_of(topo)
    sd.write({"region": topo.name, "pid": 1, "broker": "mqtt://127.0.0.1:1"})
    sd.remove(topo.name)
    assert list(tmp_path.iterdir()) == []
