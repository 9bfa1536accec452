"""The control socket of ``python -m speakers`` (speakers/control.py): sessions, RIB and
FIB asked for, a prefix announced and withdrawn, bad requests answered without harm, and
the speaker restarted in its process (speakers/process.py), gracefully (RFC 4724: no FIB
changes anywhere) or not (the neighbor withdraws its routes), or refused."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from speaker_helpers import Fabric, Link, Node

from speakers.config import SpeakerConfig
from speakers.control import request, serve_control
from speakers.fib import FibChange
from speakers.graceful import GracefulRestart
from speakers.process import Preserved, SpeakerProcess
from speakers.speaker import Speaker

G = 1e9
P = "198.51.100.0/24"
PA, PB = "198.51.100.0/24", "203.0.113.0/24"  # a's and b's routes


async def test_a_speaker_answers_and_announces_over_its_socket(tmp_path: Path) -> None:
    fabric = Fabric(
        [Node("a", 65001, "127.0.33.1"), Node("b", 65002, "127.0.33.2")],
        [Link("a", "b", 100 * G)],
        memory=True,
    )
    await fabric.start()
    a_path, b_path = str(tmp_path / "a.sock"), str(tmp_path / "b.sock")
    servers = [await serve_control(fabric["a"], a_path), await serve_control(fabric["b"], b_path)]
    try:
        await fabric.wait(fabric.established)
        assert Path(a_path).stat().st_mode & 0o777 == 0o600  # only the speaker's user
        (session,) = (await request(a_path, {"cmd": "sessions"}))["result"]
        assert session["state"] == "Established"
        done = await request(a_path, {"cmd": "announce", "prefix": P, "bandwidth": "800G"})
        assert done == {"ok": True, "result": {"announced": P, "bandwidth_bps": 800 * G}}
        await fabric.wait(lambda: len(fabric["b"].fib_table) == 1)
        (entry,) = (await request(b_path, {"cmd": "fib", "prefix": P}))["result"]
        assert entry["prefix"] == P
        (route,) = (await request(b_path, {"cmd": "rib"}))["result"]
        assert route["prefix"] == P
        assert (await request(a_path, {"cmd": "withdraw", "prefix": P}))["ok"]
        await fabric.wait(lambda: len(fabric["b"].fib_table) == 0)
        # Bad requests: answered, nothing stops, the connection stays usable.
        reader, writer = await asyncio.open_unix_connection(a_path)
        for line, error in (
            (b"{oops\n", "Expecting property name"),
            (b'["sessions"]\n', "a request is a JSON object"),
            (b'{"cmd": "shutdown"}\n', "unknown cmd 'shutdown'"),
            (b'{"cmd": "announce", "prefix": "10.1.1.1/24"}\n', "has host bits set"),
            (b'{"cmd": "announce", "prefix": "10.1.0.0/24", "bandwidth": -1}\n', "non-negative"),
            (b'{"cmd": "withdraw"}\n', "withdraw needs a prefix"),
        ):
            writer.write(line)
            reply = json.loads(await reader.readline())
            assert reply["ok"] is False and error in reply["error"], reply
        writer.write(b'{"cmd": "sessions"}\n')
        assert json.loads(await reader.readline())["ok"]
        writer.write(b"x" * (70 * 1024) + b"\n")  # over the limit: said, then closed
        assert "over 65536 bytes" in json.loads(await reader.readline())["error"]
        assert await reader.read() == b""
        writer.close()
    finally:
        for server in servers:
            server.close()
        fabric.close()


async def test_python_m_speakers_with_a_control_socket(tmp_path: Path) -> None:
    config = tmp_path / "s.yaml"
    config.write_text(
        "name: s\nasn: 65001\nrouter_id: 10.255.0.1\nlisten: {address: 127.0.33.5, port: 0}\n"
    )
    sock = tmp_path / "s.sock"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "speakers", str(config), "--control", str(sock),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(30):
            while not sock.exists():  # the socket is the process's signal that it is up
                await asyncio.sleep(0.05)

        def ask(*args: str) -> subprocess.CompletedProcess[str]:
            argv = [sys.executable, "-m", "speakers.control", str(sock), *args]
            return subprocess.run(argv, capture_output=True, text=True, timeout=30)

        done = await asyncio.to_thread(ask, "announce", P, "12.8T")
        assert done.returncode == 0 and json.loads(done.stdout)["result"]["announced"] == P
        rib = json.loads((await asyncio.to_thread(ask, "rib")).stdout)["result"]
        assert [r["prefix"] for r in rib] == [P]
        refused = await asyncio.to_thread(ask, "withdraw")
        assert refused.returncode == 1 and "needs a prefix" in refused.stdout
        assert (await asyncio.to_thread(ask, "reboot")).returncode == 2
        refused = await asyncio.to_thread(ask, "restart", "graceful")
        assert refused.returncode == 1 and "graceful restart is not enabled" in refused.stdout
        done = await asyncio.to_thread(ask, "restart")  # a new speaker, the same socket
        assert done.returncode == 0 and json.loads(done.stdout)["result"]["restarts"] == 1
        rib = json.loads((await asyncio.to_thread(ask, "rib")).stdout)["result"]
        assert rib == []  # the announcement was not configured: gone with the old speaker
        changes = json.loads((await asyncio.to_thread(ask, "fib_changes", "0")).stdout)
        assert changes["result"] == {"next_index": 0, "changes": []}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert not sock.exists()  # removed at exit


def two_speakers(base: int, gr: GracefulRestart) -> tuple[Fabric, SpeakerProcess]:
    """``a`` (announcing PA) and ``b`` (PB) on the in-memory network, ``a`` owned by a
    process whose restarts build the next ``a`` on the same network, watched."""
    fabric = Fabric(
        [
            Node("a", 65001, f"127.0.{base}.1", [(PA, None)], graceful_restart=gr),
            Node("b", 65002, f"127.0.{base}.2", [(PB, None)], graceful_restart=gr),
        ],
        [Link("a", "b", 100 * G)],
        memory=True,
    )

    def build(config: SpeakerConfig, preserved: Preserved) -> Speaker:
        new = Speaker(config, network=fabric.network, preserved_fib=preserved)
        fabric.speakers[config.name] = fabric._watched(new)
        return new

    return fabric, SpeakerProcess(fabric["a"], build)


async def ok(path: str, message: dict[str, Any]) -> Any:
    reply = await request(path, message)
    assert reply["ok"], reply
    return reply["result"]


def converged(fabric: Fabric) -> bool:
    return (
        fabric.established()
        and fabric.weights("a", PB) == {"b": 1}
        and fabric.weights("b", PA) == {"a": 1}
        and fabric.quiet()
    )


async def test_a_graceful_restart_over_the_socket_changes_no_fib(tmp_path: Path) -> None:
    fabric, process = two_speakers(35, GracefulRestart(enabled=True))
    await fabric.start()
    path = str(tmp_path / "a.sock")
    server = await serve_control(process, path)
    old = fabric["a"]
    try:
        await fabric.wait(lambda: converged(fabric))
        fib_before = await ok(path, {"cmd": "fib"})
        b_changes: list[FibChange] = []
        fabric["b"].fib_table.subscribe(b_changes.append)
        # Away for 1 s, as a daemon restarting: b keeps a's route, stale, meanwhile.
        restart = asyncio.create_task(ok(path, {"cmd": "restart", "graceful": True, "down_s": 1}))
        await fabric.wait(lambda: fabric["b"].neighbors["a"].stale is not None)
        (a_seen_by_b,) = fabric["b"].sessions()
        assert a_seen_by_b["stale_routes"] == 1 and fabric.weights("b", PA) == {"a": 1}
        assert not restart.done()
        (b_seen_by_a,) = await ok(path, {"cmd": "sessions"})  # the new speaker, not started
        assert b_seen_by_a["state"] == "Idle" and await ok(path, {"cmd": "fib"}) == fib_before
        done = await restart
        assert done == {"restarted": "a", "graceful": True, "preserved_fib_entries": 1,
                        "restarts": 1}  # fmt: skip
        assert process.speaker is fabric["a"] is not old and not old.started
        assert (await ok(path, {"cmd": "graceful"}))["restarting"]
        await fabric.wait(lambda: converged(fabric) and not fabric["a"].deferring)
        await fabric.wait(lambda: fabric["b"].neighbors["a"].stale is None)
        assert b_changes == []  # b never changed its FIB
        assert await ok(path, {"cmd": "fib_changes"}) == {"next_index": 0, "changes": []}
        assert await ok(path, {"cmd": "fib"}) == fib_before  # a's FIB: kept, then the same
        state = await ok(path, {"cmd": "graceful"})
        assert state["ended_by"] == "every neighbor's End-of-RIB" and not state["deferring"]
        (b_seen_by_a,) = await ok(path, {"cmd": "sessions"})
        assert b_seen_by_a["peer_restarting"] is False
        assert set(b_seen_by_a["end_of_rib_ns"]) == {"ipv4-unicast", "ipv6-unicast"}
        (a_seen_by_b,) = fabric["b"].sessions()
        assert a_seen_by_b["peer_restarting"] is True and a_seen_by_b["flaps"] == 1
    finally:
        server.close()
        fabric.close()


async def test_a_plain_restart_and_the_refusals(tmp_path: Path) -> None:
    fabric, process = two_speakers(36, GracefulRestart(enabled=False))
    await fabric.start()
    path, bare = str(tmp_path / "a.sock"), str(tmp_path / "b.sock")
    servers = [await serve_control(process, path), await serve_control(fabric["b"], bare)]
    old = fabric["a"]
    try:
        await fabric.wait(lambda: converged(fabric))
        for where, message, error in (
            (path, {"cmd": "restart", "graceful": True}, "graceful restart is not enabled"),
            (path, {"cmd": "restart", "graceful": "yes"}, "graceful is true or false"),
            (path, {"cmd": "restart", "down_s": -1}, "down_s -1: 0 to 3600 seconds"),
            (path, {"cmd": "restart", "down_s": "1"}, "down_s is a number of seconds"),
            (bare, {"cmd": "restart"}, "a speaker no process owns"),
            (path, {"cmd": "fib_changes", "since": -1}, "since is a change index"),
            (path, {"cmd": "fib_changes", "since": 99}, "beyond the next change"),
        ):
            reply = await request(where, message)
            assert reply["ok"] is False and error in reply["error"], (message, reply)
        assert process.speaker is old and old.started  # nothing was touched
        assert fabric["b"].neighbors["a"].flaps == 0
        b_changes: list[FibChange] = []
        fabric["b"].fib_table.subscribe(b_changes.append)
        done = await ok(path, {"cmd": "restart"})
        assert done == {"restarted": "a", "graceful": False, "preserved_fib_entries": None,
                        "restarts": 1}  # fmt: skip
        await fabric.wait(lambda: converged(fabric))
        assert [(str(c.prefix), c.kind) for c in b_changes] == [(PA, "remove"), (PA, "install")]
        assert fabric["b"].neighbors["a"].last_down.startswith("notification-received: Cease")
        changes = (await ok(path, {"cmd": "fib_changes"}))["changes"]
        assert [(c["prefix"], c["kind"]) for c in changes] == [(PB, "install")]  # from nothing
        assert (await ok(path, {"cmd": "graceful"}))["restarting"] is False
    finally:
        for server in servers:
            server.close()
        fabric.close()
