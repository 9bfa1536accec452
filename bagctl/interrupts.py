"""Ctrl-C and SIGTERM end a command the same way everywhere: what it started is torn
down, "interrupted" is printed, and the exit status says which signal (130 for SIGINT,
143 for SIGTERM, as a shell reports a process the signal killed), never 0: a CI job that
was cancelled must not look green.

``run`` runs a command's coroutine with both signals turned into the cancellation of
that coroutine (so every ``finally`` on the way out runs: regions closed, workers and
containers stopped), then raises ``Interrupted``; the CLI (``bagctl.cli.output.
interrupted``) prints and exits. ``serve_region`` keeps its own handlers (a signal there
is the normal way to stop) and raises ``Interrupted`` itself once it has cleaned up.

How fast: a region in worker processes or containers stops at once (its processes are
stopped). A region in this process stops between two steps of its clock: the loop only
sees the signal then, and one step of a large region's cold start can take seconds of
CPU (``bagctl test -j`` gives its child processes 2 s, then kills them).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """The command was stopped by ``signum``; ``code`` is the exit status it calls for."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.code = 128 + signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


async def until_signal(coro: Coroutine[Any, Any, T]) -> T:
    """``coro``'s result, or ``Interrupted`` once a signal has cancelled it and it has
    unwound."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(coro)
    got: list[int] = []

    def on_signal(signum: int) -> None:
        if not got:
            got.append(signum)
            task.cancel()

    for signum in SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return await task
    except asyncio.CancelledError:
        if got:
            raise Interrupted(got[0]) from None
        raise
    finally:
        for signum in SIGNALS:
            loop.remove_signal_handler(signum)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, interruptible (module docstring)."""
    return asyncio.run(until_signal(coro))


__all__ = ["SIGNALS", "Interrupted", "run", "until_signal"]
