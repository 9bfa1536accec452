"""Where the bus runs: a broker URL (``mqtt://[user:pass@]host:port``, or
``mqtts://[user:pass@]host:port?ca=FILE&cert=FILE&key=FILE`` over TLS: ``mqtt/tls.py``),
and the embedded amqtt broker ``bagctl up`` starts on 127.0.0.1 when no ``--broker`` is
given.

The embedded broker accepts anonymous clients on loopback only, with none of amqtt's
default plugins but that (no $SYS publishing, no packet logging). An external broker
(mosquitto) brings its own authentication, ACLs and TLS; README "Management bus" has an
example.

Every MQTT client bagctl makes comes from ``BrokerUrl.client`` (``MqttLink`` makes the
region's and each command's, also on reconnection; ``BrokerUrl.connect`` the agents'), so
TLS, TCP_NODELAY and the TLS errors' wording apply to all of them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import socket
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote, unquote, urlsplit

import aiomqtt

from .tls import TLS_OPTIONS, TlsFileError, TlsFiles, ssl_reason

if TYPE_CHECKING:
    from amqtt.broker import Broker

DEFAULT_MQTT_PORT = 1883
DEFAULT_MQTTS_PORT = 8883

# TCP_NODELAY on every client's socket (aiomqtt sets ``socket_options`` once connected,
# on a TLS socket too): the shard protocol is request and reply in small messages, and
# Nagle's algorithm holding one back until the previous is acknowledged (delayed ACK: up
# to 40 ms) made each wave of the region's clock wait on it (a region over Swarm shards
# crawled at 15% CPU). Neither paho nor aiomqtt sets it by default; the brokers do on
# their side (mosquitto ``set_tcp_nodelay``).
NO_DELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)

log = logging.getLogger("bagctl.mqtt.broker")


class BrokerUrlError(ValueError):
    """A broker URL that cannot be used; the message names what is wrong, never the
    URL's password."""


