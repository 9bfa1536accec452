"""The scale benchmark runs end to end on its smallest region (figures printed, not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_scale_quick_json() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (run,) = json.loads(proc.stdout)["runs"]
    assert run["speakers"] > 200 and run["sessions"] > 1000
    for key in ("cold_converged_s", "failure_converged_s", "restore_converged_s", "peak_rss_mb"):
        assert run[key] > 0, key
    assert run["failure_updates"] > 0
