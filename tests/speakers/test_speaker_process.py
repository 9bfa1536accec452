"""``python -m speakers`` as a real process: logs, a frozen peer, SIGTERM, bad config."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import signal
import sys
from pathlib import Path

from speakers.config import NeighborConfig, SpeakerConfig
from speakers.session import DownReason, SessionDown, SessionEstablished, SessionEvent
from speakers.speaker import Speaker

PORT = 1179


def _process_config(tmp_path: Path, hold: int = 3) -> Path:
    path = tmp_path / "proc.yaml"
    path.write_text(
        f"""
name: proc
asn: 65010
router_id: 127.0.31.1
listen: {{address: 127.0.31.1, port: {PORT}}}
hold_time_s: {hold}
connect_retry_s: 0.5
neighbors:
  - {{name: peer, address: 127.0.31.2, remote_as: 65020, link_capacity: 800G}}
originate:
  - {{prefix: 10.31.0.0/24, bandwidth: 800G}}
"""
    )
    return path


def _local_speaker(hold: int = 3) -> Speaker:
    return Speaker(
        SpeakerConfig(
            name="local",
            asn=65020,
            router_id=ipaddress.IPv4Address("127.0.31.2"),
            listen_address=ipaddress.ip_address("127.0.31.2"),
            listen_port=PORT,
            hold_time_s=hold,
            connect_retry_s=0.5,
            neighbors=(
                NeighborConfig(
                    name="proc",
                    address=ipaddress.ip_address("127.0.31.1"),
                    remote_as=65010,
                    local_address=ipaddress.ip_address("127.0.31.2"),
                    port=PORT,
                ),
            ),
        )
    )


async def test_frozen_peer_is_caught_by_hold_timer_and_sigterm_is_clean(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "speakers", str(_process_config(tmp_path)),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    local = _local_speaker()
    events: list[SessionEvent] = []
    changed = asyncio.Event()

    def record(name: str, event: SessionEvent) -> None:
        events.append(event)
        changed.set()

    async def until(check, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                changed.clear()
                await changed.wait()

    local.session_events.append(record)
    await local.start()
    try:
        established = lambda n: sum(isinstance(e, SessionEstablished) for e in events) >= n  # noqa: E731
        await until(lambda: established(1))
        await until(lambda: bool(local.fib()) or bool(local.rib()))
        os.kill(proc.pid, signal.SIGSTOP)  # frozen, not closed: only the hold timer can tell
        t0 = asyncio.get_running_loop().time()
        await until(
            lambda: any(
                isinstance(e, SessionDown) and e.reason is DownReason.HOLD_TIMER_EXPIRED
                for e in events
            )
        )
        waited = asyncio.get_running_loop().time() - t0
        assert 2.0 <= waited <= 4.5  # hold time 3 s
        os.kill(proc.pid, signal.SIGCONT)
        await until(lambda: established(2))
        proc.send_signal(signal.SIGTERM)
        await until(
            lambda: any(
                isinstance(e, SessionDown)
                and e.notification is not None
                and e.notification.shutdown_communication == "speaker shutting down"
                for e in events
            )
        )
        async with asyncio.timeout(10):
            assert await proc.wait() == 0
        assert proc.stderr is not None
        lines = (await proc.stderr.read()).decode().splitlines()
        records = [json.loads(line) for line in lines]  # every log line is JSON
        assert any("listening on 127.0.31.1" in r["msg"] for r in records)
        assert records[-1]["msg"] == "speaker proc stopped"
    finally:
        local.close()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_bad_config_exits_2_naming_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: x\n"
        "asn: 65001\n"
        "router_id: 10.0.0.1\n"
        "listen: {address: 127.0.0.1}\n"
        "neighbors:\n"
        "  - {address: 127.0.0.2, remote_as: nope}\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "speakers", str(path), stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(20):
        _, err = await proc.communicate()
    assert proc.returncode == 2
    assert f"{path}:6: neighbors[0].remote_as: expected an integer" in err.decode()
