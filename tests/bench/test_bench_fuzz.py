"""``bench/fuzz.py`` works: a short coverage-guided run of the codec and the session state
machine from the shipped corpus finds no crash (the README gives a 1,000,000-input run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("atheris", reason="atheris has no wheel for this platform")


def test_a_short_fuzzing_run_finds_no_crash(tmp_path: Path) -> None:
    argv = [sys.executable, str(ROOT / "bench" / "fuzz.py"), "--runs", "20000", "--json"]
    argv += ["--artifacts", str(tmp_path / "artifacts")]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    result = json.loads(proc.stdout)
    assert proc.returncode == 0 and result["crashes"] == 0, result
    assert result["inputs"] >= 20000 and result["coverage_edges"] > 100
    assert result["corpus_end"] > result["seeds"] == 17  # new inputs kept, seeds untouched
    assert len(list((ROOT / "bench" / "fuzz_corpus").iterdir())) == 17


def test_the_target_tells_a_crash_from_the_codecs_own_errors(tmp_path: Path) -> None:
    """A crash file replays through the target: garbage for the codec is a NOTIFICATION
    (exit 0), so only a real crash fails."""
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00" + b"\xff" * 16 + b"\x00\x13\x04")  # a KEEPALIVE, or nearly
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fuzz_target.py"), str(garbage)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
