"""A local control socket for one speaker run as a process (``python -m speakers CONFIG
--control PATH``), so a speaker dropped into an FRR or containerlab lab can be asked what
it holds and told what to announce, as ``vtysh`` or ``gobgp`` would be.

The socket is a Unix socket, mode 0600: only the speaker's user may connect, and no port
is taken. Requests and replies are JSON lines; one connection may send many:

``{"cmd": "sessions"}``, ``{"cmd": "rib", "prefix": "10.0.0.0/24"}`` (prefix optional),
``{"cmd": "fib"}`` (next hops with UCMP weights), ``{"cmd": "announce", "prefix": ...,
"bandwidth": "800G"}`` (link bandwidth optional, bits/s or with a unit), ``{"cmd":
"withdraw", "prefix": ...}``. Replies: ``{"ok": true, "result": ...}`` or ``{"ok": false,
"error": "..."}``; a bad request never stops the speaker or closes the connection, a line
over 64 KiB does (it ends the connection, saying why).

``python -m speakers.control PATH CMD [PREFIX] [BANDWIDTH]`` sends one request and prints
the reply: exit 0 if ok, 1 if refused, 2 if the socket cannot be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from functools import partial
from typing import Any

from .speaker import Speaker
from .wire import Prefix
from .yamldoc import number

MAX_LINE = 64 * 1024
COMMANDS = ("sessions", "rib", "fib", "announce", "withdraw")


async def serve_control(speaker: Speaker, path: str) -> asyncio.Server:
    """Listen on the Unix socket ``path`` (replacing a stale one) for ``speaker``."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    server = await asyncio.start_unix_server(partial(_client, speaker), path, limit=MAX_LINE)
    os.chmod(path, 0o600)
    return server


async def _client(
    speaker: Speaker, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            try:
                line = await reader.readline()
            except ValueError:  # over the limit: no line boundary to resume at
                writer.write(_encode({"ok": False, "error": f"a request over {MAX_LINE} bytes"}))
                break
            if not line:
                break
            writer.write(_encode(handle(speaker, line)))
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


def _encode(reply: dict[str, Any]) -> bytes:
    return (json.dumps(reply, default=str) + "\n").encode()


def handle(speaker: Speaker, line: bytes) -> dict[str, Any]:
    """One request, answered; never raises for anything a client sends."""
    try:
        request = json.loads(line)
        if not isinstance(request, dict):
            raise ValueError("a request is a JSON object with a cmd")
        cmd = request.get("cmd")
        raw = request.get("prefix")
        prefix = None if raw is None else Prefix.parse(str(raw))
        if cmd == "sessions":
            return {"ok": True, "result": speaker.sessions()}
        if cmd in ("rib", "fib"):
            view = speaker.rib if cmd == "rib" else speaker.fib
            return {"ok": True, "result": view(prefix)}
        if cmd in ("announce", "withdraw"):
            if prefix is None:
                raise ValueError(f"{cmd} needs a prefix")
            if cmd == "withdraw":
                speaker.withdraw_origin(prefix)
                return {"ok": True, "result": {"withdrawn": str(prefix)}}
            bandwidth = request.get("bandwidth")
            bps = None if bandwidth is None else number(bandwidth, "bandwidth")
            speaker.originate(prefix, bps)
            return {"ok": True, "result": {"announced": str(prefix), "bandwidth_bps": bps}}
        raise ValueError(f"unknown cmd {cmd!r} (one of {', '.join(COMMANDS)})")
    except (ValueError, TypeError, KeyError) as exc:  # JSON, prefix, bandwidth, a view's
        return {"ok": False, "error": str(exc.args[0]) if exc.args else type(exc).__name__}


async def request(path: str, message: dict[str, Any]) -> dict[str, Any]:
    """Send one request to the speaker at ``path``; its reply."""
    reader, writer = await asyncio.open_unix_connection(path, limit=1 << 26)
    try:
        writer.write(_encode(message))
        await writer.drain()
        reply: dict[str, Any] = json.loads(await reader.readline())
        return reply
    finally:
        writer.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or args[1] not in COMMANDS:
        print(f"usage: python -m speakers.control PATH {'|'.join(COMMANDS)} [PREFIX] "
              "[BANDWIDTH]", file=sys.stderr)  # fmt: skip
        return 2
    message: dict[str, Any] = {"cmd": args[1]}
    if len(args) > 2:
        message["prefix"] = args[2]
    if len(args) > 3:
        message["bandwidth"] = args[3]
    try:
        reply = asyncio.run(request(args[0], message))
    except OSError as exc:
        print(f"error: {args[0]}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(reply, indent=2))
    return 0 if reply.get("ok") else 1


if __name__ == "__main__":
    raise SystemExit(main())
