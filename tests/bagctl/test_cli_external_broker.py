"""A region served on an external mosquitto. Issue 16, break 7: it survives the broker's
restart. Commands in flight from several clients while mosquitto is killed and started
again each get exactly one outcome: every one is answered, and the region ran every
request id once (its event log says so), a change in flight included; the retained
status comes back; the region keeps answering afterwards.

mosquitto is killed with SIGKILL (no clean disconnect, no persistence: it forgets every
session and retained message), and started again on the same port once every client
has seen the connection go.

Issue 16, operator roles: with the ACL ``bagctl acl`` writes, a read-only operator's
queries are answered, its commands never reach the region, and one it sends on the
read-only tree is refused; a control operator changes the region."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bagctl.bus import BrokerUrl, BusClient, BusError
from bagctl.mqtt.link import MqttLink

ROOT = Path(__file__).resolve().parents[2]
MINI = str(ROOT / "topologies" / "mini.yaml")
MOSQUITTO = "/usr/sbin/mosquitto"
BUNDLES = [
    ("r1-nsf1-rtsw1-1", "r1-nsf1-ftsw1-1"),
    ("r1-nsf1-rtsw1-2", "r1-nsf1-ftsw1-2"),
    ("r1-nsf1-rtsw2-1", "r1-nsf1-ftsw2-1"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mosquitto:
    """A mosquitto of this test's own, on a port of its own."""

    def __init__(self, tmp: Path, auth: str = "allow_anonymous true\n") -> None:
        self.port = free_port()
        self.conf = tmp / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n{auth}persistence false\n"
            "log_dest stderr\n" + ("user root\n" if os.geteuid() == 0 else "")
        )
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stderr=subprocess.PIPE, text=True
        )
        assert proc.stderr is not None
        for line in proc.stderr:  # its own word that it listens
            if " running" in line:
                break
        self.proc = proc

    def kill(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stderr.close()
        self.proc = None


def bagctl(*args: str, env: dict[str, str], code: int = 0) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bagctl", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == code, (args, proc.stdout, proc.stderr)
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


async def restart_under_load(url: BrokerUrl, broker: Mosquitto) -> list[tuple[str, Any]]:
    """Three clients change and ask the region while the broker is killed and started
    again; what each request got (a result, or the error it was answered with)."""
    outcomes: list[tuple[str, Any]] = []
    clients = [BusClient(url, "mini") for _ in BUNDLES]
    for c in clients:
        await c.__aenter__()
    try:
        # A change that is still running when the broker dies: two flaps, 1 s apart.
        a, b = BUNDLES[0]
        flap_args = {"a": a, "b": b, "count": 2, "interval_s": 1.0}
        flap = asyncio.create_task(clients[0].request("link-flap", flap_args, timeout_s=120))

        async def client_load(bus: BusClient, bundle: tuple[str, str]) -> None:
            for cmd in ("link-down", "status", "link-up", "status"):
                args = {"a": bundle[0], "b": bundle[1]} if cmd.startswith("link") else {}
                outcomes.append((cmd, await bus.request(cmd, args, timeout_s=120)))

        loads = [
            asyncio.create_task(client_load(c, bd))
            for c, bd in zip(clients[1:], BUNDLES[1:], strict=True)
        ]
        await asyncio.sleep(0.3)  # the flap and the others under way (not a sync: a load)
        broker.kill()
        async with asyncio.timeout(30):  # every client lost the connection before it is back
            for c in clients:
                while c.link.up:
                    await asyncio.sleep(0.01)
        broker.start()
        outcomes.append(("link-flap", await flap))
        for task in loads:
            await task
    finally:
        for c in clients:
            await c.__aexit__(None, None, None)
    return outcomes


@pytest.mark.skipif(not os.path.exists(MOSQUITTO), reason="mosquitto is not installed")
def test_a_broker_restart_loses_no_command_and_runs_none_twice(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)
    broker.start()
    url = f"mqtt://127.0.0.1:{broker.port}"
    env = {**os.environ, "BAGEMU_STATE_DIR": str(tmp_path / "state")}
    try:
        up = bagctl("up", MINI, "--detach", "--transport", "memory", "--broker", url, env=env)
        try:
            outcomes = asyncio.run(restart_under_load(BrokerUrl.parse(url), broker))
            # every command answered, once, with its result
            assert Counter(cmd for cmd, _ in outcomes) == {
                "link-down": 2, "link-up": 2, "status": 4, "link-flap": 1,
            }  # fmt: skip
            for cmd, result in outcomes:
                if cmd.startswith("link"):
                    assert result["report"]["session_losses"] == 0, (cmd, result)
            # every request id ran once, whatever was sent again
            events = [json.loads(line) for line in Path(up["events"]).read_text().splitlines()]
            ran = Counter(e["request"] for e in events if e["kind"] == "result")
            assert ran and max(ran.values()) == 1, ran
            assert sum(1 for e in events if e["kind"] == "broker-back") >= 1
            again = Counter(e["state"] for e in events if e["kind"] == "duplicate")
            print(f"\nbroker restart: {len(ran)} requests ran once each; sent again: {dict(again)}")
            # the region answers, with every bundle up again, and its status retained again
            status = bagctl("status", "--broker", url, "--region", "mini", env=env)["result"]
            assert status["state"] == "running"
            assert status["sessions_established"] == status["sessions_expected"] == 64

            async def retained() -> bytes | None:
                async with BusClient(BrokerUrl.parse(url), "mini") as bus:
                    return await bus.retained(bus.topics.status, timeout_s=5)

            assert asyncio.run(retained())
        finally:
            bagctl("down", "--broker", url, "--region", "mini", env=env)
    finally:
        if broker.proc is not None:
            broker.kill()


@pytest.mark.skipif(not os.path.exists(MOSQUITTO), reason="mosquitto is not installed")
async def test_the_link_comes_back_subscribed_then_gives_up(tmp_path: Path) -> None:
    """``MqttLink`` (bagctl/mqtt/link.py) alone: after a restart its subscriptions are
    made again and its owner told; with no broker for over ``give_up_s`` it is gone."""
    broker = Mosquitto(tmp_path)
    broker.start()
    got: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_message(topic: str, payload: bytes, retain: bool) -> None:
        await got.put(payload)

    link = MqttLink(
        BrokerUrl("127.0.0.1", broker.port), "link-test", on_message=on_message, give_up_s=30
    )
    back = asyncio.Event()

    async def on_reconnect() -> None:
        back.set()

    link.on_reconnect.append(on_reconnect)
    await link.open()
    try:
        await link.subscribe("test/#")
        assert await link.publish("test/a", b"one")
        assert await asyncio.wait_for(got.get(), 10) == b"one"
        broker.kill()
        assert not await link.publish("test/a", b"lost", wait_s=0.5)  # nobody to take it
        broker.start()
        await asyncio.wait_for(back.wait(), 30)
        assert link.reconnects == 1 and link.generation == 2
        assert await link.publish("test/a", b"two", wait_s=5)  # subscribed again by itself
        assert await asyncio.wait_for(got.get(), 10) == b"two"
        link.give_up_s = 1.0
        broker.kill()
        await asyncio.wait_for(link.gone.wait(), 30)  # no broker for over give_up_s
        assert not await link.publish("test/a", b"late", wait_s=1)
    finally:
        await link.aclose()
        if broker.proc is not None:
            broker.kill()


PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


async def roles(port: int) -> None:
    """bob (read-only) and alice (control) against the region (module docstring)."""
    a, b = BUNDLES[0]

    def url(user: str) -> BrokerUrl:
        return BrokerUrl("127.0.0.1", port, user, f"{user}-pw")

    async with BusClient(url("bob"), "mini") as bob, BusClient(url("alice"), "mini") as alice:
        status = await bob.request("status", timeout_s=30)  # a query: query/, open to bob
        assert status["sessions_established"] == 64
        fib = await bob.request("show", {"what": "fib", "node": a}, timeout_s=30)
        assert fib["fib"]
        with pytest.raises(BusError) as dropped:  # cmd/ is closed to bob: the broker drops it
            await bob.request("link-down", {"a": a, "b": b}, timeout_s=3)
        assert dropped.value.code == "not-answering" and "bagctl acl" in dropped.value.message
        sneaked = json.dumps({"v": 1, "cmd": "link-down", "args": {"a": a, "b": b}}).encode()
        refused = await bob.reply_to_raw(sneaked, timeout_s=30, query=True)  # on query/
        assert not refused["ok"] and refused["error"]["code"] == "forbidden"
        assert (await alice.request("status", timeout_s=30))["bundles_down"] == []  # untouched
        down = await alice.request("link-down", {"a": a, "b": b}, timeout_s=60)
        assert down["members_up"] == 0
        assert (await bob.request("status", timeout_s=30))["bundles_down"] == [sorted([a, b])]


@pytest.mark.skipif(not os.path.exists(MOSQUITTO), reason="mosquitto is not installed")
def test_operator_roles_from_bagctl_acl(tmp_path: Path) -> None:
    passwords = tmp_path / "passwd"
    passwords.touch(mode=0o600)
    for user in ("region", "alice", "bob"):
        subprocess.run([PASSWD, "-b", str(passwords), user, f"{user}-pw"], check=True)
    acl = tmp_path / "acl"
    env = {**os.environ, "BAGEMU_STATE_DIR": str(tmp_path / "state")}
    made = bagctl(
        "acl", "mini", "--region-user", "region", "--control", "alice", "--read-only", "bob",
        "-o", str(acl), env=env,
    )  # fmt: skip
    assert made["roles"] == {"region": ["region"], "control": ["alice"], "read-only": ["bob"]}
    auth = f"allow_anonymous false\npassword_file {passwords}\nacl_file {acl}\n"
    broker = Mosquitto(tmp_path, auth)
    broker.start()
    url = f"mqtt://region:region-pw@127.0.0.1:{broker.port}"
    try:
        bagctl("up", MINI, "--detach", "--transport", "memory", "--broker", url, env=env)
        try:
            asyncio.run(roles(broker.port))
        finally:
            bagctl("down", "--broker", url, "--region", "mini", env=env)
    finally:
        broker.kill()