class BrokerTlsError(aiomqtt.MqttError):
    """TLS with the broker failed while connecting: its certificate did not verify
    (the message names the host and OpenSSL's reason), the handshake failed (a broker
    that does not speak TLS on that port), or a TLS file became unusable since the URL
    was parsed."""


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    host: str
    port: int = DEFAULT_MQTT_PORT
    username: str | None = None
    password: str | None = None
    tls: TlsFiles | None = None  # None: plain MQTT; else mqtts:// with these files

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """``mqtt://[user:pass@]host[:port]`` or ``mqtts://[user:pass@]host[:port]`` with
        optional ``?ca=FILE&cert=FILE&key=FILE``; its TLS files checked (``TlsFiles``).
        ``BrokerUrlError`` naming what is wrong."""
        shown = _hide_password(url)
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise BrokerUrlError(f"broker URL {shown!r}: {exc}") from None
        if parts.scheme not in ("mqtt", "mqtts"):
            raise BrokerUrlError(
                f"broker URL {shown!r}: expected mqtt://[user:pass@]host:port or "
                "mqtts://[user:pass@]host:port[?ca=FILE]"
            )
        if not parts.hostname:
            raise BrokerUrlError(f"broker URL {shown!r}: no host")
        if parts.path not in ("", "/") or parts.fragment:
            raise BrokerUrlError(f"broker URL {shown!r}: unexpected path or query")
        tls = None
        if parts.scheme == "mqtts":
            try:
                tls = TlsFiles.from_options(_options(parts.query))
            except TlsFileError as exc:
                raise BrokerUrlError(f"broker URL {shown!r}: {exc}") from None
        elif parts.query:
            raise BrokerUrlError(
                f"broker URL {shown!r}: unexpected query (TLS files need mqtts://)"
            )
        default_port = DEFAULT_MQTT_PORT if tls is None else DEFAULT_MQTTS_PORT
        return cls(
            parts.hostname,
            default_port if port is None else port,
            None if parts.username is None else unquote(parts.username),
            None if parts.password is None else unquote(parts.password),
            tls,
        )

    def __str__(self) -> str:
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.tls is None:
            return f"mqtt://{auth}{host}:{self.port}"
        query = "&".join(f"{k}={quote(v, safe='/')}" for k, v in self.tls.options().items())
        return f"mqtts://{auth}{host}:{self.port}" + (f"?{query}" if query else "")

    def client(
        self, identifier: str, *, timeout: float, will: aiomqtt.Will | None = None
    ) -> aiomqtt.Client:
        """An aiomqtt client for this broker (not yet connected); ``BrokerTlsError`` if a
        TLS file has become unusable since ``parse``."""
        context = None
        if self.tls is not None:
            try:
                context = self.tls.context()
            except TlsFileError as exc:
                raise BrokerTlsError(f"broker {self.redacted()}: {exc}") from None
        host = f"[{self.host}]" if ":" in self.host else self.host
        return _Client(
            f"{host}:{self.port}",
            self.tls,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            identifier=identifier,
            will=will,
            timeout=timeout,
            tls_context=context,
            socket_options=NO_DELAY,
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
        ``aiomqtt.MqttError``, once that time is up; ``BrokerTlsError`` at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        delay = 0.05
        while True:
            try:
                client = self.client(identifier, timeout=timeout, will=will)
                await client.__aenter__()
                return client
            except BrokerTlsError:
                raise  # no broker that is still starting: a certificate or file to fix
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


class _Client(aiomqtt.Client):
    """aiomqtt's client, whose connection errors say what failed in TLS: aiomqtt turns
    the ``ssl`` error into a bare ``MqttError`` with OpenSSL's text (``[SSL:
    CERTIFICATE_VERIFY_FAILED] ... (_ssl.c:1006)``), keeping the original only as the
    exception's context."""

    def __init__(self, where: str, tls: TlsFiles | None, **options: Any) -> None:
        super().__init__(**options)
        self.where = where  # host:port, for the errors
        self.trusted = (  # what the broker's certificate was checked against
            "the system's CAs; a private CA needs ?ca=FILE"
            if tls is None or tls.ca is None
            else f"the CA file {tls.ca} (?ca=)"
        )

    async def __aenter__(self) -> Self:
        try:
            return await super().__aenter__()
        except aiomqtt.MqttError as exc:
            cause, where = exc.__context__, self.where
            if isinstance(cause, ssl.SSLCertVerificationError):
                raise BrokerTlsError(
                    f"TLS verification of the broker at {where} failed: {cause.verify_message} "
                    f"(checked against {self.trusted})"
                ) from None
            if isinstance(cause, ssl.SSLError):
                raise BrokerTlsError(
                    f"TLS handshake with the broker at {where} failed: {ssl_reason(cause)} "
                    "(does it speak TLS on that port?)"
                ) from None
            raise


def _options(query: str) -> dict[str, str]:
    """``ca``/``cert``/``key`` from a URL's query, each at most once and not empty (a
    ``+`` stays a ``+``: these are paths, not form data)."""
    options: dict[str, str] = {}
    for item in query.split("&") if query else ():
        name, _, value = item.partition("=")
        if name not in TLS_OPTIONS:
            expected = ", ".join(f"{k}=FILE" for k in TLS_OPTIONS)
            raise TlsFileError(f"unknown option {name!r} (expected {expected})")
        if name in options:
            raise TlsFileError(f"option {name!r} given twice")
        if not value:
            raise TlsFileError(f"option {name!r} has no file")
        options[name] = unquote(value)
    return options


def _hide_password(url: str) -> str:
    """``url`` as typed, its password (between ``user:`` and ``@``) hidden: a URL that
    does not parse is still shown in its error."""
    return re.sub(r"^([^:/?#]+://[^:/?#@]*:)[^/?#@]*@", r"\1***@", url)


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


__all__ = [
    "DEFAULT_MQTTS_PORT",
    "DEFAULT_MQTT_PORT",
    "NO_DELAY",
    "BrokerTlsError",
    "BrokerUrl",
    "BrokerUrlError",
    "EmbeddedBroker",
]
