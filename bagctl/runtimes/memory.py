"""How much memory this process holds, now and at its peak, in KiB.

The peak (``getrusage``'s ``ru_maxrss``) is what a run needed at its worst; resident now
(``/proc/self/statm``) is what it holds once settled. Beside each other they tell a
cold start's transients (UPDATEs in flight, recorded changes, garbage not yet collected)
from what the converged region keeps.
"""

from __future__ import annotations

import os
import resource


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_kb() -> int:
    """Resident now; 0 where the system does not say (no ``/proc``)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


__all__ = ["peak_rss_kb", "rss_kb"]
