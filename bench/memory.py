"""What a cold-started region holds in memory, per Adj-RIB-In path, and who holds it.

    python bench/memory.py                     # z = 2 (736 speakers), top 25 holders
    python bench/memory.py --sizes region,1 --top 40
    python bench/memory.py --sizes mini --json # (CI checks that the bench works)

A size is as for ``bench/scale.py`` (a zone count, a preset or a topology file). The
region runs in this process on the in-memory transport until its cold start converges;
then every object reachable from the collector's objects is visited once
(``gc.get_referents``; the frozen generation is thawed first: ``bagctl`` freezes the
region's long-lived objects) and counted by ``sys.getsizeof`` under its holder: the
type, and the attribute of the object that first reached it (``Selection.by_source``,
``AdjRibOuts.rows``), or the holder of the dict or tuple it sits in. The sum is what
Python objects cost, not the resident set: the allocator's slack, the interpreter and
the libraries come on top (``bench/scale.py``'s ``peak_rss_bytes_per_path``). It is
slow (a few minutes for z = 2) and takes about twice the region's memory: a tool for
deciding what to shrink next, run before and after a change.

Beside it, before the census: the process's resident memory and what CPython's small-
object allocator holds (``sys._debugmallocstats``): the bytes in live blocks, the bytes
free in pools that still hold live blocks, and the pools free in arenas still in use.
Free memory the allocator keeps comes from objects that were many at once and then
went (messages waiting in the delay model at the peak of a cold start, once): it cannot
go back to the system while a few long-lived objects share its pools.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bagctl.runtimes import Region
from bagctl.runtimes.memory import rss_kb
from bench.interpreter import interpreter
from bench.scale import topology

SKIPPED = ("module", "function", "type", "code", "frame", "cell")  # the program, not data


def holder(parent: object, child: object) -> str:
    """How ``parent`` holds ``child``: ``Type.attribute`` where an attribute (a slot, an
    instance dict entry or a NamedTuple field) is ``child``, else ``parent``'s type."""
    kind = type(parent)
    name = kind.__name__
    for slot in getattr(kind, "__slots__", ()):
        if getattr(parent, slot, None) is child:
            return f"{name}.{slot}"
    fields = getattr(kind, "_fields", ())  # a NamedTuple
    if isinstance(parent, tuple):
        for field in fields:
            if getattr(parent, field) is child:
                return f"{name}.{field}"
    attributes = getattr(parent, "__dict__", None)
    if isinstance(attributes, dict):
        for key, value in attributes.items():
            if value is child:
                return f"{name}.{key}"
    return name


def census() -> tuple[Counter[str], Counter[str]]:
    """Bytes and objects per (type, holder), over everything the collector can reach."""
    gc.unfreeze()
    gc.collect()
    parents: dict[int, object | None] = {}
    objects: dict[int, object] = {}
    roots = gc.get_objects()
    stack: list[tuple[object, object | None]] = [(o, None) for o in roots]
    ours = {id(parents), id(objects), id(roots), id(stack)}
    while stack:
        obj, parent = stack.pop()
        key = id(obj)
        if key in objects or key in ours:
            continue
        objects[key], parents[key] = obj, parent
        stack.extend((r, obj) for r in gc.get_referents(obj) if id(r) not in objects)
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for key, obj in objects.items():
        kind = type(obj).__name__
        if kind in SKIPPED:
            continue
        parent = parents[key]
        if parent is None:
            where = "(tracked)"
        else:
            where = holder(parent, obj)
            if type(parent) in (dict, list, tuple):  # say whose container it is
                grand = parents.get(id(parent))
                where += "<-" + ("(tracked)" if grand is None else holder(grand, parent))
        label = f"{kind} <- {where}"
        sizes[label] += sys.getsizeof(obj)
        counts[label] += 1
    return sizes, counts


ALLOCATOR_LINES = {  # sys._debugmallocstats()'s summary lines, by what they say
    "arena_bytes": r"^\d+ arenas \* \d+ bytes/arena\s+=\s+([\d,]+)",
    "live_block_bytes": r"^# bytes in allocated blocks\s+=\s+([\d,]+)",
    "free_block_bytes": r"^# bytes in available blocks\s+=\s+([\d,]+)",
    "free_pool_bytes": r"^\d+ unused pools \* \d+ bytes\s+=\s+([\d,]+)",
}


def allocator() -> dict[str, int]:
    """What the small-object allocator holds (module docstring). ``_debugmallocstats``
    writes to the C ``stderr``, so that descriptor is pointed at a file for the call."""
    with tempfile.TemporaryFile("w+") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()
    found: dict[str, int] = {}
    for key, pattern in ALLOCATOR_LINES.items():
        match = re.search(pattern, text, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"sys._debugmallocstats() printed no {key!r} line")
        found[key] = int(match.group(1).replace(",", ""))
    return found


async def run(size: str, top: int) -> dict[str, object]:
    topo = topology(size)
    region = Region(topo, transport="memory")
    try:
        await region.start(timeout=1800)
        stats = await region.stats()
        paths = stats["rib_in_paths"]
        gc.collect()
        resident_kb, pools = rss_kb(), allocator()
        sizes, counts = census()
    finally:
        await region.aclose()
    total = sum(sizes.values())
    return {
        "size": size,
        "python": interpreter(),  # (its build: bench/interpreter.py)
        "rib_in_paths": paths,
        "fib_entries": stats["fib_entries"],
        "object_bytes": total,
        "object_bytes_per_path": round(total / paths, 1) if paths else None,
        "rss_mb": round(resident_kb / 1024, 1),
        "allocator_mb": {key: round(n / 2**20, 1) for key, n in pools.items()},
        "holders": [
            {
                "holder": label,
                "bytes_per_path": round(b / paths, 1) if paths else None,
                "objects": counts[label],
                "bytes_each": round(b / counts[label]),
            }
            for label, b in sizes.most_common(top)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2", help="as for bench/scale.py")
    parser.add_argument("--top", type=int, default=25, help="holders listed")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = [asyncio.run(run(size, args.top)) for size in args.sizes.split(",")]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        print(f"python: {r['python']}")
        print(
            f"{r['size']}: {r['rib_in_paths']:,} paths, {r['fib_entries']:,} FIB entries, "
            f"{r['object_bytes_per_path']} B of Python objects per path; "
            f"{r['rss_mb']:.0f} MB resident before the census"
        )
        a = r["allocator_mb"]
        print(
            f"  allocator: {a['arena_bytes']:.0f} MB in arenas, {a['live_block_bytes']:.0f} MB "
            f"live, {a['free_block_bytes']:.0f} MB free in used pools, "
            f"{a['free_pool_bytes']:.0f} MB in free pools"
        )
        for h in r["holders"]:  # type: ignore[attr-defined]
            print(
                f"  {h['bytes_per_path']:7.1f} B/path {h['objects']:>10,} x "
                f"{h['bytes_each']:>5} B  {h['holder']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
