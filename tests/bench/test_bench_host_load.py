"""Host independence, as the benchmark measures it (bench/host_load.py): the same cold
start and bundle failure on ``mini`` and ``region``, in one process and over two worker
processes, give the same emulated convergence times and UPDATE counts (within 5%) and
lose no session whether the host is idle or every core is kept busy by other processes.

One exception, a known gap (issue 14): over two worker processes a message between them
counts from the end of the step it was sent in, and which step it lands in can depend on
the host, so a bundle failure that converges in tens of microseconds reads one or two
steps apart (80 against 100 us on mini, 25 against 30 us on region, in CI runs). Its
UPDATE count is held; its time is not, until cross-worker messages carry their sending
step. The cold start, milliseconds long, is held to 5% over two workers too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COUNTS = ("cold_updates", "failure_updates")
TIMES = ("cold_converged_emulated_s", "failure_converged_emulated_s")


def same(a: float, b: float) -> bool:
    return abs(a - b) <= 0.05 * max(abs(a), abs(b))


def test_emulated_figures_do_not_move_with_the_hosts_load() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "host_load.py"), "--sizes", "mini,region",
         "--workers", "1,2", "--load", str(os.cpu_count() or 1), "--json"],
        capture_output=True, text=True, timeout=3000,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    pairs = json.loads(proc.stdout)["pairs"]
    assert [(p["size"], p["workers"]) for p in pairs] == [
        ("mini", 1), ("mini", 2), ("region", 1), ("region", 2)
    ]  # fmt: skip
    for p in pairs:
        idle, loaded = p["idle"], p["loaded"]
        where = f"{p['size']} x{p['workers']}"
        assert loaded["load"] > 0 == idle["load"], where
        assert idle["session_losses"] == loaded["session_losses"] == 0, where
        assert idle["failure_updates"] > 0 and idle["failure_converged_emulated_s"] > 0, where
        for key in COUNTS:
            assert same(idle[key], loaded[key]), (where, key, idle[key], loaded[key])
        times = TIMES if p["workers"] == 1 else TIMES[:1]  # (the module docstring's gap)
        for key in times:
            assert same(idle[key], loaded[key]), (where, key, idle[key], loaded[key])
