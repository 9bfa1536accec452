"""Which running region a command talks to, and one command sent to it.

A region is found by its state file (``host.StateDir``): the only one running, or the one
``--region`` names; or, with no state at all, by ``--broker URL --region NAME``. A state
file whose process has exited is stale: it is removed on the way, and the region is
reported as not running, so no caller waits on a broker that will never answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..mqtt.broker import BrokerUrl
from .client import BusClient
from .host import StateDir, pid_alive
from .payloads import BusError


@dataclass(frozen=True, slots=True)
class Target:
    """A running region as a client reaches it."""

    region: str
    url: BrokerUrl
    pid: int | None  # None when found by --broker: no state file, no process known
    state_dir: StateDir


def resolve(state_dir: Path | str | None, region: str | None, broker: str | None) -> Target:
    """The region to talk to, or ``BusError("not-running")`` saying why there is none
    (``bad-payload`` for ``broker`` without ``region`` or a malformed URL or TLS file;
    ``broker-error`` for a TLS file of the state file's URL that is now unusable)."""
    sd = StateDir(state_dir)
    if broker is not None:
        if region is None:
            raise BusError("bad-payload", "--broker needs --region NAME")
        try:
            return Target(region, BrokerUrl.parse(broker), None, sd)
        except ValueError as exc:
            raise BusError("bad-payload", str(exc)) from None
    if region is None:
        regions = sd.regions()
        if not regions:
            raise BusError("not-running", f"no region is running (no state file in {sd.path})")
        if len(regions) > 1:
            raise BusError(
                "not-running", f"several regions running ({', '.join(regions)}): use --region"
            )
        region = regions[0]
    state = sd.read(region)
    if state is None:
        raise BusError("not-running", f"region {region} is not running (no state in {sd.path})")
    pid = state.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        sd.remove(region)
        raise BusError(
            "not-running",
            f"region {region} is not running (its process {pid} has exited; "
            "removed the stale state file)",
        )
    try:
        url = BrokerUrl.parse(str(state["broker"]))
    except ValueError as exc:  # a TLS file removed or replaced since ``up``
        raise BusError("broker-error", f"region {region}: {exc}") from None
    return Target(region, url, pid, sd)


def request(
    target: Target, cmd: str, args: dict[str, Any] | None = None, timeout_s: float = 10.0
) -> Any:
    """Run ``cmd`` on the region over one short-lived connection (for callers without an
    event loop); its result, or ``BusError``."""

    async def run() -> Any:
        async with BusClient(target.url, target.region) as bus:
            return await bus.request(cmd, args or {}, timeout_s=timeout_s)

    return asyncio.run(run())


__all__ = ["Target", "request", "resolve"]
