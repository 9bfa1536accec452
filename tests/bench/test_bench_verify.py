"""The verify benchmark runs end to end on mini (figures printed, not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_verify_json() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "verify.py"), "--sizes", "mini", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    (run,) = out["runs"]
    assert out["python"].startswith(f"CPython {sys.version.split()[0]} /")  # and its build
    assert run["speakers"] == 36 and run["fib_entries"] > 1000 and run["seconds"] > 0
    assert run["ok"] is True
