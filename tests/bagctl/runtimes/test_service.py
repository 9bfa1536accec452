"""``ShardService``: the idle cue that wakes the region's quiescence waves, and ``serve``,
which refuses a malformed request with its reason and keeps serving."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from bagctl.runtimes.protocol import Idle, Listen, Snapshot, StartSessions
from bagctl.runtimes.records import ShardSpec
from bagctl.runtimes.service import ShardService, serve
from bagctl.topology import load_topology
from bagctl.topology.configs import next_hop_names, speaker_configs

PLANES = Path(__file__).with_name("planes.yaml")


def spec() -> ShardSpec:
    configs = speaker_configs(load_topology(PLANES))
    names = next_hop_names(configs.values())
    return ShardSpec(0, configs, "memory", frozenset(), names, seed=1)


async def started(events: list[Any], idle: asyncio.Event) -> ShardService:
    def emit(event: object) -> None:
        events.append(event)
        if isinstance(event, Idle):
            idle.set()

    service = ShardService(spec(), emit)
    await service.handle(Listen(originate=True))
    await service.handle(StartSessions())
    async with asyncio.timeout(30):
        await idle.wait()  # every session up, every route exchanged: the first cue
    return service


async def test_a_busy_snapshot_is_followed_by_a_cue_without_routing_activity() -> None:
    """Bytes in flight that no speaker reacts to (a KEEPALIVE, or bytes for a connection
    already gone) make a snapshot busy; when they land, nothing routes, yet the region,
    which saw the shard busy, must hear that it is quiet again."""
    events: list[Any] = []
    idle = asyncio.Event()
    service = await started(events, idle)
    try:
        idle.clear()
        network = service.shard.network
        assert network is not None
        here, there = IPv4Address("127.9.9.8"), IPv4Address("127.9.9.9")
        network.listen(there, 179, lambda end: setattr(end, "protocol", asyncio.Protocol()))
        end = network.connect(here, there, 179, asyncio.Protocol())
        end.write(b"\xff" * 16 + b"\x00\x13\x04")  # a KEEPALIVE to a protocol that ignores it
        activity = service.shard.activity
        snapshot = await service.handle(Snapshot())
        assert snapshot.busy
        async with asyncio.timeout(5):
            await idle.wait()
        assert service.shard.activity == activity  # no routing event: the cue was owed
        assert not (await service.handle(Snapshot())).busy
    finally:
        service.close()


class ListChannel:
    """Requests from a list; what the service sends, kept."""

    def __init__(self, requests: list[dict[str, Any]]) -> None:
        self.requests = list(requests)
        self.sent: list[dict[str, object]] = []

    def send(self, obj: dict[str, object]) -> None:
        self.sent.append(obj)

    async def receive(self) -> dict[str, Any] | None:
        return self.requests.pop(0) if self.requests else None

    async def drain(self) -> None:
        pass


async def test_serve_refuses_malformed_requests_and_keeps_serving() -> None:
    channel = ListChannel(
        [
            {"id": 1, "op": "unplug"},
            {"id": 2, "op": "link_down", "node": "bag1"},
            {"id": 3, "op": "drain", "node": "bag1", "method": 7},
            {"op": "snapshot"},
            {"id": 4, "op": "listen", "originate": False},
            {"id": 5, "op": "drain", "node": "nobody", "method": "as-path-prepend"},
            {"id": 6, "op": "snapshot"},
            {"id": 7, "op": "close"},
            {"id": 8, "op": "snapshot"},  # never read: close ends the service
        ]
    )
    service = ShardService(spec(), channel.send)
    await serve(service, channel)
    replies = {r["id"]: r for r in channel.sent if "id" in r and r["id"] is not None}
    assert replies[1]["ok"] is False and "op: unknown operation 'unplug'" in str(replies[1])
    assert "link_down: missing field 'peer'" in str(replies[2]["error"])
    assert "drain: field 'method': 7 is not" in str(replies[3]["error"])
    assert next(r for r in channel.sent if r.get("id") is None)["error"] == (
        "id: expected an integer, not None"
    )
    assert replies[4] == {"id": 4, "ok": True, "result": None}
    assert replies[5]["kind"] == "KeyError" and "no BGP speaker 'nobody'" in replies[5]["error"]
    assert replies[6]["ok"] and replies[6]["result"]["ends_up"] == 0
    assert (
        replies[7]["ok"] and 8 not in replies and channel.requests == [{"id": 8, "op": "snapshot"}]
    )
