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
    # the interpreter that ran, whose build the figures depend on (README, "The interpreter")
    assert run["python"].startswith(f"CPython {sys.version.split()[0]} /")
    # issue 19: the floor beside what was measured (keys as bench/scale.py documents them)
    floor = run["floor"]
    assert floor["paths"] == run["rib_in_paths"] > 0 and floor["fib_entries"] == run["fib_entries"]
    assert 0 < floor["updates"] <= run["cold_updates"]  # a floor: never above a real run
    assert run["peak_rss_bytes_per_path"] > 0
    assert run["settled_rss_mb"] > 0  # resident at the end (the kernel's peak may lag it)
    failure = floor["failure"]  # the bundle failure's floor, for the bundle the run took down
    assert failure["bundle"] == run["bundle"]
    assert 0 < failure["sessions_used"] <= failure["updates"] <= run["failure_updates"]


def test_bench_scale_sharded_preset_json() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--sizes", "mini", "--workers",
         "1,2", "--transport", "memory", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    one, two = json.loads(proc.stdout)["runs"]
    assert (one["workers"], two["workers"]) == (1, 2)
    assert one["sessions"] == two["sessions"] == 64 and two["cross_worker_sessions"] > 0
    assert one["fib_entries"] == two["fib_entries"]  # the same routes either way
    assert one["rib_in_paths"] == two["rib_in_paths"] == one["floor"]["paths"]
    assert two["peak_rss_mb"] > one["peak_rss_mb"] > 0  # a process tree, not one process
    assert two["settled_rss_mb"] > one["settled_rss_mb"] > 0  # the workers' too, at the end
