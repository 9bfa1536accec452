"""The memory census runs end to end on a small region (figures printed, not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_memory_mini_json() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "memory.py"), "--sizes", "mini", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    (out,) = json.loads(proc.stdout)
    assert out["rib_in_paths"] > 0 and out["fib_entries"] > 0
    holders = {h["holder"]: h for h in out["holders"]}
    assert len(holders) == 25
    # The route core's own records are among what the region holds, and each holder's
    # share adds up to no more than the whole.
    assert any(label.startswith("Path <- ") for label in holders)
    assert sum(h["bytes_per_path"] for h in holders.values()) <= out["object_bytes_per_path"]
