"""Bring up growing regions and measure them: the embedded runtime's scale.

    python bench/scale.py                            # the default ladder, one process
    python bench/scale.py --sizes 1,2,3 --workers 1,2  # each size in one process and in two
    python bench/scale.py --sizes topologies/prometheus.yaml --workers 2
    python bench/scale.py --quick --json             # the smallest region, one JSON object
    python bench/scale.py --sizes clos:leaves=128:spines=16:supers=16 --transport memory
    python bench/scale.py --sizes mini --load 2      # two other processes keep cores busy
    python bench/scale.py --sizes 2 --workers auto   # as many workers as `bagctl up` would run

Regions come from the ``prometheus`` preset scaled by one knob z: z NSF fabrics and z DSF
zones under z BAG chassis per plane, 4z pods per fabric and 20z RDSWs per zone, which
keeps every published figure (4.5:1, 4.98:1, 432-port BAGs). z = 1, 2, 3, 4, 6 give
about 220, 740, 1,560, 2,700 and 5,860 speakers (z = 6 is the shipped ``prometheus``);
past that the BAG chassis runs out of ports. A size may also be a preset name, a preset
with parameters (``clos:leaves=128:spines=16:supers=16``) or a topology file; ``--hold``
sets every speaker's hold time. Each run gets its own child process, so its peak memory
is its own.

Per run: speakers, sessions, prefixes, the transport (TCP on 127/8 while the sockets fit
each process's descriptor limit as bagctl/runtimes/workercount.py counts them, else the
in-memory network, with TCP between worker processes), the worker processes
(``--workers``: 1 is one process; more shard the region over worker processes; ``auto``
chooses as ``bagctl up`` does) and the sessions between them, cold-start convergence
(start to the last FIB change anywhere, measured at quiescence), ``up_wall_s`` (what a
user of ``bagctl up --once`` waits for: the region built from its topology, its workers
started, converged), ``cold_cpu_s`` (each shard's process's CPU seconds once converged:
how evenly the partition spread the work; in one process, that process's whole CPU),
the re-convergence after one bundle failure (an RTSW-FTSW bundle: the most common
failure) and after its repair, the UPDATEs each sent and each shard's CPU seconds over
it (``failure_cpu_s``, ``restore_cpu_s``, with the looks that measured it: the wall time
follows the busier worker; ``*_quiescent_s``: when the last UPDATE was read), and the
peak resident memory of the whole process tree (this process plus each worker's own peak).

Times: ``*_converged_s`` are wall seconds (comparable with a real router's figures),
``*_converged_emulated_s`` the same spans on the region's clock (runtimes/timekeeping.py:
the topology, protocol and delay model's, not the host's), ``dilation`` wall over
emulated time for the cold start; ``session_losses`` counts the sessions that left
Established without being asked to over the whole run (0 on the region's clock, however
loaded the host). ``--load N`` runs N processes that only spin beside the region, to
show that the emulated figures do not move with the host's load.

The floor (``bagctl/verify/floor.py``, computed in this parent process so that its
memory is no run's): the least UPDATEs a cold start can send, the Adj-RIB-In paths and
FIB entries the converged region must hold, from the topology alone. Each run prints
them beside what it measured (``rib_in_paths``: what the speakers hold; the UPDATEs as a
multiple of the floor) and the peak resident memory of the process tree per path
(``peak_rss_bytes_per_path``: all memory over paths, an upper bound of a path's cost);
``settled_rss_mb`` is what the tree holds at the end, converged after the bundle came back
(peak minus settled: the run's transients, and what the allocator kept of them).
The bundle failure's floor (``floor.failure``: ``failure_floor``, from the models before
and after it) is printed beside it too: the least UPDATEs it can send (and on how many
sessions), and the switches whose modelled route changes beside the FIB changes made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bagctl.runtimes.base import embedded
from bagctl.runtimes.gctune import tune_for_region
from bagctl.runtimes.memory import peak_rss_kb, rss_kb
from bagctl.runtimes.partition import cross_sessions
from bagctl.runtimes.region import Region
from bagctl.runtimes.workercount import (
    Host,
    WorkerRequest,
    descriptor_workers,
    parse_workers,
    resolve_workers,
)
from bagctl.topology import load_topology
from bagctl.topology.failures import Failures
from bagctl.topology.generate import generate
from bagctl.topology.model import Bundle, Role, Topology
from bagctl.verify.floor import cold_start_floor, failure_floor
from bench.interpreter import interpreter


def scaled(z: int):
    return generate(
        "prometheus", nsf_zones=z, dsf_zones=z, bags_per_plane=z, pods=4 * z, rdsw=20 * z
    )


def topology(size: str, hold_time_s: int | None = None):
    """A zone count z (the ladder), a preset name with optional ``:name=value``
    parameters, or a topology file; every hold time ``hold_time_s`` if given."""
    if size.isdigit():
        topo = scaled(int(size))
    elif Path(size).exists():
        topo = load_topology(size)
    else:
        preset, *params = size.split(":")
        topo = generate(preset, **dict(p.split("=", 1) for p in params))
    if hold_time_s is not None:
        defaults = dataclasses.replace(topo.defaults, hold_time_s=hold_time_s)
        topo = dataclasses.replace(topo, defaults=defaults)
    return topo


@contextlib.contextmanager
def busy_cores(n: int) -> Iterator[None]:
    """``n`` processes that do nothing but spin, for as long as the block runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
            p.wait()


