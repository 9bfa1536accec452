"""``MqttLink``: one MQTT connection kept up across a broker's restarts.

A region serves its bus for hours; a broker (an external mosquitto, the compose
project's) may restart under it in seconds. aiomqtt's client ends with the connection,
so the link owns a client at a time: when the connection drops it makes a new one,
with exponential back-off (``BACKOFF_S``, jittered so that many clients do not return
in step), re-subscribes every filter it was given, and then tells its owner
(``on_reconnect``), who republishes what a restarted broker has forgotten (retained
state) or re-sends what may not have arrived (requests without a reply). Until then
``publish`` waits for the connection as long as its caller allows, and says whether
the message left.

The first connection is not retried: a broker that is not there at the start is a
configuration error the caller reports at once. ``give_up_s`` bounds one outage; past
it the link stops and ``gone`` is set (the region then stops, as it did on the first
loss before there was a link).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

import aiomqtt

from .broker import BrokerUrl

__all__ = ["BACKOFF_S", "MqttLink"]

log = logging.getLogger("bagctl.mqtt.link")

BACKOFF_S = (0.05, 2.0)  # first and largest wait between reconnection attempts

OnMessage = Callable[[str, bytes, bool], Awaitable[None]]


class MqttLink:
    """``await link.open()``, then ``subscribe``/``publish``; messages go to
    ``on_message(topic, payload, retain)`` one at a time (module docstring)."""

    def __init__(
        self,
        url: BrokerUrl,
        client_id: str,
        *,
        on_message: OnMessage,
        will: aiomqtt.Will | None = None,
        connect_timeout_s: float = 10.0,
        give_up_s: float | None = None,
    ) -> None:
        self.url = url
        self.client_id = client_id
        self.on_message = on_message
        self.on_reconnect: list[Callable[[], Awaitable[None]]] = []
        self.give_up_s = give_up_s
        self.generation = 0  # connections made so far (1 after ``open``)
        self.reconnects = 0
        self.gone = asyncio.Event()  # the link gave up (``give_up_s``) or was closed
        self.last_error: str | None = None
        self._will = will
        self._timeout_s = connect_timeout_s
        self._filters: list[tuple[str, int]] = []
        self._client: aiomqtt.Client | None = None
        self._up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def client(self) -> aiomqtt.Client:
        assert self._client is not None, "open() the link first"
        return self._client

    @property
    def up(self) -> bool:
        return self._up.is_set()

    async def open(self) -> None:
        """The first connection; aiomqtt's error (or OSError) if the broker is not there."""
        self._client = await self._connect()
        self.generation = 1
        self._up.set()
        self._task = asyncio.create_task(self._run())

    async def _connect(self) -> aiomqtt.Client:
        client = self.url.client(self.client_id, will=self._will, timeout=self._timeout_s)
        await client.__aenter__()
        return client

    async def subscribe(self, pattern: str, qos: int = 1) -> None:
        """Subscribe now (when connected) and after every reconnection."""
        if (pattern, qos) not in self._filters:
            self._filters.append((pattern, qos))
        if self.up:
            with contextlib.suppress(aiomqtt.MqttError):
                await self.client.subscribe(pattern, qos=qos)

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False, wait_s: float = 0
    ) -> bool:
        """Publish, waiting up to ``wait_s`` for a connection; whether it left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while not self.gone.is_set():
            if not self.up:
                left = deadline - loop.time()
                if left <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(left):
                        await self._up.wait()
                continue
            generation, client = self.generation, self.client
            try:
                await client.publish(topic, payload, qos=qos, retain=retain)
                return True
            except aiomqtt.MqttError:
                if generation == self.generation:
                    self._up.clear()  # the reader will notice and reconnect
                if loop.time() >= deadline:
                    return False
                await asyncio.sleep(0)  # let the reader run first
        return False

    async def _run(self) -> None:
        """Read messages; on a lost connection, reconnect (module docstring)."""
        while True:
            try:
                async for message in self.client.messages:
                    payload = message.payload
                    data = payload if isinstance(payload, bytes) else str(payload or "").encode()
                    try:
                        await self.on_message(str(message.topic), data, message.retain)
                    except aiomqtt.MqttError:
                        raise
                    except Exception:  # the owner's bug must not end the link
                        log.exception("handling a message on %s", message.topic)
                raise aiomqtt.MqttError("the message stream ended")
            except aiomqtt.MqttError as exc:
                self.last_error = str(exc) or type(exc).__name__
                self._up.clear()
                log.warning("lost the broker at %s: %s", self.url.redacted(), self.last_error)
            old, self._client = self._client, None
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.__aexit__(None, None, None)
            client = await self._reconnect()
            if client is None:
                self.gone.set()
                return
            self._client = client
            self.generation += 1
            self.reconnects += 1
            for pattern, qos in self._filters:
                with contextlib.suppress(aiomqtt.MqttError):
                    await client.subscribe(pattern, qos=qos)
            self._up.set()
            log.warning("the broker at %s is back", self.url.redacted())
            for hook in list(self.on_reconnect):
                try:
                    await hook()
                except aiomqtt.MqttError:
                    break  # lost again: the loop reconnects
                except Exception:
                    log.exception("after reconnecting")

    async def _reconnect(self) -> aiomqtt.Client | None:
        """A new connection, retried with back-off; None past ``give_up_s``."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        delay = BACKOFF_S[0]
        while True:
            if self.give_up_s is not None and loop.time() - started > self.give_up_s:
                log.error(
                    "the broker at %s has not come back in %g s: giving up",
                    self.url.redacted(),
                    self.give_up_s,
                )
                return None
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # back-off, not a sync
            try:
                return await self._connect()
            except (aiomqtt.MqttError, OSError) as exc:
                self.last_error = str(exc) or type(exc).__name__
                delay = min(delay * 2, BACKOFF_S[1])

    async def aclose(self) -> None:
        """Stop reconnecting, then disconnect."""
        self.gone.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        client, self._client = self._client, None
        self._up.clear()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.__aexit__(None, None, None)
