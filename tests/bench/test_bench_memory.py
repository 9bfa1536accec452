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
    assert out["python"].startswith(f"CPython {sys.version.split()[0]} /")  # and its build
    holders = {h["holder"]: h for h in out["holders"]}
    assert len(holders) == 25
    # The route core's own records are among what the region holds, and each holder's
    # share adds up to no more than the whole.
    assert any(label.startswith("Path <- ") for label in holders)
    assert sum(h["bytes_per_path"] for h in holders.values()) <= out["object_bytes_per_path"]
    # What the allocator holds: its arenas are its live blocks, free blocks and free
    # pools (and headers); the process holds more than the live blocks alone.
    pools = out["allocator_mb"]
    assert 0 < pools["live_block_bytes"] < pools["arena_bytes"] < out["rss_mb"]
    parts = pools["live_block_bytes"] + pools["free_block_bytes"] + pools["free_pool_bytes"]
    assert parts <= pools["arena_bytes"] + 0.3  # (each rounded to 0.1 MB)
