"""A region served on the bus in this process (embedded broker, in-memory network):
hostile payloads, a flood, two clients at once, retained node state, a clean shutdown."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bagctl.bus import BusClient, BusError, BusServer, EmbeddedBroker
from bagctl.runtimes import Region
from bagctl.topology import load_topology

MINI = Path(__file__).resolve().parents[3] / "topologies" / "mini.yaml"
LEAF, FTSW1, FTSW2 = "r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1", "r1-nsf1-ftsw1-2"
BAG, S1, S2, P = "r1-bag1-1", "r1-nsf1-stsw1-1", "r1-nsf1-stsw2-1", "10.0.0.0/24"


class Served:
    """Broker, region and server, entered and left by the test (so it sees the exit)."""

    def __init__(self, tmp_path: Path) -> None:
        self.broker = EmbeddedBroker()
        self.region = Region(load_topology(MINI), transport="memory")
        self.log = tmp_path / "events.jsonl"

    async def __aenter__(self) -> Served:
        self.url = await self.broker.start()
        self.server = BusServer(self.region, self.url, self.log, queue_size=2)
        await self.server.__aenter__()
        self.server.started(await self.region.start(timeout=60))
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.server.__aexit__(None, None, None)
        finally:
            await self.region.aclose()
            await self.broker.stop()


async def weights(bus: BusClient) -> dict[str, int]:
    view = await bus.request("show", {"what": "fib", "node": BAG, "prefix": P})
    return view["fib"][0]["weights"]


async def test_hostile_payloads_flood_and_concurrent_clients(tmp_path: Path) -> None:
    async with Served(tmp_path) as served:
        await scenario(served)
    events = [json.loads(line) for line in served.log.read_text().splitlines()]
    assert {"started", "command", "result", "rejected", "stopped"} <= {e["kind"] for e in events}
    assert all(e["v"] == 1 and e["region"] == "mini" for e in events)
    results = [e for e in events if e["kind"] == "result"]
    assert any(not e["ok"] and e["error"]["code"] == "members-out-of-range" for e in results)


async def scenario(served: Served) -> None:
    url = served.url
    async with BusClient(url, "mini") as bus, BusClient(url, "mini") as other:
        hostile = {
            b"\x00\xff garbage": "bad-json",
            b"[" * 200_000: "too-large",
            b'{"v": 1, "cmd": "link-down", "args": {"a": 1, "b": 2}}': "bad-payload",
            b'{"v": 1, "cmd": "format-disk"}': "unknown-command",
            b'{"v": 1, "cmd": "node-drain", "args": {"node": "r9-bag"}}': "unknown-node",
        }
        for payload, code in hostile.items():
            reply = await bus.reply_to_raw(payload, timeout_s=10)
            assert reply["ok"] is False and reply["error"]["code"] == code, reply
        with pytest.raises(BusError, match=r"no route to 10\.9\.9\.0/24") as info:
            await bus.request("show", {"what": "fib", "node": BAG, "prefix": "10.9.9.0/24"})
        assert info.value.code == "not-found"

        # A flood while a command runs: two are queued, the rest are answered "busy".
        flap = asyncio.create_task(
            bus.request(
                "link-flap", {"a": LEAF, "b": FTSW1, "count": 1, "interval_s": 0.3}, timeout_s=30
            )
        )
        results = await asyncio.gather(
            *(other.request("status", timeout_s=30) for _ in range(12)), return_exceptions=True
        )
        busy = [r for r in results if isinstance(r, BusError)]
        assert busy and all(e.code == "busy" for e in busy)
        assert len(busy) < len(results)
        assert (await flap)["report"]["event"].startswith("flap")

        # Two clients at once, each gets its own reply.
        down, status = await asyncio.gather(
            bus.request("link-down", {"a": LEAF, "b": FTSW1}, timeout_s=30),
            other.request("status", timeout_s=30),
        )
        assert down["report"]["event"] == f"bundle-down {LEAF} {FTSW1}"
        assert status["region"] == "mini" and status["state"] == "running"
        assert await weights(bus) == {S2: 1}
        # Members: 16 of 32 fail on the other plane's bundle, then come back.
        await bus.request("link-up", {"a": LEAF, "b": FTSW1})
        half = await bus.request("link-down", {"a": LEAF, "b": FTSW2, "members": 16})
        assert half["members_up"] == 16 and await weights(other) == {S1: 45, S2: 32}
        with pytest.raises(BusError, match="cannot take 17 down") as info:
            await bus.request("link-down", {"a": LEAF, "b": FTSW2, "members": 17})
        assert info.value.code == "members-out-of-range"
        await bus.request("link-up", {"a": LEAF, "b": FTSW2})
        assert await weights(bus) == {S1: 1, S2: 1}

    # A client started later sees the current state, retained.
    async with BusClient(url, "mini") as late:
        fib = json.loads(await late.retained(late.topics.node(BAG, "fib")) or b"{}")
        assert fib["v"] == 1
        assert next(e for e in fib["fib"] if e["prefix"] == P)["weights"] == {S1: 1, S2: 1}
        status = json.loads(await late.retained(late.topics.status) or b"{}")
        assert status["state"] == "running" and status["bundles_down"] == []
        assert late.filtered == 0

        # Shutdown: replied, and the server stops serving.
        assert await late.request("shutdown") == {"stopping": "mini"}
        await served.server.stopped()


async def test_a_long_flap_is_cancelled_and_the_region_answers(tmp_path: Path) -> None:
    """Issue 16: a flap of 60 s waits (live pace: wall time) held every other command back.
    ``cancel`` with its request id stops it, queued or running: it answers ``cancelled``,
    the bundle is back up, the command queued behind it runs, and a cancel of nothing
    says so."""
    served = Served(tmp_path)
    served.region = Region(load_topology(MINI), transport="memory", pace="live")
    async with served as s, BusClient(s.url, s.region.topo.name) as bus:
        assert s.log.stat().st_mode & 0o777 == 0o600  # the event log: the region's user's
        flap = {"a": LEAF, "b": FTSW1, "count": 3, "interval_s": 60, "timeout_s": 600}
        running = asyncio.create_task(bus.request("link-flap", flap, timeout_s=30))
        await until_event(bus, "command", "link-flap")
        queued = asyncio.create_task(bus.request("status", timeout_s=30))
        t0 = asyncio.get_running_loop().time()
        with pytest.raises(BusError) as none:
            await bus.request("cancel", {"request": "no-such-id"})
        assert none.value.code == "not-found"
        done = await bus.request("cancel")
        assert done["was"] == "running" and done["cancelled"]["cmd"] == "link-flap"
        with pytest.raises(BusError) as cancelled:
            await running
        assert cancelled.value.code == "cancelled"
        status = await queued
        assert asyncio.get_running_loop().time() - t0 < 10  # not the flap's 300 s
        assert status["bundles_down"] == []
        for cmd in ("link-down", "link-up"):  # and the bundle the flap left works as before
            result = await bus.request(cmd, {"a": LEAF, "b": FTSW1}, timeout_s=60)
            assert result["members_up"] == (0 if cmd == "link-down" else 32)


async def until_event(bus: BusClient, kind: str, cmd: str) -> None:
    async with asyncio.timeout(30):
        async for event in bus.events():
            if event.get("kind") == kind and event.get("cmd") == cmd:
                return


async def test_converge_after_a_change_that_timed_out_says_so(tmp_path: Path) -> None:
    """Issue 18: ``converge`` answered the cold start's report after a command had timed
    out, as if that command had converged. Now it names the change that failed, until the
    next one succeeds."""
    async with Served(tmp_path) as s, BusClient(s.url, s.region.topo.name) as bus:
        args = {"a": LEAF, "b": FTSW1, "timeout_s": 0.001}
        with pytest.raises(BusError) as late:
            await bus.request("link-down", args, timeout_s=30)
        assert late.value.code == "timeout"
        last = await bus.request("converge")
        assert last["report"] is None and last["failed"]["cmd"] == "link-down"
        assert last["failed"]["error"]["code"] == "timeout"
        await bus.request("link-up", {"a": LEAF, "b": FTSW1}, timeout_s=30)
        last = await bus.request("converge")
        assert "failed" not in last and last["report"]["event"].startswith("bundle-up")


async def test_a_request_id_sent_again_runs_once(tmp_path: Path) -> None:
    """Issue 16: what a client re-sends after a broker restart (its request id again) is
    never run twice: ignored while in flight, answered again once done, each time with
    the one reply (bus/ledger.py)."""
    served = Served(tmp_path)
    served.region = Region(load_topology(MINI), transport="memory", pace="live")
    async with served as s, BusClient(s.url, s.region.topo.name) as bus:
        down = json.dumps({"v": 1, "cmd": "link-down", "args": {"a": LEAF, "b": FTSW1}}).encode()
        first = await bus.reply_to_raw(down, timeout_s=60, request="again-1")
        assert first["ok"] and first["result"]["members_up"] == 0
        again = await bus.reply_to_raw(down, timeout_s=10, request="again-1")
        assert again == first  # answered from the ledger: the bundle was not taken down twice
        flap = {"a": LEAF, "b": FTSW2, "count": 1, "interval_s": 2}  # 2 s at live pace
        payload = json.dumps({"v": 1, "cmd": "link-flap", "args": flap}).encode()
        await bus.send_raw(payload, "again-2")
        await until_event(bus, "command", "link-flap")
        reply = await bus.reply_to_raw(payload, timeout_s=60, request="again-2")  # in flight
        assert reply["ok"]
    events = [json.loads(line) for line in s.log.read_text().splitlines()]
    ran = [e["request"] for e in events if e["kind"] == "result"]
    assert ran.count("again-1") == 1 and ran.count("again-2") == 1
    dups = {(e["request"], e["state"]) for e in events if e["kind"] == "duplicate"}
    assert dups == {("again-1", "answered again"), ("again-2", "in flight")}
