"""Host independence, as the benchmark measures it (bench/host_load.py): the same cold
start and bundle failure on ``mini`` and ``region``, in one process and over two worker
processes, give the same emulated convergence times and UPDATE counts and lose no
session whether the host is idle or every core is kept busy by other processes.

"The same": within 5%, and for an emulated time at least within one step of the region's
clock (its lookahead: the smallest latency plus processing cost, 15 us by default). In one
process the runs have been identical; between two worker processes a message counts from
the end of the step it was sent in, and which step a cross-worker message lands in can
depend on the host, so a failure that converges in 25 us may read 30."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bagctl.topology.model import Defaults

ROOT = Path(__file__).resolve().parents[2]
LOOKAHEAD_S = Defaults().latency_s + Defaults().processing_s
COUNTS = ("cold_updates", "failure_updates")
TIMES = ("cold_converged_emulated_s", "failure_converged_emulated_s")


def same(a: float, b: float, slack: float = 0.0) -> bool:
    return abs(a - b) <= max(0.05 * max(abs(a), abs(b)), slack)


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
        slack = LOOKAHEAD_S if p["workers"] > 1 else 0.0
        for key in TIMES:
            assert same(idle[key], loaded[key], slack), (where, key, idle[key], loaded[key])
