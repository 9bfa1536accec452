"""One worker process of a region (runtimes/process.py): a ``ShardService`` obeying its
parent over stdin and stdout.

Started as ``python -m bagctl.runtimes.worker SPEC`` where SPEC is a pickle the parent
wrote (``ShardSpec``). The parent's requests arrive on stdin, replies and events leave
on stdout, one JSON object per line (runtimes/protocol.py); stdout carries nothing else
(logs go to stderr). The worker stops on ``close`` or when its stdin closes (the parent
has gone).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import signal
import sys
from typing import Any

from .gctune import tune_for_region
from .records import ShardSpec
from .service import ShardService, emitter, serve


class StdioChannel:
    """The parent's pipes: requests on stdin, replies and events on stdout, a line each."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls) -> StdioChannel:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 24)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, sys.stdout
        )
        return cls(reader, asyncio.StreamWriter(transport, protocol, None, loop))

    def send(self, obj: dict[str, object]) -> None:
        self.writer.write((json.dumps(obj, separators=(",", ":")) + "\n").encode())

    async def receive(self) -> dict[str, Any] | None:
        line = await self.reader.readline()
        if not line:
            return None
        message = json.loads(line)
        return message if isinstance(message, dict) else {}

    async def drain(self) -> None:
        await self.writer.drain()


async def run_worker(spec: ShardSpec) -> None:
    channel = await StdioChannel.open()
    await serve(ShardService(spec, emitter(channel)), channel)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    level = os.environ.get("BAGEMU_WORKER_LOG", "WARNING").upper()
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.WARNING))
    # Ctrl-C at the terminal is for the parent, which stops the workers in order; a
    # worker whose parent is gone sees its stdin close and stops by itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_for_region()
    with open(args[0], "rb") as f:
        spec: ShardSpec = pickle.load(f)
    asyncio.run(run_worker(spec))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
