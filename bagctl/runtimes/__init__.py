"""Where a region runs. Every runtime offers the same operations (``base.Runtime``), so
one contract suite can run the same scenario on each; ``RUNTIMES`` maps ``--runtime``
names to them (``embedded`` is the default: every speaker in this process tree;
``compose``: one docker container per speaker, runtimes/compose.py)."""

from .base import RUNTIMES, Runtime, get_runtime

__all__ = ["RUNTIMES", "Runtime", "get_runtime"]
