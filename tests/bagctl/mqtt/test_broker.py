"""The embedded broker (bagctl/mqtt/broker.py) against clients that misbehave: those
that leave without CONNECT leave no socket behind, one that never speaks is cut, and a
real client is served all along."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import aiomqtt
import pytest

from bagctl.mqtt.broker import EmbeddedBroker

pytestmark = pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")


def sockets(port: int, state: str) -> int:
    """The broker's connections in ``state`` (``ss`` state names: close-wait, established)."""
    out = subprocess.run(
        ["ss", "-tanH", "state", state, f"( sport = :{port} )"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return len(out.splitlines())


async def until(check: object, timeout: float = 10.0) -> None:
    """Poll ``check()`` (the kernel's socket table has no event to wait on)."""
    async with asyncio.timeout(timeout):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_clients_without_connect_leave_nothing_behind() -> None:
    broker = EmbeddedBroker(connect_deadline_s=1.0)
    url = await broker.start()
    try:
        for _ in range(200):  # connect, say nothing, leave (amqtt 0.12 kept each in CLOSE-WAIT)
            _, writer = await asyncio.open_connection(url.host, url.port)
            writer.close()
            await writer.wait_closed()
        silent = await asyncio.open_connection(url.host, url.port)  # connects, never speaks
        async with url.client("real", timeout=10) as client:
            await client.subscribe("t")
            await client.publish("t", b"still served")
            async with asyncio.timeout(10):
                message = await anext(client.messages)
            assert message.payload == b"still served"
            await until(lambda: sockets(url.port, "close-wait") == 0)
            await until(lambda: sockets(url.port, "established") == 1)  # the real one only
        reader, writer = silent
        assert await asyncio.wait_for(reader.read(), 5) == b""  # cut by the deadline
        writer.close()
    finally:
        await broker.stop()


@pytest.mark.parametrize("password", [None, "wrong"], ids=["anonymous", "wrong-password"])
async def test_only_the_region_credentials_get_in(password: str | None) -> None:
    """Issue 16: any local user could publish ``shutdown`` to a region's embedded broker.
    Now a client without this run's password is refused at CONNECT (``bagctl`` reads the
    password from the region's 0600 state file)."""
    broker = EmbeddedBroker()
    url = await broker.start()
    try:
        assert url.username == "bagemu" and url.password and len(url.password) >= 32
        other = EmbeddedBroker()
        assert other.password != broker.password  # per run
        with pytest.raises(aiomqtt.MqttError, match=r"Not authorized|Bad user name or password"):
            async with aiomqtt.Client(
                url.host, url.port, username=None if password is None else "bagemu",
                password=password, identifier="intruder", timeout=10,
            ) as intruder:  # fmt: skip
                await intruder.publish("bagemu/v1/mini/cmd/x/1", b'{"v":1,"cmd":"shutdown"}')
        async with url.client("operator", timeout=10) as client:
            await client.publish("t", b"in")
    finally:
        await broker.stop()
