"""Garbage-collector settings for a process that holds a region.

A region is millions of small, long-lived objects (paths, attributes, adjacency entries)
with almost no reference cycles: reference counting frees nearly everything. CPython's
default collector still runs a young-generation pass every 700 allocations and, as the
heap grows, full passes over every object; profiled on the ``prometheus`` preset that was
more than half of a worker's time. So a process whose job is to run a region (a worker,
``bagctl up``, the scale benchmark) collects the young generation every 100,000
allocations instead, and moves what survived a cold start out of the collector's sight
(``gc.freeze``). Full passes keep their default rhythm: with them 1,000 times rarer, a
``prometheus`` worker grew to 12 GB of uncollected cycles and was killed for memory
(with the default it held about 6.5 GB). A library user's own process is not touched.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 100_000


def tune_for_region() -> None:
    """Collect less often (module docstring)."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def settle() -> None:
    """After a cold start: collect once, then keep what survived out of later passes."""
    gc.collect()
    gc.freeze()


__all__ = ["YOUNG_THRESHOLD", "settle", "tune_for_region"]
