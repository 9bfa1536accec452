"""The codec benchmark runs end to end and reports the figures the issue names.

No timing is asserted here (machines are noisy): only that both sides did the same work,
on both workloads, under the same rules, and that every ratio is reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = (
    "ours_encode_pps",
    "ours_decode_pps",
    "exabgp_encode_pps",
    "exabgp_decode_pps",
    "encode_ratio",
    "decode_ratio",
)


def test_bench_codec_quick_json() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "codec.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    out = json.loads(proc.stdout)
    # The top-level keys keep their meaning: the default workload's figures.
    assert out["workload"] == "default"
    assert out["python"].startswith(f"CPython {sys.version.split()[0]} /")  # and its build
    for key in FIGURES:
        assert out[key] > 0, key
        assert out[key] == out["workloads"]["default"][key], key
    assert set(out["workloads"]) == {"default", "sorted"}
    for name, workload in out["workloads"].items():
        for key in FIGURES:
            assert workload[key] > 0, (name, key)
        assert workload["favours"], name
        # Same prefixes, same messages, same octets on both sides.
        assert workload["prefixes"] == out["prefixes"], name
        assert workload["ours_messages"] == workload["exabgp_messages"], name
        assert workload["ours_octets"] == workload["exabgp_octets"], name
    assert out["caches"].startswith("both sides'")
    assert "16 octets" in out["ipv6_next_hop"]
