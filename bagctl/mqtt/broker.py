"""Where the bus runs: a broker URL (``mqtt://[user:pass@]host:port``), and the embedded
amqtt broker ``bagctl up`` starts on 127.0.0.1 when no ``--broker`` is given.

The embedded broker accepts anonymous clients on loopback only, with none of amqtt's
default plugins but that (no $SYS publishing, no packet logging). An external broker
(mosquitto) brings its own authentication and ACLs; README "Management bus" has an example.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

import aiomqtt

if TYPE_CHECKING:
    from amqtt.broker import Broker

DEFAULT_MQTT_PORT = 1883

log = logging.getLogger("bagctl.mqtt.broker")


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    host: str
    port: int = DEFAULT_MQTT_PORT
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """``mqtt://[user:pass@]host[:port]``; ValueError naming what is wrong."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"broker URL {url!r}: {exc}") from None
        if parts.scheme != "mqtt":
            raise ValueError(f"broker URL {url!r}: expected mqtt://[user:pass@]host:port")
        if not parts.hostname:
            raise ValueError(f"broker URL {url!r}: no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"broker URL {url!r}: unexpected path or query")
        return cls(
            parts.hostname,
            DEFAULT_MQTT_PORT if port is None else port,
            None if parts.username is None else unquote(parts.username),
            None if parts.password is None else unquote(parts.password),
        )

    def __str__(self) -> str:
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{auth}{host}:{self.port}"

    def client(
        self, identifier: str, *, timeout: float, will: aiomqtt.Will | None = None
    ) -> aiomqtt.Client:
        """An aiomqtt client for this broker (not yet connected)."""
        return aiomqtt.Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=identifier,
            will=will,
            timeout=timeout,
        )

    async def connect(
        self,
        identifier: str,
        *,
        within_s: float,
        timeout: float,
        will: aiomqtt.Will | None = None,
        max_delay_s: float = 1.0,
    ) -> aiomqtt.Client:
        """A connected client, retrying for up to ``within_s`` (a broker in a container
        that is still starting: nothing tells us when it listens); the last error, as
        ``aiomqtt.MqttError``, once that time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        delay = 0.05
        while True:
            client = self.client(identifier, timeout=timeout, will=will)
            try:
                await client.__aenter__()
                _no_delay(client)
                return client
            except aiomqtt.MqttError as exc:
                if loop.time() + delay > deadline:
                    raise aiomqtt.MqttError(
                        f"broker {self.redacted()} unreachable: {exc}"
                    ) from None
            await asyncio.sleep(delay)  # a retry's back-off, not a synchronisation
            delay = min(max_delay_s, delay * 2)

    def redacted(self) -> str:
        """The URL with the password hidden (for messages and logs)."""
        if self.password is None:
            return str(self)
        return str(self).replace(f":{quote(self.password, safe='')}@", ":***@", 1)


def _no_delay(client: aiomqtt.Client) -> None:
    """TCP_NODELAY on the client's socket: the shard protocol is request and reply in
    small messages, and Nagle's algorithm holding one back until the previous is
    acknowledged (delayed ACK: up to 40 ms) made each wave of the region's clock wait
    on it (a region over Swarm shards crawled at 15% CPU). Neither paho nor aiomqtt
    sets it; the brokers do on their side (mosquitto ``set_tcp_nodelay``)."""
    sock = client._client.socket()  # paho's, once connected
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class EmbeddedBroker:
    """amqtt on ``host``, on a free port unless one is given; ``start()`` returns its URL.

    The socket is ours, not amqtt's (an amqtt "external" listener): amqtt 0.12 never closes
    a connection whose client left without sending CONNECT, so each stayed in CLOSE-WAIT
    (3,000 of them held 16,000 of the region's descriptors), and waits for a CONNECT
    forever. Here every connection is closed when amqtt is done with it, and one that has
    said nothing within ``connect_deadline_s`` is cut.

    Only clients with this run's credentials get in (``mqtt/auth.py``): a username and a
    random password made here, in the URL ``start()`` returns (kept in the region's 0600
    state file, printed redacted)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, connect_deadline_s: float = 10.0
    ) -> None:
        self.host, self.port = host, port
        self.connect_deadline_s = connect_deadline_s
        self.username, self.password = "bagemu", secrets.token_urlsafe(24)
        self._broker: Broker | None = None
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()  # connections not yet closed

    async def start(self) -> BrokerUrl:
        from amqtt.broker import Broker  # imported here: only the region's process needs it

        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        config = {
            # "bind" only registers the listener: amqtt opens no socket for "external".
            "listeners": {"default": {"type": "external", "bind": f"{self.host}:0"}},
            "plugins": {
                "bagctl.mqtt.auth.RegionPassword": {
                    "username": self.username,
                    "password": self.password,
                }
            },
        }
        broker = Broker(config)
        await broker.start()
        self._broker = broker
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return BrokerUrl(self.host, self.port, self.username, self.password)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from amqtt.adapters import StreamWriterAdapter

        broker = self._broker
        self._open.add(writer)
        spoke = asyncio.Event()

        def silent() -> None:
            if not spoke.is_set():
                writer.transport.abort()  # said nothing in time: amqtt would wait forever

        cut = asyncio.get_running_loop().call_later(self.connect_deadline_s, silent)
        try:
            if broker is not None:
                watched: Any = _WatchedReader(reader, spoke)  # amqtt's ReaderAdapter, duck-typed
                await broker.external_connected(watched, StreamWriterAdapter(writer), "default")
        except Exception as exc:  # one client's failure is its own
            log.warning("bus client %s: %s", writer.get_extra_info("peername"), exc)
        finally:
            cut.cancel()
            writer.close()  # amqtt leaves some closed by the client half open (CLOSE-WAIT)
            self._open.discard(writer)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()
        for writer in list(self._open):  # clients still connected: nothing is left open
            writer.transport.abort()
        if server is not None:
            await server.wait_closed()


class _WatchedReader:
    """amqtt's reader interface (``read``, ``feed_eof``, as its StreamReaderAdapter) over
    a stream, setting ``spoke`` once the client has sent anything (``connect_deadline_s``)."""

    def __init__(self, reader: asyncio.StreamReader, spoke: asyncio.Event) -> None:
        self.reader, self.spoke = reader, spoke

    async def read(self, n: int = -1) -> bytes:
        data = await (self.reader.read(n) if n == -1 else self.reader.readexactly(n))
        if data:
            self.spoke.set()
        return data

    def feed_eof(self) -> None:
        self.reader.feed_eof()


__all__ = ["DEFAULT_MQTT_PORT", "BrokerUrl", "EmbeddedBroker"]
