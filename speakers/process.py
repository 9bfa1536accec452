"""The one speaker a ``python -m speakers`` process runs, and its restarts in place.

A router's BGP daemon restarts without the router going away: the process that owns the
forwarding table stays, the protocol part is replaced. ``SpeakerProcess`` plays that
owner. It holds the current ``Speaker`` (the control socket asks whichever is current,
so the socket keeps answering across restarts) and replaces it on ``restart``:

- **graceful** (RFC 4724): the running speaker is dropped with no NOTIFICATION
  (``Speaker.close``: its connections close as if the process had died), and a new one
  starts from the same configuration with the old FIB (``preserved_fib``): it sets the
  Restart State and Forwarding State bits, keeps that FIB untouched until its neighbors'
  End-of-RIB or the select-defer time, then reconciles (graceful.py). Its neighbors, as
  helpers, keep its routes meanwhile. Refused unless the configuration enables graceful
  restart: without the capability the neighbors would drop the routes anyway, and the
  new speaker would claim forwarding state nobody asked it to keep.
- **plain**: the running speaker stops as on SIGTERM (a Cease to every neighbor, which
  withdraws its routes), and a new one starts from nothing.

What a restarted speaker starts from is its configuration: routes announced at run time
over the control socket are not carried over, as a router's unsaved configuration does
not survive a restart of its daemon.

``down_s`` keeps the new speaker from starting for that long, as a real daemon takes
seconds to come back: its neighbors see it gone meanwhile (the helper's stale routes,
observable), and the process shows the new speaker not yet started (sessions Idle, the
preserved FIB). It is the emulated restart's duration, not a wait for anything.

Restarts and the final ``stop`` are serialised (an ``asyncio.Lock``): a SIGTERM during a
restart stops the speaker the restart started, not the one it dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from .config import SpeakerConfig
from .fib import NextHopGroup
from .speaker import Speaker
from .wire import Prefix

log = logging.getLogger("speakers.process")

MAX_DOWN_S = 3600.0

Preserved = Iterable[tuple[Prefix, NextHopGroup]] | None
# How a process builds a speaker: its configuration, and the FIB to preserve (or None).
Builder = Callable[[SpeakerConfig, Preserved], Speaker]


def build_speaker(config: SpeakerConfig, preserved: Preserved) -> Speaker:
    """A speaker over real TCP on the host's clock: what ``python -m speakers`` runs."""
    return Speaker(config, preserved_fib=preserved)


class RestartRefused(ValueError):
    """A restart that cannot be done as asked; nothing was changed."""


class SpeakerProcess:
    """Owns the current speaker of a process (module docstring)."""

    def __init__(self, speaker: Speaker, build: Builder = build_speaker) -> None:
        """``speaker``: the first speaker (started by ``start`` or already running);
        ``build``: how restarts make the next one (the same network and clock)."""
        self.speaker = speaker
        self.build = build
        self.restarts = 0
        self._lock = asyncio.Lock()

    @property
    def config(self) -> SpeakerConfig:
        return self.speaker.config

    async def start(self) -> None:
        await self.speaker.start()

    async def restart(self, graceful: bool, down_s: float = 0.0) -> dict[str, object]:
        """Replace the running speaker (module docstring); what was done, for the reply.
        ``RestartRefused`` (nothing touched) when graceful restart is not configured."""
        if not 0 <= down_s <= MAX_DOWN_S:
            raise RestartRefused(f"down_s {down_s:g}: 0 to {MAX_DOWN_S:g} seconds")
        async with self._lock:
            old = self.speaker
            config = old.config
            if graceful and not config.graceful_restart.enabled:
                raise RestartRefused(
                    f"{config.name}: graceful restart is not enabled in its configuration "
                    "(graceful_restart: true): only a plain restart can be done"
                )
            preserved = None
            if graceful:
                preserved = old.fib_table.entries()
                old.close()  # no NOTIFICATION: the neighbors keep our routes (RFC 4724 §4.2)
            else:
                await old.stop("restarting")
            new = self.build(config, preserved)
            self.speaker = new  # asked from now on, even if starting it fails below
            if down_s > 0:
                await asyncio.sleep(down_s)  # the restart's duration (module docstring)
            await new.start()
            self.restarts += 1
            kind = "graceful" if graceful else "plain"
            log.info("%s: %s restart %d done", config.name, kind, self.restarts)
            return {
                "restarted": config.name,
                "graceful": graceful,
                "preserved_fib_entries": None if preserved is None else len(preserved),
                "restarts": self.restarts,
            }

    async def stop(self, reason: str = "speaker shutting down") -> None:
        """Stop the current speaker (after a restart under way, if any)."""
        async with self._lock:
            await self.speaker.stop(reason)
