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

Graceful restart (RFC 4724): ``{"cmd": "restart", "graceful": true}`` drops the running
speaker without a NOTIFICATION and starts a new one in this process with its FIB kept;
without ``graceful``, a plain restart (a Cease, then a fresh speaker); ``"down_s": 3``:
the new one starts 3 s later (the daemon's restart time). The reply comes once the new
speaker has started. Refused, with the speaker untouched, where the configuration does
not enable graceful restart, or where the socket was opened on a bare ``Speaker`` rather
than a ``SpeakerProcess`` (process.py) that can replace it. ``{"cmd": "graceful"}``: the
current speaker's restart state (still deferring route selection, and for whom);
``{"cmd": "fib_changes", "since": N}``: the FIB's change stream from change N (each with
``at_ns``, the speaker's monotonic clock), so a client can tell whether the FIB changed at
all across a restart. The next speaker's stream starts again at 0; its preserved FIB is
not a change.

``python -m speakers.control PATH CMD [ARG] [BANDWIDTH]`` sends one request and prints the
reply (ARG: a prefix; ``graceful`` for restart; the first index for fib_changes): exit 0
if ok, 1 if refused, 2 if the socket cannot be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from functools import partial
from typing import Any

from . import graceful, views
from .process import SpeakerProcess
from .speaker import Speaker
from .wire import Prefix
from .yamldoc import number

MAX_LINE = 64 * 1024
COMMANDS = (
    "sessions", "rib", "fib", "announce", "withdraw", "restart", "graceful", "fib_changes",
)  # fmt: skip
Target = Speaker | SpeakerProcess


async def serve_control(target: Target, path: str) -> asyncio.Server:
    """Listen on the Unix socket ``path`` (replacing a stale one) for ``target``: a
    speaker, or the process that owns (and may restart) one."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    server = await asyncio.start_unix_server(partial(_client, target), path, limit=MAX_LINE)
    os.chmod(path, 0o600)
    return server


async def _client(
    target: Target, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
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
            writer.write(_encode(await answer(target, line)))
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


def _encode(reply: dict[str, Any]) -> bytes:
    return (json.dumps(reply, default=str) + "\n").encode()


async def answer(target: Target, line: bytes) -> dict[str, Any]:
    """One request, answered; never raises for anything a client sends."""
    try:
        request = json.loads(line)
        if not isinstance(request, dict):
            raise ValueError("a request is a JSON object with a cmd")
        if request.get("cmd") == "restart":
            return {"ok": True, "result": await _restart(target, request)}
        speaker = target.speaker if isinstance(target, SpeakerProcess) else target
        return {"ok": True, "result": _query(speaker, request)}
    except (ValueError, TypeError, LookupError) as exc:  # JSON, prefix, bandwidth, a view's
        return {"ok": False, "error": str(exc.args[0]) if exc.args else type(exc).__name__}


async def _restart(target: Target, request: dict[str, Any]) -> dict[str, object]:
    graceful_ = request.get("graceful", False)
    if not isinstance(graceful_, bool):
        raise ValueError(f"graceful is true or false, not {graceful_!r}")
    down_s = request.get("down_s", 0)
    if not isinstance(down_s, int | float) or isinstance(down_s, bool):
        raise ValueError(f"down_s is a number of seconds, not {down_s!r}")
    if not isinstance(target, SpeakerProcess):
        raise ValueError("restart: this socket serves a speaker no process owns here")
    try:
        return await target.restart(graceful_, float(down_s))
    except OSError as exc:  # the new speaker could not bind: said, the socket stays up
        raise ValueError(f"restart failed: {exc}") from exc


def _query(speaker: Speaker, request: dict[str, Any]) -> object:
    """Every request but restart: a view of ``speaker``, or a route changed."""
    cmd = request.get("cmd")
    if cmd == "graceful":
        return graceful.restart_view(speaker)
    if cmd == "fib_changes":
        since = request.get("since", 0)
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            raise ValueError(f"since is a change index (0 or more), not {since!r}")
        return views.fib_changes_view(speaker.fib_table, since)
    raw = request.get("prefix")
    prefix = None if raw is None else Prefix.parse(str(raw))
    if cmd == "sessions":
        return speaker.sessions()
    if cmd in ("rib", "fib"):
        view = speaker.rib if cmd == "rib" else speaker.fib
        return view(prefix)
    if cmd in ("announce", "withdraw"):
        if prefix is None:
            raise ValueError(f"{cmd} needs a prefix")
        if cmd == "withdraw":
            speaker.withdraw_origin(prefix)
            return {"withdrawn": str(prefix)}
        bandwidth = request.get("bandwidth")
        bps = None if bandwidth is None else number(bandwidth, "bandwidth")
        speaker.originate(prefix, bps)
        return {"announced": str(prefix), "bandwidth_bps": bps}
    raise ValueError(f"unknown cmd {cmd!r} (one of {', '.join(COMMANDS)})")


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
        print(f"usage: python -m speakers.control PATH {'|'.join(COMMANDS)} [ARG] "
              "[BANDWIDTH]", file=sys.stderr)  # fmt: skip
        return 2
    message: dict[str, Any] = {"cmd": args[1]}
    if len(args) > 2:
        if args[1] == "restart":
            message["graceful"] = args[2] == "graceful" or args[2]
        elif args[1] == "fib_changes":
            message["since"] = int(args[2]) if args[2].isdigit() else args[2]
        else:
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
