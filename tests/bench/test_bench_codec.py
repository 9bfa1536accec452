"""The codec benchmark runs end to end and reports the figures the issue names.

No timing is asserted here (machines are noisy): only that both sides did the same work.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_codec_quick_json() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "codec.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    out = json.loads(proc.stdout)
    for key in (
        "ours_encode_pps",
        "ours_decode_pps",
        "exabgp_encode_pps",
        "exabgp_decode_pps",
        "encode_ratio",
        "decode_ratio",
    ):
        assert out[key] > 0, key
    assert out["ours_messages"] == out["exabgp_messages"]
    assert out["exabgp_decode_cache"] == "cleared before every decode"
