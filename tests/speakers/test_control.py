"""The control socket of ``python -m speakers`` (speakers/control.py): sessions, RIB and
FIB asked for, a prefix announced and withdrawn, bad requests answered without harm."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

from speaker_helpers import Fabric, Link, Node

from speakers.control import request, serve_control

G = 1e9
P = "198.51.100.0/24"


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
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert not sock.exists()  # removed at exit
