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
    assert out["fib_entries"] == out["prefixes"] == out["two_member_groups"]
    assert out["weights_seen"] == [[2, 1]]  # 800G and 400G paths
