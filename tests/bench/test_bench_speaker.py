"""The speaker benchmark runs end to end (figures are printed, not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_speaker_quick_json() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "speaker.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    out = json.loads(proc.stdout)
    assert out["prefixes_per_s"] > 0 and out["bytes_per_route"] > 0
    # The same ingestion with the collector set as a region's processes set it.
    assert out["region_gc_prefixes_per_s"] > 0 and out["region_gc_bytes_per_route"] > 0
    assert out["region_gc_first_s"] > 0 and out["region_gc_second_s"] > 0
    assert out["fib_entries"] == out["prefixes"] == out["two_member_groups"]
    assert out["weights_seen"] == [[2, 1]]  # 800G and 400G paths
    # the interpreter that ran, whose build the figures depend on (bench/interpreter.py)
    assert out["python"].startswith(f"CPython {sys.version.split()[0]} /")
    # Flood propagation: every time is after the writer's first byte, and in the order
    # the work happens (each run's order holds for the medians too).
    assert out["flood_updates"] == 10_000 and out["flood_runs"] == 3
    for head in ("flood", "flood_distinct"):
        assert len(out[f"{head}_runs_s"]) == 3
        assert 0 < out[f"{head}_first_arrival_s"] <= out[f"{head}_s"]
        assert 0 < out[f"{head}_received_s"] <= out[f"{head}_exported_s"]
        assert out[f"{head}_first_export_s"] <= out[f"{head}_exported_s"]
        assert 0 <= out[f"{head}_written_s"] <= out[f"{head}_s"]
        assert out[f"{head}_dut_cpu_s"] > 0 and out[f"{head}_flushes"] >= 1
    # Re-advertised, the same attributes are packed into few UPDATEs (about a thousand
    # /24s fit in one); distinct ones cannot share one.
    assert out["flood_updates_out"] <= 50
    assert out["flood_distinct_updates_out"] == 10_000
    # FRR's bgpd on the same flood where it can run here (bench/flood_frr.py), else why not.
    if "frr_skipped" in out:
        assert out["frr_skipped"] and "frr_flood_s" not in out
    else:
        for head in ("frr_flood", "frr_flood_distinct"):
            assert len(out[f"{head}_runs_s"]) == 3
            assert 0 < out[f"{head}_first_arrival_s"] <= out[f"{head}_s"]
        assert out["frr_flood_distinct_updates_out"] == 10_000
