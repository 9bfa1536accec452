"""Where a region runs. One ``Region`` (``region.py``) does every operation, query and
measurement over shards (``shard.py``, saying what they do in ``records.py``) that it
reaches with typed requests (``protocol.py``), on the region's clock (``timekeeping.py``),
reporting with ``measure.py`` (``progress.py``: how far an operation has got);
``hooks.py`` makes a host lag or a switch hang, for tests. A runtime is a way to place
those shards (``placement.py``): in this process (``local.py``), in worker processes
(``process.py``, ``worker.py``) or in docker containers (``compose.py``, ``agent.py``).
``RUNTIMES`` maps ``--runtime`` names to factories (``base.py``); ``embedded`` is the
default."""

from .base import RUNTIMES, get_runtime
from .measure import ConvergenceReport
from .progress import RegionProgress
from .region import Region

__all__ = ["RUNTIMES", "ConvergenceReport", "Region", "RegionProgress", "get_runtime"]
