"""Replaying an event log, called directly: which commands are read from it, each bad
line named by number, and the replay against a region served in this process."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import pytest

from bagctl.bus import BrokerUrl, BusClient, BusError, BusServer, Command, EmbeddedBroker
from bagctl.bus.host import StateDir
from bagctl.bus.replay import EventLogError, Replayed, logged_commands, replay
from bagctl.bus.target import Target
from bagctl.runtimes import Region
from bagctl.topology import load_topology

PLANES = Path(__file__).resolve().parents[1] / "runtimes" / "planes.yaml"


def write_log(path: Path, *events: object) -> Path:
    path.write_text("".join(e if isinstance(e, str) else json.dumps(e) + "\n" for e in events))
    return path


def command(cmd: str, **args: object) -> dict[str, object]:
    return {"v": 1, "kind": "command", "cmd": cmd, "args": args}


def test_only_the_commands_that_changed_the_region_in_order(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "events.jsonl",
        {"v": 1, "kind": "started", "region": "planes"},
        command("status"),
        command("link-down", a="rtsw1", b="ftsw1"),
        {"v": 1, "kind": "result", "cmd": "link-down", "ok": True, "result": {}},
        "\n",  # blank lines are skipped
        command("show", what="fib", node="bag1"),
        {"v": 1, "kind": "command", "cmd": "node-drain", "args": {"node": "bag1"}},
        {"v": 1, "kind": "command", "cmd": "link-up"},  # no args: none
    )
    assert logged_commands(log) == [
        Command("link-down", {"a": "rtsw1", "b": "ftsw1"}),
        Command("node-drain", {"node": "bag1"}),
        Command("link-up", {}),
    ]


BAD_ARGS = json.dumps({"kind": "command", "cmd": "link-up", "args": [1]}) + "\n"


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("{oops\n", "not JSON"),
        ("[1, 2]\n", "not an event object"),
        (BAD_ARGS, "args is not an object"),
        # Hand-written lines a region never writes: refused, never skipped in silence.
        ('{"cmd": "link-down", "args": {"a": "x", "b": "y"}}\n', "kind None is not an event's"),
        ('{"kind": "comand", "cmd": "link-down"}\n', "kind 'comand' is not an event's"),
        ('{"kind": "command", "cmd": "link-dwon", "args": {}}\n', "unknown command 'link-dwon'"),
    ],
)
def test_a_bad_line_is_named_by_its_number(tmp_path: Path, bad: str, problem: str) -> None:
    log = write_log(tmp_path / "events.jsonl", command("link-down", a="x", b="y"), "\n", bad, bad)
    with pytest.raises(EventLogError) as info:
        logged_commands(log)
    assert str(info.value).startswith(f"{log}:3: {problem}")
    assert (info.value.path, info.value.line) == (log, 3)
    assert info.value.problem.startswith(problem)
    assert isinstance(info.value, ValueError)


def test_an_unreadable_log_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        logged_commands(tmp_path / "absent.jsonl")


async def test_replay_records_refusals_and_goes_on(tmp_path: Path) -> None:
    broker = EmbeddedBroker()
    url = await broker.start()
    region = Region(load_topology(PLANES), transport="memory")
    try:
        async with BusServer(region, url, tmp_path / "events.jsonl") as server:
            server.started(await region.start(timeout=60))
            target = Target("planes", url, None, StateDir(tmp_path))
            done = await replay(
                target,
                [
                    Command("link-down", {"a": "rtsw1", "b": "ftsw1"}),
                    Command("node-drain", {"node": "nowhere"}),
                    Command("link-up", {"a": "rtsw1", "b": "ftsw1", "timeout_s": 30}),
                ],
            )
            # Stopped by command, as `bagctl down` does: leaving the server while it
            # republishes state after the last command could wait on a lost cancellation.
            async with BusClient(url, "planes") as bus:
                await bus.request("shutdown")
            await server.stopped()
    finally:
        await region.aclose()
        await broker.stop()
    assert [(r.command.name, r.ok) for r in done] == [
        ("link-down", True),
        ("node-drain", False),
        ("link-up", True),
    ]
    assert done[0].result["report"]["event"] == "bundle-down rtsw1 ftsw1"
    refused = done[1]
    assert refused.error is not None and refused.error.code == "unknown-node"
    assert refused.as_dict() == {
        "cmd": "node-drain",
        "args": {"node": "nowhere"},
        "ok": False,
        "error": refused.error.as_dict(),
    }
    assert list(done[2].as_dict()) == ["cmd", "args", "ok", "result"]


async def test_a_region_not_running_ends_the_replay(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = Target("planes", BrokerUrl("127.0.0.1", port), None, StateDir(tmp_path))
    with pytest.raises(BusError) as info:
        await replay(target, [Command("link-down", {"a": "rtsw1", "b": "ftsw1"})])
    assert info.value.code == "not-running"
    assert Replayed(Command("status")).ok


async def test_leaving_the_server_right_after_a_command_does_not_hang(tmp_path: Path) -> None:
    """The worker republishes state after each command; leaving the server then (a
    SIGTERM just after a command) must not wait on a cancellation that got lost."""
    broker = EmbeddedBroker()
    url = await broker.start()
    region = Region(load_topology(PLANES), transport="memory")
    try:
        server = BusServer(region, url, tmp_path / "events.jsonl")
        await server.__aenter__()
        try:
            server.started(await region.start(timeout=60))
            target = Target("planes", url, None, StateDir(tmp_path))
            done = await replay(target, [Command("link-down", {"a": "rtsw1", "b": "ftsw1"})])
            assert done[0].ok
        finally:
            t0 = time.monotonic()
            async with asyncio.timeout(10):  # a lost cancellation: for good
                await server.__aexit__(None, None, None)
            left_s = time.monotonic() - t0
    finally:
        await region.aclose()
        await broker.stop()
    assert left_s < 3.0, left_s  # about one CANCEL_GRACE_S at most
