"""``python -m speakers CONFIG.yaml``: run one speaker as a process (containers use it).

Logs are JSON lines on stderr. SIGTERM or SIGINT shut down cleanly: every neighbor gets a
Cease/Administrative Shutdown with a reason (RFC 8203), then the process exits 0. A bad
configuration exits 2 with the file, line and field at fault. ``--control PATH`` opens a
Unix socket to ask the speaker what it holds, tell it what to announce, and restart it in
this process, gracefully (RFC 4724) or not (control.py, process.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time

from .config import load_config
from .control import serve_control
from .process import SpeakerProcess
from .speaker import Speaker
from .yamldoc import ConfigError


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": round(time.time(), 6),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


async def run(config_path: str, control: str | None = None) -> int:
    config = load_config(config_path)
    process = SpeakerProcess(Speaker(config))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await process.start()
    logging.getLogger("speakers").info(
        "speaker %s (AS %s) listening on %s port %s",
        config.name,
        config.asn,
        config.listen_address,
        process.speaker.listen_port,
    )
    server = None if control is None else await serve_control(process, control)
    await stop.wait()
    if server is not None:
        server.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(control)  # type: ignore[arg-type]
    await process.stop("speaker shutting down")
    logging.getLogger("speakers").info("speaker %s stopped", config.name)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m speakers", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("config", help="speaker configuration (YAML)")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument(
        "--control",
        metavar="PATH",
        help="a Unix socket (mode 0600) answering JSON-line queries: sessions, rib, fib, "
        "announce, withdraw, restart [graceful], graceful, fib_changes "
        "(speakers/control.py; python -m speakers.control asks it)",
    )
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler])
    try:
        return asyncio.run(run(args.config, args.control))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
