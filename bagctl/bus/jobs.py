"""``Jobs``: the bus server's commands, queued and running, and their cancellation.

Commands run one at a time, in order, from a bounded queue (a full one answers ``busy``).
``cancel`` stops the running command (its task is cancelled: it answers ``cancelled``,
what it had done stays done) or drops a queued one by its request id (it answers
``cancelled`` when its turn comes, without running). Pure bookkeeping: the server runs the
commands and sends the replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from .payloads import Command


@dataclass(frozen=True, slots=True)
class Job:
    command: Command
    client: str
    request: str

    def described(self) -> dict[str, object]:
        return {"request": self.request, "client": self.client, "cmd": self.command.name}


class Jobs:
    """The queue of ``Job``s and the one running (module docstring)."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=size)
        self._queued: dict[str, Job] = {}  # request id -> job, while queued
        self._dropped: set[str] = set()  # queued ones cancelled
        self.running: tuple[Job, asyncio.Future[object]] | None = None

    def put(self, job: Job) -> None:
        """Queue ``job``; ``asyncio.QueueFull`` when the queue is."""
        self.queue.put_nowait(job)
        self._queued[job.request] = job

    async def next(self) -> Job:
        job = await self.queue.get()
        self._queued.pop(job.request, None)
        return job

    def start(self, job: Job, work: Coroutine[Any, Any, object]) -> asyncio.Future[object]:
        """Run ``work`` for ``job`` as the running command (already cancelled if ``job``
        was cancelled while queued: it never runs)."""
        task: asyncio.Future[object] = asyncio.ensure_future(work)
        self.running = (job, task)
        if job.request in self._dropped:
            self._dropped.discard(job.request)
            task.cancel()
        return task

    def done(self) -> None:
        self.running = None

    def cancel(self, target: str | None) -> tuple[Job, str] | None:
        """Cancel the running command, or the one with request id ``target`` (running or
        queued): the job and where it was, or None when there is no such command."""
        if self.running is not None and target in (None, self.running[0].request):
            job, task = self.running
            task.cancel()
            return job, "running"
        if target is not None and target in self._queued:
            self._dropped.add(target)
            return self._queued[target], "queued"
        return None