async def run_one(
    z: str, transport: str, asked: WorkerRequest, timeout: float, hold: int | None, clock: str
) -> dict[str, object]:
    t0 = time.perf_counter()
    topo = topology(z, hold)
    built_s = time.perf_counter() - t0
    sessions = sum(1 for _ in topo.sessions())
    speakers = sum(1 for _ in topo.speakers())
    # auto workers: as for the in-memory network (no descriptor rule), then for TCP if
    # the transport is TCP; auto transport: TCP if the sockets fit that many workers.
    workers = resolve_workers(asked, topo, "memory" if transport == "auto" else transport).workers
    if transport == "auto":
        host = Host.this()
        fits = descriptor_workers(sessions, speakers, host.open_files) <= workers
        transport = "tcp" if fits else "memory"
    t0 = time.perf_counter()
    region = embedded(topo, workers=workers, transport=transport, clock=clock)
    worker_rss_kb: list[int] = []
    worker_now_kb: list[int] = []
    try:
        cold = await region.start(timeout=timeout)
        up_s = time.perf_counter() - t0
        bundle = failed_bundle(topo)
        cold_cpu_s = shards_cpu_s(region)
        fail = await region.bundle_down(bundle.a, bundle.b, timeout=timeout)
        failed_cpu_s = shards_cpu_s(region)
        restore = await region.bundle_up(bundle.a, bundle.b, timeout=timeout)
        restored_cpu_s = shards_cpu_s(region)
        stats = await region.stats()
        fib_entries = stats["fib_entries"]
        rib_in_paths = stats["rib_in_paths"]
        if workers > 1:  # in one process, the shard's peak is this process's
            worker_rss_kb, worker_now_kb = stats["peak_rss_kb"], stats["rss_kb"]
        settled_kb = rss_kb() + sum(worker_now_kb)  # the tree, converged again
        cross = cross_sessions(topo, region.groups)
    finally:
        await region.aclose()
    parent_kb = peak_rss_kb()
    return {
        "size": z,
        "python": interpreter(),
        "workers": workers,
        "workers_asked": str(asked),
        "cross_worker_sessions": cross,
        "speakers": speakers,
        "sessions": sessions,
        "prefixes": sum(len(n.prefixes) for n in topo.nodes),
        "aggregates": sum(len(n.aggregates) for n in topo.nodes),
        "fib_entries": fib_entries,
        "rib_in_paths": rib_in_paths,
        "transport": transport,
        "clock": clock,
        "hold_time_s": topo.defaults.hold_time_s,
        "build_s": round(built_s, 3),
        "cold_converged_s": round(cold.converged_s, 3),
        "cold_quiescent_s": round(cold.quiescent_s, 3),
        "cold_updates": cold.updates_sent,
        "up_wall_s": round(up_s, 3),
        "cold_cpu_s": [round(s, 3) for s in cold_cpu_s],
        "bundle": f"{bundle.a}-{bundle.b}",
        "failure_converged_s": round(fail.converged_s, 4),
        "failure_quiescent_s": round(fail.quiescent_s, 4),
        "failure_cpu_s": spent(cold_cpu_s, failed_cpu_s),
        "restore_cpu_s": spent(failed_cpu_s, restored_cpu_s),
        "failure_updates": fail.updates_sent,
        "failure_fib_changes": fail.fib_changes,
        "restore_converged_s": round(restore.converged_s, 4),
        "restore_quiescent_s": round(restore.quiescent_s, 4),
        "cold_converged_emulated_s": round(cold.converged_emulated_s, 6),
        "failure_converged_emulated_s": round(fail.converged_emulated_s, 6),
        "restore_converged_emulated_s": round(restore.converged_emulated_s, 6),
        "dilation": None if cold.dilation is None else round(cold.dilation, 1),
        "session_losses": cold.session_losses + fail.session_losses + restore.session_losses,
        # The whole process tree: this process and every worker (each its own peak).
        "peak_rss_mb": round((parent_kb + sum(worker_rss_kb)) / 1024, 1),
        "peak_rss_bytes_per_path": round((parent_kb + sum(worker_rss_kb)) * 1024 / rib_in_paths)
        if rib_in_paths
        else None,
        "settled_rss_mb": round(settled_kb / 1024, 1),
    }


def shards_cpu_s(region: Region) -> list[float]:
    """Each shard's process's CPU seconds so far, read from outside it (``/proc``: no
    work in the shard, unlike ``Region.stats``, which counts every path); in one
    process, this one's."""
    seconds = [shard.cpu_seconds() for shard in region.shards]
    return [time.process_time()] if None in seconds else [s or 0.0 for s in seconds]


def spent(before: list[float], after: list[float]) -> list[float]:
    """Each shard's CPU seconds between two looks (how one operation's work fell on the
    workers: its wall time follows the busier one)."""
    return [round(b - a, 3) for a, b in zip(before, after, strict=True)]


