"""How long ``bagctl verify`` takes on growing regions.

    python bench/verify.py                          # mini and region: emulated FIBs
    python bench/verify.py --sizes mini,region,1,2 --json
    python bench/verify.py --sizes 3 --fib model    # FIB built from the model (no emulation)

A size is a preset name, a topology file or a zone count z of the ``bench/scale.py``
ladder (z = 1, 2, 3, 6: about 220, 740, 1,560 and 5,860 speakers). ``--fib emulated``
(default) runs the region on the in-memory transport and checks its real FIB;
``--fib model`` fills every switch's FIB with the model's ideal split quantized to 128
members, so big regions can be timed without emulating them (it times the same work:
the model, the weight comparison, the three pushes of the traffic matrix).

Per size: speakers, FIB entries, demand pairs, and seconds for the whole check
(``verify()``: model, weight errors, actual/ideal/ECMP pushes) plus the model alone. The
target is under 5 s at 10,000 speakers; the figures say how far we are.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bagctl.runtimes import Region
from bagctl.verify.check import verify
from bagctl.verify.fibview import FibSnapshot
from bagctl.verify.model import build_model
from bagctl.verify.traffic import gravity_matrix
from bench.interpreter import interpreter
from bench.scale import topology


def model_fib(topo) -> FibSnapshot:  # type: ignore[no-untyped-def]
    """Every switch's FIB as the model's ideal split, quantized to 128 members."""
    model = build_model(topo)
    entries: dict[str, dict] = {}
    groups: dict[tuple, dict[str, int]] = {}  # one object per distinct group, as a FIB has
    for p, routes in model.routes.items():
        for node, route in routes.items():
            if route.local:
                continue
            key = tuple(
                sorted((h, max(1, round(s * 128))) for h, s in route.split().items() if s > 0)
            )
            entries.setdefault(node, {})[p] = groups.setdefault(key, dict(key))
    return FibSnapshot(entries)


async def emulated_fib(topo) -> FibSnapshot:  # type: ignore[no-untyped-def]
    region = Region(topo, transport="memory")
    try:
        await region.start(timeout=1800)
        return FibSnapshot.from_names(await region.fib_weights())
    finally:
        await region.aclose()


def run(size: str, fib_kind: str) -> dict[str, object]:
    topo = topology(size)
    fib = asyncio.run(emulated_fib(topo)) if fib_kind == "emulated" else model_fib(topo)
    t0 = time.perf_counter()
    build_model(topo)
    model_s = time.perf_counter() - t0
    matrix = gravity_matrix(topo)
    t0 = time.perf_counter()
    report = verify(topo, fib, matrix=matrix)
    seconds = time.perf_counter() - t0
    return {
        "size": size,
        "fib": fib_kind,
        "speakers": report.speakers,
        "fib_entries": report.entries_checked,
        "demand_pairs": matrix.pairs(),
        "seconds": round(seconds, 3),
        "model_seconds": round(model_s, 3),
        "ok": report.ok,
        "ecmp_vs_ideal": round(report.ecmp_vs_ideal, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="mini,region")
    ap.add_argument("--fib", choices=("emulated", "model"), default="emulated")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [run(size, args.fib) for size in args.sizes.split(",")]
    if args.json:
        out = {"bench": "verify", "python": interpreter(), "target_s_at_10k": 5.0, "runs": rows}
        print(json.dumps(out, indent=2))
        return
    print(f"python: {interpreter()}")
    print(f"{'size':>10} {'fib':>8} {'speakers':>8} {'entries':>9} {'pairs':>9} "
          f"{'verify s':>9} {'model s':>8}  ok  ecmp/ideal")  # fmt: skip
    for r in rows:
        print(
            f"{r['size']:>10} {r['fib']:>8} {r['speakers']:>8} {r['fib_entries']:>9} "
            f"{r['demand_pairs']:>9} {r['seconds']:>9} {r['model_seconds']:>8}  "
            f"{'yes' if r['ok'] else 'NO':>3} {r['ecmp_vs_ideal']:>8}"
        )


if __name__ == "__main__":
    main()
