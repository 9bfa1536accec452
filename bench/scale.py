"""Bring up growing regions and measure them: the embedded runtime's scale.

    python bench/scale.py                            # the default ladder, one process
    python bench/scale.py --sizes 1,2,3 --workers 1,2  # each size in one process and in two
    python bench/scale.py --sizes topologies/prometheus.yaml --workers 2
    python bench/scale.py --quick --json             # the smallest region, one JSON object

Regions come from the ``prometheus`` preset scaled by one knob z: z NSF fabrics and z DSF
zones under z BAG chassis per plane, 4z pods per fabric and 20z RDSWs per zone, which
keeps every published figure (4.5:1, 4.98:1, 432-port BAGs). z = 1, 2, 3, 4, 6 give
about 220, 740, 1,560, 2,700 and 5,860 speakers (z = 6 is the shipped ``prometheus``);
past that the BAG chassis runs out of ports. A size may also be a preset name or a
topology file. Each run gets its own child process, so its peak memory is its own.

Per run: speakers, sessions, prefixes, the transport (TCP on 127/8 while the sockets fit
the 20,000-descriptor limit of each process, else the in-memory network, with TCP between
worker processes), the worker processes (``--workers``: 1 is one process; more shard
the region over worker processes), cold-start convergence (start to the last FIB change
anywhere, measured at quiescence), the re-convergence after one bundle failure (an
RTSW-FTSW bundle: the most common failure), the UPDATEs each sent, and the peak resident
memory of the whole process tree (this process plus each worker's own peak).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bagctl.runtimes.base import embedded
from bagctl.runtimes.gctune import tune_for_region
from bagctl.runtimes.partition import cross_sessions
from bagctl.topology import load_topology
from bagctl.topology.generate import generate
from bagctl.topology.model import Role

FD_BUDGET = 16_000  # of the 20,000 a process may open: the rest for everything else


def scaled(z: int):
    return generate(
        "prometheus", nsf_zones=z, dsf_zones=z, bags_per_plane=z, pods=4 * z, rdsw=20 * z
    )


def topology(size: str):
    """A zone count z (the ladder), a preset name, or a topology file."""
    if size.isdigit():
        return scaled(int(size))
    if Path(size).exists():
        return load_topology(size)
    return generate(size)


async def run_one(z: str, transport: str, workers: int, timeout: float) -> dict[str, object]:
    t0 = time.perf_counter()
    topo = topology(z)
    built_s = time.perf_counter() - t0
    sessions = sum(1 for _ in topo.sessions())
    if transport == "auto":
        transport = "tcp" if 2 * sessions < FD_BUDGET * workers else "memory"
    region = embedded(topo, workers=workers, transport=transport)
    worker_rss_kb: list[int] = []
    try:
        cold = await region.start(timeout=timeout)
        bundle = next(
            b
            for b in topo.bundles
            if {topo.node(b.a).role, topo.node(b.b).role} == {Role.RTSW, Role.FTSW}
        )
        fail = await region.bundle_down(bundle.a, bundle.b, timeout=timeout)
        restore = await region.bundle_up(bundle.a, bundle.b, timeout=timeout)
        stats = await region.stats()
        fib_entries = stats["fib_entries"]
        if workers > 1:  # in one process, the shard's peak is this process's
            worker_rss_kb = stats["peak_rss_kb"]
        cross = cross_sessions(topo, region.groups)
    finally:
        await region.aclose()
    parent_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "size": z,
        "workers": workers,
        "cross_worker_sessions": cross,
        "speakers": sum(1 for _ in topo.speakers()),
        "sessions": sessions,
        "prefixes": sum(len(n.prefixes) for n in topo.nodes),
        "aggregates": sum(len(n.aggregates) for n in topo.nodes),
        "fib_entries": fib_entries,
        "transport": transport,
        "build_s": round(built_s, 3),
        "cold_converged_s": round(cold.converged_s, 3),
        "cold_quiescent_s": round(cold.quiescent_s, 3),
        "cold_updates": cold.updates_sent,
        "bundle": f"{bundle.a}-{bundle.b}",
        "failure_converged_s": round(fail.converged_s, 4),
        "failure_updates": fail.updates_sent,
        "failure_fib_changes": fail.fib_changes,
        "restore_converged_s": round(restore.converged_s, 4),
        # The whole process tree: this process and every worker (each its own peak).
        "peak_rss_mb": round((parent_kb + sum(worker_rss_kb)) / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="1,2,3",
        help="zone counts z (see the docstring), preset names or topology files",
    )
    parser.add_argument("--transport", choices=["auto", "tcp", "memory"], default="auto")
    parser.add_argument(
        "--workers", default="1", help="worker processes; a list (1,2) runs each size with each"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="per operation, seconds")
    parser.add_argument("--quick", action="store_true", help="z = 1 only")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    worker_counts = [int(w) for w in args.workers.split(",")]
    if args.one is not None:
        tune_for_region()  # as the runtime's own processes do (bagctl/runtimes/gctune.py)
        one = run_one(args.one, args.transport, worker_counts[0], args.timeout)
        print(json.dumps(asyncio.run(one)))
        return 0
    sizes = ["1"] if args.quick else args.sizes.split(",")
    runs = []
    for z, workers in ((z, w) for z in sizes for w in worker_counts):
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(z), "--transport", args.transport,
             "--workers", str(workers), "--timeout", str(args.timeout)],
            capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0:
            runs.append(
                {"size": z, "workers": workers, "error": proc.stderr.strip().splitlines()[-1:]}
            )
            if not args.json:
                print(f"{z}: failed: {proc.stderr.strip()[-500:]}", file=sys.stderr)
            continue
        runs.append(json.loads(proc.stdout))
        if not args.json:
            r = runs[-1]
            print(
                f"{z}: {r['speakers']:>6} speakers {r['sessions']:>7} sessions "
                f"{r['prefixes']:>6} prefixes ({r['transport']}, {workers} worker(s)): "
                f"cold {r['cold_converged_s']:>8.2f} s, "
                f"{r['cold_updates']:>8} UPDATEs; one bundle down {r['failure_converged_s']:.3f} s "
                f"({r['failure_updates']} UPDATEs), back {r['restore_converged_s']:.3f} s; "
                f"peak RSS {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    if args.json:
        print(json.dumps({"runs": runs}, indent=2))
    return 0 if all("error" not in r for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
