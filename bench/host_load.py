"""The same regions and the same failure on an idle host and on a loaded one: on the
region's clock the routing's figures must not move (README, "The region's clock").

    python bench/host_load.py                         # mini and region, 1 and 2 workers
    python bench/host_load.py --sizes mini --workers 2 --json

Each (size, workers) pair runs ``bench/scale.py`` twice, each run in a fresh process:
once alone, once beside ``--load`` processes that only spin (default: one per core, so
the region gets a fraction of a core it would otherwise have). Both runs do the same
work: a cold start, one RTSW-FTSW bundle down and back up. Printed side by side: the
emulated cold-start and failure convergence times, the UPDATEs each sent, the sessions
lost, and the wall times, which are what the load does change (the workload favours
nothing: the same process does the same thing twice; only the host differs).
``--json`` gives every pair's two runs and the largest relative difference of the
emulated figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

SCALE = Path(__file__).resolve().parent / "scale.py"
SAME = (  # what must not depend on the host
    "cold_converged_emulated_s",
    "cold_updates",
    "failure_converged_emulated_s",
    "failure_updates",
    "session_losses",
)


def run(size: str, workers: int, load: int, transport: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, str(SCALE), "--sizes", size, "--workers", str(workers),
         "--transport", transport, "--load", str(load), "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:  # scale.py names the error in its JSON, or on stderr
        why = (proc.stdout.strip() or proc.stderr.strip())[-1500:]
        raise SystemExit(f"{size} x{workers} (load {load}) failed: {why}")
    (one,) = json.loads(proc.stdout)["runs"]
    return dict(one)


def difference(a: object, b: object) -> float:
    """Relative difference of two figures (0 when both are 0)."""
    x, y = float(a), float(b)  # type: ignore[arg-type]
    return 0.0 if x == y else abs(x - y) / max(abs(x), abs(y))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="mini,region", help="as bench/scale.py's --sizes")
    parser.add_argument("--workers", default="1,2", help="worker counts, each with each size")
    parser.add_argument("--load", type=int, default=os.cpu_count() or 1, help="spinners")
    parser.add_argument("--transport", choices=["tcp", "memory"], default="memory")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    pairs = []
    for size in args.sizes.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            idle = run(size, workers, 0, args.transport)
            loaded = run(size, workers, args.load, args.transport)
            worst = max(difference(idle[k], loaded[k]) for k in SAME)
            pairs.append({"size": size, "workers": workers, "idle": idle, "loaded": loaded,
                          "max_relative_difference": worst})  # fmt: skip
            if not args.json:
                for name, r in (("idle", idle), (f"load {args.load}", loaded)):
                    print(
                        f"{size} x{workers} {name:>7}: cold "
                        f"{float(r['cold_converged_emulated_s']) * 1e3:.3f} ms emulated "
                        f"({r['cold_updates']} UPDATEs, {float(r['cold_converged_s']):.2f} s "
                        f"wall); bundle down "
                        f"{float(r['failure_converged_emulated_s']) * 1e6:.0f} us emulated "
                        f"({r['failure_updates']} UPDATEs, "
                        f"{float(r['failure_converged_s']) * 1e3:.1f} ms wall); "
                        f"{r['session_losses']} sessions lost",
                        flush=True,
                    )
                print(f"{size} x{workers}: largest difference {worst:.1%}", flush=True)
    if args.json:
        print(json.dumps({"load": args.load, "pairs": pairs}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