def failed_bundle(topo: Topology) -> Bundle:
    """The bundle a run takes down: the first RTSW-FTSW bundle (module docstring)."""
    return next(
        b
        for b in topo.bundles
        if {topo.node(b.a).role, topo.node(b.b).role} == {Role.RTSW, Role.FTSW}
    )


def floor_of(z: str, hold: int | None) -> dict[str, object]:
    """The floors for size ``z`` (module docstring), each with its own time: the cold
    start's, and as ``failure`` the bundle failure's."""
    topo = topology(z, hold)
    t0 = time.perf_counter()
    floor = cold_start_floor(topo).as_dict()
    t1 = time.perf_counter()
    bundle = failed_bundle(topo)
    failure = failure_floor(topo, Failures(), Failures().bundle_down(bundle)).as_dict()
    return {
        **floor,
        "seconds": round(t1 - t0, 2),
        "failure": {
            **failure,
            "bundle": f"{bundle.a}-{bundle.b}",
            "seconds": round(time.perf_counter() - t1, 2),
        },
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
        "--workers",
        default="1",
        help="worker processes (auto: as bagctl up chooses); a list (1,2) runs each size with each",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="per operation, seconds")
    parser.add_argument("--quick", action="store_true", help="z = 1 only")
    parser.add_argument("--hold", type=int, help="every speaker's hold time, seconds")
    parser.add_argument("--clock", choices=["region", "host"], default="region")
    parser.add_argument(
        "--load", type=int, default=0, help="processes kept spinning beside each run"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        worker_counts = [parse_workers(w) for w in args.workers.split(",")]
    except ValueError as exc:
        parser.error(f"--workers: {exc}")
    if args.one is not None:
        tune_for_region()  # as the runtime's own processes do (bagctl/runtimes/gctune.py)
        one = run_one(
            args.one, args.transport, worker_counts[0], args.timeout, args.hold, args.clock
        )
        with busy_cores(args.load):
            result = asyncio.run(one)
        print(json.dumps({**result, "load": args.load}))
        return 0
    sizes = ["1"] if args.quick else args.sizes.split(",")
    if not args.json:
        print(f"python: {interpreter()}", flush=True)
    runs = []
    floors: dict[str, dict[str, object]] = {}
    for z, workers in ((z, w) for z in sizes for w in worker_counts):
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(z), "--transport", args.transport,
             "--workers", str(workers), "--timeout", str(args.timeout),
             "--clock", args.clock, "--load", str(args.load),
             *(["--hold", str(args.hold)] if args.hold is not None else [])],
            capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0:
            runs.append(
                {"size": z, "workers": workers, "error": proc.stderr.strip().splitlines()[-1:]}
            )
            if not args.json:
                print(f"{z}: failed: {proc.stderr.strip()[-500:]}", file=sys.stderr)
            continue
        if z not in floors:  # one size, several worker counts: one floor
            floors[z] = floor_of(z, args.hold)
        runs.append({**json.loads(proc.stdout), "floor": floors[z]})
        if not args.json:
            r = runs[-1]
            fl = r["floor"]
            print(
                f"{z}: {r['speakers']:>6} speakers {r['sessions']:>7} sessions "
                f"{r['prefixes']:>6} prefixes ({r['transport']}, {r['workers']} worker(s)): "
                f"cold {r['cold_converged_s']:>8.2f} s "
                f"({r['cold_converged_emulated_s'] * 1e3:.2f} ms emulated), "
                f"{r['cold_updates']:>8} UPDATEs; one bundle down {r['failure_converged_s']:.3f} s "
                f"({r['failure_converged_emulated_s'] * 1e6:.0f} us emulated, "
                f"{r['failure_updates']} UPDATEs, quiet at {r['failure_quiescent_s']:.3f} s, "
                f"CPU s per worker {r['failure_cpu_s']}), back {r['restore_converged_s']:.3f} s "
                f"(quiet at {r['restore_quiescent_s']:.3f} s, CPU {r['restore_cpu_s']}); "
                f"{r['session_losses']} sessions lost; peak RSS {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
            print(
                f"   floor: {fl['updates']:,} UPDATEs "
                f"(measured {r['cold_updates'] / fl['updates']:.2f}x), "
                f"{fl['paths']:,} paths (held {r['rib_in_paths']:,}), "
                f"{fl['fib_entries']:,} FIB entries (held {r['fib_entries']:,}); "
                f"peak RSS per path {r['peak_rss_bytes_per_path']} B "
                f"(settled: {r['settled_rss_mb']:.0f} MB)",
                flush=True,
            )
            ff = fl["failure"]
            print(
                f"   one bundle down, floor: {ff['updates']:,} UPDATEs on "
                f"{ff['sessions_used']:,} sessions "
                f"(measured {r['failure_updates'] / max(1, ff['updates']):.2f}x), "
                f"{ff['routes_changed']:,} routes change "
                f"(FIB changes measured {r['failure_fib_changes']:,})",
                flush=True,
            )
    if args.json:
        print(json.dumps({"runs": runs}, indent=2))
    return 0 if all("error" not in r for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
