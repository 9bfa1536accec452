"""``BusClient``: send a command to a region and await its reply; follow its events and
retained state.

One MQTT connection per client, with a unique client id; replies arrive on the client's
own ``reply/<client-id>/+`` and are matched to requests by request id. Every message is
checked against the filters this client subscribed to before it is used: amqtt 0.12 has
been seen delivering retained messages on topics a client never subscribed to, so what
does not match is counted in ``filtered`` and dropped.

A broker restart does not lose a request: the connection comes back (``mqtt/link.py``),
and every request still without a reply is sent again under its own request id, which
the region runs only once (``bus/ledger.py``); the request's own timeout still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt

from ..mqtt.broker import BrokerTlsError, BrokerUrl
from ..mqtt.link import MqttLink
from ..mqtt.topics import Topics, check_name, topic_matches
from .payloads import (
    DEFAULT_TIMEOUT_S,
    ERROR_CODES,
    MAX_REPLY_BYTES,
    QUERIES,
    BusError,
    Command,
    decode,
    encode,
)

CONNECT_TIMEOUT_S = 3.0
RESEND_AFTER_S = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # after a reconnection (``_resend``)
REPLY_MARGIN_S = 15.0  # a client waits this much longer than the region may take


def reply_timeout_s(command: Command) -> float:
    """How long to wait for the reply to a command that changes the region: as long as
    the region may take to converge (``args.timeout_s``, else its default), plus a flap's
    own downs and ups, plus ``REPLY_MARGIN_S`` for the bus and the queue."""
    args = command.args
    wait = float(args.get("timeout_s", DEFAULT_TIMEOUT_S)) + REPLY_MARGIN_S
    if command.name == "link-flap":
        wait += 2 * args.get("count", 1) * args.get("interval_s", 0)
    return wait


def new_client_id() -> str:
    return f"bagctl-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class BusClient:
    """Use as ``async with BusClient(url, region) as bus: await bus.request("status")``."""

    def __init__(
        self,
        url: BrokerUrl,
        region: str,
        *,
        client_id: str | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.url = url
        self.topics = Topics(region)
        self.client_id = check_name("client id", client_id or new_client_id())
        self._connect_timeout_s = connect_timeout_s
        self._link: MqttLink | None = None
        self._filters: list[str] = []
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._sent: dict[str, tuple[str, bytes]] = {}  # request id -> (topic, command)
        self._resender: asyncio.Task[None] | None = None
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._latest: dict[str, bytes] = {}
        self._topic_waiters: dict[str, list[asyncio.Future[bytes]]] = defaultdict(list)
        self.filtered = 0  # messages dropped: not on a topic we subscribed to

    async def __aenter__(self) -> BusClient:
        link = MqttLink(
            self.url,
            self.client_id,
            on_message=self._on_message,
            connect_timeout_s=self._connect_timeout_s,
        )
        try:
            await link.open()
        except BrokerTlsError as exc:  # a certificate to fix, not a region that is gone
            raise BusError("broker-error", str(exc)) from None
        except aiomqtt.MqttCodeError as exc:
            raise BusError(
                "broker-error", f"the broker at {self.url.redacted()} refused us: {exc}"
            ) from None
        except (aiomqtt.MqttError, OSError) as exc:
            raise BusError(
                "not-running",
                f"region {self.topics.region} is not running: cannot reach its broker at "
                f"{self.url.redacted()} ({exc or type(exc).__name__})",
            ) from None
        self._link = link
        link.on_reconnect.append(self._send_again)
        await self.subscribe(self.topics.reply_filter(self.client_id))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._resender is not None:
            self._resender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resender
        if self._link is not None:
            await self._link.aclose()

    @property
    def link(self) -> MqttLink:
        assert self._link is not None, "use BusClient as an async context manager"
        return self._link

    async def subscribe(self, pattern: str) -> None:
        if pattern not in self._filters:
            self._filters.append(pattern)
            await self.link.subscribe(pattern, qos=1)

    async def _on_message(self, topic: str, payload: bytes, retain: bool) -> None:
        self._dispatch(topic, payload)

    async def _send_again(self) -> None:
        """After a reconnection: every request without a reply, under its own id, now
        and a few times more (the region may not have subscribed again yet: a copy it
        misses is lost, one it has seen is answered or ignored, never run twice)."""
        if self._resender is not None:
            self._resender.cancel()
        self._resender = asyncio.create_task(self._resend(self.link.generation))

    async def _resend(self, generation: int) -> None:
        for delay in RESEND_AFTER_S:
            await asyncio.sleep(delay)  # a retry's pace, not a synchronisation
            if not self._sent or self.link.generation != generation:
                return
            for request, (topic, payload) in list(self._sent.items()):
                fut = self._pending.get(request)
                if fut is not None and not fut.done():
                    await self.link.publish(topic, payload)

    def _dispatch(self, topic: str, payload: object) -> None:
        if not any(topic_matches(topic, f) for f in self._filters):
            self.filtered += 1
            return
        data = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
        if topic_matches(topic, self.topics.reply_filter(self.client_id)):
            request = topic.rsplit("/", 1)[1]
            self._sent.pop(request, None)
            fut = self._pending.pop(request, None)
            if fut is None or fut.done():
                return
            try:
                fut.set_result(decode(data, MAX_REPLY_BYTES))
            except BusError as exc:
                fut.set_exception(BusError("internal", f"malformed reply: {exc.message}"))
            return
        if topic == self.topics.events:
            with contextlib.suppress(BusError):
                self._events.put_nowait(decode(data))
            return
        self._latest[topic] = bytes(data)
        for waiter in self._topic_waiters.pop(topic, []):
            if not waiter.done():
                waiter.set_result(bytes(data))

    async def send_raw(
        self, payload: bytes, request: str | None = None, *, query: bool = False
    ) -> str:
        """Publish ``payload`` as-is on a command topic of ours (``query``: on ``query/``,
        the read-only tree); returns the request id."""
        request = request or uuid.uuid4().hex[:12]
        topic = (self.topics.query if query else self.topics.cmd)(self.client_id, request)
        if request in self._pending:
            self._sent[request] = (topic, payload)  # sent again if the broker restarts
        sent = await self.link.publish(topic, payload, wait_s=self._connect_timeout_s)
        if not sent and request not in self._sent:  # (else: sent again on reconnection)
            raise BusError("not-answering", f"lost the broker at {self.url.redacted()}")
        return request

    async def reply_to_raw(
        self, payload: bytes, timeout_s: float, request: str | None = None, query: bool = False
    ) -> dict[str, Any]:
        """Send ``payload`` unchecked (under ``request``, default a new id; ``query``: on
        ``query/``) and return the whole reply (tests of bad input, of ids sent again)."""
        request = request or uuid.uuid4().hex[:12]
        fut = self._expect(request)
        await self.send_raw(payload, request, query=query)
        return await self._await_reply(fut, request, timeout_s)

    def _expect(self, request: str) -> asyncio.Future[dict[str, Any]]:
        if self.link.gone.is_set():
            raise BusError("not-answering", f"lost the broker at {self.url.redacted()}")
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request] = fut
        return fut

    async def _await_reply(
        self, fut: asyncio.Future[dict[str, Any]], request: str, timeout_s: float
    ) -> dict[str, Any]:
        try:
            async with asyncio.timeout(timeout_s):
                return await fut
        except TimeoutError:
            self._pending.pop(request, None)
            self._sent.pop(request, None)
            raise BusError(
                "not-answering",
                f"region {self.topics.region} not answering (no reply within {timeout_s:g} s)",
            ) from None

    async def request(
        self, cmd: str, args: dict[str, Any] | None = None, *, timeout_s: float = 10.0
    ) -> Any:
        """Run ``cmd`` on the region; its result, or ``BusError`` with the region's code."""
        request = uuid.uuid4().hex[:12]
        fut = self._expect(request)
        payload = encode(Command(cmd, args or {}).as_dict())
        await self.send_raw(payload, request, query=cmd in QUERIES)  # (topics.py: roles)
        try:
            reply = await self._await_reply(fut, request, timeout_s)
        except BusError as lost:
            if cmd in QUERIES:
                raise
            raise BusError(  # a broker's ACL drops a publish without a word (MQTT 3.1.1)
                lost.code,
                f"{lost.message}; if the broker's ACL makes this client read-only, "
                "commands that change the region are dropped (bagctl acl)",
            ) from None
        if reply.get("ok") is True:
            return reply.get("result")
        error = reply.get("error")
        if not isinstance(error, dict):
            raise BusError("internal", f"malformed reply: {reply!r}")
        code = error.get("code")
        raise BusError(
            code if code in ERROR_CODES else "internal", str(error.get("message", error))
        )

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """The region's events from now on (subscribe first: ``await bus.follow()``)."""
        await self.follow()
        while True:
            yield await self._events.get()

    async def follow(self) -> None:
        await self.subscribe(self.topics.events)

    async def retained(self, topic: str, timeout_s: float = 5.0) -> bytes | None:
        """The retained message on ``topic`` (None if none arrives within ``timeout_s``)."""
        if topic in self._latest:
            return self._latest[topic]
        return await self.next_message(topic, timeout_s)

    async def next_message(self, topic: str, timeout_s: float = 5.0) -> bytes | None:
        """The next message on ``topic`` (an empty one: its retained state was cleared)."""
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._topic_waiters[topic].append(fut)
        await self.subscribe(topic)
        try:
            async with asyncio.timeout(timeout_s):
                return await fut
        except TimeoutError:
            return None


__all__ = ["CONNECT_TIMEOUT_S", "REPLY_MARGIN_S", "BusClient", "new_client_id", "reply_timeout_s"]
